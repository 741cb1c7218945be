"""Laws built from other laws: full stragglers mixed into any law, and heterogeneous workers."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _validate as V
from .base import IIDLaw, StragglerModel
from .fixed_cost import FixedCost


@dataclass(frozen=True, repr=False)
class FullStragglers(StragglerModel):
    """Any law mixed with full stragglers: each worker independently never answers (T = inf)
    with probability ``prob``. With prob > 0, E[τ] = inf for every design (all workers can
    fail at once); the completion probability P(τ ≤ t) is the meaningful objective."""

    base: StragglerModel
    prob: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "prob", V.probability("full", self.prob, open_right=True))
        # 1 - (1-p)(1-q) without cancellation: a full=1e-300 still makes E[τ] infinite
        object.__setattr__(self, "full_prob", -math.expm1(math.log1p(-self.prob) + math.log1p(-self.base.full_prob)))
        object.__setattr__(self, "iid", self.base.iid)
        object.__setattr__(self, "exact", self.base.exact)
        object.__setattr__(self, "workers", self.base.workers)

    # i.i.d. interface (only meaningful when the base law is i.i.d.)
    def cdf(self, t):
        return (1 - self.prob) * self.base.cdf(t)

    def sf(self, t):
        return self.prob + (1 - self.prob) * self.base.sf(t)

    def pdf(self, t):
        return (1 - self.prob) * self.base.pdf(t)

    def ppf(self, q):
        q = np.asarray(q, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            inner = self.base.ppf(np.minimum(q / (1 - self.prob), 1.0))
        return np.where(q < 1 - self.prob, inner, np.inf)

    def isf(self, q):
        q = np.asarray(q, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            inner = self.base.isf(np.clip((q - self.prob) / (1 - self.prob), 0.0, 1.0))
        return np.where(q > self.prob, inner, np.inf)

    @property
    def lower(self) -> float:
        return self.base.lower

    @property
    def tail_index(self) -> float:
        return getattr(self.base, "tail_index", math.inf)

    @property
    def has_fixed_cost(self) -> bool:
        return self.base.has_fixed_cost

    def tail_indices(self, workers: int) -> np.ndarray:
        return self.base.tail_indices(workers)

    @property
    def kinks(self) -> tuple:
        return tuple(getattr(self.base, "kinks", ()))

    def mean(self) -> float:
        return math.inf if self.prob > 0 else self.base.mean()

    def order_stat_mean(self, workers):
        return IIDLaw.order_stat_mean(self, workers)

    def order_stat_inv_mean(self, workers):
        return IIDLaw.order_stat_inv_mean(self, workers)

    def _sample(self, rng, iterations, workers):
        t = self.base._sample(rng, iterations, workers)
        dead = rng.random((iterations, workers)) < self.prob
        return np.where(dead, np.inf, t)

    @property
    def spec(self) -> str:
        return f"{self.base.spec},full={self.prob:g}"


@dataclass(frozen=True, repr=False, eq=False)
class Heterogeneous(StragglerModel):
    """Independent, not identical: worker n draws from ``laws[n]``, an i.i.d. law or a fixed-cost
    law a_n + b_n · w (docs/model.md, fixed costs). Monte Carlo only."""

    laws: tuple = ()

    def __post_init__(self):
        laws = tuple(self.laws)
        if not laws:
            raise V.InputError("laws must name at least one per-worker law")
        for law in laws:
            if not (getattr(law, "iid", False) or (isinstance(law, FixedCost) and law.workers is None)):
                raise V.InputError(f"each per-worker law must be a single-worker law, got {law!r}")
        object.__setattr__(self, "laws", laws)
        object.__setattr__(self, "workers", len(laws))
        object.__setattr__(self, "full_prob", max(law.full_prob for law in laws))

    @property
    def has_fixed_cost(self) -> bool:
        return any(law.has_fixed_cost for law in self.laws)

    def tail_indices(self, workers: int) -> np.ndarray:
        return np.concatenate([law.tail_indices(1) for law in self.laws])

    def _sample(self, rng, iterations, workers):
        # one column per worker, each from its own law, in worker order (seeded as one stream)
        return np.column_stack([law._sample(rng, iterations, 1)[:, 0] for law in self.laws])

    def sample_parts(self, iterations, workers, seed=None):
        """(a, b): each worker's parts side by side (a = 0 for a law without fixed cost); the same
        draws as ``sample`` with the same seed, so a + b equals it."""
        iterations = V.integer("iterations", iterations, minimum=1)
        workers = self.check_workers(workers)
        rng = V.as_rng(seed)
        a, b = np.zeros((iterations, workers)), np.empty((iterations, workers))
        for n, law in enumerate(self.laws):
            if isinstance(law, FixedCost):
                an, bn = law._parts(rng, iterations, 1)
                a[:, n], b[:, n] = an[:, 0], bn[:, 0]
            else:
                b[:, n] = law._sample(rng, iterations, 1)[:, 0]
        return a, b

    @property
    def spec(self) -> str:
        parts, i = [], 0
        while i < len(self.laws):
            j = i
            while j < len(self.laws) and self.laws[j].spec == self.laws[i].spec:
                j += 1
            parts.append(f"{j - i}*{self.laws[i].spec}")
            i = j
        return "heterogeneous:" + ";".join(parts)
