"""Epoch-to-epoch noise of a learning curve that the curve's shape does not inflate (docs/statistics-runs.md).

One value per run: the SD of a run's validation accuracy around its own trend, for H2 and the
stability row. Pure functions on arrays.

Method. A learning curve, once it has left the chance level, rises and saturates (and may turn
down when the run overfits): its trend is *concave*, whatever its speed. The trend is taken as
the least-squares concave sequence through the values (Hildreth 1954; a projection onto a
polyhedral cone, computed here as non-negative least squares on hinge functions), so a step in
the first epoch, a saturating exponential of any time constant, a straight line and a
rise-then-decline all fit with no trend left in the residuals. The noise SD is
``σ̂² = RSS / (n − c·D)``, with ``D`` the dimension of the fitted face (2 + the number of kinks
of the fit: its degrees of freedom, Meyer & Woodroofe 2000) and ``c`` = :data:`DF_FACTOR`.
``c = 1`` would be their degrees of freedom; ``c = 1.15`` was chosen by simulation at 10 epochs,
where it put the root mean square of σ̂/σ within 1.01–1.12 over the shapes of
``tests/test_noise.py`` (saturating exponentials with time constants 0.5–15 epochs, a straight line
rising 50 → 85 %, plateau-then-rise; σ = 1–4 points).

Why not differences. The successive-difference (von Neumann 1941; Rice 1984) and
second-difference (Gasser, Sroka & Jennen-Steinmetz 1986) estimators remove a trend whose
change (first differences) or curvature (second differences) per epoch is small next to the
noise. Learning curves sampled once per epoch break that: a curve that gains 30 points in its
first epoch is a step at this resolution. Measured with 2-point noise over 10 epochs (root mean
square of σ̂/σ), second differences read 2.16 on a 0.5-epoch exponential and 1.01 on a straight
line; the concave fit 1.08 and 1.05.

Limits. At small noise next to a strongly curved rise (1 point of noise, time constant 1–2 epochs)
the fit follows some of the noise; over every ordered pair of the test shapes, H2's exact
permutation test (5 vs 5 runs, equal noise) rejected at a median 4.8 %, at most 8.3 %
(``tests/test_noise.py``). Fewer than 6 epochs give no value.

Chance-level plateau epochs (:func:`noise_sd`'s ``at_chance``) are taken out of the concave trend
and fitted by their own level: the flat part of a plateau-then-rise curve is not concave with the
rise (the cubic-in-log-epoch residual this replaced over-read the noise of such curves 2.4–4.5 ×
in ``tests/test_noise.py``), while a run stuck at chance still has its epoch-to-epoch wobble
measured. Each plateau stretch costs one degree of freedom (``σ̂² = RSS / (n − P − c·D)``).

References
----------
von Neumann, J. (1941), "Distribution of the ratio of the mean square successive difference to
the variance", Ann. Math. Statist. 12(4). Rice, J. (1984), "Bandwidth choice for nonparametric
regression", Ann. Statist. 12(4). Gasser, T., Sroka, L. & Jennen-Steinmetz, C. (1986), "Residual
variance and residual pattern in nonlinear regression", Biometrika 73(3). Hildreth, C. (1954),
"Point estimates of ordinates of concave functions", JASA 49. Meyer, M. & Woodroofe, M. (2000),
"On the degrees of freedom in shape-restricted regression", Ann. Statist. 28(4).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from scipy.optimize import nnls

DF_FACTOR = 1.15
"""``c`` in ``RSS / (n − c·D)`` (module docstring)."""
MIN_NOISE_EPOCHS = 6
"""Fewest epochs from which a noise SD is given: below it a concave fit has almost no residual
degrees of freedom."""
ACTIVE = 1e-10
"""A hinge coefficient above this counts as a kink of the fit."""


@lru_cache(maxsize=128)
def _design(x: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hinge basis, the projection off the linear part, that projection applied to the hinges, and
    the least-squares solver of the linear part, for positions ``x`` (cached: epochs repeat)."""
    xs = np.asarray(x)
    lin = np.column_stack([np.ones(len(xs)), xs])
    hinges = -np.maximum(xs[:, None] - xs[None, 1:-1], 0.0)
    q, _ = np.linalg.qr(lin)
    proj = np.eye(len(xs)) - q @ q.T
    return hinges, proj, proj @ hinges, np.linalg.pinv(lin)


def concave_fit(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> tuple[np.ndarray, int]:
    """Least-squares concave fit of ``y`` at increasing positions ``x`` and its dimension ``D``.

    Every concave sequence on the points is ``a + b·x − Σ_k c_k (x − x_k)_+`` with ``c_k ≥ 0`` over
    the interior points ``x_k``: the linear part is projected out and the hinge weights found by
    non-negative least squares (``scipy.optimize.nnls``; Lawson & Hanson 1974). ``D`` = 2 + the
    number of positive ``c_k`` (the dimension of the cone's face that holds the fit, its degrees of
    freedom: Meyer & Woodroofe 2000). With fewer than 3 points the fit is the line through them.
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(ys)
    if n < 3:
        return ys.copy(), n
    hinges, proj, proj_hinges, solve_line = _design(tuple(xs.tolist()))
    coef, _ = nnls(proj_hinges, proj @ ys)
    bent = hinges @ coef
    line = solve_line @ (ys - bent)
    return bent + line[0] + line[1] * xs, 2 + int(np.sum(coef > ACTIVE))


def noise_sd(
    values: Sequence[float] | np.ndarray,
    epochs: Sequence[float] | np.ndarray | None = None,
    at_chance: Sequence[bool] | np.ndarray | None = None,
    min_epochs: int = MIN_NOISE_EPOCHS,
) -> float | None:
    """SD of ``values`` around their trend (module docstring). ``epochs`` (default 1, 2, …) places
    the values; ``at_chance`` marks chance-level plateau epochs. Each stretch of consecutive
    plateau epochs is fitted by its own level (a run at chance has no learning trend; its
    epoch-to-epoch wobble is noise), the other epochs by one least-squares concave trend
    (:func:`concave_fit`), so the kink where a plateau ends is not read as noise. Then
    ``σ̂ = √(RSS / max(n − P − c·D, 1))`` with ``P`` plateau stretches and ``D`` the concave fit's
    dimension. None when fewer than ``min_epochs`` finite values; 0 for a noise-free curve."""
    y = np.asarray(values, dtype=float)
    x = np.arange(1, len(y) + 1, dtype=float) if epochs is None else np.asarray(epochs, dtype=float)
    chance = np.zeros(len(y), dtype=bool) if at_chance is None else np.asarray(at_chance, dtype=bool)
    keep = np.isfinite(y)
    x, y, chance = x[keep], y[keep], chance[keep]
    n = len(y)
    if n < max(min_epochs, 3):
        return None
    rss, dof = 0.0, float(n)
    if chance.any():
        stretch = np.cumsum(np.diff(np.concatenate([[0], chance.astype(int)])) == 1)[chance]
        level = np.bincount(stretch, weights=y[chance]) / np.maximum(np.bincount(stretch), 1)
        rss += float(np.sum((y[chance] - level[stretch]) ** 2))
        dof -= len(np.unique(stretch))
    if (~chance).any():
        fit, dim = concave_fit(x[~chance], y[~chance])
        rss += float(np.sum((y[~chance] - fit) ** 2))
        dof -= DF_FACTOR * dim
    return math.sqrt(rss / max(dof, 1.0))
