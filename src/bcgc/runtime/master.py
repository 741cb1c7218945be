"""The master of the distributed runtime: an explicit event loop over arrivals (SPEC §7).

Per iteration: draw T (seeded per iteration and worker), publish θ, read arrivals; block s is
decoded from the FIRST N - s arrivals of that block (``BlockScheme.decode``, the simulator's
decoder); when every non-empty block is decoded the iteration is cancelled on every worker (their
leftover blocks are abandoned) and θ is updated. Every publish gets a fresh round number that tags
its messages, so a late message from an earlier round can never enter a later one.

A dead worker is a permanent straggler (T = inf). The run goes on while every non-empty block
tolerates the dead workers (s ≥ #dead); otherwise the master re-designs with ``tolerate = #dead``,
ships each live worker the data subsets the new design needs, restarts the iteration and logs the
re-design. It never applies a gradient it could not decode, and every wait has a timeout.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..design import design
from ..model import block_runtime, cumulative_load
from ..scheme import BlockScheme
from .engine import Arrival, Backend, Death, Plan

__all__ = ["Master", "TrainResult"]


@dataclass
class TrainResult:
    """Per-iteration logs of one run and their summary (SPEC §7)."""

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
                "redesigns": self.redesigns}

    def time_to_loss(self, target: float) -> float | None:
        """Wall-clock seconds (sum of iteration times) until the loss first reaches ``target``."""
        total = 0.0
        for r in self.logs:
            total += r["measured_seconds"]
            if r["loss"] <= target:
                return total
        return None


class Master:
    """Runs coded gradient descent over a :class:`Backend` (engine-agnostic, unit-testable)."""

    def __init__(self, backend: Backend, problem, model, blocks, name: str = "bcgc", mode: str = "emulate",
                 unit: float = 0.2, step_size: float | None = None, seed: int = 0, code_kind: str = "auto",
                 verify: bool = True, log=None, iteration_timeout: float = 120.0, redesign: bool = True):
        self.backend, self.problem, self.model = backend, problem, model
        self.name, self.mode, self.unit, self.seed = name, mode, unit, seed
        self.code_kind, self.verify, self.log = code_kind, verify, log
        self.iteration_timeout, self.allow_redesign = iteration_timeout, redesign
        self.lr = problem.step_size if step_size is None else step_size
        self.N = backend.workers
        self.dead: set[int] = set()
        self.round = 0
        self.theta = problem.init()
        self.result = TrainResult(name, initial_loss=problem.loss(self.theta))
        self._set_design(np.asarray(blocks))

    # -- design ------------------------------------------------------------------------------
    def _set_design(self, blocks):
        self.scheme = BlockScheme(blocks, self.N, kind=self.code_kind, seed=self.seed)
        self.plan = Plan.from_scheme(self.scheme)

    def _tolerates_dead(self) -> bool:
        return all(int(s) >= len(self.dead) for s in self.scheme.levels)

    def _redesign(self, iteration):
        f = len(self.dead)
        if f >= self.N:
            raise RuntimeError(f"all {self.N} workers are dead: the run cannot continue")
        if not self.allow_redesign:
            raise RuntimeError(f"{f} dead workers exceed what the design tolerates and re-design is off")
        blocks = design(self.model, self.N, self.scheme.coords, tolerate=f, seed=self.seed,
                        eval_samples=2000).blocks
        old = self.scheme.blocks
        self._set_design(blocks)
        found_dead = []
        for w in range(self.N):  # ship each live worker the subsets the new design needs
            if w not in self.dead and not self.backend.load(w, self.problem.restrict(self.scheme.subsets_of(w))):
                found_dead.append(w)
        self.result.redesigns += 1
        self._emit({"event": "redesign", "iteration": iteration, "dead": sorted(self.dead), "tolerate": f,
                    "old_blocks": old.tolist(), "new_blocks": self.scheme.blocks.tolist()})
        if found_dead:  # a worker died unnoticed: the new design must tolerate it too
            self.dead.update(found_dead)
            for w in found_dead:
                self._emit({"event": "death", "iteration": iteration, "worker": w, "reason": "load failed"})
            if not self._tolerates_dead():
                self._redesign(iteration)

    # -- one iteration -----------------------------------------------------------------------
    def _draw(self, iteration) -> np.ndarray:
        T = self.model.sample(1, self.N, np.random.default_rng([self.seed, 200, iteration]))[0]
        T[list(self.dead)] = np.inf
        return T

    def step(self, iteration: int) -> dict:
        while True:
            out = self._attempt(iteration)
            if out is not None:
                return out

    def _attempt(self, iteration):
        if not self._tolerates_dead():
            self._redesign(iteration)
        T = self._draw(iteration)
        self.round += 1
        tag = self.round
        levels = [int(s) for s in self.scheme.levels]
        need = {s: self.N - s for s in levels}
        got: dict[int, list] = {s: [] for s in levels}
        decoded: dict[int, np.ndarray] = {}
        block_info = {}
        overhead = 0.0
        t0 = time.perf_counter()
        self.backend.publish(tag, self.theta, T, self.plan, self.mode, self.unit)
        compute = []
        while len(decoded) < len(levels):
            left = self.iteration_timeout - (time.perf_counter() - t0)
            if left <= 0:
                raise RuntimeError(f"iteration {iteration} timed out after {self.iteration_timeout:g} s "
                                   f"(decoded {sorted(decoded)} of {levels}; dead {sorted(self.dead)})")
            ev = self.backend.next_event(timeout=min(left, 1.0))
            h0 = time.perf_counter()
            if isinstance(ev, Death):
                if ev.worker not in self.dead:
                    self.dead.add(ev.worker)
                    self._emit({"event": "death", "iteration": iteration, "worker": ev.worker, "reason": ev.reason})
                    if not self._tolerates_dead():
                        self.backend.cancel(tag)
                        return None  # re-design, then restart this iteration
            elif isinstance(ev, Arrival) and ev.iteration == tag and ev.level not in decoded \
                    and ev.worker not in self.dead:
                got[ev.level].append(ev)
                compute.append(ev.compute_seconds)
                if len(got[ev.level]) == need[ev.level]:  # the first N - s arrivals decode block s
                    F = [a.worker for a in got[ev.level]]
                    decoded[ev.level] = self.scheme.decode(ev.level, F, np.stack([a.vector for a in got[ev.level]]))
                    block_info[ev.level] = {"seconds": time.perf_counter() - t0, "workers": F}
            overhead += time.perf_counter() - h0
        h0 = time.perf_counter()
        self.backend.cancel(tag)  # stragglers' leftover blocks are abandoned
        g = np.empty(self.scheme.coords)
        for s, vec in decoded.items():
            g[self.scheme.slices[s]] = vec
        theta_before = self.theta
        self.theta = self.theta - self.lr * g
        overhead += time.perf_counter() - h0
        measured = time.perf_counter() - t0
        # verification and loss are outside the timed part of the iteration
        err = math.nan
        if self.verify:
            exact = self.problem.gradient(theta_before)
            err = float(np.linalg.norm(g - exact) / max(np.linalg.norm(exact), 1e-300))
        unit = self.unit if self.mode == "emulate" else self._unit_from(compute, block_info)
        rec = {"event": "iteration", "scheme": self.name, "iteration": iteration, "round": tag,
               "measured_seconds": measured,
               "predicted_seconds": float(block_runtime(self.scheme.blocks, T[None, :])[0]) * unit,
               "T": [None if not np.isfinite(v) else float(v) for v in T],
               "blocks": {str(s): block_info[s] for s in sorted(block_info)},
               "master_overhead_seconds": overhead, "loss": self.problem.loss(self.theta),
               "gradient_error": err, "dead": sorted(self.dead)}
        self.result.logs.append(rec)
        self._emit(rec)
        return rec

    def _unit_from(self, compute, block_info):
        """--slowdown: seconds per full-subset gradient, estimated from the blocks' compute times."""
        work = cumulative_load(self.scheme.blocks)[-1] / self.scheme.coords  # units per worker (÷ L)
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
