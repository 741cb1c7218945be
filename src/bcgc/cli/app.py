"""The ``bcgc`` command line: it parses, calls the core and prints (tables and JSON: ``bcgc.report``,
figures: ``bcgc.plots``). Choices come from the core's registries. One module per group of
commands: its ``register(sub)`` adds their parsers, its ``COMMANDS`` maps each name to the module
and function that run it; :mod:`.commands` lists the commands. Only the given command's parser is
built and only its runner's core imported (``bcgc --help`` and refusals start at once).

Bad input (:class:`bcgc._validate.InputError`, a usage error, a file that cannot be read) ends with
one line on stderr and exit code 2, never a traceback. Any other exception is a bug in bcgc: its
traceback, a line saying so and how to report it, exit code 1.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import traceback

from .. import __version__, progress
from .._args import Parser, UsageError
from .._validate import InputError, RunFailed
from .commands import COMMANDS
from .paths import check_paths

#: ``build_parser``'s default: every command's full parser (tests and docs read them all)
ALL = frozenset(module for module, _ in COMMANDS.values())


def build_parser(modules=ALL) -> argparse.ArgumentParser:
    """The ``bcgc`` parser: the full parsers of the commands whose parser modules are in ``modules``,
    and, for every other command, its name and help line only (``main`` builds the one given)."""
    parser = Parser(
        prog="bcgc",
        description="Block coordinate gradient coding: design, evaluate, compare, simulate, train, reproduce.",
    )
    parser.add_argument("--version", action="version", version=f"bcgc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name, (module, help_line) in COMMANDS.items():
        if name in sub.choices:
            continue
        if module in modules:  # it adds every command of its module
            importlib.import_module(f".{module}", __package__).register(sub)
        else:
            sub.add_parser(name, help=help_line, add_help=False)
    return parser


def _given(argv) -> frozenset:
    """The parser module of the command on the line (the first word that is not an option;
    ``bcgc`` has no option taking a value), or none."""
    words = [w for w in (sys.argv[1:] if argv is None else argv) if not w.startswith("-")]
    return frozenset([COMMANDS[words[0]][0]]) if words and words[0] in COMMANDS else frozenset()


def _runner(command: str):
    """The function that runs ``command``: its module (and the core it calls) is imported now."""
    module, function = importlib.import_module(f".{COMMANDS[command][0]}", __package__).COMMANDS[command]
    return getattr(importlib.import_module(f".{module}", __package__), function)


class _Never(Exception):
    """Matches nothing: the class of an exception from a module that was never imported."""


def _loaded(module: str, name: str):
    """Exception class ``name`` of ``module`` if the command imported that module; else none can
    have been raised (so ``except`` never imports the core only to match)."""
    mod = sys.modules.get(module)
    return _Never if mod is None else getattr(mod, name)


def _display(a):
    """Progress on stderr (``bcgc.progress``): only on a terminal and never with ``--json``; ``train``
    draws its own line."""
    on = a.command != "train" and not getattr(a, "json", False) and sys.stderr.isatty()
    return progress.shown(on, f"bcgc {a.command}")


#: the line after the traceback of an unexpected exception
BUG = (
    f"bcgc: internal error: this is a bug in bcgc {__version__}, not a problem with your input; please "
    "report it to the bcgc maintainers with the command line you ran and the traceback above"
)


def main(argv=None) -> int:
    """Run the command on ``argv``; the exit code (``bcgc.cli.main`` installs the SIGTERM handler first)."""
    try:
        a = build_parser(_given(argv)).parse_args(argv)
        check_paths(a)
        run = _runner(a.command)
        with _display(a):
            result = run(a)
        text = json.dumps(result, allow_nan=False) if isinstance(result, dict) else result
    except (UsageError, InputError, _loaded("bcgc.runtime.ray_backend", "RayMissing")) as exc:
        print(f"bcgc: error: {exc}", file=sys.stderr)  # the messages name the parameter and its range
        return 2
    except _loaded("bcgc.runtime.master", "WorkerError") as exc:  # a bug in worker code: its traceback
        print(f"bcgc: {exc}", file=sys.stderr)
        return 1
    except _loaded("bcgc.schemes.base", "RedesignImpossible") as exc:
        print(f"bcgc: run stopped: {exc}", file=sys.stderr)
        return 1
    except RunFailed as exc:  # workers dead, a timeout, a solver that gave up: not the user's fault, nor a bug
        print(f"bcgc: failed: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file that could not be read or written
        print(f"bcgc: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if "bcgc.runtime.ray_backend" in sys.modules:  # a run on Ray leaves none of Ray's processes behind
            sys.modules["bcgc.runtime.ray_backend"].stop_ray()
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
