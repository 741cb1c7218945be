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


def main(argv=None) -> int:
    """Run ``bcgc`` with ``argv`` (default: the command line); the exit code."""
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
