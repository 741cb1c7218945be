"""Evaluation under the general model (docs/model.md, "The general model: fixed costs, unequal
shares"): laws with a fixed cost a_n and designs with unequal subsets are evaluated by Monte Carlo
on draws of (a, b) through :mod:`bcgc.timing.general`, never through formula (2), which assumes a = 0 and
equal subsets. A law with a = 0 and equal subsets keeps the formula (2) path and today's numbers.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as V
from ..timing import runtime
from ..timing.general import check_subset_sizes, unequal_sizes
from .result import Evaluation, summarize

__all__ = ["needs_general", "general_monte_carlo"]


def needs_general(model, subset_sizes=None) -> bool:
    """True when the runtime must be computed worker by worker: a fixed cost, or unequal subsets."""
    if subset_sizes is not None and unequal_sizes(subset_sizes, len(subset_sizes)) is not None:
        return True
    return model is not None and model.has_fixed_cost


def general_monte_carlo(
    model,
    workers: int,
    x,
    subset_sizes=None,
    samples: int = 200_000,
    seed=None,
    deadline=None,
    order=None,
    chunk_values: int = 4_000_000,
) -> Evaluation:
    """E[τ] and P(τ ≤ deadline) with standard errors from ``samples`` draws of (a, b), in chunks
    of about ``chunk_values`` numbers (same seed, same numbers), under the work ``order`` (None: the
    paper's; docs/model.md, "The backprop work order"). Method "monte-carlo"."""
    rng = V.as_rng(seed)
    d = check_subset_sizes(subset_sizes, workers)
    used = max(1, int(np.count_nonzero(np.asarray(x))))
    rows = max(1, chunk_values // (workers * (used + 2)))
    taus, done = [], 0
    while done < samples:
        k = min(rows, samples - done)
        a, b = model.sample_parts(k, workers, rng)
        taus.append(runtime(x, b, a, d, order=order))
        done += k
    return summarize(np.concatenate(taus), deadline)
