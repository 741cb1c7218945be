"""Upload links: from the times messages are ready on the workers to the times they reach the master
(docs/model.md, "Communication: upload links").

A message of m coordinates costs a latency λ plus m / B, B the worker's upload bandwidth in
coordinates per unit of T. A worker uploads its messages in order, one at a time, while it keeps
computing (compute and upload overlap), so message j of worker n leaves at

    F_n(j) = max(R_n(j), F_n(j-1)) + λ + m_j / B,        F_n(-1) = -inf,

R_n(j) its ready time (for BCGC block j: ``bcgc.timing.general.ready_times``, which covers fixed costs and
unequal shares). With B = ∞ and λ = 0, F = R: arrivals are ready times and every runtime is the
free-communication one (formula (2) for BCGC).

Optionally all uploads also share the master's ingress, one link of bandwidth B_m: a message that
has left its worker at F enters a first-in-first-out queue (in the order of F; ties by worker, then
message) and arrives at A = max(F, A_prev) + m / B_m, A_prev the arrival of the message queued before
it. Nothing is cancelled: a worker sends every message, even one the master no longer needs. FIFO
is chosen over processor sharing because a message's arrival then depends only on messages offered
before it, which keeps the event simulation a single pass.

Arrays: ready times have shape (K, N, M) (K realisations, N workers, M messages per worker in the
order sent); ``sizes`` has shape (M,) or (N, M). The same functions serve one iteration (K = 1),
e.g. a runtime that emulates links.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _validate as V
from .general import decode_times, order_decode, ready_times  # order_decode: re-exported
from .work import WorkOrder

#: the links' ranges, checked by :func:`links` for every caller (options, documents, the API): a
#: bandwidth below 1e-9 coordinates per unit of T or a latency above 1e9 units makes every upload time
#: overflow the solvers' scaling (HiGHS refuses the model) long before it means anything
MIN_BANDWIDTH, MAX_LATENCY, MAX_INGRESS = 1e-9, 1e9, 1e300

__all__ = [
    "Links",
    "FREE",
    "links",
    "departure",
    "departures",
    "arrivals",
    "order_decode",
    "block_arrivals",
    "block_runtime_samples",
    "one_message",
    "one_message_level",
    "one_message_levels",
]


@dataclass(frozen=True)
class Links:
    """The network: per-worker upload ``bandwidth`` B (coordinates per unit of T, ∞ = free),
    ``latency`` λ per message (unit of T), and an optional shared master ``ingress`` B_m (None: none)."""

    bandwidth: float = math.inf
    latency: float = 0.0
    ingress: float | None = None

    @property
    def free(self) -> bool:
        """Communication costs nothing: today's model (formula (2))."""
        return math.isinf(self.bandwidth) and self.latency == 0.0 and self.ingress is None

    @property
    def per_worker(self) -> bool:
        """No shared ingress: each worker's uploads depend on that worker only."""
        return self.ingress is None

    def message_time(self, size) -> np.ndarray:
        """λ + m / B for a message of ``size`` coordinates on a worker's link."""
        return self.latency + np.asarray(size, dtype=float) / self.bandwidth

    def upload_time(self, upload: float, messages: int) -> float:
        """Time a worker spends on its link for ``messages`` messages of ``upload`` coordinates in all."""
        return messages * self.latency + upload / self.bandwidth

    def describe(self) -> str:
        if self.free:
            return "free communication"
        text = f"B={self.bandwidth:g} coords/unit, λ={self.latency:g}"
        return text + ("" if self.ingress is None else f", ingress B_m={self.ingress:g}")

    def as_dict(self) -> dict:
        return {"bandwidth": self.bandwidth, "latency": self.latency, "ingress": self.ingress}


FREE = Links()


def links(bandwidth=math.inf, latency=0.0, ingress=None) -> Links:
    """A validated :class:`Links`: bandwidth in (0, ∞], latency finite ≥ 0, ingress in (0, ∞) or None."""
    if isinstance(bandwidth, Links):
        return bandwidth
    for name, value in (("bandwidth", bandwidth), ("latency", latency), ("ingress", ingress)):
        if isinstance(value, (bool, np.bool_, str, bytes)):  # True is not a bandwidth of 1
            raise V.InputError(f"{name} must be a number, got {value!r}")
    bandwidth = V.positive("bandwidth", bandwidth, allow_inf=True)
    if bandwidth < MIN_BANDWIDTH:
        raise V.InputError(f"bandwidth must be a number in [{MIN_BANDWIDTH:g}, inf] (inf: free), got {bandwidth!r}")
    latency = V.nonnegative("latency", latency)
    if latency > MAX_LATENCY:
        raise V.InputError(f"latency must be a number in [0, {MAX_LATENCY:g}], got {latency!r}")
    if ingress is not None:
        ingress = V.positive("ingress", ingress, allow_inf=True)
        if ingress < MIN_BANDWIDTH or MAX_INGRESS < ingress < math.inf:
            raise V.InputError(
                f"ingress must be a number in [{MIN_BANDWIDTH:g}, {MAX_INGRESS:g}] or inf, got {ingress!r}"
            )
        ingress = None if math.isinf(ingress) else ingress
    return Links(float(bandwidth), float(latency), ingress)


def departure(previous, ready, cost, net: Links):
    """One step of the recursion: F(j) = max(R(j), F(j-1)) + c_j with c_j = λ + m_j / B (``cost``,
    :meth:`Links.message_time`); free links send at once: F(j) = R(j). ``previous`` = F(j-1)
    (-inf before the first message)."""
    if math.isinf(net.bandwidth) and net.latency == 0.0:
        return ready
    return np.maximum(ready, previous) + cost


def departures(ready, sizes, net: Links) -> np.ndarray:
    """F_n(j) = max(R_n(j), F_n(j-1)) + λ + m_j / B: when each message has left its worker.
    ``ready`` (K, N, M), returns the same shape."""
    ready = np.asarray(ready, dtype=float)
    if math.isinf(net.bandwidth) and net.latency == 0.0:
        return ready
    cost = np.broadcast_to(net.message_time(sizes), ready.shape[1:])
    out = np.empty_like(ready)
    previous = np.full(ready.shape[:2], -np.inf)
    for j in range(ready.shape[2]):
        previous = departure(previous, ready[:, :, j], cost[:, j], net)
        out[:, :, j] = previous
    return out


def arrivals(ready, sizes, net: Links) -> np.ndarray:
    """When each message reaches the master: :func:`departures`, then the shared ingress (FIFO in
    the order of departure) when ``net.ingress`` is set. Shape (K, N, M) like ``ready``."""
    leave = departures(ready, sizes, net)
    if net.ingress is None:
        return leave
    K, N, M = leave.shape
    flat = leave.reshape(K, N * M)
    service = np.broadcast_to(np.asarray(sizes, dtype=float) / net.ingress, (N, M)).reshape(N * M)
    order = np.argsort(flat, axis=1, kind="stable")
    offered = np.take_along_axis(flat, order, axis=1)
    cost = service[order]
    done = np.empty_like(offered)
    previous = np.full(K, -np.inf)
    for i in range(N * M):  # one pass: a FIFO arrival depends on the messages offered before it only
        previous = np.maximum(offered[:, i], previous) + cost[:, i]
        done[:, i] = previous
    out = np.empty_like(flat)
    np.put_along_axis(out, order, done, axis=1)
    return out.reshape(K, N, M)


def block_arrivals(x, fixed, rate, net: Links, shares=None, order: WorkOrder | None = None) -> np.ndarray:
    """BCGC: block s (non-empty blocks only, in level order) reaches the master from worker n at
    the arrival of a message of x_s coordinates ready at R_n(s) (``bcgc.timing.general.ready_times``,
    under the work ``order``: docs/model.md, "The backprop work order"). Shape (K, N, #non-empty)."""
    x = np.asarray(x, dtype=float)
    return arrivals(ready_times(x, fixed, rate, shares, order), x[x > 0], net)


def block_runtime_samples(x, fixed, rate, net: Links, shares=None, order: WorkOrder | None = None) -> np.ndarray:
    """τ = max_s D(s), D(s) the (N − s)-th arrival of block s (docs/model.md, "Communication:
    upload links"). With free links this is ``bcgc.timing.general.runtime_samples``, i.e. formula (2)
    in the paper's order."""
    return decode_times(x, block_arrivals(x, fixed, rate, net, shares, order)).max(axis=1)


def one_message(a, b, work: float, needed: int, coords: int, net: Links) -> np.ndarray:
    """τ of a scheme whose every worker sends one message of L after ``work`` units; decoded at the
    ``needed``-th arrival. Shape (K,)."""
    ready = (a + b * work)[:, :, None]
    return order_decode(arrivals(ready, np.array([float(coords)]), net), np.array([needed]))[:, 0]


def one_message_level(a, b, coords: int, net: Links, work: float, level: int) -> np.ndarray:
    """τ of a one-message scheme at level s (decoded at the (N − s)-th arrival) after ``work`` units:
    with per-worker links the free order statistic shifted by λ + L/B (arrivals keep the order of
    the ready times). Shape (K,); the column s of :func:`one_message_levels`."""
    if net.per_worker:
        shift = float(net.message_time(coords))
        if not np.any(a):
            return -np.sort(-b, axis=1)[:, level] * work + shift
        return -np.sort(-(a + b * work), axis=1)[:, level] + shift
    return one_message(a, b, work, a.shape[1] - level, coords, net)


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
