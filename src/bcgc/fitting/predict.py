"""Quantiles of the time at a load W under a fitted law (docs/fitting.md, prediction).

The time of one worker picked at random at load W is T(W) = a + b · W (a law without a fixed cost:
a = 0, T(W) = W · T). Its CDF is E_a[F_b((t − a)/W)] for a fixed-cost law, the mean of the
per-worker CDFs for a heterogeneous law; the p-th quantile is found by bisection.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import InputError
from ..stragglers import Empirical, FixedCost, Heterogeneous, StragglerModel, Trace

#: the levels of ``predicted_quantiles``: the 1st..99th percentiles
LEVELS = np.arange(1, 100) / 100.0


def _bisect(cdf, q, lo, hi, steps: int = 200):
    """Smallest t in [lo, hi] with cdf(t) ≥ q, per level (cdf(lo) < q ≤ cdf(hi))."""
    with np.errstate(over="ignore", invalid="ignore"):  # an inf quantile doubles to inf: meant
        return _bisect_quiet(cdf, q, lo, hi, steps)


def _bisect_quiet(cdf, q, lo, hi, steps):
    lo, hi = np.array(lo, dtype=float), np.array(hi, dtype=float)
    open_top = ~np.isfinite(hi)  # a full straggler's quantile is inf, not the mixture's: search up
    hi = np.where(open_top, 2 * np.maximum(np.abs(lo), 1.0), hi)
    for _ in range(1100):  # doubling reaches inf (the quantile really is inf) within 1100 steps
        short = open_top & (cdf(hi) < q)
        if not short.any():
            break
        hi = np.where(short, 2 * hi, hi)
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        below = cdf(mid) < q
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        if np.all(~np.isfinite(hi) | (hi - lo <= 1e-12 * np.maximum(np.abs(hi), 1e-300))):
            break
    return hi


def _points(a) -> np.ndarray:
    """Equal-weight points of a's law: the number itself, the observed times, or 4096 quantiles."""
    if isinstance(a, float):
        return np.array([a])
    if isinstance(a, Empirical):
        return a.values
    return np.asarray(a.ppf((np.arange(4096) + 0.5) / 4096), dtype=float)


def _cdf(law, load: float, t):
    """P(T(W) ≤ t) of one worker's law at load W > 0."""
    t = np.asarray(t, dtype=float)
    if isinstance(law, FixedCost):
        points = _points(law.fixed)
        return np.mean(law.rate.cdf((t[..., None] - points) / load), axis=-1)
    return law.cdf(t / load)


def _fixed_cost(model: FixedCost, load: float, q):
    points, b = _points(model.fixed), model.rate
    if load == 0:
        return np.quantile(points, q, method="inverted_cdf")
    if not getattr(b, "iid", False) or not hasattr(b, "cdf"):
        raise InputError(f"predict needs an i.i.d. law for b, got {b.spec!r}")
    lo = points.min() + load * np.asarray(b.ppf(q / 2), dtype=float)
    hi = points.max() + load * np.asarray(b.isf((1 - q) / 2), dtype=float)
    return _bisect(lambda t: _cdf(model, load, t), q, lo, hi)


def _heterogeneous(model: Heterogeneous, load: float, q):
    """Quantiles of the mean of the per-worker CDFs, bracketed by the per-worker quantiles."""
    per = np.array(
        [_fixed_cost(law, load, q) if isinstance(law, FixedCost) else load * law.ppf(q) for law in model.laws]
    )
    if load == 0:  # the fixed costs alone: pool their points
        pts = np.concatenate([_points(law.fixed) if isinstance(law, FixedCost) else [0.0] for law in model.laws])
        return np.quantile(pts, q, method="inverted_cdf")
    return _bisect(
        lambda t: np.mean([_cdf(law, load, t) for law in model.laws], axis=0),
        q,
        per.min(axis=0) * (1 - 1e-12),
        per.max(axis=0),
    )


def predicted_quantiles(model, load: float, levels=LEVELS) -> np.ndarray:
    """The quantiles (at ``levels``, default the 1st..99th percentiles) of the time of one worker
    picked at random at load W = ``load`` (docs/fitting.md)."""
    if isinstance(load, bool) or not isinstance(load, (int, float)) or not (math.isfinite(load) and load >= 0):
        raise InputError(f"predict load W must be a finite number >= 0, got {load!r}")
    load = float(load)
    if not isinstance(model, StragglerModel):
        raise InputError(f"predict needs a straggler law (bcgc.stragglers), got {model!r}"[:200])
    try:
        q = np.asarray(levels, dtype=float)
    except (TypeError, ValueError):
        q = np.full(1, np.nan)
    if q.ndim != 1 or q.size == 0 or not np.all((q > 0) & (q < 1)):
        raise InputError(f"levels must be probabilities in (0, 1), got {levels!r}"[:200])
    # P(T(W) ≤ t) never exceeds 1 − (the full-straggler share of a worker picked at random): a level
    # at or above it has no finite quantile, however close a bisection's CDF rounds to it
    laws = model.laws if isinstance(model, Heterogeneous) else (model,)
    top = 1.0 - float(np.mean([law.full_prob for law in laws]))
    return np.where(q >= top, np.inf, _quantiles(model, load, q))


def _quantiles(model, load: float, q):
    if isinstance(model, FixedCost):
        return _fixed_cost(model, load, q)
    if isinstance(model, Trace):
        return load * np.quantile(model.samples.ravel(), q, method="inverted_cdf")
    if isinstance(model, Heterogeneous):
        return _heterogeneous(model, load, q)
    if getattr(model, "iid", False) and hasattr(model, "ppf"):
        return load * np.asarray(model.ppf(q), dtype=float)
    raise InputError(f"predict cannot compute quantiles of the model {model.spec!r}")
