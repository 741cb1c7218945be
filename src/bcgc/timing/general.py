"""Block arrival times worker by worker: the general runtime model (docs/model.md, "The general
model: fixed costs, unequal shares, links").

Formula (2) (``bcgc.timing.orderstat``) holds when every worker does the same work and the work is paid
linearly: then the workers finish block s in the order of their times T_n, and block s is decoded
at c_s · T_(N-s). This module drops both assumptions. For one realisation:

* worker n has a fixed cost a_n paid once per iteration (a start-up: a forward pass, an
  invocation) and a rate b_n (seconds per unit of work, a unit being one full-subset gradient);
* worker n's work up to and including block s is W_n(s) = Σ_{j≤s} x_j / L · w_n(j), where
  w_n(j) is the data it holds for level j in units of a subset (j + 1 with equal subsets);
* block s is ready on worker n at R_n(s) = a_n + b_n · W_n(s), and decoded once N − s workers
  have delivered it: D(s) = (N−s)-th smallest over n of R_n(s); the runtime is τ = max_{s: x_s>0} D(s).

With a_n = 0, b_n = T_n and w_n(j) = j + 1 this is exactly formula (2). Arrays: ``fixed`` and
``rate`` have shape (K, N) (K realisations); ``shares`` has shape (N, N) — shares[n, j] = w_n(j) —
or is None for equal subsets.
"""

from __future__ import annotations

import numpy as np

from .._validate import InputError
from .work import WorkOrder, as_order

__all__ = [
    "equal_shares",
    "cyclic_shares",
    "check_subset_sizes",
    "unequal_sizes",
    "cumulative_work",
    "ready_times",
    "order_decode",
    "decode_times",
    "runtime_samples",
    "ready_at",
]


def equal_shares(workers: int) -> np.ndarray:
    """w_n(j) = j + 1: every subset of size 1/N, worker n holds j + 1 of them at level j."""
    return np.tile(np.arange(1.0, workers + 1.0), (workers, 1))


#: how far subset sizes may sum from 1 (a design document's rounded sizes get 1e-6, then renormalised)
SIZES_TOLERANCE = 1e-9


def check_subset_sizes(sizes, workers: int):
    """Validated subset sizes d_0..d_{N-1} (fractions of the data, d_k >= 0, Σ d_k = 1 within
    1e-9), as a float array; None stays None (equal subsets, d_k = 1/N)."""
    if sizes is None:
        return None
    try:
        d = np.asarray(sizes, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"subset_sizes must be {workers} numbers >= 0 summing to 1, got {sizes!r}") from None
    if d.shape != (workers,) or not np.all(np.isfinite(d)) or np.any(d < 0) or abs(d.sum() - 1.0) > SIZES_TOLERANCE:
        raise InputError(
            f"subset_sizes must be {workers} numbers >= 0 summing to 1 (one per data subset), got {sizes!r}"
        )
    return d / d.sum()


def unequal_sizes(sizes, workers: int):
    """The validated sizes when they are unequal, else None: equal subsets (d_k = 1/N to 1e-15) are
    no allocation, and every consumer then takes formula (2)'s path."""
    d = check_subset_sizes(sizes, workers)
    return None if d is None or np.allclose(d, 1.0 / workers, rtol=0, atol=1e-15) else d


def cyclic_shares(sizes) -> np.ndarray:
    """w_n(j) = N · Σ_{i≤j} d_{(n+i) mod N}: the data worker n holds at level j under cyclic
    placement with subset sizes d (docs/model.md, "Unequal subsets"); d_k = 1/N gives j + 1."""
    d = np.asarray(sizes, dtype=float)
    n = d.size
    windows = d[(np.arange(n)[:, None] + np.arange(n)[None, :]) % n]  # windows[n, i] = d_{(n+i) mod N}
    return n * np.cumsum(windows, axis=1)


def cumulative_work(x, shares=None, order: WorkOrder | None = None) -> np.ndarray:
    """W_n(s), shape (N, S) for the N levels s (units of a full subset): Σ_{j≤s} x_j / L · w_n(j) in
    the paper's order (``order`` None), else the order's (``bcgc.timing.work``; docs/model.md,
    "The backprop work order")."""
    x = np.asarray(x, dtype=float)
    w = equal_shares(x.size) if shares is None else np.asarray(shares, dtype=float)
    if w.shape != (x.size, x.size):
        raise ValueError(f"shares must have shape (N, N) = ({x.size}, {x.size}), got {w.shape}")
    return as_order(order).work(x, w)


def ready_times(x, fixed, rate, shares=None, order: WorkOrder | None = None) -> np.ndarray:
    """R_n(s) = a_n + b_n · W_n(s) for the non-empty blocks s only, shape (K, N, #non-empty)."""
    used = np.flatnonzero(np.asarray(x) > 0)
    work = cumulative_work(x, shares, order)[:, used]
    fixed, rate = np.atleast_2d(np.asarray(fixed, dtype=float)), np.atleast_2d(np.asarray(rate, dtype=float))
    with np.errstate(invalid="ignore"):  # inf · 0 cannot occur: every used block has work > 0
        return fixed[:, :, None] + rate[:, :, None] * work[None, :, :]


def order_decode(arrival, needed) -> np.ndarray:
    """Decoding time of each message slot j: the ``needed[j]``-th smallest arrival over workers,
    ``arrival`` (K, N, M), shape (K, M)."""
    needed = np.asarray(needed, dtype=np.int64)
    ordered = np.sort(arrival, axis=1)
    return np.take_along_axis(ordered, (needed - 1)[None, None, :], axis=1)[:, 0, :]


def decode_times(x, arrivals) -> np.ndarray:
    """D(s) = (N − s)-th smallest arrival of block s, for the non-empty blocks: shape (K, #non-empty).
    ``arrivals`` is (K, N, #non-empty), e.g. :func:`ready_times`, or the ready times after uploads."""
    return order_decode(arrivals, arrivals.shape[1] - np.flatnonzero(np.asarray(x) > 0))


def runtime_samples(x, fixed, rate, shares=None, order: WorkOrder | None = None) -> np.ndarray:
    """τ = max_{s: x_s>0} D(s) per realisation, shape (K,). Equals ``bcgc.timing.orderstat.block_runtime(x, rate)``
    when ``fixed`` is 0, shares are equal and the order is the paper's."""
    return decode_times(x, ready_times(x, fixed, rate, shares, order)).max(axis=1)


def ready_at(fixed, rate, work) -> np.ndarray:
    """R_n(m) = a_n + b_n · W(m) for any per-message work W (units of a full subset), the same for
    every worker: shape (K, N, M) (used by ``bcgc.timing.mm``, whose messages are not one per level)."""
    fixed, rate = np.atleast_2d(np.asarray(fixed, dtype=float)), np.atleast_2d(np.asarray(rate, dtype=float))
    return fixed[:, :, None] + rate[:, :, None] * np.asarray(work, dtype=float)[None, None, :]
