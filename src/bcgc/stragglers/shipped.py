"""The measured traces that ship with bcgc (``bcgc/data/traces/``, provenance in its README and in
each file's ``#`` lines; docs/traces.md): named without a path, e.g. ``trace:name=alibaba-pai-job2``."""

from __future__ import annotations

from pathlib import Path

from .._validate import InputError
from .empirical import Trace, read_trace

__all__ = ["SHIPPED_DIR", "shipped_names", "shipped_path", "shipped_trace"]

#: the folder of the shipped CSV files (package data, installed with bcgc)
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "data" / "traces"


def shipped_names() -> tuple[str, ...]:
    """The names of the shipped traces (file names without ``.csv``), sorted."""
    return tuple(sorted(p.stem for p in SHIPPED_DIR.glob("*.csv")))


def shipped_path(name: str) -> Path:
    """The file of a shipped trace; ``name`` may carry the ``.csv`` suffix. Unknown names are an
    error listing every shipped name (never a guess)."""
    names = shipped_names()
    if not isinstance(name, str) or name.strip() == "":
        raise InputError(f"trace name is empty: expected one of {', '.join(names)}")
    stem = name.strip()
    stem = stem[:-4] if stem.endswith(".csv") else stem
    if stem not in names:
        raise InputError(f"trace name {name!r} is not a shipped trace: expected one of {', '.join(names)}")
    return SHIPPED_DIR / f"{stem}.csv"


def shipped_trace(name: str) -> Trace:
    """The joint law of a shipped trace (rows bootstrapped whole), its spec ``trace:name=NAME``."""
    path = shipped_path(name)
    return Trace(read_trace(path), source=f"name={path.stem}")
