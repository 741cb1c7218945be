"""What the master learns from the workers' time stamps (docs/runtime.md, observations).

Every block carries the seconds since its worker started the iteration. Worker n's block s is the
work W_n(s) = Σ_{j≤s} x_j / L · w_n(j) (``bcgc.timing.general.cumulative_work``), so one iteration gives
points (W_n(s), t_n(s)) on the line t = a_n + b_n · W. A worker cancelled before its next block
s' gives a censored point: it had not finished W_n(s') at the cancel time c_n (seconds on the
worker's clock: the master's cancel time since publishing, less the worker's message delay
d_n = min over its blocks of (arrival at the master − stamp), both delays of a round trip).
"""

from __future__ import annotations

import numpy as np

from ..timing.general import cumulative_work

__all__ = ["observations", "fit_parts", "fill_parts"]


def observations(scheme, stamps, cancel_seconds: float, live) -> list:
    """[worker, work, seconds, censored] for every block received in a round (``stamps``: tuples
    (worker, level, stamp, seconds since publish at arrival); ``scheme``: a runtime ``Plan``, whose
    ``work[n, key]`` also covers MM schemes' messages, or a BlockScheme) and one censored point per live
    worker that had blocks left at the cancel time ``cancel_seconds`` (since publish)."""
    work = scheme.work if hasattr(scheme, "work") else cumulative_work(scheme.blocks, getattr(scheme, "shares", None))
    levels = [int(s) for s in scheme.levels]
    obs, got, delay = [], {}, {}
    for n, s, stamp, arrived in stamps:
        obs.append([int(n), float(work[n, s]), float(stamp), 0])
        got.setdefault(n, []).append((s, stamp))
        delay[n] = min(delay.get(n, np.inf), arrived - stamp)
    typical = float(np.median(list(delay.values()))) if delay else 0.0
    for n in sorted(live):
        done = got.get(n, [])
        last = max((s for s, _ in done), default=-1)
        left = [s for s in levels if s > last]
        if left:  # still computing block left[0] when cancelled: slower than c for that work
            c = cancel_seconds - delay.get(n, typical)
            c = max([c, 0.0] + [t for _, t in done])  # each is a lower bound: keep the tightest
            obs.append([int(n), float(work[n, left[0]]), float(c), 1])
    return obs


#: the delivered works must spread over at least this fraction of the largest one: closer works
#: leave the slope to the timing noise (the error of b grows as 1 / spread)
MIN_SPREAD = 0.1


def fit_parts(obs, workers: int):
    """Per-worker (a_n, b_n) of one iteration from its observations, NaN where not identified.

    Least squares of t on W over the uncensored points (works spread over MIN_SPREAD of the
    largest at least); a censored point the line violates (a + b · W < c) joins the fit as an
    equality, once (docs/runtime.md)."""
    a, b = np.full(workers, np.nan), np.full(workers, np.nan)
    obs = np.asarray(obs, dtype=float).reshape(-1, 4)
    for n in range(workers):
        mine = obs[obs[:, 0] == n]
        done, cens = mine[mine[:, 3] == 0], mine[mine[:, 3] == 1]
        if not done.size or np.ptp(done[:, 1]) < MIN_SPREAD * done[:, 1].max():
            continue
        fit = _line(done[:, 1], done[:, 2])
        low = cens[fit[0] + fit[1] * cens[:, 1] < cens[:, 2]]
        if low.size:
            fit = _line(np.r_[done[:, 1], low[:, 1]], np.r_[done[:, 2], low[:, 2]])
        a[n], b[n] = fit
    return a, b


def _line(W, t):
    A = np.column_stack([np.ones_like(W), W])
    return np.linalg.lstsq(A, t, rcond=None)[0]


def fill_parts(a, b, obs):
    """(a, b) for every worker, for the timeline model: a worker with one delivered block gets
    a = 0, b = t/W; one that delivered nothing never arrived (b = inf)."""
    a, b = np.array(a, dtype=float), np.array(b, dtype=float)
    obs = np.asarray(obs, dtype=float).reshape(-1, 4)
    for n in np.flatnonzero(np.isnan(a) | np.isnan(b)):
        done = obs[(obs[:, 0] == n) & (obs[:, 3] == 0)]
        a[n] = 0.0
        b[n] = done[-1, 2] / done[-1, 1] if len(done) else np.inf
    return a, b
