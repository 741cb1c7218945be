"""The oracle lower bound (docs/peers.md): every unit of work computed once, all workers finishing
together; not a scheme one can run (it needs to know who is slow), a row every comparison closes with."""

from __future__ import annotations

from ..timing import oracle_affine_samples, oracle_links, oracle_samples
from .base import Scheme

__all__ = ["Oracle"]


class Oracle(Scheme):
    name = label = "oracle"

    def runtime(self, params, ctx):
        if not ctx.net.free:
            return oracle_links(ctx.fixed, ctx.rate, ctx.coords, ctx.net)
        return oracle_affine_samples(ctx.fixed, ctx.rate) if ctx.fixed_cost else oracle_samples(ctx.rate)

    def tolerance(self, params, ctx):
        return ctx.workers - 1  # the work is shared by all: no slower than N times the fastest

    def upload(self, params, coords):
        return None

    def messages(self, params, ctx):
        return 0
