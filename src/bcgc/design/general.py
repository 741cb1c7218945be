"""Design on the general model (docs/algorithms.md, "Fixed costs and unequal subsets: local search
on the exact sample objective").

With a fixed cost or unequal subsets the runtime of one draw (a, b) is

    τ_k(z, d) = max_{s: z_s>0}  (N−s)-th smallest over n of  a_n + b_n · W_n(s),
    W_n(s) = Σ_{j≤s} z_j w_n(j),   w_n(j) = N Σ_{i≤j} d_{(n+i) mod N}          (docs/model.md)

(:mod:`bcgc.timing.general`). W is linear in z (and in d), but which worker is the (N−s)-th to finish
depends on z as soon as workers differ in a or in their share, so the sample average is no longer
a linear program (with a = 0 and equal shares it is A3's LP). We minimise it by projected
subgradient steps on the exact sample objective from good starts, keeping the best iterate: the
subgradient of τ_k is that of the critical ready time a_n* + b_n* W_n*(s*) (s* the worst block, n*
its (N−s*)-th worker): ∂/∂z_j = b_n* w_n*(j) for j ≤ s*, ∂/∂d_{(n*+i) mod N} = b_n* N Σ_{i≤j≤s*} z_j.

Under the backprop work order (docs/model.md, "The backprop work order") W_n(s) is the order's
(``bcgc.timing.work``) and ∂/∂z is b_n* ∂W_n*(s*)/∂z (``WorkOrder.gradient``); d is not moved
(docs/algorithms.md, "The backprop work order").
"""

from __future__ import annotations

import math

import numpy as np

from .. import _validate as V
from .. import streams
from ..timing.general import cyclic_shares, equal_shares, ready_times
from ..timing.work import as_order
from .common import _project_simplex, trace_rows


class Draws:
    """Seeded draws of (a, b) for a design (``stream``: streams.DESIGN_SAMPLES or CANDIDATES). A
    trace with no more rows than ``samples`` is its rows, each once, for the design's own draws:
    the sample objective is then exact for that law, not a resample of it (and cheaper). ``order``:
    the work order the runtimes on these draws are computed under (None: the paper's)."""

    def __init__(self, model, workers: int, samples: int, seed: int, stream: int, order=None):
        self.order = as_order(order)
        rows = trace_rows(model, samples) if stream == streams.DESIGN_SAMPLES else None
        if rows is not None:
            self.a, self.b, self.workers = np.zeros_like(rows), rows.copy(), workers
            return
        V.memory(
            f"drawing {samples} samples of {workers} workers for the general model",
            6.0 * samples * workers * workers,
            "lower --samples or --workers",
        )
        self.a, self.b = model.sample_parts(samples, workers, streams.rng(seed, stream))
        self.workers = workers


def _shares(d, workers):
    return equal_shares(workers) if d is None else cyclic_shares(d)


def critical(z, d, draws: Draws):
    """Per draw: τ, the worst non-empty block s*, and its critical worker n* (shape (K,) each)."""
    n = draws.workers
    used = np.flatnonzero(z > 0)
    ready = ready_times(z, draws.a, draws.b, _shares(d, n), draws.order)  # (K, N, U)
    rank = np.argsort(ready, axis=1, kind="stable")
    crit = np.take_along_axis(rank, (n - 1 - used)[None, None, :], axis=1)[:, 0, :]  # (K, U)
    times = np.take_along_axis(ready, crit[:, None, :], axis=1)[:, 0, :]  # (K, U)
    u = np.argmax(times, axis=1)
    k = np.arange(times.shape[0])
    return times[k, u], used[u], crit[k, u]


def runtimes(z, d, draws: Draws) -> np.ndarray:
    """τ_k of every draw (the exact sample objective's terms)."""
    return critical(z, d, draws)[0]


def subgradient(z, d, draws: Draws, objective="runtime", deadline=None):
    """(objective value, ∂/∂z, ∂/∂d) at (z, d) of the sample objective (:func:`objective_weights`);
    d None means equal subsets (no d-gradient)."""
    n = draws.workers
    tau, s_star, n_star = critical(z, d, draws)
    value, weights = objective_weights(tau, objective, deadline)
    k = np.arange(tau.size)
    with np.errstate(invalid="ignore"):
        wb = weights * draws.b[k, n_star]
    wb = np.where(np.isfinite(wb), wb, 0.0)
    if not draws.order.is_paper:  # b_n* ∂W_n*(s*)/∂z of the order; d stays where it is
        gz = (draws.order.gradient(z, _shares(d, n))[n_star, s_star] * wb[:, None]).sum(axis=0)
        return value, gz, None
    below = np.arange(n)[None, :] <= s_star[:, None]  # (K, N): j ≤ s*
    gz = ((_shares(d, n)[n_star] * below) * wb[:, None]).sum(axis=0)
    if d is None:
        return value, gz, None
    cz = np.cumsum(z / z.sum())
    tail = (cz[s_star][:, None] - np.concatenate([[0.0], cz[:-1]])[None, :]) * below  # Σ_{i≤j≤s*} z_j
    gd = np.zeros(n)
    np.add.at(gd, (n_star[:, None] + np.arange(n)[None, :]) % n, n * tail * wb[:, None])
    return value, gz, gd


def objective_weights(tau, objective: str, deadline):
    """(value, weights): the sample mean of τ and 1/K, or the smoothed P(τ > t) (logistic of
    bandwidth 2% of t, as A6) and its derivative in τ."""
    if objective == "runtime":
        return float(tau.mean()), np.full(tau.size, 1.0 / tau.size)
    h = 0.02 * deadline
    with np.errstate(over="ignore"):
        s = 1.0 / (1.0 + np.exp(-(tau - deadline) / h))
    return float(np.mean(tau > deadline)), s * (1 - s) / h / tau.size


def local_search(z0, d0, levels, draws: Draws, objective="runtime", deadline=None, iterations=300, move_d=False):
    """Projected subgradient steps from (z0, d0) on the exact sample objective, step η0/√k on the
    normalised subgradient; returns the best iterate seen (value, z, d, iterations)."""
    z, d = np.asarray(z0, dtype=float).copy(), None if d0 is None else np.asarray(d0, dtype=float).copy()
    best = None
    for it in range(1, iterations + 1):
        value, gz, gd = subgradient(z, d, draws, objective, deadline)
        if best is None or value < best[0]:
            best = (value, z.copy(), None if d is None else d.copy())
        step = 0.3 / math.sqrt(it)
        gzf = gz[levels]
        if np.linalg.norm(gzf) > 0:
            zf = _project_simplex(z[levels] - step * max(z[levels].max(), 0.05) * gzf / np.linalg.norm(gzf))
            z = np.zeros_like(z)
            z[levels] = zf
        if move_d and gd is not None and np.linalg.norm(gd) > 0:
            d = _project_simplex(d - step * d.max() * gd / np.linalg.norm(gd))
    return best[0], best[1], best[2], iterations
