"""Classic gradient coding (Tandon et al.) at level s: every worker computes s + 1 subsets and sends
one coded vector, the master decodes from the first N − s: τ = (s+1) · T_(N−s) (docs/peers.md).
Its level is tuned on the common draws (``gc_best``)."""

from __future__ import annotations

import numpy as np

from .. import streams
from ..timing import OrderStatMax, descending
from ..timing.links import one_message_levels
from ..timing.orderstat import single_level_blocks
from .base import Context, Scheme, pick

__all__ = ["ClassicGC", "classic_gc", "best_gc_level"]


def classic_gc(level: int) -> OrderStatMax:
    """Tandon et al. gradient coding tolerating s stragglers: τ = (s+1) · T_(N-s)."""
    return OrderStatMax(np.array([level + 1.0]), np.array([level]))


def best_gc_level(
    model,
    workers: int,
    T=None,
    seed: int = 0,
    samples: int = 20_000,
    deadline=None,
    tolerate: int = 0,
    objective: str = "runtime",
) -> int:
    """Classic GC's best level s ≥ ``tolerate``. For the runtime: exact argmin of (s+1) E[T_(N-s)]
    for i.i.d. laws with finite moments, else chosen on common draws ``T`` (drawn with ``seed``
    when not given). For ``objective="deadline"``: the highest P(τ ≤ deadline) on common draws."""
    by_probability = objective == "deadline"
    if T is None and model.iid and model.full_prob == 0 and not by_probability:
        means = model.order_stat_mean(workers)[::-1] * (np.arange(workers) + 1.0)
        if np.all(np.isfinite(means)):
            return tolerate + int(np.argmin(means[tolerate:]))
    if T is None and model.has_fixed_cost:  # (s+1) units of work cost a + b (s+1): on draws of (a, b)
        a, b = model.sample_parts(samples, workers, streams.rng(seed, streams.COMMON_DRAWS))
        runs = np.stack([classic_gc(s).affine_samples(a, b) for s in range(workers)], axis=1)
        return tolerate + pick(runs[:, tolerate:], deadline, by_probability)
    if T is None:
        T = model.sample(samples, workers, streams.rng(seed, streams.COMMON_DRAWS))
    Td = descending(T)
    return tolerate + pick((Td * (np.arange(workers) + 1.0))[:, tolerate:], deadline, by_probability)


class ClassicGC(Scheme):
    name = "gc"
    label = "gc_best"
    tunable = True
    runnable = True
    one_message = True

    def candidates(self, ctx):
        return list(range(ctx.workers))

    def params(self, ctx, value):
        return {"level": int(value)}

    def formula(self, params, ctx):
        return classic_gc(params["level"])

    def runtime(self, params, ctx):
        return self.runtimes(ctx, [params["level"]])[:, 0]

    def runtimes(self, ctx, values):
        if ctx.mode == "free":
            return OrderStatMax.stacked_samples([classic_gc(s) for s in values], ctx.sorted_rate)
        if ctx.net.free:
            return np.stack([ctx.of_formula(classic_gc(s)) for s in values], axis=1)
        every = one_message_levels(ctx.fixed, ctx.rate, ctx.coords, ctx.net, lambda s: s + 1.0)
        return every[:, list(values)]

    def run_design(self, model, workers, coords, tolerate, policy):
        """The best level ≥ ``tolerate``: free links, exact means where the law allows
        (:func:`best_gc_level`); under links (a shared ingress makes higher levels pay more), on the
        run's design draws through the links, as ``compare`` tunes it."""
        if policy.links.free:
            level = best_gc_level(
                model,
                workers,
                seed=policy.seed,
                deadline=policy.deadline,
                tolerate=tolerate,
                objective=policy.objective,
            )
            return single_level_blocks(workers, coords, level)
        a, b = model.sample_parts(policy.samples or 1000, workers, streams.rng(policy.seed, streams.DESIGN_SAMPLES))
        ctx = Context(model, workers, coords, a, b, policy.deadline, net=policy.links, fixed_cost=model.has_fixed_cost)
        levels = list(range(tolerate, workers))
        by_probability = policy.objective == "deadline"
        level = levels[pick(self.runtimes(ctx, levels), policy.deadline, by_probability)]
        return single_level_blocks(workers, coords, level)
