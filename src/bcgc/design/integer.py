"""Integer block vectors: rounding R with local moves, and exact enumeration A1 (``brute-force``).

docs/algorithms.md, "A2, A6, R".
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .._rounding import largest_remainder
from .._validate import InputError
from ..analysis import InexactQuadrature, OrderStatMax, completion_probability_exact, expected_runtime_exact, use_exact
from .common import _Problem

# most block vectors `brute-force` may enumerate
BRUTE_FORCE_LIMIT = 200_000


def round_blocks(z: np.ndarray, coords: int, levels: np.ndarray | None = None) -> np.ndarray:
    """Largest-remainder rounding of the relaxed blocks z·L to integers with Σ x = L (R)."""
    return largest_remainder(np.asarray(z, dtype=float) * coords, coords, levels)


def _local_moves(x: np.ndarray, levels: np.ndarray, objective, max_evals: int):
    """Move single coordinates between neighbouring allowed levels while ``objective`` decreases."""
    best = objective(x)
    evals, moves, improved = 1, 0, True
    while improved and evals < max_evals:
        improved = False
        for a, b in itertools.chain(zip(levels[:-1], levels[1:]), zip(levels[1:], levels[:-1])):
            if x[a] == 0 or evals >= max_evals:
                continue
            cand = x.copy()
            cand[a] -= 1
            cand[b] += 1
            val = objective(cand)
            evals += 1
            if val < best - 1e-15 * abs(best):
                x, best, improved, moves = cand, val, True, moves + 1
    return x, moves, evals


def _compositions(total: int, parts: int):
    """All vectors of ``parts`` non-negative integers summing to ``total`` (stars and bars)."""
    for bars in itertools.combinations(range(total + parts - 1), parts - 1):
        edges = (-1,) + bars + (total + parts - 1,)
        yield [edges[i + 1] - edges[i] - 1 for i in range(parts)]


def brute_force_blocks(td: np.ndarray, coords: int, levels=None, score=None):
    """A1: the integer block vector minimising the sample mean of τ (equation (2)) over all
    compositions of L into the allowed levels. ``td``: descending-sorted samples.
    ``score(x)`` replaces the sample mean (e.g. an exact objective). Returns (x, value, count)."""
    workers = td.shape[1]
    levels = np.arange(workers) if levels is None else np.asarray(levels)
    best, best_val, count = None, math.inf, 0
    for comp in _compositions(coords, levels.size):
        x = np.zeros(workers, dtype=np.int64)
        x[levels] = comp
        val = score(x) if score is not None else float(OrderStatMax.from_blocks(x).samples(td).mean())
        count += 1
        if val < best_val:
            best, best_val = x, val
    return best, best_val, count


def _brute_force_design(p: _Problem, coords: int, objective: str):
    count = math.comb(coords + p.levels.size - 1, p.levels.size - 1)
    if count > BRUTE_FORCE_LIMIT:
        raise InputError(
            f"method 'brute-force' would enumerate {count} block vectors (limit "
            f"{BRUTE_FORCE_LIMIT}): use fewer workers/coords or another method"
        )
    score = _integer_score(p, objective, exact_if_possible=True)
    x, val, n = brute_force_blocks(p.td if score is None else np.zeros((1, p.workers)), coords, p.levels, score)
    return x, {"nit": n, "enumerated": n}


def _exact_vouches(p: _Problem) -> bool:
    """Whether the exact E[τ] reaches its accuracy for this law (probed on a spread design), so that
    all candidates are scored the same way."""
    x = np.zeros(p.workers)
    x[p.levels] = 1.0
    try:
        expected_runtime_exact(p.model, p.workers, OrderStatMax.from_blocks(x))
    except InexactQuadrature:
        return False
    return True


def _integer_score(p: _Problem, objective: str, exact_if_possible: bool):
    """A function x -> value to minimise, exact where cheap, else on common random numbers."""
    # exact scores cost O(N³) per probability: only for the small cases that enumerate
    exact = exact_if_possible and use_exact(p.model, p.workers, "auto", max_workers=12)
    if objective == "runtime":
        p.check_runtime_finite()

        def sampled(x):
            return float(OrderStatMax.from_blocks(x).samples(p.td).mean())

        if not exact or not _exact_vouches(p):
            return sampled

        def score(x):  # exact, unless the quadrature cannot vouch for its accuracy here
            try:
                return expected_runtime_exact(p.model, p.workers, OrderStatMax.from_blocks(x))
            except InexactQuadrature:
                return sampled(x)

        return score
    if exact:
        return lambda x: float(
            completion_probability_exact(p.model, p.workers, OrderStatMax.from_blocks(x), p.deadline)[1][0]
        )
    return lambda x: float(np.mean(OrderStatMax.from_blocks(x).samples(p.td) > p.deadline))
