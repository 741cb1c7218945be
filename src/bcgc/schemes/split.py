"""Uncoded and classic GC with the data split in proportion to the workers' speeds: the peers'
counterpart of BCGC's data allocation (docs/peers.md, "With a fixed cost, and with an allocation").

When workers differ, BCGC's design gives slow workers less data; no peer above may, so a gain over
them mixes coding with allocation. These two rows are the baseline a practitioner tries first:
subset k of size d_k ∝ 1 / median(T_k), T_k worker k's time for one full subset on the common draws
(a + b), then uncoded (level 0) or classic GC at its best level on that split (cyclic placement:
worker n holds subsets n..n+s). They appear when the comparison's BCGC design uses an allocation."""

from __future__ import annotations

import numpy as np

from ..timing.orderstat import single_level_blocks
from .base import BlockDesign

__all__ = ["speed_split", "UncodedSplit", "GCSplit"]


def speed_split(fixed, rate) -> np.ndarray:
    """d_k ∝ 1 / median over the draws of a_k + b_k (a worker that never answers gets nothing)."""
    with np.errstate(invalid="ignore"):
        typical = np.median(np.asarray(fixed) + np.asarray(rate), axis=0)
    speed = np.where(np.isfinite(typical) & (typical > 0), 1.0 / typical, 0.0)
    return speed / speed.sum()


class UncodedSplit(BlockDesign):
    name = "uncoded_split"
    runnable = False  # compare only: the runtime runs unequal subsets for BCGC's own designs

    def applies(self, ctx):
        return ctx.split is not None

    def params(self, ctx, value):
        return {"blocks": single_level_blocks(ctx.workers, ctx.coords, 0).tolist(), "subset_sizes": ctx.split.tolist()}


class GCSplit(BlockDesign):
    name = "gc_split"
    tunable = True
    runnable = False

    def applies(self, ctx):
        return ctx.split is not None

    def candidates(self, ctx):
        return list(range(ctx.workers))

    def params(self, ctx, value):
        blocks = single_level_blocks(ctx.workers, ctx.coords, int(value)).tolist()
        return {"level": int(value), "blocks": blocks, "subset_sizes": ctx.split.tolist()}
