"""A law with a fixed cost: worker n needs T_n(w) = a_n + b_n · w for work w (docs/model.md,
fixed costs), w = 1 being one full-subset gradient. a_n is paid once per iteration whatever the
work (a forward pass, a function invocation); b_n scales with the work."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate as V
from .base import TIME_MAX, StragglerModel, bounded


@dataclass(frozen=True, repr=False, eq=False)
class FixedCost(StragglerModel):
    """T(w) = a + b · w with a ~ ``fixed`` (a law, or a number: the same cost every time) and
    b ~ ``rate``, independent. ``sample`` gives T(1) = a + b, what a law without fixed cost means
    by T; ``sample_parts`` gives (a, b). Monte Carlo only."""

    fixed: object
    rate: StragglerModel

    def __post_init__(self):
        if not isinstance(self.rate, StragglerModel):
            raise V.InputError(f"rate (b) must be a straggler law, got {self.rate!r}")
        if not isinstance(self.fixed, StragglerModel):
            if isinstance(self.fixed, (bool, str)):
                raise V.InputError(f"fixed cost a must be a law or a number >= 0, got {self.fixed!r}")
            value = V.nonnegative("fixed cost a", self.fixed)
            object.__setattr__(self, "fixed", float(bounded("fixed cost a", value, 0.0, TIME_MAX)))
        tied = {m.workers for m in (self.fixed, self.rate) if isinstance(m, StragglerModel) and m.workers}
        if len(tied) > 1:
            raise V.InputError(f"the fixed cost and the rate describe different numbers of workers: {sorted(tied)}")
        object.__setattr__(self, "workers", tied.pop() if tied else None)
        object.__setattr__(self, "iid", False)  # not an IIDLaw: no cdf, no closed forms
        object.__setattr__(
            self, "full_prob", 1 - (1 - self.rate.full_prob) * (1 - getattr(self.fixed, "full_prob", 0.0))
        )

    @property
    def has_fixed_cost(self) -> bool:
        return not (isinstance(self.fixed, float) and self.fixed == 0.0)

    def tail_indices(self, workers: int) -> np.ndarray:
        """a + b·w is as heavy as the heavier of a and b (w > 0)."""
        fixed = self.fixed.tail_indices(workers) if isinstance(self.fixed, StragglerModel) else np.inf
        return np.minimum(fixed, self.rate.tail_indices(workers))

    def _parts(self, rng, iterations, workers):
        if isinstance(self.fixed, StragglerModel):
            a = self.fixed._sample(rng, iterations, workers)
        else:
            a = np.full((iterations, workers), self.fixed)
        return a, self.rate._sample(rng, iterations, workers)

    def _sample(self, rng, iterations, workers):
        a, b = self._parts(rng, iterations, workers)
        return a + b

    def sample_parts(self, iterations, workers, seed=None):
        iterations = V.integer("iterations", iterations, minimum=1)
        return self._parts(V.as_rng(seed), iterations, self.check_workers(workers))

    @property
    def spec(self) -> str:
        a = self.fixed.spec if isinstance(self.fixed, StragglerModel) else f"{self.fixed:g}"
        return f"affine:a={a};b={self.rate.spec}"

    def __repr__(self) -> str:
        return f"FixedCost({self.spec})"
