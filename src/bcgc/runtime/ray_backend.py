"""The Ray engine (docs/runtime.md): workers are Ray actors streaming one message per block.

``ray.init()`` on this machine by default; ``address="auto"`` or ``"HOST:PORT"`` joins a cluster
started with ``ray start --head`` / ``ray start --address=...`` — no code change. θ goes through
the object store once per iteration (``ray.put``); each worker's iteration is a streaming generator
task whose items the master multiplexes with ``ray.wait`` (with a timeout). Cancellation is
cooperative: ``cancel`` wakes the worker's sleeping block loop, so abandoned blocks stop within the
actor-call latency. A killed actor or lost node surfaces as an error on its stream: a
:class:`Death` event. An exception raised by worker code is caught in the actor and sent as a
:class:`Failure` with its traceback; any other error is a bug of the engine and propagates.
"""

from __future__ import annotations

import os
import socket
import traceback

import numpy as np

from .engine import Arrival, Backend, Death, Failure, WorkerCore

__all__ = ["RayBackend", "RayMissing", "require_ray"]


class RayMissing(ImportError):
    """Ray is not installed: the message says how to install it."""


def _ray():
    try:
        import ray  # imported lazily: the core library does not need Ray
    except ImportError:
        raise RayMissing("the Ray engine needs Ray, which is not installed: pip install 'bcgc[runtime]' "
                         "(or pip install ray), or use --backend threads") from None
    return ray


def require_ray(address: str | None = None, timeout: float = 5.0) -> None:
    """Fail early, before any work, when Ray is missing or ``address`` ("HOST:PORT") cannot be
    reached within ``timeout`` seconds (ray.init would otherwise wait forever)."""
    _ray()
    if address in (None, "auto", "local") or address.startswith("ray://"):
        return
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"address must be HOST:PORT (e.g. 10.0.0.1:6379) or auto, got {address!r}")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ValueError(f"address {address!r}: no Ray cluster answers there within {timeout:g} s ({exc}); "
                         "start one with `ray start --head` or check the address") from None


def _init(ray, address):
    """Join ``address`` or start a local Ray; a missing cluster is a clear error, not a traceback."""
    try:
        ray.init(address=address, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    except (ConnectionError, TimeoutError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"address {address!r}: could not connect to a Ray cluster ({first})") from None


_ACTOR = None


def _actor_class():
    global _ACTOR
    if _ACTOR is None:
        ray = _ray()

        @ray.remote(max_concurrency=8)
        class WorkerActor:
            """One worker: its data subsets and the block loop (``WorkerCore``)."""

            def __init__(self, index, view):
                self.core = WorkerCore(index, view)

            def pid(self):
                return os.getpid()

            def load(self, view):
                self.core.load(view)

            def cancel(self, iteration):
                self.core.cancel(iteration)

            def run(self, iteration, theta, t_n, scheme, mode, unit):
                try:
                    for level, vec, spent in self.core.run(iteration, theta, t_n, scheme, mode, unit):
                        yield Arrival(iteration, level, self.core.index, vec, spent)
                except Exception:  # worker code raised: send the plain Python traceback, then stop
                    yield Failure(self.core.index, traceback.format_exc())

        _ACTOR = WorkerActor
    return _ACTOR


def _lost_worker_errors(ray):
    """The errors that mean a worker is gone (everything else is a bug and propagates)."""
    e = ray.exceptions
    return (e.RayActorError, e.WorkerCrashedError, e.ObjectLostError, e.NodeDiedError)


class RayBackend(Backend):
    """N Ray actors. ``cpus_per_worker=0`` packs them on one machine; use 1 on a cluster."""

    def __init__(self, problem_views, address: str | None = None, cpus_per_worker: float = 0.0):
        ray = _ray()
        if not ray.is_initialized():
            _init(ray, address)
        self.workers = len(problem_views)
        actor = _actor_class()
        self.actors = [actor.options(num_cpus=cpus_per_worker).remote(n, ray.put(v))
                       for n, v in enumerate(problem_views)]
        self.pids = ray.get([a.pid.remote() for a in self.actors], timeout=120)
        self.dead: set[int] = set()
        self.pending: dict = {}   # generator -> worker
        self.buffer: list = []
        self._scheme_cache = (None, None)

    def publish(self, iteration, theta, times, scheme, mode, unit):
        ray = _ray()
        theta_ref = ray.put(np.asarray(theta))
        if self._scheme_cache[0] is not scheme:  # the scheme travels once per design, not per round
            self._scheme_cache = (scheme, ray.put(scheme))
        scheme_ref = self._scheme_cache[1]
        for n, a in enumerate(self.actors):
            if n in self.dead:
                continue
            gen = a.run.options(num_returns="streaming").remote(iteration, theta_ref, float(times[n]), scheme_ref,
                                                                mode, unit)
            self.pending[gen] = n

    def next_event(self, timeout):
        ray = _ray()
        if self.buffer:
            return self.buffer.pop(0)
        if not self.pending:
            return None
        ready, _ = ray.wait(list(self.pending), num_returns=1, timeout=timeout)
        for gen in ready:
            n = self.pending[gen]
            try:
                self.buffer.append(ray.get(next(gen), timeout=60))   # an Arrival or a Failure
            except StopIteration:
                del self.pending[gen]
            except _lost_worker_errors(ray) as exc:  # the actor's process or node is gone: a death
                del self.pending[gen]
                if n not in self.dead:
                    self.dead.add(n)
                    self.buffer.append(Death(n, type(exc).__name__))
        return self.buffer.pop(0) if self.buffer else None

    def cancel(self, iteration):
        for n, a in enumerate(self.actors):
            if n not in self.dead:
                a.cancel.remote(iteration)

    def load(self, worker, problem_view) -> bool:
        ray = _ray()
        try:
            ray.get(self.actors[worker].load.remote(ray.put(problem_view)), timeout=120)
            return True
        except _lost_worker_errors(ray):  # the worker died since its last message: report it like any death
            self.dead.add(worker)
            return False

    def shutdown(self):
        ray = _ray()
        for a in self.actors:
            ray.kill(a)
        self.actors = []
