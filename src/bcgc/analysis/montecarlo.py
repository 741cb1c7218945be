"""Monte Carlo evaluation of any runtime under any law (seeded, chunked, with standard errors), the
quantiles of a design's runtime."""

from __future__ import annotations

import numpy as np

from .. import _validate as V
from ..timing import runtime
from ..timing.orderstat import OrderStatMax, descending
from .general import needs_general
from .result import Evaluation, summarize

__all__ = ["monte_carlo", "runtime_quantiles"]


def monte_carlo(
    model,
    workers: int,
    runtime_fn,
    samples: int,
    seed=None,
    deadline: float | None = None,
    chunk_values: int = 2_000_000,
) -> Evaluation:
    """Estimate E[τ] and P(τ ≤ deadline) with ``runtime_fn(Td) -> τ`` on descending-sorted draws.

    Draws are made in chunks of about ``chunk_values`` numbers (same seed, same numbers for a given
    ``chunk_values``); only τ is kept, so memory stays bounded for large N.
    """
    rng = V.as_rng(seed)
    rows = max(1, chunk_values // workers)
    taus, done = [], 0
    while done < samples:
        k = min(rows, samples - done)
        taus.append(runtime_fn(descending(model.sample(k, workers, rng))))
        done += k
    return summarize(np.concatenate(taus), deadline)


def runtime_quantiles(model, workers: int, blocks, qs, seed, samples: int = 2000, subset_sizes=None) -> np.ndarray:
    """Quantiles ``qs`` of τ(x; T) (formula (2); the general model with a fixed cost or unequal
    ``subset_sizes``) over the draws that complete (τ finite); inf when none does. Used to set
    deadlines and the runtime's patience."""
    if needs_general(model, subset_sizes):
        a, b = model.sample_parts(samples, workers, V.as_rng(seed))
        tau = runtime(blocks, b, a, subset_sizes)
    else:
        tau = OrderStatMax.from_blocks(blocks).samples(descending(model.sample(samples, workers, V.as_rng(seed))))
    tau = tau[np.isfinite(tau)]
    return np.quantile(tau, qs) if tau.size else np.full(len(qs), np.inf)
