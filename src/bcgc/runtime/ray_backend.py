"""The Ray engine (docs/runtime.md): Ray actors as workers, a direct channel for the rounds.

``ray.init()`` on this machine by default; ``address="auto"`` or ``"HOST:PORT"`` joins a cluster
started with ``ray start --head`` / ``ray start --address=...`` — no code change. Ray places the
actors, ships their data (object store) and reports lost actors. A round, though, is one message
from the master to each worker (θ, T_n; the scheme once per design) and one back per block, over
a TCP connection the master opens to each actor (proving itself with a random key handed over
through Ray): an actor task per round and a ``ray.wait`` per block cost milliseconds each, which
the model would count as straggling. Each worker's long-lived loop serves its connection and
computes each round in a thread (``WorkerCore``); ``cancel`` is a message that wakes the round's
sleeping block loop. A closed connection (killed process) or an actor Ray reports dead (lost
node) is a :class:`Death`; an exception raised by worker code is a :class:`Failure` with its
traceback.
"""

from __future__ import annotations

import os
import pickle
import secrets
import selectors
import threading
import time

import numpy as np

from .._validate import InputError, positive
from .channel import HEADER, Channel, connect, send
from .engine import Arrival, Backend, Death, Failure, WorkerCore, _worker_times
from .ray_setup import RayMissing, _init, _ray, require_ray, stop_ray  # noqa: F401  (re-exported)

__all__ = ["RayBackend", "RayMissing", "require_ray", "stop_ray"]


_ACTOR = None


def _actor_class():
    global _ACTOR
    if _ACTOR is None:
        ray = _ray()

        @ray.remote(max_concurrency=4)
        class WorkerActor:
            """One worker: its data subsets, the block loop (``WorkerCore``) and its channel."""

            def __init__(self, index, view, key):
                self.core = WorkerCore(index, view)
                self.channel = Channel(self.core, key, _ray().util.get_node_ip_address())
                threading.Thread(target=self.channel.serve, daemon=True).start()

            def address(self):
                return os.getpid(), self.channel.listener.getsockname()[:2]

            def load(self, view):
                self.core.load(view)

            def extend(self, view):
                self.core.extend(view)

            def watch(self):
                threading.Event().wait()  # never returns: its error is how Ray reports a lost actor

        _ACTOR = WorkerActor
    return _ACTOR


#: seconds the workers may take to start by default (importing PyTorch on a busy machine takes 20+ s)
STARTUP_TIMEOUT = 120.0


class RayBackend(Backend):
    """N Ray actors. ``cpus_per_worker=0``: they share one machine's cores; use 1 on a cluster.
    ``startup_timeout``: seconds the actors may take to start and open their channel."""

    def __init__(
        self,
        problem_views,
        address: str | None = None,
        cpus_per_worker: float = 0.0,
        startup_timeout: float = STARTUP_TIMEOUT,
    ):
        startup_timeout = positive("startup_timeout", startup_timeout)
        ray = _ray()
        if not ray.is_initialized():
            _init(ray, address)
        self.workers, self.actors = len(problem_views), []
        need, have = cpus_per_worker * self.workers, ray.cluster_resources().get("CPU", 0.0)
        if need > have:  # Ray would wait forever for CPUs that never come
            raise InputError(
                f"{self.workers} workers with {cpus_per_worker:g} CPUs each need {need:g} CPUs; the Ray "
                f"cluster has {have:g} (ray status): add nodes or lower --cpus-per-worker"
            )
        key = secrets.token_bytes(32)
        self.actors = [
            _actor_class().options(num_cpus=cpus_per_worker).remote(n, ray.put(v), key)
            for n, v in enumerate(problem_views)
        ]
        try:
            self.pids, addresses = zip(*ray.get([a.address.remote() for a in self.actors], timeout=startup_timeout))
            self.socks = [connect(tuple(a), key) for a in addresses]
        except ray.exceptions.GetTimeoutError:
            self.shutdown()
            raise InputError(
                f"the {self.workers} workers did not all start within startup_timeout={startup_timeout:g} s: "
                "they were slow to start (importing a library such as PyTorch on a busy machine takes 20+ s) "
                "or could not be placed (`ray status`); raise --startup-timeout (startup_timeout > 0)"
            ) from None
        except OSError as exc:
            self.shutdown()
            raise InputError(
                f"the {self.workers} workers started but could not be reached ({type(exc).__name__}: {exc})"
            ) from None
        self.locks, self.inbox = [threading.Lock() for _ in self.socks], [bytearray() for _ in self.socks]
        self.selector = selectors.DefaultSelector()
        for n, sock in enumerate(self.socks):
            self.selector.register(sock, selectors.EVENT_READ, n)
        self.watches = {a.watch.remote(): n for n, a in enumerate(self.actors)}
        self.dead: set[int] = set()
        self.pending: set = set()  # (worker, round) started and not ended
        self.buffer: list = []
        self._scheme = (None, None, set())  # scheme, its pickle, the workers that have it
        self._watched = time.monotonic()

    def _post(self, n, message) -> None:
        try:
            send(self.socks[n], self.locks[n], message)
        except OSError as exc:  # closed, or nothing read for SEND_TIMEOUT seconds: the worker is gone
            self._lose(n, type(exc).__name__)

    def _lose(self, n, reason, report=True) -> None:
        if n not in self.dead:
            self.dead.add(n)
            self.selector.unregister(self.socks[n])
            self.socks[n].close()
            self.pending = {p for p in self.pending if p[0] != n}
            if report:
                self.buffer.append(Death(n, reason))

    def publish(self, iteration, theta, times, scheme, mode, unit, t=None):
        if self._scheme[0] is not scheme:  # the scheme travels once per design, not per round
            self._scheme = (scheme, pickle.dumps(scheme, protocol=5), set())
        for n in range(self.workers):
            if n not in self.dead:
                blob = None if n in self._scheme[2] else self._scheme[1]
                self._scheme[2].add(n)
                self.pending.add((n, iteration))
                self._post(n, ("run", iteration, np.asarray(theta), _worker_times(times, n), blob, mode, unit, t))

    def next_event(self, timeout):
        deadline = time.monotonic() + timeout
        while not self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            for key, _ in self.selector.select(min(left, 0.25)):  # with every worker dead: a sleep
                self._read(key.data)
            if time.monotonic() - self._watched > 0.25:  # a lost node may never close its connections
                self._check_watches()
        return self.buffer.pop(0)

    def _read(self, n) -> None:
        try:
            chunk = self.socks[n].recv(1 << 20)
        except OSError as exc:
            return self._lose(n, type(exc).__name__)
        if not chunk:
            return self._lose(n, "connection closed")
        box = self.inbox[n]
        box += chunk
        while len(box) >= HEADER.size and len(box) >= (end := HEADER.size + HEADER.unpack_from(box)[0]):
            kind, *args = pickle.loads(box[HEADER.size : end])
            del box[:end]
            if kind == "arrival":
                self.buffer.append(Arrival(args[0], args[1], n, *args[2:]))
            elif kind == "failure":
                self.buffer.append(Failure(n, args[0]))
            else:
                self.pending.discard((n, args[0]))

    def _check_watches(self) -> None:
        ray, self._watched = _ray(), time.monotonic()
        ready = ray.wait(list(self.watches), num_returns=len(self.watches), timeout=0)[0] if self.watches else []
        for ref in ready:
            n = self.watches.pop(ref)
            try:
                ray.get(ref)
            except ray.exceptions.RayError as exc:  # the actor, its process or its node is gone
                self._lose(n, type(exc).__name__)

    def cancel(self, iteration):
        for n in range(self.workers):
            if n not in self.dead:
                self._post(n, ("cancel", iteration))

    def load(self, worker, problem_view) -> bool:
        return self._ship(worker, problem_view, "load")

    def extend(self, worker, problem_view) -> bool:
        return self._ship(worker, problem_view, "extend")

    def _ship(self, worker, problem_view, how) -> bool:
        ray = _ray()
        e = ray.exceptions
        if worker in self.dead:
            return False
        try:
            ray.get(getattr(self.actors[worker], how).remote(ray.put(problem_view)), timeout=120)
            return True
        except (e.RayActorError, e.WorkerCrashedError, e.ObjectLostError, e.NodeDiedError):
            self._lose(worker, "load failed", report=False)  # died unnoticed: the master reports it
            return False

    def shutdown(self):
        ray = _ray()
        for sock in getattr(self, "socks", []):
            sock.close()
        for a in self.actors:
            ray.kill(a)
        self.actors = []
