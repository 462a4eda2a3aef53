"""Generic statistics as pure functions on arrays, with typed results (nothing here knows the domain).

- :mod:`~vfreport.stats.results`: ``TestResult``, ``Interval``, ``Bounds`` (one-sided), ``Estimate`` (each test
  names its ``method``);
- :mod:`~vfreport.stats.twosample`: Welch's t (``welch_t`` gives the statistic and df alone), the Welch
  t-interval, Hedges' g, an exact/Monte-Carlo permutation test with its smallest reachable p, the
  one-sample t;
- :mod:`~vfreport.stats.intervals`: clipped t-intervals and one-sided bounds, group summaries, the percentile
  bootstrap, the chi-square interval of an SD, an arm's accuracy interval with the test split's clustered error;
- :mod:`~vfreport.stats.noise`: a learning curve's epoch-to-epoch noise that its shape does not inflate;
- :mod:`~vfreport.stats.outliers`: flags for failed runs and H1 with and without them;
- :mod:`~vfreport.stats.power`: simulated power of the one-sided Welch test at the level it is run at, runs
  needed for a gain and to show no worthwhile gain;
- :mod:`~vfreport.stats.multiple`: Holm;
- :mod:`~vfreport.stats.bootstrap`, :mod:`~vfreport.stats.sequential`: the two-level bootstrap over runs ×
  meetings and group-sequential designs.

The domain (per-run metrics, H1–H3, verdicts) lives in :mod:`vfreport.analysis`.
"""
