"""Largest-remainder rounding, once for every integer split bcgc makes (block sizes, bcgc_mm's
coordinates, the rows of unequal data subsets)."""

from __future__ import annotations

import numpy as np

__all__ = ["largest_remainder"]


def largest_remainder(target, total: int, allowed=None) -> np.ndarray:
    """Integers n_i ≥ floor(target_i) with Σ n = ``total``: the floors, plus one for the largest
    fractional parts (ties: the first; ``allowed`` indices only, when given). ``target`` sums to
    ``total`` up to rounding."""
    target = np.asarray(target, dtype=float)
    n = np.floor(target).astype(np.int64)
    short = int(total) - int(n.sum())
    if short > 0:
        frac = target - n
        if allowed is not None:
            mask = np.full(frac.size, -np.inf)
            mask[allowed] = frac[allowed]
            frac = mask
        n[np.argsort(-frac, kind="stable")[:short]] += 1
    return n
