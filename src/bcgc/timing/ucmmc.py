"""UC-MMC's runtime on draws (docs/peers.md, "UC-MMC"), once for every setting: free links or upload
links, with or without a fixed cost.

Worker n processes subsets n, n+1, .., n+r−1 (mod N) in order and sends each one's gradient (L values)
when done: its message j (work j + 1) is ready at a_n + b_n·(j + 1) and leaves at
F_n(j) = max(R_n(j), F_n(j−1)) + λ + L/B (``bcgc.timing.links``); subset k arrives at
min_{j<r} A_{(k−j) mod N}(j), and τ = max_k of that. Free links: A = R and the running minimum over j
gives every r = 1..r_max in one pass (:func:`holder_minima`, shared with bcgc_mm's multi blocks).
"""

from __future__ import annotations

import numpy as np

from .links import FREE, Links, arrivals

__all__ = ["ucmmc_runtimes", "holder_minima", "chunked_minima", "CHUNK_VALUES"]

#: values per (rows, N) array of a chunked pass: small enough to stay in the processor's cache
CHUNK_VALUES = 1 << 16


def holder_minima(arrival_at, rows: int, workers: int, rs) -> np.ndarray:
    """τ_r = max_k min_{j<r} A_{(k−j) mod N}(j) for each r in ``rs`` (ascending, ≤ N), shape (rows, len(rs)).

    ``arrival_at(j)`` gives A(j), shape (rows, N): worker n's message at position j (it holds subset
    n + j), called for j = 0, 1, .. in order. A must not decrease with j (later work, a later
    message: true of ready times a + b·W and of departures through a link); then once every row's
    least A(j) is at least its largest running minimum no later position can lower a minimum, and the
    pass stops early with every larger r at the same τ — the same numbers as the full pass."""
    rs = np.asarray(rs, dtype=np.int64)
    out = np.empty((rows, rs.size))
    best = np.full((rows, workers), np.inf)
    col = 0
    for j in range(int(rs[-1])):
        arr = arrival_at(j)
        # worker k−j holds subset k at position j: best[k] vs arr[k − j mod N], without a rolled copy
        np.minimum(best[:, j:], arr[:, : workers - j], out=best[:, j:])
        np.minimum(best[:, :j], arr[:, workers - j :], out=best[:, :j])
        top = None
        while col < rs.size and rs[col] == j + 1:
            top = best.max(axis=1) if top is None else top
            out[:, col] = top
            col += 1
        if col == rs.size:
            break
        if top is not None or (j & (j + 1)) == 0:  # the early stop: when τ is at hand, else at j = 0, 1, 3, 7, ..
            top = best.max(axis=1) if top is None else top
            if np.all(arr.min(axis=1) >= top):
                out[:, col:] = top[:, None]
                break
    return out


def ucmmc_runtimes(fixed, rate, rs, coords: float = 1.0, net: Links = FREE) -> np.ndarray:
    """τ of UC-MMC for each r in ``rs`` on draws (a, b) of shape (K, N), shape (K, len(rs)).

    ``fixed`` None is a = 0. With per-worker links (or free ones) a message's arrival does not depend
    on later messages, so one pass over j serves every r (in chunks of draws that stay in the cache);
    a shared ingress needs one event pass per r."""
    rate = np.asarray(rate, dtype=float)
    a = None if fixed is None else np.asarray(fixed, dtype=float)
    rs = np.asarray(rs, dtype=np.int64)
    if not net.per_worker:
        a = np.zeros_like(rate) if a is None else a
        return np.stack([_one_r(a, rate, coords, net, int(r)) for r in rs], axis=1)
    order = np.argsort(rs, kind="stable")
    out = np.empty((rate.shape[0], rs.size))
    out[:, order] = chunked_minima(lambda rows: _upload_pass(a, rate, rows, coords, net), *rate.shape, rs[order])
    return out


def chunked_minima(pass_for, rows: int, workers: int, rs) -> np.ndarray:
    """:func:`holder_minima` over chunks of rows small enough for the processor's cache, shape
    (rows, len(rs)); ``pass_for(chunk)`` gives the chunk's ``arrival_at`` (``chunk``: a slice)."""
    out = np.empty((rows, len(rs)))
    step = max(1, CHUNK_VALUES // workers)
    for i in range(0, rows, step):
        chunk = slice(i, min(i + step, rows))
        out[chunk] = holder_minima(pass_for(chunk), chunk.stop - i, workers, rs)
    return out


def _upload_pass(a, rate, rows, coords, net):
    """A(j) for UC-MMC on ``rows``: ready a + b·(j + 1), then each worker's link (recursion in j)."""
    b = rate[rows]
    a = None if a is None or not np.any(a[rows]) else a[rows]  # a = 0: b·w alone, the same numbers
    cost = 0.0 if net.free else float(net.message_time(coords))
    leave = np.full(b.shape, -np.inf)

    def at(j):
        nonlocal leave
        ready = b * (j + 1.0) if a is None else a + b * (j + 1.0)
        leave = ready if net.free else np.maximum(ready, leave) + cost
        return leave

    return at


def _one_r(a, b, coords, net, r):
    ready = a[:, :, None] + b[:, :, None] * np.arange(1.0, r + 1.0)[None, None, :]
    arr = arrivals(ready, np.full(r, float(coords)), net)
    best = np.full(a.shape, np.inf)
    for j in range(r):
        np.minimum(best, np.roll(arr[:, :, j], j, axis=1), out=best)
    return best.max(axis=1)
