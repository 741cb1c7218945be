"""UC-MMC's runtime on draws (docs/peers.md, "UC-MMC"), once for every setting: free links or upload
links, with or without a fixed cost.

Worker n processes subsets n, n+1, .., n+r−1 (mod N) in order and sends each one's gradient (L values)
when done: its message j (work j + 1) is ready at a_n + b_n·(j + 1) and leaves at
F_n(j) = max(R_n(j), F_n(j−1)) + λ + L/B (``bcgc.timing.links``); subset k arrives at
min_{j<r} A_{(k−j) mod N}(j), and τ = max_k of that. Free links: A = R and the running minimum over j
gives every r = 1..r_max in one pass.
"""

from __future__ import annotations

import numpy as np

from .links import FREE, Links, arrivals

__all__ = ["ucmmc_runtimes"]


def ucmmc_runtimes(fixed, rate, rs, coords: float = 1.0, net: Links = FREE) -> np.ndarray:
    """τ of UC-MMC for each r in ``rs`` on draws (a, b) of shape (K, N), shape (K, len(rs)).

    ``fixed`` None is a = 0. With per-worker links (or free ones) a message's arrival does not depend
    on later messages, so one pass over j serves every r; a shared ingress needs one event pass per r."""
    rate = np.asarray(rate, dtype=float)
    a = np.zeros_like(rate) if fixed is None else np.asarray(fixed, dtype=float)
    rs = np.asarray(rs, dtype=np.int64)
    if not net.per_worker:
        return np.stack([_one_r(a, rate, coords, net, int(r)) for r in rs], axis=1)
    out = np.empty((rate.shape[0], rs.size))
    free = net.free
    cost = 0.0 if free else float(net.message_time(coords))
    leave = np.full(rate.shape, -np.inf)
    best = np.full(rate.shape, np.inf)
    for j in range(int(rs.max())):
        ready = a + rate * (j + 1.0)
        leave = ready if free else np.maximum(ready, leave) + cost
        np.minimum(best, np.roll(leave, j, axis=1), out=best)  # worker k−j holds subset k at position j
        for i in np.flatnonzero(rs == j + 1):
            out[:, i] = best.max(axis=1)
    return out


def _one_r(a, b, coords, net, r):
    ready = a[:, :, None] + b[:, :, None] * np.arange(1.0, r + 1.0)[None, None, :]
    arr = arrivals(ready, np.full(r, float(coords)), net)
    best = np.full(a.shape, np.inf)
    for j in range(r):
        np.minimum(best, np.roll(arr[:, :, j], j, axis=1), out=best)
    return best.max(axis=1)
