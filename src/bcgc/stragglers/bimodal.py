"""The two-speed law: a worker is slowed by a factor with a probability (docs/model.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate as V
from .base import TIME_MAX, IIDLaw, bounded
from .named import ShiftedExponential, _ScipyLaw


@dataclass(frozen=True, repr=False)
class Bimodal(_ScipyLaw):
    """With probability ``prob`` a worker is slowed by ``factor`` ≥ 1: G(t) = (1-p)F(t) + pF(t/κ).

    F is a shifted exponential (``shift``, ``rate``); the Python API accepts any i.i.d. ``base``.
    Quantiles are found by bisection inside [F⁻¹(u), κF⁻¹(u)], which always brackets G⁻¹(u).
    """

    shift: float = 1.0
    rate: float = 1.0
    factor: float = 5.0
    prob: float = 0.1
    base: IIDLaw | None = None
    name = "bimodal"

    def __post_init__(self):
        if self.base is None:
            object.__setattr__(self, "base", ShiftedExponential(self.shift, self.rate))
        factor = V.positive("factor", self.factor)
        if factor < 1:
            raise V.InputError(f"factor must be a number >= 1 (a slow-down), got {self.factor!r}")
        bounded("factor", factor, 1, TIME_MAX)
        object.__setattr__(self, "factor", factor)
        object.__setattr__(self, "prob", V.probability("prob", self.prob))
        object.__setattr__(self, "exact", bool(self.base.exact))

    def cdf(self, t):
        t = np.asarray(t, dtype=float)
        return (1 - self.prob) * self.base.cdf(t) + self.prob * self.base.cdf(t / self.factor)

    def sf(self, t):
        t = np.asarray(t, dtype=float)
        return (1 - self.prob) * self.base.sf(t) + self.prob * self.base.sf(t / self.factor)

    def pdf(self, t):
        t = np.asarray(t, dtype=float)
        return (1 - self.prob) * self.base.pdf(t) + self.prob * self.base.pdf(t / self.factor) / self.factor

    def ppf(self, q):
        q = np.asarray(q, dtype=float)
        return self._invert(self.cdf, q, self.base.ppf(q), self.factor * self.base.ppf(q), rising=True)

    def isf(self, q):
        q = np.asarray(q, dtype=float)
        return self._invert(self.sf, q, self.base.isf(q), self.factor * self.base.isf(q), rising=False)

    @staticmethod
    def _invert(fun, target, lo, hi, rising):
        lo, hi = np.array(lo, dtype=float), np.array(hi, dtype=float)
        finite = np.isfinite(hi) & np.isfinite(lo)
        for _ in range(200):  # bisection to machine precision in the bracket
            mid = 0.5 * (lo + hi)
            below = fun(mid) < target if rising else fun(mid) > target
            lo = np.where(finite & below, mid, lo)
            hi = np.where(finite & ~below, mid, hi)
            if np.all(~finite | (hi - lo <= 4e-16 * np.abs(hi))):
                break
        return np.where(finite, 0.5 * (lo + hi), hi)

    def mean(self) -> float:
        return float((1 - self.prob + self.prob * self.factor) * self.base.mean())

    @property
    def lower(self) -> float:
        return self.base.lower

    @property
    def tail_index(self) -> float:
        return self.base.tail_index

    @property
    def kinks(self) -> tuple:
        return tuple(self.base.kinks) + tuple(self.factor * k for k in self.base.kinks)

    def _sample(self, rng, iterations, workers):
        t = self.base._sample(rng, iterations, workers)
        slow = rng.random((iterations, workers)) < self.prob
        return np.where(slow, t * self.factor, t)

    @property
    def spec(self) -> str:
        if isinstance(self.base, ShiftedExponential) and type(self.base) is ShiftedExponential:
            return super().spec
        return f"bimodal(base={self.base.spec},factor={self.factor:g},prob={self.prob:g})"
