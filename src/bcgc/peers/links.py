"""Every peer scheme in the link model (docs/peers.md, "Under upload links"): message by message.

Each scheme is described by when its messages are ready on each worker, their sizes and the rule by
which the master decodes; ``bcgc.links`` turns ready times into arrivals. Draws are (a, b) from
``StragglerModel.sample_parts`` (worker n needs a_n + b_n·w for work w; a = 0, b = T without a
fixed cost), so a scheme whose worker does w units before sending is ready at a + b·w:

* one message of L per worker — uncoded (w = 1, all N needed), classic GC at level s (w = s + 1,
  N − s needed), ignore-stragglers at level s (w = 1, N − s needed, inexact);
* block schemes — BCGC, Ferdinand & Draper (its block vector), Tandon's partial scheme (BCGC with
  x_0 = L(s+1)/(s+α) at level 0 and x_s = L(α−1)/(s+α) at level s: formula (2) of these two blocks
  is its (s+1)/(s+α)·max(α T_(N-s), T_(N))); one message per non-empty block;
* UC-MMC — r messages of L, message j ready at a + b·(j+1); subset k arrives at the first arrival
  among its r holders; τ = max_k;
* the oracle bound max(N / Σ 1/T_n, L / (N·B), L / B_m) + λ: the work done once, and the L values
  the master must receive, at least one message leaving after the last computation.

With per-worker links a one-message scheme's τ is its free τ plus λ + L/B, realisation by
realisation, so its E[τ] is exact wherever the free one is.
"""

from __future__ import annotations

import numpy as np

from ..analysis import oracle_samples
from ..analysis.general import oracle_affine_samples
from ..links import Links, arrivals, block_runtime_samples, order_decode

__all__ = [
    "one_message",
    "one_message_levels",
    "tandon_blocks",
    "ucmmc_links_all_r",
    "ucmmc_r_candidates",
    "oracle_links",
    "block_samples",
    "upload_seconds",
    "level_candidates",
]


def one_message(a, b, work: float, needed: int, coords: int, net: Links) -> np.ndarray:
    """τ of a scheme whose every worker sends one message of L after ``work`` units; decoded at the
    ``needed``-th arrival. Shape (K,)."""
    ready = (a + b * work)[:, :, None]
    return order_decode(arrivals(ready, np.array([float(coords)]), net), np.array([needed]))[:, 0]


def one_message_levels(a, b, coords: int, net: Links, work_of_level) -> np.ndarray:
    """τ for every level s = 0..N-1 (needed N − s, work ``work_of_level(s)``), shape (K, N)."""
    workers = a.shape[1]
    if net.per_worker:  # arrivals keep the order of the ready times
        shift = float(net.message_time(coords))
        if not np.any(a):  # no fixed cost: the order of b for every level, one sort
            bd = -np.sort(-b, axis=1)
            return np.stack([bd[:, s] * work_of_level(s) for s in range(workers)], axis=1) + shift
        out = np.empty(a.shape)
        for s in range(workers):
            out[:, s] = -np.sort(-(a + b * work_of_level(s)), axis=1)[:, s] + shift
        return out
    return np.stack([one_message(a, b, work_of_level(s), workers - s, coords, net) for s in range(workers)], axis=1)


def tandon_blocks(workers: int, coords: int, level: int, alpha: float) -> np.ndarray:
    """Tandon's partial scheme at level s as BCGC blocks (fractions of coordinates, summing to L)."""
    x = np.zeros(workers)
    x[0] += coords * (level + 1.0) / (level + alpha)
    x[level] += coords * (alpha - 1.0) / (level + alpha)
    return x


def block_samples(x, a, b, net: Links) -> np.ndarray:
    """τ of a block scheme (BCGC, Ferdinand & Draper, Tandon's partial) under the links."""
    return block_runtime_samples(x, a, b, net)


def level_candidates(workers: int) -> np.ndarray:
    """Levels tried for Tandon's partial scheme (a link evaluation of two blocks per level): all
    0..N-1 up to N = 64, else 32 levels spread geometrically, including 0 and N - 1."""
    if workers <= 64:
        return np.arange(workers)
    return np.unique(np.round(np.geomspace(1, workers, 32)).astype(np.int64) - 1)


def ucmmc_r_candidates(workers: int, net: Links) -> np.ndarray:
    """The r tried for UC-MMC: all 1..N with per-worker links; with a shared ingress (an event pass
    over N·r messages per r) a geometric grid of about 20 values including 1 and N."""
    if net.per_worker or workers <= 24:
        return np.arange(1, workers + 1)
    return np.unique(np.round(np.geomspace(1, workers, 20)).astype(np.int64))


def ucmmc_links_all_r(a, b, coords: int, net: Links, rs) -> np.ndarray:
    """τ of UC-MMC for each r in ``rs``, shape (K, len(rs)). Worker n sends subsets n, n+1, .. in
    order, message j (work j + 1) of L coordinates; subset k arrives at min_{j<r} A_{(k-j) mod N}(j)."""
    rs = np.asarray(rs, dtype=np.int64)
    if net.per_worker:  # message j's arrival does not depend on later messages: one pass for all r
        out = np.empty((a.shape[0], rs.size))
        cost = float(net.message_time(coords))
        leave = np.full(a.shape, -np.inf)
        best = np.full(a.shape, np.inf)
        for j in range(int(rs.max())):
            leave = np.maximum(a + b * (j + 1.0), leave) + cost
            np.minimum(best, np.roll(leave, j, axis=1), out=best)  # worker k-j holds subset k at position j
            for i in np.flatnonzero(rs == j + 1):
                out[:, i] = best.max(axis=1)
        return out
    return np.stack([_ucmmc_one_r(a, b, coords, net, int(r)) for r in rs], axis=1)


def _ucmmc_one_r(a, b, coords, net, r):
    ready = a[:, :, None] + b[:, :, None] * np.arange(1.0, r + 1.0)[None, None, :]
    arr = arrivals(ready, np.full(r, float(coords)), net)
    best = np.full(a.shape, np.inf)
    for j in range(r):
        np.minimum(best, np.roll(arr[:, :, j], j, axis=1), out=best)
    return best.max(axis=1)


def oracle_links(a, b, coords: int, net: Links) -> np.ndarray:
    """The oracle lower bound under links (module docstring), shape (K,)."""
    workers = a.shape[1]
    compute = oracle_affine_samples(a, b) if np.any(a) else oracle_samples(b)  # the fixed cost's best split
    bound = np.maximum(compute, coords / (workers * net.bandwidth))
    if net.ingress is not None:
        bound = np.maximum(bound, coords / net.ingress)
    return bound + net.latency


def upload_seconds(net: Links, upload, messages) -> float | None:
    """Time one worker's link is busy per iteration (None for the oracle, which sends nothing)."""
    return None if upload is None else net.upload_time(float(upload), int(messages))
