"""The engine interface of the distributed runtime (docs/runtime.md), the worker logic every engine
runs, and a thread engine for tests and single-process use.

The master only talks to a :class:`Backend`: publish θ for an iteration, read the stream of events
(:class:`Arrival` of one coded block, :class:`Death` of a worker, :class:`Failure` of worker code),
cancel an iteration, ship data to a worker. :class:`WorkerCore` is what a worker does, whatever the
engine: hold its data subsets and, for an iteration, compute block by block (s = 0, 1, ..) the
message the :class:`~bcgc.schemes.blocks.BlockScheme` prescribes, emit each block as soon as it is due,
and stop as soon as the iteration is cancelled. Workers never encode on their own: the scheme does.
A worker runs one round at a time: round t+1 starts computing only once round t has finished or
abandoned its blocks (a stateful problem, e.g. a module whose parameters are set per round, never
sees two rounds at once); before computing a round it tells the problem the iteration
(``problem.set_iteration(t)``, when the problem has it).

Straggling: ``emulate`` — block s is released at (a_n + b_n · W_n(s)) · unit after the worker
starts the iteration (exactly the model, ``bcgc.timing.general``: T_n · c_s when a_n = 0 and subsets are
equal); ``slowdown`` — the real computation of each block is stretched by the factor T_n (the
worker sleeps (T_n - 1) times the compute it just did); ``natural`` — nothing is injected: the
real computation only. Every block carries its time stamp: the seconds since the worker started
the iteration when it was sent (docs/runtime.md, observations).
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
import time
import traceback
from dataclasses import dataclass

import numpy as np

from .._validate import Options
from ..problems.models import set_iteration
from ..schemes.plan import Plan
from .names import MODES  # how straggling is produced on a worker (see the module doc)
from .uplink import uploads

__all__ = [
    "Arrival",
    "Death",
    "Failure",
    "MODES",
    "check_mode",
    "WorkerCore",
    "Backend",
    "ThreadBackend",
    "block_partials",
]


def check_mode(mode: str) -> str:
    """An unknown mode must never silently turn straggling off."""
    mode = Options(*MODES).check("mode", mode)
    return mode


@dataclass(frozen=True)
class Arrival:
    """One coded block from one worker, tagged so that late messages can never be mixed in."""

    iteration: int
    level: int
    worker: int
    vector: np.ndarray
    compute_seconds: float = 0.0
    stamp: float = float("nan")  # seconds since the worker started the iteration, when it was sent


@dataclass(frozen=True)
class Death:
    """A worker whose process or actor is gone: a permanent straggler."""

    worker: int
    reason: str


@dataclass(frozen=True)
class Failure:
    """Worker code raised an exception: a bug, not a death. The run stops with ``traceback``."""

    worker: int
    traceback: str


class WorkerCore:
    """The engine-independent worker: data subsets, and the block-by-block coded computation."""

    def __init__(self, index: int, problem_view):
        self.index = index
        self.problem = problem_view
        self._cancelled = -1
        self._wake = threading.Condition()
        self._round = threading.Lock()  # held while a round computes: one round at a time

    def load(self, problem_view) -> None:
        """Replace the held data (after a re-design needing more subsets)."""
        self.problem = problem_view

    def extend(self, problem_view) -> None:
        """Add the subsets of ``problem_view`` to the held data (only what changed is shipped). A
        problem without per-subset data (no ``_per_subset``) is replaced instead. The merged view
        is built aside and swapped in whole: a round still running keeps a consistent view."""
        names = getattr(problem_view, "_per_subset", None)
        if not names or type(problem_view) is not type(self.problem):
            self.problem = problem_view
            return
        merged = object.__new__(type(self.problem))
        merged.__dict__.update(self.problem.__dict__)
        merged.__dict__.pop("_batch_data", None)  # the old data's stacks (bcgc.problems.batch): rebuilt
        for name in names:  # a per-subset attribute a view does not ship (None) stays None
            old, new = getattr(self.problem, name), getattr(problem_view, name)
            setattr(merged, name, {**old, **new} if isinstance(old, dict) and isinstance(new, dict) else new)
        self.problem = merged

    def cancel(self, iteration: int) -> None:
        """Abandon every block of iterations ≤ ``iteration`` that is not sent yet."""
        with self._wake:
            self._cancelled = max(self._cancelled, iteration)
            self._wake.notify_all()

    def _sleep_until(self, deadline: float, iteration: int) -> bool:
        """Sleep until ``deadline`` (perf_counter) unless cancelled; False when cancelled."""
        with self._wake:
            while self._cancelled < iteration:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return True
                self._wake.wait(min(left, 3600.0))  # a far deadline must not overflow the clock
        return False

    def run(self, iteration: int, theta: np.ndarray, t_n, scheme, mode: str, unit: float, t: int | None = None):
        """Yield (key, coded vector, compute seconds, time stamp) message by message (key: the
        level s of a block scheme, the message index of an MM scheme). ``t_n`` is T_n, or the
        pair (a_n, b_n) of a fixed cost and a rate (unit of T); ``scheme`` a :class:`~.plan.Plan`
        (or a bare scheme: free links). Under links each message also crosses the worker's upload
        link (:mod:`.uplink`) while the worker computes the next ones. ``iteration`` is the round's
        tag; ``t`` the iteration number it belongs to (``problem.set_iteration(t)``; None: the tag).
        The computation waits for the worker's previous round to end (finished or cancelled)."""
        check_mode(mode)
        plan = scheme if isinstance(scheme, Plan) else Plan(scheme)
        start = time.perf_counter()
        produced = self._compute(iteration, theta, t_n, plan, mode, unit, start, iteration if t is None else t)
        if plan.net.free:
            yield from produced
        else:
            yield from uploads(self, iteration, produced, plan, unit, start)

    def _compute(self, iteration, theta, t_n, plan, mode, unit, start, t):
        """The round's blocks, computed under the worker's round lock (released when the round
        ends: finished, cancelled, or its generator closed)."""
        with self._round:
            if self._cancelled < iteration:
                yield from self._blocks(iteration, theta, t_n, plan, mode, unit, start, t)

    def _blocks(self, iteration, theta, t_n, plan, mode, unit, start, t):
        a, b = (0.0, float(t_n)) if np.ndim(t_n) == 0 else (float(t_n[0]), float(t_n[1]))
        if mode == "emulate":  # R_n = a_n + b_n · W_n: the one formula, bcgc.timing.general
            ready = dict(zip(plan.levels.tolist(), plan.ready(self.index, a, b).tolist()))
        set_iteration(self.problem, t)
        partial = block_partials(self.problem, theta, plan)

        for level in plan.levels.tolist():
            if self._cancelled >= iteration:
                return
            t0 = time.perf_counter()
            vec = plan.message(self.index, level, partial)
            spent = time.perf_counter() - t0
            if mode == "emulate":
                due = start + ready[level] * unit
            elif mode == "slowdown":
                due = time.perf_counter() + (a + b - 1.0) * spent
            else:
                due = t0
            if not math.isfinite(due) or not self._sleep_until(due, iteration):
                return  # cancelled, or a full straggler (T = inf) that never answers
            yield level, vec, spent, time.perf_counter() - start


def block_partials(problem, theta, plan):
    """``partial(k, coords)``: ∂_l f_k(θ) for a block's coordinates, in the plan's work order.

    Paper's order (coordinate-major): one forward pass per subset, kept, and each block's partials
    from it (:class:`_Forwarded`). Backprop order (subset-major, docs/model.md): a subset is first
    asked for by the lowest block that needs it; one forward and one backward pass then give its
    partials from that block's start to θ's end (``tail_gradient``: the high levels lie above), and
    the later blocks read them."""
    if getattr(plan, "order", None) is not None and not plan.order.is_paper:
        cache = {}
        tail = getattr(problem, "tail_gradient", None) or (lambda th, k, lo: problem.subset_gradient(th, k)[lo:])

        def partial(k, coords):
            lo = int(coords[0])
            if k not in cache:
                cache[k] = (lo, tail(theta, k, lo))
            start, values = cache[k]
            return values[np.asarray(coords) - start]

        return partial
    return _Forwarded(problem, theta)


class _Forwarded:
    """One round's partial derivatives in the paper's order: ``forward(θ, k)`` once per subset, when
    a block first needs it, then ``partial_given`` for each block; ``rows`` gives a block's rows of
    all its subsets at once (``partials_given``: one batched computation per block, not one call
    per subset — the per-block cost of a worker stays flat in N)."""

    def __init__(self, problem, theta):
        self.problem, self.theta, self.states = problem, theta, {}
        self.batch = getattr(problem, "partials_given", None)

    def state(self, k):
        if k not in self.states:  # forward each subset once, when a block first needs it
            self.states[k] = self.problem.forward(self.theta, k)
        return self.states[k]

    def __call__(self, k, coords):
        return self.problem.partial_given(self.state(k), self.theta, k, coords)

    def rows(self, subsets, coords):
        subsets = np.asarray(subsets).tolist()
        for k in [k for k in subsets if k not in self.states]:
            self.state(k)
        if self.batch is None:
            return np.stack([self.problem.partial_given(self.states[k], self.theta, k, coords) for k in subsets])
        return self.batch(self.states, self.theta, subsets, coords)


class Backend:
    """What the master needs from an engine. See :class:`ThreadBackend`, ``RayBackend``; every
    engine must pass ``tests/test_engines.py`` (the conformance suite)."""

    workers: int

    def publish(
        self, iteration: int, theta: np.ndarray, times: np.ndarray, scheme, mode: str, unit: float, t=None
    ) -> None:
        """Start round ``iteration`` on every live worker: worker n straggles with ``times[n]``, T_n
        (shape (N,)) or its fixed cost and rate (a_n, b_n) (shape (N, 2)); ``t``: the iteration number
        of the round (``problem.set_iteration(t)`` on each worker, :meth:`WorkerCore.run`). A worker
        starts computing a round once its previous round has ended."""
        raise NotImplementedError

    def next_event(self, timeout: float):
        """The next Arrival, Death or Failure, or None after ``timeout`` seconds."""
        raise NotImplementedError

    def cancel(self, iteration: int) -> None:
        raise NotImplementedError

    def load(self, worker: int, problem_view) -> bool:
        """Ship data to a worker; False if it turned out to be dead."""
        raise NotImplementedError

    def extend(self, worker: int, problem_view) -> bool:
        """Ship a worker more subsets, added to those it holds; False if it turned out to be dead."""
        raise NotImplementedError

    def shutdown(self) -> None:
        pass


class ThreadBackend(Backend):
    """Workers as threads of this process: for tests and small runs without an engine.

    ``kill(n)`` makes worker n die (it stops answering and a Death event is emitted).
    """

    def __init__(self, problem_views):
        self.workers = len(problem_views)
        self.cores = [WorkerCore(n, v) for n, v in enumerate(problem_views)]
        self.events: queue.Queue = queue.Queue()
        self.dead: set[int] = set()
        self._lock = threading.Lock()

    def publish(self, iteration, theta, times, scheme, mode, unit, t=None):
        for n, core in enumerate(self.cores):
            if n not in self.dead:
                threading.Thread(
                    target=self._serve,
                    args=(core, iteration, theta, _worker_times(times, n), scheme, mode, unit, t),
                    daemon=True,
                ).start()

    def _serve(self, core, iteration, theta, t_n, scheme, mode, unit, t):
        try:
            with contextlib.closing(core.run(iteration, theta, t_n, scheme, mode, unit, t)) as blocks:
                for level, vec, spent, stamp in blocks:  # closed on leaving: the round lock is released
                    with self._lock:
                        if core.index in self.dead:
                            return
                        self.events.put(Arrival(iteration, level, core.index, vec, spent, stamp))
        except Exception:  # worker code raised: report it, never stall silently
            self.events.put(Failure(core.index, traceback.format_exc()))

    def next_event(self, timeout):
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def cancel(self, iteration):
        for core in self.cores:
            core.cancel(iteration)

    def load(self, worker, problem_view):
        if worker in self.dead:
            return False
        self.cores[worker].load(problem_view)
        return True

    def extend(self, worker, problem_view):
        if worker in self.dead:
            return False
        self.cores[worker].extend(problem_view)
        return True

    def kill(self, worker: int) -> None:
        with self._lock:
            self.dead.add(worker)
            self.cores[worker].cancel(10**18)
            self.events.put(Death(worker, "killed"))


def _worker_times(times, n: int):
    """Worker n's T_n (``times`` of shape (N,)) or (a_n, b_n) (``times`` of shape (N, 2))."""
    row = np.asarray(times, dtype=float)[n]
    return float(row) if row.ndim == 0 else (float(row[0]), float(row[1]))
