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

import contextlib
import os
import pickle
import secrets
import selectors
import signal
import socket
import sys
import threading
import time

import numpy as np

from .._validate import InputError, positive
from .channel import HEADER, Channel, connect, send
from .engine import Arrival, Backend, Death, Failure, WorkerCore, _worker_times

__all__ = ["RayBackend", "RayMissing", "require_ray", "stop_ray"]


class RayMissing(ImportError):
    """Ray is not installed: the message says how to install it."""


def _ray():
    try:
        import ray  # imported lazily: the core library does not need Ray
    except ImportError:
        raise RayMissing(
            "the Ray engine needs Ray, which is not installed: pip install 'bcgc[runtime]' "
            "(or pip install ray), or use --backend threads"
        ) from None
    return ray


def require_ray(address: str | None = None, timeout: float = 5.0) -> None:
    """Fail early, before any work, when Ray is missing, ``address`` ("HOST:PORT", or RAY_ADDRESS)
    cannot be reached within ``timeout`` seconds (ray.init would otherwise wait forever) or the
    cluster there refuses this process's credentials."""
    _ray()
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address in (None, "auto", "local") or address.startswith("ray://"):
        return
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise InputError(f"address must be HOST:PORT (e.g. 10.0.0.1:6379) or auto, got {address!r}")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout).close()
    except OSError as exc:
        raise InputError(
            f"address {address!r}: no Ray cluster answers there within {timeout:g} s ({exc}); "
            "start one with `ray start --head` or check the address"
        ) from None
    _check_token(address, timeout)


_TOKEN_HELP = "the head's token (`ray get-auth-token` on the head prints it) in RAY_AUTH_TOKEN or ~/.ray/auth_token"


def _check_token(address: str, timeout: float) -> None:
    """Ray's token authentication, asked once with Ray's own client (ray.init retries for 20 s,
    printing a line per attempt): a refusal is one clear line. Anything else is ray.init's to report."""
    try:
        from ray._private.authentication.authentication_token_setup import ensure_token_if_auth_enabled
        from ray._raylet import GcsClient
        from ray.exceptions import AuthenticationError
    except ImportError:  # another Ray layout: ray.init reports what goes wrong
        return
    try:
        ensure_token_if_auth_enabled(None, create_token_if_missing=False)  # Ray's client aborts without one
    except AuthenticationError:
        raise InputError(f"RAY_AUTH_MODE=token but no token was found: put {_TOKEN_HELP}") from None
    except TypeError:  # another Ray version: ray.init reports what goes wrong
        return
    refused = []

    def probe():
        with contextlib.suppress(Exception):  # unreachable, not Ray, ...: for ray.init to report
            try:
                GcsClient(address=address, cluster_id=None)
            except AuthenticationError:
                refused.append(True)

    thread = threading.Thread(target=probe, daemon=True)
    with _stderr_silenced():  # Ray's client logs the refusal on stderr: the error says it in one line
        thread.start()
        thread.join(timeout)
    if refused and os.environ.get("RAY_AUTH_MODE", "").lower() == "token":
        raise InputError(f"address {address!r}: the Ray cluster refused this machine's token; use {_TOKEN_HELP}")
    if refused:
        raise InputError(
            f"address {address!r}: the Ray cluster requires token authentication: run with "
            f"RAY_AUTH_MODE=token and {_TOKEN_HELP}, or use --address auto on a machine of the cluster"
        )


@contextlib.contextmanager
def _stderr_silenced():
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def _signals_deferred():
    """Ctrl-C and SIGTERM held while Ray starts: interrupted halfway, ray.init leaves its processes
    (GCS, raylet, agents) running with nobody to stop them. The signals received are listed; the
    caller acts on them once Ray is up and can be shut down. Ray's own SIGTERM handler (sys.exit in
    a signal handler, which aborted the process once the C++ core was running) is replaced by the
    one that was there before."""
    got: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield got
        return

    def hold(signum, frame):
        if not got:
            print(
                "bcgc: stopping as soon as Ray has started (stopping it halfway would leave its processes)",
                file=sys.stderr,
            )
        got.append(signum)

    saved = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield got
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


def stop_ray() -> None:
    """Shut down the Ray this process started or joined (its local processes too), if any: the
    command line calls it when a run is interrupted, so that no Ray process outlives bcgc."""
    ray = sys.modules.get("ray")
    if ray is not None and getattr(ray, "is_initialized", lambda: False)():
        with _signals_deferred():
            ray.shutdown()


def _init(ray, address):
    """Join ``address`` or start a local Ray; a missing cluster is a clear error, not a traceback."""
    with _signals_deferred() as got:
        try:
            ray.init(address=address, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
        except (ConnectionError, TimeoutError, RuntimeError, ray.exceptions.AuthenticationError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"address {address!r}: could not connect to a Ray cluster ({first})") from None
    if got:
        stop_ray()
        raise KeyboardInterrupt


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
