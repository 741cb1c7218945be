"""Ray itself for the Ray engine (docs/runtime.md): found or said missing, a cluster address checked
before any work (reachable, this process's token accepted), started and stopped with signals held
off so that Ctrl-C or SIGTERM never leaves Ray's processes behind."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading

from .._validate import InputError


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
