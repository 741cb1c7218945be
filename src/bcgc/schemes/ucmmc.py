"""UC-MMC (Ozfatura, Gündüz, Ulukus): worker n processes subsets n, .., n+r−1 in order and sends each
gradient when done; the master needs every subset once (docs/peers.md). Timing:
``bcgc.timing.ucmmc``; its r is tuned on the common draws (``ucmmc_best``); it runs as a bcgc_mm
design of one multi block (``bcgc.timing.mm.ucmmc``). It sends one message per subset-sized piece of
work, so the work order (docs/model.md, "The backprop work order") does not change its timing: a
comparison under the backprop order times it as always."""

from __future__ import annotations

import numpy as np

from .. import streams
from ..timing import Links, ucmmc_runtimes
from ..timing.mm import ucmmc
from .base import Scheme

__all__ = ["UCMMC", "ucmmc_r_candidates"]


def ucmmc_r_candidates(workers: int, net: Links) -> np.ndarray:
    """The r tried: all 1..N with per-worker links; with a shared ingress (an event pass over N·r
    messages per r) a geometric grid of about 20 values including 1 and N."""
    if net.per_worker or workers <= 24:
        return np.arange(1, workers + 1)
    return np.unique(np.round(np.geomspace(1, workers, 20)).astype(np.int64))


class UCMMC(Scheme):
    name = "ucmmc"
    label = "ucmmc_best"
    tunable = True
    runnable = True

    def candidates(self, ctx):
        return [int(r) for r in ucmmc_r_candidates(ctx.workers, ctx.net)]

    def params(self, ctx, value):
        return {"r": int(value)}

    def runtime(self, params, ctx):
        return self.runtimes(ctx, [params["r"]])[:, 0]

    def runtimes(self, ctx, values):
        fixed = ctx.fixed if ctx.fixed_cost or not ctx.net.free else None
        return ucmmc_runtimes(fixed, ctx.rate, values, ctx.coords, ctx.net)

    def upload(self, params, coords):
        return params["r"] * coords

    def messages(self, params, ctx):
        return params["r"]

    def tolerance(self, params, ctx):
        return params["r"] - 1  # a subset waits for the first of its r holders

    def run_design(self, model, workers, coords, tolerate, policy):
        """The r in tolerate+1..N with the least sample mean of τ under the run's links."""
        a, b = model.sample_parts(policy.samples or 1000, workers, streams.rng(policy.seed, streams.DESIGN_SAMPLES))
        rs = np.arange(tolerate + 1, workers + 1)
        return ucmmc(workers, coords, int(rs[np.argmin(ucmmc_runtimes(a, b, rs, coords, policy.links).mean(axis=0))]))
