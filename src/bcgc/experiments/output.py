"""Transactional output folder of ``bcgc reproduce``.

A run writes every file into a fresh staging folder next to the output folder (same file system), and only
when every file is complete moves them in with ``os.replace``, ``index.md`` last. The old ``index.md`` is
removed before the move and the new one put in place last, so an ``index.md`` in the folder always sits
beside a complete, consistent set of files. The staging folder is removed in every case (exceptions,
KeyboardInterrupt). An interrupted run therefore leaves the folder with the previous run intact (or nothing
new), never half a file or a mix of two runs.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import signal
import tempfile
from pathlib import Path

from .._validate import InputError

__all__ = ["check_out", "staging", "commit"]

INDEX = "index.md"


def check_out(out, names=()) -> Path:
    """The output folder as an absolute path, checked before any work: refuse an empty name, a regular file,
    a path under a file, an unwritable folder, and an existing folder where one of ``names`` is a folder (it
    could not be replaced). Missing parent folders are created. Raises ValueError naming the path."""
    if out is None or os.fspath(out) == "":
        raise InputError(f"out must name a folder, got {out if out is None else os.fspath(out)!r}")
    try:
        path = Path(os.fspath(out)).expanduser().resolve()  # a symlinked folder: stage next to its target
    except (RuntimeError, OSError) as exc:  # a symlink loop
        raise InputError(f"out {str(out)!r} cannot be resolved to a folder ({exc})") from None
    if path.exists() and not path.is_dir():
        raise InputError(f"out must name a folder, but {str(path)!r} is an existing file")
    above = next(p for p in path.parents if p.exists())
    if not above.is_dir():
        raise InputError(f"out {str(path)!r} cannot be created: {str(above)!r} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the parent folder of out {str(path)!r}: {exc.strerror or exc}") from None
    if path.is_dir():
        _probe(path)
        clash = [n for n in names if (path / n).is_dir()]
        if clash:
            raise InputError(f"out {str(path)!r} holds folders named like output files: {clash}")
    return path


def _probe(folder: Path):
    """Check that files can be created in ``folder`` by creating (and removing) one."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".bcgc-probe-", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write into out {str(folder)!r}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(tmp)


@contextlib.contextmanager
def staging(out: Path):
    """A fresh, empty staging folder ``.NAME.partial-XXXX`` next to ``out``; removed on leaving, whatever happens."""
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    except OSError as exc:
        raise InputError(
            f"cannot write next to out {str(out)!r} (in {str(out.parent)!r}): {exc.strerror or exc}"
        ) from None
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def commit(tmp: Path, out: Path, expected) -> None:
    """Move the staged files into ``out`` (created if missing), ``index.md`` last.

    Refuses (RuntimeError, nothing moved) unless ``tmp`` holds exactly the ``expected`` regular files. A
    Ctrl-C during the renames is held back and delivered right after them."""
    staged = {p.name for p in tmp.iterdir() if p.is_file() and not p.name.startswith(".")}
    if staged != set(expected) or INDEX not in staged:
        raise RuntimeError(
            f"incomplete run, nothing written: missing {sorted(set(expected) - staged)}, "
            f"unexpected {sorted(staged - set(expected))}"
        )
    with _sigint_deferred():
        out.mkdir(exist_ok=True)
        (out / INDEX).unlink(missing_ok=True)  # no index.md while the set of files is mixed
        for name in sorted(staged - {INDEX}):
            os.replace(tmp / name, out / name)
        os.replace(tmp / INDEX, out / INDEX)


@contextlib.contextmanager
def _sigint_deferred():
    """Hold a Ctrl-C back while the renames run (main thread only, where Python raises KeyboardInterrupt) and
    deliver it right after, so the move is never cut in the middle."""
    got = []
    old = signal.getsignal(signal.SIGINT)  # None: a handler not set from Python, which we could not restore
    try:
        if old is not None:
            signal.signal(signal.SIGINT, lambda signum, frame: got.append(frame))
    except ValueError:  # not the main thread: no KeyboardInterrupt can arrive here
        old = None
    if old is None:
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
        if got and callable(old):
            old(signal.SIGINT, got[0])  # the default handler raises KeyboardInterrupt
        elif got and old == signal.SIG_DFL:
            os.kill(os.getpid(), signal.SIGINT)


def write_csv(path: Path, header, rows):
    """A figure's CSV: a header row, then every plotted number (floats to 10 significant digits)."""
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow([_cell(v) for v in r])


def _cell(v):
    if isinstance(v, float):
        return f"{v:.10g}"
    return v
