"""Evaluation under the general model (docs/model.md, "The general model: fixed costs, unequal
shares"): laws with a fixed cost a_n and designs with unequal subsets are evaluated by Monte Carlo
on draws of (a, b) through :mod:`bcgc.timeline`, never through formula (2), which assumes a = 0 and
equal subsets. A law with a = 0 and equal subsets keeps the formula (2) path and today's numbers.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as V
from ..stragglers import FixedCost, FullStragglers, Heterogeneous
from ..timeline import check_subset_sizes, cyclic_shares, runtime_samples, unequal_sizes
from .result import Evaluation, summarize

__all__ = ["has_fixed_cost", "needs_general", "general_runtime", "general_monte_carlo", "oracle_affine_samples"]


def has_fixed_cost(model) -> bool:
    """Whether the law's fixed cost a is not identically 0 (then formula (2) does not hold)."""
    if isinstance(model, FixedCost):
        return not (isinstance(model.fixed, float) and model.fixed == 0.0)
    if isinstance(model, FullStragglers):
        return has_fixed_cost(model.base)
    if isinstance(model, Heterogeneous):
        return any(has_fixed_cost(law) for law in model.laws)
    return bool(getattr(model, "has_fixed_cost", False))


def needs_general(model, subset_sizes=None) -> bool:
    """True when the runtime must be computed worker by worker: a fixed cost, or unequal subsets."""
    if subset_sizes is not None and unequal_sizes(subset_sizes, len(subset_sizes)) is not None:
        return True
    return model is not None and has_fixed_cost(model)


def general_runtime(x, fixed, rate, subset_sizes=None) -> np.ndarray:
    """τ per draw of (a, b) for blocks x and subset sizes d (None: equal), shape (K,):
    τ = max_{s: x_s>0} (N−s)-th smallest of a_n + b_n · W_n(s) (docs/model.md)."""
    shares = None if subset_sizes is None else cyclic_shares(subset_sizes)
    return runtime_samples(x, fixed, rate, shares)


def general_monte_carlo(
    model,
    workers: int,
    x,
    subset_sizes=None,
    samples: int = 200_000,
    seed=None,
    deadline=None,
    chunk_values: int = 4_000_000,
) -> Evaluation:
    """E[τ] and P(τ ≤ deadline) with standard errors from ``samples`` draws of (a, b), in chunks
    of about ``chunk_values`` numbers (same seed, same numbers). Method "monte-carlo"."""
    rng = V.as_rng(seed)
    d = check_subset_sizes(subset_sizes, workers)
    used = max(1, int(np.count_nonzero(np.asarray(x))))
    rows = max(1, chunk_values // (workers * (used + 2)))
    taus, done = [], 0
    while done < samples:
        k = min(rows, samples - done)
        a, b = model.sample_parts(k, workers, rng)
        taus.append(general_runtime(x, a, b, d))
        done += k
    return summarize(np.concatenate(taus), deadline)


def oracle_affine_samples(fixed, rate) -> np.ndarray:
    """The oracle with a fixed cost, per draw: every unit of work computed once, the N units split
    to finish first, t* = min over splits of max_n (a_n + b_n u_n) with Σ u_n = N, u_n ≥ 0. Worker n
    takes part iff a_n < t*, and t* = (N + Σ_P a_n/b_n) / Σ_P 1/b_n over the participants P; taking
    P among the prefixes of the workers sorted by a, t* is the smallest of these values (each
    prefix's value bounds t* from above, the true P reaches it). a = 0 gives N / Σ_n 1/b_n."""
    a, b = np.atleast_2d(np.asarray(fixed, dtype=float)), np.atleast_2d(np.asarray(rate, dtype=float))
    order = np.argsort(a, axis=1, kind="stable")
    a, b = np.take_along_axis(a, order, 1), np.take_along_axis(b, order, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / b
        num = a.shape[1] + np.cumsum(np.where(inv > 0, a * inv, 0.0), axis=1)
        t = num / np.cumsum(inv, axis=1)
    t = np.where(np.isnan(t), np.inf, t)
    return t.min(axis=1)
