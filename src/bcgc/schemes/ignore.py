"""Ignore-stragglers: wait for the fastest N − s and drop the rest, τ = T_(N−s) — an inexact gradient
for s > 0 (docs/peers.md). It follows classic GC's tuned level."""

from __future__ import annotations

import numpy as np

from ..timing import OrderStatMax
from ..timing.links import one_message_level
from .base import Scheme
from .gc import ClassicGC

__all__ = ["IgnoreStragglers", "ignore_stragglers"]


def ignore_stragglers(level: int) -> OrderStatMax:
    """Wait for the fastest N - s and drop the rest (an inexact gradient): τ = T_(N-s)."""
    return OrderStatMax(np.array([1.0]), np.array([level]))


class IgnoreStragglers(Scheme):
    name = label = "ignore_stragglers"
    one_message = True

    def params(self, ctx, value):
        gc = ctx.chosen.get("gc")
        if gc is None:  # GC not compared: tune its level here, as compare would
            gc = ClassicGC().tune(ctx, ctx.most_likely)
        return {"level": gc["level"]}

    def formula(self, params, ctx):
        return ignore_stragglers(params["level"])

    def runtime(self, params, ctx):
        if ctx.net.free:
            return ctx.of_formula(ignore_stragglers(params["level"]))
        return one_message_level(ctx.fixed, ctx.rate, ctx.coords, ctx.net, 1.0, params["level"])

    def exact_gradient(self, params):
        return params["level"] == 0  # s = 0 waits for all
