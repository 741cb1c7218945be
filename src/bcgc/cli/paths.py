"""A command's files, checked together before any work: an output that is also an input (``--design
d.json --log d.json``, ``--dataset my.csv --plot my.csv``, a trace as ``--log``) or two outputs on
one file (``--log x --plot x``) would destroy data, so they are refused (exit 2, nothing written)."""

from __future__ import annotations

import os
import re

from .._args import UsageError

#: the options a command writes (a file, or a folder for --out of reproduce and --tensorboard)
OUTPUTS = ("log", "plot", "save", "checkpoint", "metrics_csv", "out", "tensorboard")
#: the file options a command reads
INPUTS = ("design", "dataset", "costs", "resume", "torch", "traces", "model", "stragglers")
_PATH = re.compile(r"path=([^,;]+)")


def _flag(attr: str) -> str:
    return "--" + attr.replace("_", "-")


def _inputs(a) -> list[tuple[str, str]]:
    """(flag, path) of every file the command reads; a law's files from its text (path=...)."""
    found = []
    for attr in INPUTS:
        value = getattr(a, attr, None)
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            flag = "TRACE.csv" if attr == "traces" else _flag(attr)
            text = getattr(v, "spec", v) if not isinstance(v, str) else v
            if not isinstance(text, str):
                continue
            if attr in ("model", "stragglers") or text.startswith(("trace:", "empirical:", "replay:")):
                found += [(flag, p) for p in _PATH.findall(text)]
            elif attr == "torch":
                found.append((flag, text.rpartition(":")[0] or text))
            else:
                found.append((flag, text))
    if a.command == "fit" and getattr(a, "log", None):
        found.append(("--log", a.log))  # fit reads a log
    return found


def _outputs(a) -> list[tuple[str, str]]:
    return [
        (_flag(attr), getattr(a, attr))
        for attr in OUTPUTS
        if getattr(a, attr, None) and not (attr == "log" and a.command == "fit")
    ]


def check_paths(a) -> None:
    """Refuse an output on an input's file, or two outputs on one file (``--resume`` and
    ``--checkpoint`` may share one: a run continues its own checkpoint)."""
    outputs = _outputs(a)
    seen = {}
    for flag, path in outputs:
        real = os.path.realpath(path)
        if real in seen:
            raise UsageError(f"{flag} and {seen[real]} name the same file {path!r}: give each output its own file")
        seen[real] = flag
    for flag, path in _inputs(a):
        real = os.path.realpath(path)
        out = seen.get(real)
        if out is not None and not (flag == "--resume" and out == "--checkpoint"):
            raise UsageError(f"{out} {path!r} is also the input {flag}: writing it would destroy the input")
