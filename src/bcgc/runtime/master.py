"""The master of the distributed runtime: an explicit event loop over arrivals (docs/runtime.md).

Per iteration: draw T (``streams.iteration_times``: the simulator's draws), publish θ, read
arrivals; block s is decoded from the FIRST N - s arrivals of that block (``BlockScheme.decode``,
the simulator's decoder); when every non-empty block is decoded the iteration is cancelled on every
worker (their leftover blocks are abandoned) and θ is updated. Every publish gets a fresh round
number that tags its messages, so a late message from an earlier round can never enter a later one.

A dead worker (its process or actor is gone) is a permanent straggler (T = inf). The run goes on
while every non-empty block tolerates the dead workers (s ≥ #dead); otherwise the master asks its
:class:`~bcgc.policy.DesignPolicy` for a new design, ships each live worker the data subsets it now
needs, restarts the iteration and logs the re-design. An exception raised by worker code is a bug:
the run stops with the worker's traceback. An attempt that is not decoded within its patience (a
multiple of the design's predicted runtime) is abandoned and retried with a fresh draw; a draw with
more full stragglers than the design tolerates is redrawn before it is published
(``streams.decodable_times``, the simulator's rule). It never applies a gradient it could not
decode, and every wait has a timeout.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field

import numpy as np

from .. import _validate as V
from .. import streams
from ..analysis import runtime_quantiles
from ..model import block_runtime, worker_load
from ..policy import DesignPolicy
from ..scheme import BlockScheme
from .engine import Arrival, Backend, Death, Failure, check_mode

__all__ = ["Master", "TrainResult", "WorkerError"]


class WorkerError(RuntimeError):
    """Worker code raised an exception (a bug, not a death): carries the worker's traceback."""


@dataclass
class TrainResult:
    """Per-iteration logs of one run and their summary."""

    name: str
    logs: list = field(default_factory=list)
    redesigns: int = 0
    initial_loss: float = float("nan")

    def column(self, key) -> np.ndarray:
        return np.array([r[key] for r in self.logs], dtype=float)

    @property
    def ratios(self) -> np.ndarray:
        return self.column("measured_seconds") / self.column("predicted_seconds")

    def summary(self) -> dict:
        r = self.ratios
        return {"name": self.name, "iterations": len(self.logs),
                "median_measured_over_predicted": float(np.median(r)),
                "p90_measured_over_predicted": float(np.percentile(r, 90)),
                "mean_iteration_seconds": float(self.column("measured_seconds").mean()),
                "mean_predicted_seconds": float(self.column("predicted_seconds").mean()),
                "mean_master_overhead_seconds": float(self.column("master_overhead_seconds").mean()),
                "final_loss": float(self.logs[-1]["loss"]),
                "max_gradient_error": float(np.nanmax(self.column("gradient_error"))),
                "retries": int(sum(r["attempts"] - 1 for r in self.logs)),
                "redesigns": self.redesigns}

    def time_to_loss(self, target: float) -> float | None:
        """Wall-clock seconds (sum of iteration times) until the loss first reaches ``target``."""
        total = 0.0
        for r in self.logs:
            total += r["measured_seconds"]
            if r["loss"] <= target:
                return total
        return None


@dataclass
class _Round:
    """What one attempt at an iteration has gathered so far."""

    tag: int
    T: np.ndarray
    start: float
    got: dict
    decoded: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    compute: list = field(default_factory=list)
    overhead: float = 0.0


class Master:
    """Runs coded gradient descent over a :class:`Backend` (engine-agnostic, unit-testable).

    ``blocks``: the starting design (default: ``policy.blocks(...)``); ``policy``: how to design
    and re-design (default: BCGC with the optimal method); ``patience_factor``: an attempt is
    abandoned after this many times the 99th percentile of the design's runtime (at least
    ``min_patience`` seconds); a worker silent in ``strikes`` such attempts in a row is taken for
    dead; ``iteration_timeout`` bounds a whole iteration, retries included.
    """

    def __init__(self, backend: Backend, problem, model, blocks=None, policy: DesignPolicy | None = None,
                 name: str | None = None, mode: str = "emulate", unit: float = 0.2, step_size: float | None = None,
                 seed: int = 0, code_kind: str = "auto", verify: bool = True, log=None,
                 iteration_timeout: float = 120.0, redesign: bool = True, patience_factor: float = 3.0,
                 min_patience: float = 1.0, max_attempts: int = 50, strikes: int = 2):
        self.backend, self.problem, self.model = backend, problem, model
        self.policy = policy if policy is not None else DesignPolicy(seed=seed)
        self.name = name or self.policy.scheme
        self.mode, self.unit, self.seed = check_mode(mode), unit, seed
        self.code_kind, self.verify, self.log = code_kind, verify, log
        self.iteration_timeout, self.allow_redesign = iteration_timeout, redesign
        self.patience_factor, self.min_patience, self.max_attempts = patience_factor, min_patience, max_attempts
        self.strikes, self._strikes = strikes, {}
        self.lr = problem.step_size if step_size is None else step_size
        self.N = backend.workers
        self.dead: set[int] = set()
        self.round = 0
        self._unit_estimate = None
        self.theta = problem.init()
        self.result = TrainResult(self.name, initial_loss=problem.loss(self.theta))
        if blocks is None:
            blocks = self.policy.blocks(model, self.N, problem.L)
        self._set_design(V.blocks(blocks, self.N, problem.L))

    # -- design ------------------------------------------------------------------------------
    def _set_design(self, blocks):
        self.scheme = BlockScheme(blocks, self.N, kind=self.code_kind, seed=self.seed)
        # the 99th percentile of τ (decodable draws) sets how long an attempt may run
        self._tau99 = float(runtime_quantiles(self.model, self.N, self.scheme.blocks, [0.99],
                                              streams.rng(self.seed, streams.PATIENCE))[0])

    def _tolerates_dead(self) -> bool:
        return all(int(s) >= len(self.dead) for s in self.scheme.levels)

    def _redesign(self, iteration):
        f = len(self.dead)
        if f >= self.N:
            raise RuntimeError(f"all {self.N} workers are dead: the run cannot continue")
        if not self.allow_redesign:
            raise RuntimeError(f"{f} dead workers exceed what the design tolerates and re-design is off")
        old = self.scheme.blocks
        self._set_design(self.policy.blocks(self.model, self.N, self.scheme.coords, dead=f))
        found_dead = [w for w in range(self.N)  # ship each live worker the subsets the new design needs
                      if w not in self.dead and not self.backend.load(w, self.problem.restrict(self.scheme.subsets_of(w)))]
        self.result.redesigns += 1
        self._emit({"event": "redesign", "iteration": iteration, "scheme": self.name, "policy": self.policy.scheme,
                    "dead": sorted(self.dead), "tolerate": self.policy.tolerance(f),
                    "old_blocks": old.tolist(), "new_blocks": self.scheme.blocks.tolist()})
        if found_dead:  # a worker died unnoticed: the new design must tolerate it too
            self.dead.update(found_dead)
            for w in found_dead:
                self._emit({"event": "death", "iteration": iteration, "worker": w, "reason": "load failed"})
            if not self._tolerates_dead():
                self._redesign(iteration)

    # -- one iteration -----------------------------------------------------------------------
    def _patience(self) -> float:
        unit = self.unit if self.mode == "emulate" else self._unit_estimate
        if unit is None or not math.isfinite(self._tau99):
            return self.iteration_timeout
        return max(self.min_patience, self.patience_factor * self._tau99 * unit)

    def _runtime(self, T) -> float:
        return float(block_runtime(self.scheme.blocks, T[None, :])[0])

    def step(self, iteration: int) -> dict:
        started, attempt = time.perf_counter(), 0
        while True:
            if time.perf_counter() - started > self.iteration_timeout or attempt >= self.max_attempts:
                raise RuntimeError(f"iteration {iteration} timed out after {attempt} attempts and "
                                   f"{time.perf_counter() - started:.3g} s (limit {self.iteration_timeout:g} s; "
                                   f"dead {sorted(self.dead)})")
            if not self._tolerates_dead():
                self._redesign(iteration)
            T, attempt = streams.decodable_times(self.model, self.N, self.seed, iteration, self._runtime,
                                                 self.dead, first_attempt=attempt)
            r = self._collect(iteration, T, started)
            if r is None:
                continue  # a death forced a re-design: restart with the same draw
            if len(r.decoded) == len(self.scheme.levels):
                self._strikes.clear()
                return self._finish(iteration, attempt, r)
            self._emit({"event": "retry", "iteration": iteration, "attempt": attempt, "decoded": sorted(r.decoded),
                        "seconds": time.perf_counter() - r.start, "reason": "not decoded within the patience"})
            self._strike_silent(iteration, r)
            attempt += 1

    def _strike_silent(self, iteration, r):
        """A worker that sent nothing in ``strikes`` missed attempts in a row, though it was due to
        (finite T), is unresponsive (a stopped process, a hung node): treat it as dead."""
        answered = {a.worker for msgs in r.got.values() for a in msgs}
        for w in range(self.N):
            if w in self.dead or w in answered or not np.isfinite(r.T[w]):
                self._strikes.pop(w, None)
                continue
            self._strikes[w] = self._strikes.get(w, 0) + 1
            if self._strikes[w] >= self.strikes:
                self._strikes.pop(w)
                self._on_death(Death(w, f"unresponsive: nothing sent in {self.strikes} attempts"), iteration)

    def _collect(self, iteration, T, started):
        """Publish one round and read events until every block is decoded, the patience runs out
        (returns the partial round) or a death forces a re-design (returns None)."""
        self.round += 1
        levels = [int(s) for s in self.scheme.levels]
        r = _Round(self.round, T, time.perf_counter(), {s: [] for s in levels})
        self.backend.publish(r.tag, self.theta, T, self.scheme, self.mode, self.unit)
        patience = self._patience()
        while len(r.decoded) < len(levels):
            left = min(patience - (time.perf_counter() - r.start),
                       self.iteration_timeout - (time.perf_counter() - started))
            if left <= 0:
                self.backend.cancel(r.tag)
                return r
            ev = self.backend.next_event(timeout=min(left, 1.0))
            h0 = time.perf_counter()
            if isinstance(ev, Failure):
                self.backend.cancel(r.tag)
                raise WorkerError(f"worker {ev.worker} raised an exception in iteration {iteration} "
                                  f"(a bug in worker code, not a dead worker):\n{ev.traceback}")
            if isinstance(ev, Death) and self._on_death(ev, iteration):
                self.backend.cancel(r.tag)
                return None
            if isinstance(ev, Arrival) and ev.iteration == r.tag and ev.level not in r.decoded \
                    and ev.worker not in self.dead:
                self._on_arrival(ev, r)
            r.overhead += time.perf_counter() - h0
        return r

    def _on_death(self, ev, iteration) -> bool:
        """Record a death; True when the design no longer tolerates the dead workers."""
        if ev.worker in self.dead:
            return False
        self.dead.add(ev.worker)
        self._emit({"event": "death", "iteration": iteration, "worker": ev.worker, "reason": ev.reason})
        return not self._tolerates_dead()

    def _on_arrival(self, ev, r):
        r.got[ev.level].append(ev)
        r.compute.append(ev.compute_seconds)
        if len(r.got[ev.level]) == self.N - ev.level:  # the first N - s arrivals decode block s
            F = [a.worker for a in r.got[ev.level]]
            r.decoded[ev.level] = self.scheme.decode(ev.level, F, np.stack([a.vector for a in r.got[ev.level]]))
            r.info[ev.level] = {"seconds": time.perf_counter() - r.start, "workers": F}

    def _finish(self, iteration, attempt, r) -> dict:
        h0 = time.perf_counter()
        self.backend.cancel(r.tag)  # stragglers' leftover blocks are abandoned
        g = np.empty(self.scheme.coords)
        for s, vec in r.decoded.items():
            g[self.scheme.slices[s]] = vec
        theta_before = self.theta
        self.theta = self.theta - self.lr * g
        overhead = r.overhead + time.perf_counter() - h0
        measured = time.perf_counter() - r.start
        err = math.nan  # verification and loss are outside the timed part of the iteration
        if self.verify:
            exact = self.problem.gradient(theta_before)
            err = float(np.linalg.norm(g - exact) / max(np.linalg.norm(exact), 1e-300))
        if self.mode == "slowdown":
            self._unit_estimate = self._unit_from(r.compute)
        unit = self.unit if self.mode == "emulate" else self._unit_estimate
        rec = {"event": "iteration", "scheme": self.name, "iteration": iteration, "round": r.tag,
               "attempts": attempt + 1, "measured_seconds": measured,
               "predicted_seconds": float(block_runtime(self.scheme.blocks, r.T[None, :])[0]) * unit,
               "T": [None if not np.isfinite(v) else float(v) for v in r.T],
               "design": self.scheme.blocks.tolist(), "blocks": {str(s): r.info[s] for s in sorted(r.info)},
               "master_overhead_seconds": overhead, "loss": self.problem.loss(self.theta),
               "gradient_error": err, "dead": sorted(self.dead)}
        self.result.logs.append(rec)
        self._emit(rec)
        return rec

    def _unit_from(self, compute):
        """--slowdown: seconds per full-subset gradient, estimated from the blocks' compute times."""
        work = worker_load(self.scheme.blocks) / self.scheme.coords  # units per worker (÷ L)
        per_block = np.mean(compute) if compute else 0.0
        return per_block * len(self.scheme.levels) / max(work, 1e-300)

    def _emit(self, record):
        if self.log is not None:
            self.log.write(json.dumps(record) + "\n")
            self.log.flush()

    def run(self, iterations: int, progress=None) -> TrainResult:
        for it in range(iterations):
            rec = self.step(it)
            if progress is not None:
                progress(self.name, it, iterations, rec)
        return self.result
