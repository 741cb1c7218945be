"""Learning problems with per-coordinate partial derivatives, and the data sets they train on.

The problems (:class:`Problem`, the protocol, and the shipped least squares, logistic and softmax
regressions) live in :mod:`bcgc.problems.models`; a user's own data file is read by
:mod:`bcgc.problems.data` (docs/problems.md, your own data).

Built-in data sets load offline: ``digits`` (bundled with scikit-learn), ``fashion-mnist`` (Debian's
package ``dataset-fashion-mnist``, files under /usr/share/datasets/fashion-mnist/; when absent,
``digits`` is used and the fallback is reported, never silent) and ``synthetic`` (seeded).
"""

from __future__ import annotations

import dataclasses
import gzip
import sys
from pathlib import Path

import numpy as np

from .. import _validate as V
from .. import streams
from .._lazy import lazy
from .allocation import split_rows, with_subset_sizes
from .data import FILE_TYPES, Dataset, read_file
from .names import PROBLEM_NAMES

__all__ = [
    "Problem",
    "DataProblem",
    "Dataset",
    "load_dataset",
    "DATASETS",
    "PROBLEMS",
    "PROBLEM_NAMES",
    "make_problem",
    "LeastSquares",
    "Logistic",
    "Softmax",
    "FASHION_MNIST_DIR",
    "FILE_TYPES",
    "read_file",
    "split_rows",
    "with_subset_sizes",
]

#: the models (scipy) are imported at their first use (PEP 562): the command line's parsers only
#: need the names (.names)
_LAZY = ("Problem", "DataProblem", "PROBLEMS", "make_problem", "LeastSquares", "Logistic", "Softmax")


__getattr__, __dir__ = lazy(__name__, dict.fromkeys(_LAZY, ".models"), globals(), __all__)


FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
DATASETS = ("digits", "fashion-mnist", "synthetic")


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        data = fh.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _builtin(name: str, seed: int, features: int) -> Dataset:
    # the built-in sets have 10 or 4 classes: logistic regression splits them in halves (split_halves)
    note = ""
    if name == "fashion-mnist":
        images, labels = (
            FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz",
            FASHION_MNIST_DIR / "train-labels-idx1-ubyte.gz",
        )
        if images.is_file() and labels.is_file():
            X = _read_idx(images).reshape(-1, 784).astype(np.float64) / 255.0
            return Dataset("fashion-mnist", X, _read_idx(labels).astype(np.int64), 10, split_halves=True)
        note = (
            f"fashion-mnist not found under {FASHION_MNIST_DIR} (Debian package dataset-fashion-mnist): "
            "using digits instead"
        )
        print(f"bcgc: {note}", file=sys.stderr)
        name = "digits"
    if name == "digits":
        from sklearn.datasets import load_digits  # bundled with scikit-learn: always offline

        d = load_digits()
        return Dataset(
            "digits", d.data.astype(np.float64) / 16.0, d.target.astype(np.int64), 10, note, split_halves=True
        )
    rng = streams.rng(seed, streams.SYNTHETIC_DATA)
    n, dim, classes = 4000, V.integer("features", features, minimum=1), 4
    centres = rng.normal(0, 1.5, size=(classes, dim))
    y = rng.integers(0, classes, size=n)
    return Dataset("synthetic", centres[y] + rng.normal(size=(n, dim)), y, classes, split_halves=True)


def load_dataset(
    name, samples: int | None = None, seed: int = 0, features: int = 64, label: str | None = None
) -> Dataset:
    """A built-in data set by name (DATASETS), or else a user's file by path (.npz, .csv, .svm:
    :func:`read_file`; ``label`` names a CSV file's label column). ``samples`` keeps a seeded random
    subset of rows, the same for a built-in set and the same rows written to a file; ``features``
    sets the dimension of ``synthetic`` (4 Gaussian classes)."""
    if name in DATASETS:
        if label is not None:
            raise V.InputError(f"--label (label=) names a CSV column; the built-in {name} has its own labels")
        ds = _builtin(name, seed, features)
    elif Path(name).exists():
        ds = read_file(name, label)  # labels are mapped on the whole file: a subset keeps every class
    else:
        raise V.InputError(
            f"dataset must be one of {', '.join(DATASETS)} or a data file, got {str(name)!r}: no such file"
        )
    if samples is not None:
        samples = V.integer("samples", samples, minimum=1)
        if samples < ds.X.shape[0]:
            keep = np.sort(streams.rng(seed, streams.DATA_SUBSET).choice(ds.X.shape[0], samples, replace=False))
            ds = dataclasses.replace(ds, X=ds.X[keep], y=ds.y[keep])
    return ds
