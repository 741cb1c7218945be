"""BCGC, block coordinate gradient coding (docs/model.md): block s of x_s coordinates coded at level
s, workers process the blocks in order of increasing redundancy, the master decodes each block from
its first N − s arrivals. Its parameter is a design (``bcgc.design.design``: blocks and, for workers
that differ, the data allocation), made by the caller and handed over as ``ctx.chosen["bcgc"]``."""

from __future__ import annotations

import numpy as np

from .base import BlockDesign

__all__ = ["BCGC"]


class BCGC(BlockDesign):
    name = "bcgc"

    def tune(self, ctx, most_likely=None):
        return ctx.chosen["bcgc"]

    def blocks(self, params, ctx):
        return np.asarray(ctx.chosen["bcgc"]["blocks"])

    def run_design(self, model, workers, coords, tolerate, policy):
        raise NotImplementedError("BCGC's run design is made by bcgc.design (bcgc.policy.DesignPolicy)")
