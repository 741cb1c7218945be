"""Splitting a problem's data by subset sizes (docs/model.md, "Unequal subsets").

A design for workers that differ may give the N data subsets unequal sizes d_0..d_{N-1}
(``DesignResult.subset_sizes``). Decoding stays exact whatever the sizes: every code recovers
Σ_k ∇f_k, and the f_k of any partition of the rows add up to the loss. The simulator and the
runtime call :func:`with_subset_sizes` to split the data the way the design assumed.
"""

from __future__ import annotations

import numpy as np

from .._rounding import largest_remainder
from .._validate import InputError
from ..timing.general import check_subset_sizes

__all__ = ["split_rows", "with_subset_sizes"]


def split_rows(rows: int, workers: int, subset_sizes=None) -> list[np.ndarray]:
    """Row indices of the N subsets, contiguous and in order: ``np.array_split`` for equal
    subsets (None), else n_k rows for subset k with n_k the largest-remainder rounding of rows·d_k
    (Σ n_k = rows; a subset may be empty when d_k is tiny)."""
    d = check_subset_sizes(subset_sizes, workers)
    if d is None:
        return np.array_split(np.arange(rows), workers)
    counts = largest_remainder(rows * d, rows)
    return np.split(np.arange(rows), np.cumsum(counts)[:-1])


def with_subset_sizes(problem, subset_sizes):
    """The same problem on the same data, its rows split into subsets of sizes d (None: equal).
    Works for the shipped problems (:class:`~bcgc.problems.DataProblem`); a problem of one's own
    must implement ``with_subset_sizes(d)`` itself."""
    own = getattr(problem, "with_subset_sizes", None)
    if own is not None:
        return own(subset_sizes)
    raise InputError(
        f"problem {getattr(problem, 'name', problem)!r} cannot split its data by subset_sizes: "
        "give it a with_subset_sizes(d) method (docs/problems.md)"
    )
