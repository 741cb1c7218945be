"""Uncoded data parallel: every worker computes its own subset and the master waits for all,
τ = T_(N) (docs/peers.md)."""

from __future__ import annotations

import numpy as np

from ..timing import OrderStatMax
from ..timing.links import one_message_level
from ..timing.orderstat import single_level_blocks
from .base import RedesignImpossible, Scheme

__all__ = ["Uncoded", "uncoded"]


def uncoded() -> OrderStatMax:
    """Wait for every worker: τ = T_(N)."""
    return OrderStatMax(np.array([1.0]), np.array([0]))


class Uncoded(Scheme):
    name = "uncoded"
    runnable = True
    one_message = True

    def formula(self, params, ctx):
        return uncoded()

    def runtime(self, params, ctx):
        if ctx.net.free:
            return ctx.of_formula(uncoded())
        return one_message_level(ctx.fixed, ctx.rate, ctx.coords, ctx.net, 1.0, 0)

    def run_design(self, model, workers, coords, tolerate, policy):
        if tolerate > 0:
            raise RedesignImpossible(
                f"uncoded waits for every worker, so it cannot tolerate {tolerate} dead "
                "worker(s): the run stops (use the gc or bcgc scheme to survive deaths)"
            )
        return single_level_blocks(workers, coords, 0)
