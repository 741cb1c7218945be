"""Tandon et al.'s partial-straggler variant at level s: τ = (s+1)/(s+α) · max(α·T_(N−s), T_(N))
(docs/peers.md); under upload links, and under the backprop work order (docs/model.md, "The backprop
work order"), it is timed as the two-block BCGC design of :func:`tandon_blocks`. Its level is tuned
on the common draws."""

from __future__ import annotations

import numpy as np

from ..timing import OrderStatMax, runtime
from .base import Scheme

__all__ = ["TandonPartial", "tandon_partial", "tandon_blocks", "level_candidates"]


def tandon_partial(level: int, alpha: float = 6.0) -> OrderStatMax:
    """Tandon's partial-straggler variant: τ = (s+1)/(s+α) · max(α·T_(N-s), T_(N)) (docs/peers.md)."""
    k = (level + 1.0) / (level + alpha)
    return OrderStatMax(np.array([k * alpha, k]), np.array([level, 0]))


def tandon_blocks(workers: int, coords: int, level: int, alpha: float) -> np.ndarray:
    """Tandon's partial scheme at level s as BCGC blocks (fractions of coordinates, summing to L):
    x_0 = L(s+1)/(s+α), x_s = L(α−1)/(s+α); formula (2) of these two blocks is its runtime."""
    x = np.zeros(workers)
    x[0] += coords * (level + 1.0) / (level + alpha)
    x[level] += coords * (alpha - 1.0) / (level + alpha)
    return x


def level_candidates(workers: int) -> np.ndarray:
    """Levels tried under links (a link evaluation of two blocks per level): all 0..N-1 up to
    N = 64, else 32 levels spread geometrically, including 0 and N - 1."""
    if workers <= 64:
        return np.arange(workers)
    return np.unique(np.round(np.geomspace(1, workers, 32)).astype(np.int64) - 1)


class TandonPartial(Scheme):
    name = label = "tandon_partial"
    tunable = True

    def candidates(self, ctx):
        return list(range(ctx.workers)) if ctx.net.free else [int(s) for s in level_candidates(ctx.workers)]

    def params(self, ctx, value):
        return {"level": int(value), "alpha": ctx.alpha}

    def formula(self, params, ctx):
        x = tandon_blocks(ctx.workers, ctx.coords, params["level"], params["alpha"])
        return (
            tandon_partial(params["level"], params["alpha"])
            if ctx.net.free and ctx.multi_level_formula_holds(x)
            else None
        )

    def runtime(self, params, ctx):
        if self.formula(params, ctx) is not None:
            return ctx.of_formula(tandon_partial(params["level"], params["alpha"]))
        x = tandon_blocks(ctx.workers, ctx.coords, params["level"], params["alpha"])
        return runtime(x, ctx.rate, ctx.fixed, None, ctx.net, order=ctx.order)

    def runtimes(self, ctx, values):
        """Free links, no fixed cost, the paper's order: every level's formula at once
        (``OrderStatMax.stacked_samples``: the numbers of :meth:`runtime`)."""
        if ctx.mode == "free":
            formulas = [self.formula(self.params(ctx, v), ctx) for v in values]
            if all(f is not None for f in formulas):
                return OrderStatMax.stacked_samples(formulas, ctx.sorted_rate)
        return super().runtimes(ctx, values)

    def tolerance(self, params, ctx):
        x = tandon_blocks(ctx.workers, ctx.coords, params["level"], params["alpha"])
        return int(np.flatnonzero(x > 0)[0])

    def messages(self, params, ctx):
        return int(np.count_nonzero(tandon_blocks(ctx.workers, ctx.coords, params["level"], params["alpha"])))
