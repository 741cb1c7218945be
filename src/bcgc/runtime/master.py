"""The master of the distributed runtime: an explicit event loop over arrivals (docs/runtime.md).

Per iteration: draw each worker's fixed cost and rate (:mod:`.experience`: the straggler law's
draws, the simulator's; a replayed trace; or nothing), publish θ, read arrivals; block s is
decoded from the FIRST N - s arrivals of that block (``BlockScheme.decode``, the simulator's
decoder); when every non-empty block is decoded the iteration is cancelled on every
worker (their leftover blocks are abandoned) and θ is updated. Every publish gets a fresh round
number that tags its messages, so a late message from an earlier round can never enter a later one.

A dead worker (its process or actor is gone) is a permanent straggler (T = inf). The run goes on
while every non-empty block tolerates the dead workers (s ≥ #dead); otherwise the master asks its
:class:`~bcgc.policy.DesignPolicy` for a new design, ships each live worker the data subsets it now
needs, restarts the iteration and logs the re-design. An exception raised by worker code is a bug:
the run stops with the worker's traceback. An attempt that is not decoded within its patience (a
multiple of the design's predicted runtime) is abandoned and retried with a fresh draw; a draw with
more full stragglers than the design tolerates is redrawn before it is published
(``experience.decodable_parts``, the simulator's rule). It never applies a gradient it could not
decode, and every wait has a timeout. Every block's time stamp becomes an observation; each
iteration's log holds them and the per-worker fixed cost and rate fitted to them (:mod:`.observe`);
with ``adapt`` the master refits the law and re-designs as it goes (:mod:`.adapt`).
"""

from __future__ import annotations

import json
import math
import time

import numpy as np

from .. import _validate as V
from .. import streams
from ..analysis import runtime_quantiles
from ..optim import as_optimizer
from ..policy import DesignPolicy
from ..problems.models import set_iteration
from ..schemes.plan import Plan, make_scheme
from ..timing.links import Links
from ..timing.mm import MMDesign
from . import adapt as A
from .engine import Arrival, Backend, Death, Failure, check_mode
from .experience import decodable_parts, parse_experience
from .holdings import Holdings, can_allocate
from .observe import fill_parts, fit_parts, observations
from .record import Round, iteration_record
from .redesign import redesign
from .result import TrainResult

__all__ = ["Master", "TrainResult", "WorkerError"]


class WorkerError(RuntimeError):
    """Worker code raised an exception (a bug, not a death): carries the worker's traceback."""


class Master:
    """Runs coded gradient descent over a :class:`Backend` (engine-agnostic, unit-testable).

    ``blocks``: the starting design (default: ``policy.blocks(...)``); ``policy``: how to design
    and re-design (default: BCGC with the optimal method); ``patience_factor``: an attempt is
    abandoned after this many times the 99th percentile of the design's runtime (at least
    ``min_patience`` seconds); a worker silent in ``strikes`` such attempts in a row is taken for
    dead; ``iteration_timeout`` bounds a whole iteration, retries included. ``stragglers``: what
    the workers experience (an :class:`~.experience.Experience` or its text; default: ``model``'s
    draws); ``model``: the law the design assumes (None with ``adapt``: the adapter's prior);
    ``adapt``: an :class:`~.adapt.AdaptConfig` to refit and re-design during the run.
    ``subset_sizes``: the data allocation of the given ``blocks`` (None: equal subsets); the
    backend's workers must hold the data split that way (:class:`~.holdings.Holdings`).
    ``optimizer``: the update rule (:mod:`bcgc.optim`; default GradientDescent(``step_size``, else
    the problem's)).
    """

    def __init__(
        self,
        backend: Backend,
        problem,
        model,
        blocks=None,
        policy: DesignPolicy | None = None,
        name: str | None = None,
        mode: str = "emulate",
        unit: float = 0.2,
        step_size: float | None = None,
        seed: int = 0,
        code_kind: str = "auto",
        verify: bool = True,
        log=None,
        iteration_timeout: float = 120.0,
        redesign: bool = True,
        patience_factor: float = 3.0,
        min_patience: float = 1.0,
        max_attempts: int = 50,
        strikes: int = 2,
        stragglers=None,
        adapt: A.AdaptConfig | None = None,
        links: Links | None = None,
        subset_sizes=None,
        optimizer=None,
    ):
        if model is None and adapt is None:
            raise V.InputError("model must be a straggler law (the law the design assumes) unless adapt is on")
        self.experience = parse_experience(model if stragglers is None else stragglers)
        self.backend, self.problem, self.model = backend, problem, (A.AdaptConfig.prior() if model is None else model)
        self.adapter = None if adapt is None else A.Adapter(adapt, backend.workers, seed)
        if self.experience.kind == "natural":
            mode = "natural"
        elif mode == "natural":
            raise V.InputError("mode natural means no injected delay: use stragglers='natural'")
        if self.experience.has_fixed_cost and mode != "emulate":
            raise V.InputError(
                f"stragglers {self.experience.spec!r} have a fixed cost: it is emulated only (mode emulate)"
            )
        if policy is None:  # unequal subsets need a problem that can split its data by sizes
            policy = DesignPolicy(
                seed=seed, allocate=can_allocate(problem), **({} if links is None else {"links": links})
            )
        self.policy = policy
        self.net = self.policy.links if links is None else links
        if adapt is not None and self.policy.scheme not in ("bcgc", "gc", "uncoded"):
            raise V.InputError(f"adapt re-designs block schemes only (bcgc, gc, uncoded), not {self.policy.scheme}")
        self.name = name or self.policy.scheme
        self.mode, self.unit, self.seed = check_mode(mode), unit, seed
        self.code_kind, self.verify, self.log = code_kind, verify, log
        self.iteration_timeout, self.allow_redesign = iteration_timeout, redesign
        self.patience_factor, self.min_patience, self.max_attempts = patience_factor, min_patience, max_attempts
        self.strikes, self._strikes = strikes, {}
        if optimizer is not None and step_size is not None:
            raise V.InputError("step_size is the default optimizer's (GradientDescent): give one or the other")
        self.optimizer = as_optimizer(optimizer, problem.step_size if step_size is None else step_size)
        self.N = backend.workers
        self.dead: set[int] = set()
        self.round = 0
        self.iterations_planned = None
        self._unit_estimate = None
        self.theta, self.first_iteration = problem.init(), 0  # a resumed run starts later (.checkpoint)
        set_iteration(problem, 0)
        self.result = TrainResult(self.name, initial_loss=problem.loss(self.theta))
        if blocks is None:
            blocks, subset_sizes = self.policy.plan(self.model, self.N, problem.L)
        self.data = Holdings(problem, self.N, subset_sizes)
        if self.data.sizes is not None:
            self.policy.check_given_sizes()
        self._set_design(blocks if isinstance(blocks, MMDesign) else V.blocks(blocks, self.N, problem.L), subset_sizes)
        self.data.mark_loaded(self.scheme)

    # -- design ------------------------------------------------------------------------------
    def _set_design(self, blocks, subset_sizes=None):
        """A block vector (with its subset sizes) or an MMDesign; ``self.plan`` adds the links."""
        self.scheme = make_scheme(blocks, self.N, self.code_kind, self.seed, subset_sizes)
        self.data.set_sizes(getattr(self.scheme, "subset_sizes", None))
        self.plan = Plan(self.scheme, self.net, getattr(self.policy, "work_order", None))
        self._set_patience()

    def _set_patience(self):
        # the 99th percentile of τ (decodable draws) sets how long an attempt may run: in seconds
        # under the refitted law, else in the unit of T under what the workers experience
        law, self._tau_unit = self.experience.patience_law(), (self.unit if self.mode == "emulate" else None)
        if self.adapter is not None and self.adapter.law is not None:
            law, self._tau_unit = self.adapter.law, 1.0
        rng = streams.rng(self.seed, streams.PATIENCE)
        if law is None:
            self._tau99 = math.inf
        elif self.plan.kind == "block" and self.net.free and self.scheme.subset_sizes is None:  # formula (2)
            self._tau99 = float(runtime_quantiles(law, self.N, self.scheme.blocks, [0.99], rng)[0])
        else:
            self._tau99 = self.plan.tau_quantile(law, 0.99, rng)

    def _ship(self):
        """Ship each live worker the subsets the design needs that it does not hold yet (it keeps
        what it has): (bytes, seconds, workers found dead)."""
        return self.data.ship(self.backend, self.scheme, self.dead)

    def _tolerates_dead(self) -> bool:
        return self.plan.tolerates(len(self.dead))

    def _redesign(self, iteration):
        redesign(self, iteration)  # .redesign: ask the policy, ship the data, log it

    # -- one iteration -----------------------------------------------------------------------
    def _patience(self) -> float:
        unit = self._tau_unit if self._tau_unit is not None else self._unit_estimate
        if unit is None or not math.isfinite(self._tau99):
            return self.iteration_timeout
        return max(self.min_patience, self.patience_factor * self._tau99 * unit)

    def _time_limit(self) -> float:
        """An iteration's limit: ``iteration_timeout``, but never less than two attempts of the design's
        predicted 99th percentile (times ``patience_factor``), so that a run predicted to take longer (a
        long unit of time) is not cut off predictably."""
        unit = self._tau_unit if self._tau_unit is not None else self._unit_estimate
        if unit is None or not math.isfinite(self._tau99):
            return self.iteration_timeout
        return max(self.iteration_timeout, 2 * self.patience_factor * self._tau99 * unit)

    def _runtime(self, a, b) -> float:
        """τ of one draw in the unit of T under the links (``Plan.runtime``: bcgc.timing.links, bcgc.timing.mm;
        the timeline model with free links, formula (2) when a = 0)."""
        return float(self.plan.runtime(a[None, :], b[None, :])[0])

    def step(self, iteration: int) -> dict:
        set_iteration(self.problem, iteration)  # before checking the gradient and evaluating the loss
        started, attempt = time.perf_counter(), 0
        while True:
            if time.perf_counter() - started > self._time_limit() or attempt >= self.max_attempts:
                raise V.RunFailed(
                    f"iteration {iteration} timed out after {attempt} attempts and "
                    f"{time.perf_counter() - started:.3g} s (limit {self._time_limit():g} s; "
                    f"dead {sorted(self.dead)})"
                )
            if not self._tolerates_dead():
                self._redesign(iteration)
            a, b, attempt = decodable_parts(
                self.experience, self.N, self.seed, iteration, self._runtime, self.dead, first_attempt=attempt
            )
            r = self._collect(iteration, (a, b), started)
            if r is None:
                continue  # a death forced a re-design: restart with the same draw
            if r.dec.complete:
                self._strikes.clear()
                return self._finish(iteration, attempt, r)
            seconds, live = time.perf_counter() - r.start, [w for w in range(self.N) if w not in self.dead]
            self._emit(
                {
                    "event": "retry",
                    "iteration": iteration,
                    "attempt": attempt,
                    "decoded": sorted(r.dec.decoded),
                    "seconds": seconds,
                    "reason": "not decoded within the patience",
                    "observations": observations(self.plan, r.stamps, seconds, live),
                }
            )
            self._strike_silent(iteration, r)
            attempt += 1

    def _strike_silent(self, iteration, r):
        """A worker that sent nothing in ``strikes`` missed attempts in a row, though it was due to
        (finite T), is unresponsive (a stopped process, a hung node): treat it as dead."""
        answered = {w for w, *_ in r.stamps}
        for w in range(self.N):
            if w in self.dead or w in answered or not np.isfinite(r.T[w]) or self.mode == "natural":
                self._strikes.pop(w, None)
                continue
            self._strikes[w] = self._strikes.get(w, 0) + 1
            if self._strikes[w] >= self.strikes:
                self._strikes.pop(w)
                self._on_death(Death(w, f"unresponsive: nothing sent in {self.strikes} attempts"), iteration)

    def _collect(self, iteration, parts, started):
        """Publish one round and read events until every block is decoded, the patience runs out
        (returns the partial round) or a death forces a re-design (returns None)."""
        self.round += 1
        r = Round(self.round, parts[0] + parts[1], time.perf_counter(), self.plan.decoder(), a=parts[0])
        self.backend.publish(r.tag, self.theta, np.column_stack(parts), self.plan, self.mode, self.unit, t=iteration)
        patience = self._patience()
        while not r.dec.complete:
            left = min(patience - (time.perf_counter() - r.start), self._time_limit() - (time.perf_counter() - started))
            if left <= 0:
                self.backend.cancel(r.tag)
                return r
            ev = self.backend.next_event(timeout=min(left, 1.0))
            h0 = time.perf_counter()
            if isinstance(ev, Failure):
                self.backend.cancel(r.tag)
                raise WorkerError(
                    f"worker {ev.worker} raised an exception in iteration {iteration} "
                    f"(a bug in worker code, not a dead worker):\n{ev.traceback}"
                )
            if isinstance(ev, Death) and self._on_death(ev, iteration):
                self.backend.cancel(r.tag)
                return None
            if isinstance(ev, Arrival) and ev.iteration == r.tag and ev.worker not in self.dead:
                r.stamps.append((ev.worker, ev.level, ev.stamp, time.perf_counter() - r.start))
                r.compute.append(ev.compute_seconds)
                r.dec.add(ev.worker, ev.level, ev.vector, r.stamps[-1][3])
            r.overhead += time.perf_counter() - h0
        return r

    def _on_death(self, ev, iteration) -> bool:
        """Record a death; True when the design no longer tolerates the dead workers."""
        if ev.worker in self.dead:
            return False
        self.dead.add(ev.worker)
        self._emit({"event": "death", "iteration": iteration, "worker": ev.worker, "reason": ev.reason})
        return not self._tolerates_dead()

    def _finish(self, iteration, attempt, r) -> dict:
        h0 = time.perf_counter()
        self.backend.cancel(r.tag)  # stragglers' leftover blocks are abandoned
        cancelled = time.perf_counter() - r.start
        g = r.dec.gradient()
        theta_before = self.theta
        self.theta = self.result.theta = self.optimizer.step(self.theta, g, iteration)
        overhead = r.overhead + time.perf_counter() - h0
        measured = time.perf_counter() - r.start
        err = math.nan  # verification and loss are outside the timed part of the iteration
        if self.verify:
            exact = self.problem.gradient(theta_before)
            err = float(np.linalg.norm(g - exact) / max(np.linalg.norm(exact), 1e-300))
        if self.mode == "slowdown":
            self._unit_estimate = self._unit_from(r.compute)
        live = [w for w in range(self.N) if w not in self.dead]
        obs = observations(self.plan, r.stamps, cancelled, live)
        est_a, est_b = fit_parts(obs, self.N)
        rec = iteration_record(
            self, iteration, attempt, r, measured=measured, overhead=overhead, error=err, obs=obs, est=(est_a, est_b)
        )
        self.result.logs.append(rec)
        self._emit(rec)
        if self.adapter is not None:
            self.adapter.record(obs, est_a, est_b, self.dead)
            if self.adapter.due(iteration):
                A.adapt_step(self, iteration)
        return rec

    def _seconds_per_unit(self):
        return self.unit if self.mode == "emulate" else self._unit_estimate

    def _predicted(self, r, obs, est_a, est_b) -> float:
        """The model's time of this iteration: the timeline model (formula (2) without fixed costs)
        at the injected (a, b) times the unit; under ``natural`` at the fitted (a, b), in seconds
        (a reconstruction from the time stamps, not a forecast)."""
        if self.mode == "natural":
            return self._runtime(*fill_parts(est_a, est_b, obs))
        return self._runtime(r.a, r.T - r.a) * self._seconds_per_unit()

    def _unit_from(self, compute):
        """--slowdown: seconds per full-subset gradient, estimated from the blocks' compute times."""
        work = self.plan.total_work()  # units per worker
        per_block = np.mean(compute) if compute else 0.0
        return per_block * len(self.plan.levels) / max(work, 1e-300)

    def _emit(self, record):
        """One log line; every line has "observations" (those of its round, else none)."""
        record.setdefault("observations", [])
        if self.log is not None:
            self.log.write(json.dumps(record) + "\n")
            self.log.flush()

    def run(self, iterations: int, progress=None) -> TrainResult:
        """Iterations ``first_iteration`` .. ``iterations`` - 1; ``progress(name, it, iterations, rec)`` after each."""
        self.iterations_planned = iterations
        for it in range(self.first_iteration, iterations):
            rec = self.step(it)
            if progress is not None:
                progress(self.name, it, iterations, rec)
        return self.result
