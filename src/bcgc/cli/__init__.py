"""The ``bcgc`` command line (the commands live in :mod:`bcgc.cli.app`; docs in its docstring).

This module imports only the standard library, so that Ctrl-C while the command starts (importing
numpy, scipy and the commands takes a second or more) ends it with one line and exit code 2, as it
does later, never with a traceback of the import machinery.
"""

from __future__ import annotations

import signal
import sys
import threading


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM stops like Ctrl-C (app.main installs the same)


def _keep_freed_memory() -> None:
    """Let glibc's malloc keep freed memory for the next allocation (arrays up to 32 MiB from the
    heap, up to 256 MiB of free heap kept): its defaults hand each freed array of a few MB back to
    the kernel and fault it in again on the next one; in ``bcgc fit --loads`` on the Canada traces
    that was 846 000 page faults and 4 s of system time of 20 (benchmarks/scale_results.md).
    A no-op where the C library has no ``mallopt``."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return
    mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD
    mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD (glibc's largest)


def main(argv=None) -> int:
    """Run ``bcgc`` with ``argv`` (default: the command line); the exit code."""
    _keep_freed_memory()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        from .app import main as run  # the one deferred import: the handler above must come first
    except KeyboardInterrupt:
        print("bcgc: interrupted", file=sys.stderr)
        return 2
    return run(argv)


#: the application's names reachable here, as before the split (``from bcgc.cli import BUG``)
_APP = ("build_parser", "COMMANDS", "BUG")


def __getattr__(name):
    if name not in _APP:  # a submodule not imported yet: importlib asks here first
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import app

    return getattr(app, name)
