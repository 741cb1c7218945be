"""What every design method shares: the problem context, the allowed levels, the map between block
fractions z and normalised loads c, and the worst block of a sample with its subgradient.

Notation and the z ↔ c map: docs/algorithms.md, "Working in c instead of z".
"""

from __future__ import annotations

import numpy as np

from .. import _validate as V
from .. import streams
from ..stragglers import Trace
from ..timing.orderstat import OrderStatMax, descending


def allowed_level_set(workers: int, tolerate: int = 0, allowed_levels=None) -> np.ndarray:
    """Levels that may hold coordinates: s ≥ tolerate and s in allowed_levels."""
    levels = np.arange(tolerate, workers)
    if allowed_levels is not None:
        if isinstance(allowed_levels, (str, bytes)) or np.ndim(allowed_levels) != 1:
            raise V.InputError(f"allowed_levels must be a list of levels in [0, {workers - 1}], got {allowed_levels!r}")
        allowed = set()
        for s in allowed_levels:
            allowed.add(V.integer("allowed_levels entry", s, minimum=0, maximum=workers - 1))
        levels = np.array([s for s in levels if s in allowed], dtype=np.int64)
    if levels.size == 0:
        raise V.InputError(
            f"no level is left: tolerate={tolerate} and allowed_levels={allowed_levels} "
            f"exclude every level 0..{workers - 1}"
        )
    return levels


def trace_rows(model, samples: int):
    """A trace's rows when it has no more than ``samples`` of them, else None. A design then works
    on the rows themselves, each once — the exact sample objective of that law (its draws are its
    rows with equal weights) — rather than on ``samples`` rows resampled from them."""
    rows = getattr(model, "samples", None) if isinstance(model, Trace) else None
    return rows if rows is not None and rows.shape[0] <= samples else None


class _Problem:
    """Everything a method needs: law, N, allowed levels, samples (lazily drawn, seeded)."""

    def __init__(self, model, workers, levels, deadline, samples, seed):
        self.model, self.workers, self.levels = model, workers, levels
        self.deadline, self.n_samples, self.seed = deadline, samples, seed
        self._td = None

    @property
    def td(self) -> np.ndarray:
        """Design samples, sorted descending (column s = T_(N-s)); seed stream 0; a short trace's
        own rows (:func:`trace_rows`)."""
        if self._td is None and trace_rows(self.model, self.n_samples) is not None:
            self._td = descending(trace_rows(self.model, self.n_samples))
        if self._td is None:
            V.memory(
                f"drawing {self.n_samples} samples of {self.workers} workers",
                3.0 * self.n_samples * self.workers,
                "lower --samples or --workers, or use a closed form (--method jensen)",
            )
            rng = streams.rng(self.seed, streams.DESIGN_SAMPLES)
            self._td = descending(self.model.sample(self.n_samples, self.workers, rng))
        return self._td

    def check_runtime_finite(self):
        if self.model.full_prob > 0:
            raise V.InputError(
                "the runtime objective is undefined with full stragglers (E[τ] = inf for every "
                "design): design for a deadline (--objective deadline --deadline T; in Python "
                "objective='deadline', deadline=T)"
            )


def _order_moments(model, workers, samples_desc=None, inverse=False):
    """E[T_(N-s)] (or E[1/T_(N-s)] with ``inverse``) for s = 0..N-1: exact for i.i.d. laws, else
    from the samples."""
    if model.iid:
        return (model.order_stat_inv_mean(workers) if inverse else model.order_stat_mean(workers))[::-1]
    with np.errstate(divide="ignore"):
        return (1.0 / samples_desc).mean(axis=0) if inverse else samples_desc.mean(axis=0)


def _z_from_c(levels: np.ndarray, c: np.ndarray, workers: int) -> np.ndarray:
    """Block fractions from normalised loads at the allowed levels: z_s = (c_s - c_prev)/(s+1)."""
    z = np.zeros(workers)
    z[levels] = np.maximum(np.diff(np.concatenate([[0.0], c])), 0.0) / (levels + 1.0)
    return z / z.sum()


def _equalize(levels: np.ndarray, weight: np.ndarray, workers: int) -> np.ndarray:
    """argmin over z of max_s weight_s c_s: c_s = θ / weight_s (non-decreasing since weight is
    non-increasing in s). Levels with infinite weight get c = 0, i.e. stay empty.
    Proof: docs/algorithms.md, "The closed forms are one min-max problem"."""
    with np.errstate(divide="ignore"):
        c = np.where(np.isfinite(weight), 1.0 / weight, 0.0)
    c = np.maximum.accumulate(c)  # guards ties/noise in estimated moments
    if not np.any(c > 0):
        raise V.InputError("every allowed level has an infinite weight: the closed form does not exist")
    return _z_from_c(levels, c, workers)


def _project_simplex(v: np.ndarray) -> np.ndarray:
    """Euclidean projection onto {z ≥ 0, Σ z = 1} (sort-based, O(m log m))."""
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - 1.0
    idx = np.arange(1, v.size + 1)
    rho = np.nonzero(u - css / idx > 0)[0][-1]
    return np.maximum(v - css[rho] / (rho + 1.0), 0.0)


def _worst_block(td, z):
    """Per sample: τ = max_s T_(N-s) c_s over the non-empty blocks (equation (2)), the block s*
    reaching it, and T_(N-s*) (the slope of τ in c_{s*})."""
    rt = OrderStatMax.from_blocks(z)
    i = np.argmax(rt.terms(td), axis=1)
    arg = rt.levels[i]
    slope = td[np.arange(td.shape[0]), arg]
    return slope * rt.coefs[i], arg, slope


def _pull_back(weights, arg, n):
    """Σ_k weights_k ∂τ_k/∂z averaged over samples: ∂τ/∂z_j = T_(N-s*) (j+1) for j ≤ s*."""
    g = np.zeros(n)
    np.add.at(g, arg, weights)
    return np.cumsum(g[::-1])[::-1] * (np.arange(n) + 1.0) / arg.size
