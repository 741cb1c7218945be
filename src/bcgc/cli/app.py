"""The ``bcgc`` command line: it parses, calls the core and prints (tables and JSON: ``bcgc.report``,
figures: ``bcgc.plots``). Choices come from the core's registries. One module per group of
commands: its ``register(sub)`` adds their parsers, its ``COMMANDS`` maps each name to its runner.

Bad input (:class:`bcgc._validate.InputError`, a usage error, a file that cannot be read) ends with
one line on stderr and exit code 2, never a traceback. Any other exception is a bug in bcgc: its
traceback, a line saying so and how to report it, exit code 1.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import traceback

from .. import __version__, progress
from .._args import Parser, UsageError
from .._validate import InputError, RunFailed
from ..policy import RedesignImpossible
from . import design_cmds, fit_cmd, recommend_cmd, run_cmds, torch_cmd
from .paths import check_paths


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="bcgc",
        description="Block coordinate gradient coding: design, evaluate, compare, simulate, train, reproduce.",
    )
    parser.add_argument("--version", action="version", version=f"bcgc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in MODULES:
        module.register(sub)
    return parser


def _display(a):
    """Progress on stderr (``bcgc.progress``): only on a terminal and never with ``--json``; ``train``
    draws its own line."""
    on = a.command != "train" and not getattr(a, "json", False) and sys.stderr.isatty()
    return progress.shown(on, f"bcgc {a.command}")


MODULES = (design_cmds, run_cmds, recommend_cmd, fit_cmd, torch_cmd)
COMMANDS = {name: run for module in MODULES for name, run in module.COMMANDS.items()}


#: the line after the traceback of an unexpected exception
BUG = (
    f"bcgc: internal error: this is a bug in bcgc {__version__}, not a problem with your input; please "
    "report it to the bcgc maintainers with the command line you ran and the traceback above"
)


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C (temporary folders, open files)


def main(argv=None) -> int:
    from ..runtime import WorkerError
    from ..runtime.ray_backend import RayMissing, stop_ray

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)

    try:
        a = build_parser().parse_args(argv)
        check_paths(a)
        with _display(a):
            result = COMMANDS[a.command](a)
        text = json.dumps(result, allow_nan=False) if isinstance(result, dict) else result
    except (UsageError, InputError, RayMissing) as exc:  # the messages name the parameter and its range
        print(f"bcgc: error: {exc}", file=sys.stderr)
        return 2
    except WorkerError as exc:  # a bug in worker code: the worker's traceback is the message
        print(f"bcgc: {exc}", file=sys.stderr)
        return 1
    except RedesignImpossible as exc:
        print(f"bcgc: run stopped: {exc}", file=sys.stderr)
        return 1
    except RunFailed as exc:  # workers dead, a timeout, a solver that gave up: not the user's fault, nor a bug
        print(f"bcgc: failed: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file that could not be read or written
        print(f"bcgc: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        stop_ray()  # a run on Ray leaves none of Ray's processes behind
        print("bcgc: interrupted", file=sys.stderr)
        return 2
    except Exception:  # anything else is a bug in bcgc: never disguised as bad input
        traceback.print_exc()
        print(BUG, file=sys.stderr)
        return 1
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `bcgc ... | head`: the reader left; no traceback
        sys.stdout = open(os.devnull, "w")  # the interpreter's final flush must not fail again
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
