"""Ferdinand & Draper's hierarchical coded computation with r layers, as a BCGC block vector
(docs/peers.md): two rows, r = L and r = L/2."""

from __future__ import annotations

import numpy as np

from .._validate import InputError
from .base import BlockDesign

__all__ = ["Ferdinand", "ferdinand_levels", "ferdinand_blocks"]


def ferdinand_levels(workers: int, coords: int, layers: int) -> np.ndarray:
    """The level s_j of each layer j = 1..r: maximise u subject to u ≤ (s_j + 1)/j,
    Σ_j s_j = rN - L, 0 ≤ s_j ≤ N-1 (docs/peers.md). The continuous solution is
    s_j = clip(u·j - 1, 0, N-1) with u found by bisection; integers by rounding the cumulative sum
    (keeps the total; each s_j stays in [0, N-1]) and sorting."""
    target = layers * workers - coords
    if layers < 1 or coords < layers or target < 0:
        raise InputError(
            f"layers must be in [1, coords] and coords <= layers * workers, got "
            f"layers={layers}, coords={coords}, workers={workers}"
        )
    j = np.arange(1, layers + 1, dtype=float)

    def total(u):
        return np.clip(u * j - 1.0, 0.0, workers - 1.0).sum()

    lo, hi = 0.0, workers * 1.0 + 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if total(mid) < target else (lo, mid)
    cont = np.clip(0.5 * (lo + hi) * j - 1.0, 0.0, workers - 1.0)
    cont *= target / cont.sum() if cont.sum() > 0 else 0.0
    cum = np.round(np.cumsum(cont)).astype(np.int64)
    cum[-1] = target
    return np.sort(np.diff(np.concatenate([[0], cum])))


def ferdinand_blocks(workers: int, coords: int, layers: int) -> np.ndarray:
    """The BCGC block vector of the design: layer j adds N - s_j coordinates to block s_j. Σ x = L."""
    s = ferdinand_levels(workers, coords, layers)
    return np.bincount(s, weights=workers - s, minlength=workers).astype(np.int64)


class Ferdinand(BlockDesign):
    """One row per number of layers: ``layers(L)`` gives r from the number of coordinates."""

    runnable = False  # compared only: train and simulate do not offer it

    def __init__(self, name: str, layers):
        self.name, self._layers = name, layers
        super().__init__()

    def applies(self, ctx):
        layers = self._layers(ctx.coords)
        return layers >= 1 and ctx.coords <= layers * ctx.workers

    def blocks(self, params, ctx):
        return ferdinand_blocks(ctx.workers, ctx.coords, self._layers(ctx.coords))

    def params(self, ctx, value):
        layers = self._layers(ctx.coords)
        return {"layers": layers, "blocks": ferdinand_blocks(ctx.workers, ctx.coords, layers).tolist()}
