"""Generic statistics as pure functions on arrays, with typed results (nothing here knows the domain).

- :mod:`~vfreport.stats.results`: ``TestResult``, ``Interval``, ``Estimate`` (each test names its ``method``);
- :mod:`~vfreport.stats.twosample`: Welch's t (``welch_t`` gives the statistic and df alone), the Welch
  t-interval, Hedges' g, an exact/Monte-Carlo permutation test with its smallest reachable p, the
  one-sample t;
- :mod:`~vfreport.stats.intervals`: clipped t-intervals, group summaries, the percentile bootstrap, the
  chi-square interval of an SD;
- :mod:`~vfreport.stats.power`: simulated power of the one-sided Welch test and runs needed;
- :mod:`~vfreport.stats.multiple`: Holm;
- :mod:`~vfreport.stats.bootstrap`, :mod:`~vfreport.stats.sequential`: the two-level bootstrap over runs ×
  meetings and group-sequential designs.

The domain (per-run metrics, H1–H3, verdicts) lives in :mod:`vfreport.analysis`.
"""
