"""The engine interface of the distributed runtime (SPEC §7), the worker logic every engine runs, and
a thread engine for tests and single-process use.

The master only talks to a :class:`Backend`: publish θ for an iteration, read the stream of events
(:class:`Arrival` of one coded block, :class:`Death` of a worker), cancel an iteration, ship data to
a worker. :class:`WorkerCore` is what a worker does, whatever the engine: hold its data subsets,
and for an iteration compute, block by block in order s = 0, 1, .., the coded partial derivatives
of its subsets, emitting each block as soon as it is due, and stop as soon as the iteration is
cancelled.

Straggling (SPEC §7): ``emulate`` — block s is released at T_n · y_s / L · unit after the worker
starts the iteration (exactly the model); ``slowdown`` — the real computation of each block is
stretched by the factor T_n (the worker sleeps (T_n - 1) times the compute it just did).
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Arrival", "Death", "Plan", "WorkerCore", "Backend", "ThreadBackend"]


@dataclass(frozen=True)
class Arrival:
    """One coded block from one worker, tagged so that late messages can never be mixed in."""

    iteration: int
    level: int
    worker: int
    vector: np.ndarray
    compute_seconds: float = 0.0


@dataclass(frozen=True)
class Death:
    """A worker that died (killed process, raised error): a permanent straggler."""

    worker: int
    reason: str


@dataclass(frozen=True)
class Plan:
    """What a worker needs to know of the design: per non-empty level, the coordinate range, the
    normalised load c_s = y_s / L, and the code matrix (each worker reads its own row)."""

    levels: tuple
    starts: tuple
    stops: tuple
    loads: tuple
    codes: tuple  # B matrices, one per level

    @classmethod
    def from_scheme(cls, scheme) -> "Plan":
        lv = tuple(int(s) for s in scheme.levels)
        return cls(lv, tuple(scheme.slices[s].start for s in lv), tuple(scheme.slices[s].stop for s in lv),
                   tuple(float(scheme.loads[s]) for s in lv), tuple(np.asarray(scheme.codes[s].B) for s in lv))


class WorkerCore:
    """The engine-independent worker: data subsets, and the block-by-block coded computation."""

    def __init__(self, index: int, problem_view):
        self.index = index
        self.problem = problem_view
        self._cancelled = -1
        self._wake = threading.Condition()

    def load(self, problem_view) -> None:
        """Replace the held data (after a re-design needing more subsets)."""
        self.problem = problem_view

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
                self._wake.wait(left)
        return False

    def run(self, iteration: int, theta: np.ndarray, t_n: float, plan: Plan, mode: str, unit: float):
        """Yield (level, coded vector, compute seconds) block by block (SPEC §7)."""
        start = time.perf_counter()
        n = self.index
        states = {}
        for level, a, b, load, B in zip(plan.levels, plan.starts, plan.stops, plan.loads, plan.codes):
            if self._cancelled >= iteration:
                return
            t0 = time.perf_counter()
            row = B[n]
            support = np.flatnonzero(row)
            coords = np.arange(a, b)
            vec = np.zeros(b - a, dtype=np.result_type(row.dtype, float))
            for k in support:
                k = int(k)
                if k not in states:  # the forward pass: a fixed cost per subset and iteration
                    states[k] = self.problem.forward(theta, k)
                vec += row[k] * self.problem.partial_given(states[k], theta, k, coords)
            spent = time.perf_counter() - t0
            if mode == "emulate":
                due = start + t_n * load * unit
            elif mode == "slowdown":
                due = time.perf_counter() + (t_n - 1.0) * spent
            else:
                due = time.perf_counter()
            if not np.isfinite(due) or not self._sleep_until(due, iteration):
                return  # cancelled, or a full straggler (T = inf) that never answers
            yield level, vec, spent


class Backend:
    """What the master needs from an engine (SPEC §7). See :class:`ThreadBackend`, ``RayBackend``."""

    workers: int

    def publish(self, iteration: int, theta: np.ndarray, times: np.ndarray, plan: Plan, mode: str,
                unit: float) -> None:
        raise NotImplementedError

    def next_event(self, timeout: float):
        """The next Arrival or Death, or None after ``timeout`` seconds."""
        raise NotImplementedError

    def cancel(self, iteration: int) -> None:
        raise NotImplementedError

    def load(self, worker: int, problem_view) -> bool:
        """Ship data to a worker; False if it turned out to be dead."""
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

    def publish(self, iteration, theta, times, plan, mode, unit):
        for n, core in enumerate(self.cores):
            if n not in self.dead:
                threading.Thread(target=self._serve, args=(core, iteration, theta, float(times[n]), plan, mode, unit),
                                 daemon=True).start()

    def _serve(self, core, iteration, theta, t_n, plan, mode, unit):
        for level, vec, spent in core.run(iteration, theta, t_n, plan, mode, unit):
            with self._lock:
                if core.index in self.dead:
                    return
                self.events.put(Arrival(iteration, level, core.index, vec, spent))

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

    def kill(self, worker: int) -> None:
        with self._lock:
            self.dead.add(worker)
            self.cores[worker].cancel(10**18)
            self.events.put(Death(worker, "killed"))
