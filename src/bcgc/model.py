"""The runtime of a design for given worker times (SPEC §3), vectorised over realisations.

Conventions: ``T`` has shape (K, N) — K realisations of the N workers' times; ``x`` is the block
vector (x_0..x_{N-1}), x_s coordinates at level s; ``levels`` is a coordinate-level vector
(s_0..s_{L-1}). Times are in the unit of T (one full-subset gradient); the runtime divides by L
as in SPEC (1)–(2). Empty blocks never enter a maximum: an empty block's term is dominated by the
block before it, and skipping it keeps full stragglers (T = inf) from producing inf·0.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "cumulative_load", "normalized_load", "descending", "block_runtime", "coordinate_runtime",
    "levels_to_blocks", "blocks_to_levels", "block_of_coordinates", "worker_load", "upload_per_worker",
]


def cumulative_load(x) -> np.ndarray:
    """y_s = Σ_{j≤s} (j+1) x_j: the units of work a worker has done when block s is finished (§3.2)."""
    x = np.asarray(x, dtype=float)
    return np.cumsum((np.arange(x.shape[-1]) + 1.0) * x, axis=-1)


def normalized_load(x) -> np.ndarray:
    """c_s = y_s / L, so that block s is decodable at T_(N-s) · c_s (SPEC (2))."""
    x = np.asarray(x, dtype=float)
    return cumulative_load(x) / x.sum(axis=-1, keepdims=True)


def descending(T) -> np.ndarray:
    """Rows of T sorted in decreasing order: column s holds T_(N-s), the (s+1)-th largest."""
    T = np.asarray(T, dtype=float)
    return -np.sort(-T, axis=-1)


def block_runtime(x, T, sorted_desc: bool = False) -> np.ndarray:
    """τ(x; T) = max_{s : x_s > 0} T_(N-s) · y_s / L for each row of T (SPEC (2)). Shape (K,)."""
    x = np.asarray(x, dtype=float)
    Td = np.asarray(T, dtype=float) if sorted_desc else descending(T)
    if Td.ndim == 1:
        Td = Td[None, :]
    c = normalized_load(x)
    used = np.flatnonzero(x > 0)
    return np.max(Td[:, used] * c[used], axis=1)


def coordinate_runtime(levels, T) -> np.ndarray:
    """τ(s; T) = max_l T_(N-s_l) · c_l / L with c_l = Σ_{i≤l} (s_i + 1), coordinates processed in
    the given order 0..L-1 (SPEC (1)). Shape (K,)."""
    levels = np.asarray(levels, dtype=np.int64)
    Td = descending(T)
    if Td.ndim == 1:
        Td = Td[None, :]
    c = np.cumsum(levels + 1.0) / levels.size
    return np.max(Td[:, levels] * c, axis=1)


def levels_to_blocks(levels, workers: int) -> np.ndarray:
    """Block sizes x_s = #{l : s_l = s} (the sorted order of SPEC §3.2)."""
    return np.bincount(np.asarray(levels, dtype=np.int64), minlength=workers)


def blocks_to_levels(x) -> np.ndarray:
    """Coordinate levels in block order: x_0 zeros, then x_1 ones, … (non-decreasing)."""
    x = np.asarray(x, dtype=np.int64)
    return np.repeat(np.arange(x.size), x)


def block_of_coordinates(x) -> list[slice]:
    """Coordinate ranges of each block when coordinates are laid out block after block."""
    edges = np.concatenate([[0], np.cumsum(np.asarray(x, dtype=np.int64))])
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def worker_load(x) -> float:
    """Units of work per worker per iteration: y_{N-1} = Σ_s (s+1) x_s (SPEC §3.2)."""
    return float(cumulative_load(x)[-1])


def upload_per_worker(x) -> int:
    """Values each worker uploads per iteration: one per coordinate, Σ_s x_s = L (SPEC §3.2)."""
    return int(np.asarray(x).sum())
