"""A :class:`Dataset`, and a user's own data read from a file: ``.npz`` (arrays X and y), CSV (a
header row and a label column) or svmlight/libsvm (scikit-learn's reader).

Every check ends in one ValueError that names the file and what is wrong: a bad file must stop a
run, never train on something else than the user meant. Features are used as given (no scaling).
"""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import _validate as V
from .._validate import InputError

__all__ = ["Dataset", "read_file", "FILE_TYPES"]

#: file suffix → format
FILE_TYPES = {".npz": "npz", ".csv": "csv", ".svm": "svmlight", ".svmlight": "svmlight", ".libsvm": "svmlight"}
_SHOWN = 10  # labels or columns listed in a message before "…"
#: the largest feature magnitude: the problems square features (the Gram matrix X^T X, the step size
#: from its largest eigenvalue), and n·d squares of 1e100 stay far inside float64
FEATURE_MAX = 1e100


@dataclass(frozen=True)
class Dataset:
    """Features X (n × d, float64) and integer class labels y in 0..classes-1.

    The built-in sets scale X (to [0, 1], or standardised); a user's data is used as given.
    ``labels`` holds the original label of each class when they were mapped to 0..classes-1 (empty
    when the labels were 0..classes-1 already). ``split_halves``: logistic regression may take
    label < classes/2 as its positive class (only the built-in multi-class sets); other data sets
    need exactly 2 classes for it.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    classes: int
    note: str = ""
    labels: tuple = ()
    split_halves: bool = False

    @classmethod
    def from_arrays(cls, X, y, name: str = "arrays") -> "Dataset":
        """A data set from a user's arrays with a file's checks and label mapping (docs/problems.md)."""
        return _build(name, X, y)


def _short(items) -> str:
    items = [str(i) for i in items]
    return ", ".join(items[:_SHOWN]) + (f", … ({len(items)} in all)" if len(items) > _SHOWN else "")


def _where(lines, r) -> str:
    """Row r named as the user finds it: its line in a CSV file, else its index."""
    return f"line {lines[r]}" if lines is not None else f"row {r}"


def _features(name, X, columns=None, lines=None) -> np.ndarray:
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise InputError(f"{name}: the features X are not real numbers (dtype {X.dtype})")
    if X.ndim != 2:
        raise InputError(f"{name}: the features X must be 2-D (samples × features), got shape {X.shape}")
    if 0 in X.shape:
        raise InputError(f"{name}: no data: the features X have shape {X.shape}")
    X = X.astype(np.float64)
    bad = ~np.isfinite(X)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        column = f"column {columns[c]!r}" if columns else f"column {c}"
        raise InputError(
            f"{name}: {int(bad.sum())} feature value(s) are NaN or infinite "
            f"(the first at {_where(lines, r)}, {column}: {X[r, c]})"
        )
    big = np.abs(X) > FEATURE_MAX
    if big.any():
        r, c = np.argwhere(big)[0]
        column = f"column {columns[c]!r}" if columns else f"column {c}"
        raise InputError(
            f"{name}: {int(big.sum())} feature value(s) exceed {FEATURE_MAX:g} in magnitude, where training "
            f"overflows (the first at {_where(lines, r)}, {column}: {X[r, c]:g}); scale the features"
        )
    return X


def _class_labels(name, raw, lines=None):
    """(y in 0..C-1, C, original labels or (), note). Labels 0..C-1 stay; others map in sorted order."""
    if raw.dtype.kind in "USO":
        values = raw.astype(str)
        empty = np.char.strip(values) == ""
        if empty.any():
            raise InputError(f"{name}: empty label at {_where(lines, int(np.argmax(empty)))}")
    elif raw.dtype.kind in "biuf":
        values = raw.astype(np.float64)
        if not np.isfinite(values).all():
            r = int(np.argmin(np.isfinite(values)))
            raise InputError(f"{name}: label at {_where(lines, r)} is {values[r]}: labels must be classes")
        if (values != np.round(values)).any():
            r = int(np.argmax(values != np.round(values)))
            raise InputError(
                f"{name}: labels must be classes (integers or names), got {values[r]:g} at {_where(lines, r)}"
            )
    else:
        raise InputError(f"{name}: the labels y are neither numbers nor names (dtype {raw.dtype})")
    found, y = np.unique(values, return_inverse=True)
    if values.dtype.kind == "f" and np.array_equal(found, np.arange(found.size)):
        return y.astype(np.int64), int(found.size), (), ""
    labels = tuple(int(v) if values.dtype.kind == "f" else str(v) for v in found)
    note = "labels mapped to classes in sorted order: " + _short(f"{v}→{k}" for k, v in enumerate(labels))
    return y.astype(np.int64), len(labels), labels, note


def _build(name, X, y, columns=None, lines=None) -> Dataset:
    X = _features(name, X, columns, lines)
    y = np.asarray(y)
    if y.ndim != 1:
        raise InputError(f"{name}: the labels y must be 1-D (one per sample), got shape {y.shape}")
    if y.shape[0] != X.shape[0]:
        raise InputError(f"{name}: {X.shape[0]} samples in X but {y.shape[0]} labels in y")
    y, classes, labels, note = _class_labels(name, y, lines)
    return Dataset(name, X, y, classes, note, labels)


def _read_npz(path: Path, name: str, label):
    if not zipfile.is_zipfile(path):  # else numpy reads it as a pickle and its message misleads
        raise InputError(f"{name}: not an .npz archive (a zip of arrays, as numpy.savez writes)")
    try:
        archive = np.load(path, allow_pickle=False)  # never unpickle a file: it could run code
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"{name}: not a readable .npz file ({_one_line(exc)})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise InputError(f"{name}: a single .npy array, not an .npz archive with arrays X and y")
    with archive:
        if not {"X", "y"} <= set(archive.files):
            raise InputError(f"{name}: an .npz file needs arrays X and y, found {_short(archive.files) or 'none'}")
        try:
            return archive["X"], archive["y"], {}
        except ValueError as exc:  # object arrays: they need pickle
            raise InputError(f"{name}: {_one_line(exc)}") from None


def _row(name, cells, columns, line) -> np.ndarray:
    try:
        return np.array(cells, dtype=np.float64)
    except ValueError:
        c = next(i for i, v in enumerate(cells) if not _is_number(v))
        raise InputError(f"{name}: line {line}, column {columns[c]!r}: {cells[c]!r} is not a number") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_csv(path: Path, name: str, label):
    column = "label" if label is None else label
    with open(path, newline="", encoding="utf-8-sig") as fh:  # a byte-order mark is not the first column's name
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader, [])]
        if not header:
            raise InputError(f"{name}: no header row (column names) on line 1")
        if header.count(column) != 1:
            how = "no" if column not in header else "more than one"
            raise InputError(
                f"{name}: {how} label column {column!r} (name it with --label, label= in Python); "
                f"the columns: {_short(header)}"
            )
        j = header.index(column)
        columns = header[:j] + header[j + 1 :]
        if not columns:
            raise InputError(f"{name}: no feature columns besides the label column {column!r}")
        rows, labels, lines = [], [], []
        for cells in reader:  # row by row: a large file is never held as text
            if not cells:
                continue  # a blank line
            if len(cells) != len(header):
                raise InputError(f"{name}: line {reader.line_num} has {len(cells)} cells, the header {len(header)}")
            labels.append(cells.pop(j).strip())
            rows.append(_row(name, cells, columns, reader.line_num))
            lines.append(reader.line_num)
    if not rows:
        raise InputError(f"{name}: a header but no data rows")
    y = np.array(labels)
    if all(_is_number(v) for v in labels):
        y = y.astype(np.float64)  # numeric labels: sorted as numbers (-1 < 1 < 10), not as text
    return np.vstack(rows), y, {"columns": columns, "lines": lines}


def _read_svmlight(path: Path, name: str, label):
    from sklearn.datasets import load_svmlight_file  # imported here: the command line starts faster

    try:
        X, y = load_svmlight_file(str(path))
    except (ValueError, UnicodeDecodeError, OverflowError) as exc:  # OverflowError: an index over 2^31
        raise InputError(f"{name}: not a readable svmlight/libsvm file ({_one_line(exc)})") from None
    V.memory(
        f"{name}: {X.shape[0]} rows × {X.shape[1]} features as a dense array",
        float(X.shape[0]) * X.shape[1],
        "the features are used dense: renumber them (svmlight indices are columns)",
    )
    return X.toarray(), y, {}


_READERS = {"npz": _read_npz, "csv": _read_csv, "svmlight": _read_svmlight}


def _one_line(exc) -> str:
    return " ".join(str(exc).split())


def read_file(path, label: str | None = None) -> Dataset:
    """A user's data set from ``path`` (the suffix picks the format, FILE_TYPES); ``label`` names
    the label column of a CSV file (default: the column ``label``)."""
    path, name = Path(path), str(path)
    if not path.is_file():
        raise InputError(f"{name}: no such file" if not path.exists() else f"{name}: not a file")
    kind = FILE_TYPES.get(path.suffix.lower())
    if kind is None:
        raise InputError(
            f"{name}: unknown file type {path.suffix or '(no suffix)'!r}: use .npz (arrays X and y), "
            ".csv (a label column) or .svm, .svmlight, .libsvm"
        )
    if label is not None and kind != "csv":
        raise InputError(f"{name}: --label (label=) names a column of a CSV file, and this is not one")
    if path.stat().st_size == 0:
        raise InputError(f"{name}: the file is empty")
    try:
        X, y, where = _READERS[kind](path, name, label)
    except (UnicodeDecodeError, csv.Error) as exc:  # binary or malformed text
        raise InputError(f"{name}: not a readable {'CSV' if kind == 'csv' else kind} file ({_one_line(exc)})") from None
    return _build(name, X, y, **where)
