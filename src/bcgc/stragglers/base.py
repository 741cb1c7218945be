"""The base classes of every straggler law and the order-statistic numerics they share.

T_n is the time worker n needs, in one iteration, to compute all L partial derivatives on ONE data
subset (docs/model.md, straggler model). Laws are immutable values modelled on ``scipy.stats``
frozen distributions:

* i.i.d. laws (:class:`IIDLaw`) answer ``cdf, sf, pdf, ppf, isf, mean`` and the order statistic
  moments ``order_stat_mean(N)`` = (E[T_(1)], .., E[T_(N)]) and ``order_stat_inv_mean(N)`` =
  (E[1/T_(1)], .., E[1/T_(N)]) that the closed-form designs A4/A5 need (docs/algorithms.md);
* every law answers ``sample(iterations, workers, seed)`` with an array of shape
  (iterations, workers); ``inf`` marks a full straggler (a worker that never answers).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from .. import _validate as V

#: Times and time scales must lie in [TIME_MIN, TIME_MAX]: wide enough for any unit, narrow enough
#: that a time times a factor (bimodal) or a time squared (the solvers) stays finite, and that 1/T
#: and the far quantiles the order-statistic quadrature visits do not overflow.
TIME_MIN, TIME_MAX = 1e-50, 1e50


def bounded(name: str, value: float, low: float, high: float | None = None, why: str = "") -> float:
    """``value`` if low <= value (<= high), else a ValueError naming ``name`` and the range."""
    if not (low <= value and (high is None or value <= high)):
        allowed = f">= {low:g}" if high is None else f"in [{low:g}, {high:g}]"
        raise V.InputError(f"{name} must be a number {allowed}{why}, got {value!r}")
    return value


class StragglerModel:
    """Joint law of T. Subclasses set ``iid`` and implement ``_sample(rng, iterations, workers)``."""

    iid: bool = False
    #: True when exact evaluation (the binomial walk of docs/algorithms.md) applies: i.i.d. with a
    #: smooth named law.
    exact: bool = False
    #: number of workers the law is tied to (traces, heterogeneous); None means any N.
    workers: int | None = None
    #: probability that a worker never answers (a full straggler)
    full_prob: float = 0.0

    @property
    def has_fixed_cost(self) -> bool:
        """Whether the law's fixed cost a is not identically 0 (docs/model.md, fixed costs): then
        formula (2) does not hold and every runtime is the general model's."""
        return False

    def sample(self, iterations: int, workers: int, seed=None) -> np.ndarray:
        """Draw T for ``iterations`` iterations of ``workers`` workers, shape (iterations, workers).

        Same seed, same numbers. ``inf`` entries are full stragglers.
        """
        iterations = V.integer("iterations", iterations, minimum=1)
        workers = self.check_workers(workers)
        return self._sample(V.as_rng(seed), iterations, workers)

    def sample_parts(self, iterations: int, workers: int, seed=None) -> tuple[np.ndarray, np.ndarray]:
        """(a, b), each of shape (iterations, workers): worker n's time for work w is a_n + b_n · w
        (docs/model.md, fixed costs). A law without a fixed cost has a = 0 and b = T."""
        T = self.sample(iterations, workers, seed)
        return np.zeros_like(T), T

    def tail_indices(self, workers: int) -> np.ndarray:
        """α_n of each of the ``workers`` workers: P(T_n(w) > t) ~ t^-α_n for any work w > 0; inf
        when the tail is lighter than every power (an exponential, a bounded trace)."""
        return np.full(int(workers), float(getattr(self, "tail_index", math.inf)))

    def order_tail_exponent(self, workers: int, level: int) -> float:
        """β such that P(T_(N-m) > t) ~ t^-β for the (m+1)-th slowest of N independent workers
        (m = ``level``): at least m + 1 workers must be slow together, so β is the sum of the m + 1
        smallest α_n (docs/model.md, heavy tails). E[·] is finite iff β > 1, its variance iff β > 2."""
        alpha = np.sort(self.tail_indices(workers))
        return float(np.sum(alpha[: int(level) + 1]))

    def mean_is_finite(self, workers: int, level: int) -> tuple[bool, str]:
        """Whether a runtime whose every term waits for at most N - ``level`` workers (a design
        tolerating ``level`` stragglers: the least level of its non-empty blocks) has a finite mean
        under this law, and why not. The one infinite-mean check of every evaluation path
        (exact, Monte Carlo, the general model, links, every scheme of a comparison)."""
        if self.full_prob > 0:
            return False, "workers that never answer (full stragglers) make E[τ] infinite for every design"
        beta = self.order_tail_exponent(workers, level)
        if beta > 1:
            return True, ""
        alpha = np.sort(self.tail_indices(workers))[: int(level) + 1]
        if np.all(alpha == alpha[0]):
            a = float(alpha[0])
            return False, (
                f"E[τ] is infinite: the tail P(T > t) ~ t^-{a:g} makes the term at level {level} "
                f"heavy ((level + 1)·{a:g} = {beta:g} ≤ 1)"
            )
        return False, (
            f"E[τ] is infinite: the term at level {level} waits for the {level + 1} slowest workers, whose tails "
            f"P(T_n > t) ~ t^-α_n sum to {beta:g} ≤ 1 (α = {', '.join(f'{v:g}' for v in alpha)})"
        )

    def check_workers(self, workers) -> int:
        workers = V.workers(workers)
        if self.workers is not None and workers != self.workers:
            raise V.InputError(
                f"workers must be {self.workers} for the model {self.spec!r} "
                f"(it describes {self.workers} workers), got {workers}"
            )
        return workers

    def _sample(self, rng, iterations, workers):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def spec(self) -> str:
        """The command-line text form of this law."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.spec


class IIDLaw(StragglerModel):
    """T_n i.i.d. with a CDF F. Subclasses give cdf/sf/pdf/ppf/isf and ``lower`` (support start)."""

    iid = True

    def mean(self) -> float:
        return float(self.order_stat_mean(1)[0])

    @property
    def lower(self) -> float:
        """Left end of the support: F(t) = 0 for t < lower. P(τ ≤ t) is smooth above it."""
        return 0.0

    #: α such that P(T > t) ~ t^-α for large t; inf when the tail is lighter than any power. It
    #: decides finiteness: E[T_(N-m)] (the (m+1)-th largest of N) is finite iff (m + 1)·α > 1.
    tail_index: float = math.inf

    @property
    def kinks(self) -> tuple:
        """Times where the density jumps (the start of a shifted support): break points for the
        exact E[τ] quadrature."""
        return (self.lower,) if self.lower > 0 else ()

    def _sample(self, rng, iterations, workers):
        return self.ppf(rng.random((iterations, workers)))

    # -- order statistics (closed forms A4/A5, docs/algorithms.md) ----------------------------
    def order_stat_mean(self, workers: int) -> np.ndarray:
        """E[T_(k)] for k = 1..N (k-th smallest of N i.i.d. draws); ``inf`` where it diverges."""
        workers = V.integer("workers", workers, minimum=1)
        if self.full_prob > 0:
            return np.full(workers, np.inf)
        return _order_stat_expectation(self, workers, lambda q: q)

    def order_stat_inv_mean(self, workers: int) -> np.ndarray:
        """E[1/T_(k)] for k = 1..N; ``inf`` where it diverges (e.g. k = 1 for an exponential)."""
        workers = V.integer("workers", workers, minimum=1)
        with np.errstate(divide="ignore", over="ignore"):  # 1/T -> inf where T -> 0: a divergence
            return _order_stat_expectation(self, workers, lambda q: 1.0 / q)


def _order_stat_expectation(law: IIDLaw, n: int, h) -> np.ndarray:
    """E[h(T_(k))], k = 1..n, by the trapezoid rule in logit space.

    E[h(T_(k))] = ∫ h(F⁻¹(u)) Beta(u; k, n-k+1) du. With u = expit(z) the weight becomes the
    log-concave density u^k (1-u)^(n-k+1) / B(k, n-k+1) in z, whose tails decay exponentially, so
    the trapezoid rule converges geometrically. Right tails use ``isf`` (no cancellation in 1-u).
    The window of each k starts at ±12 standard deviations and grows until the integrand at its
    ends is below e^-40 of its peak; a k whose window cannot close has a divergent moment → inf.
    """
    k = np.arange(1, n + 1, dtype=float)
    a, b = k, n - k + 1.0
    centre = np.log(a / b)
    sig = np.sqrt(1.0 / a + 1.0 / b)
    log_beta = special.betaln(a, b)

    def log_g(z):  # log |integrand| in z, shape like z (rows = k)
        aa, bb, lb = (v.reshape((-1,) + (1,) * (z.ndim - 1)) for v in (a, b, log_beta))
        with np.errstate(divide="ignore", invalid="ignore"):
            hv = np.abs(h(_quantile_logit(law, z)))
            return np.log(hv) + aa * special.log_expit(z) + bb * special.log_expit(-z) - lb

    coarse = centre[:, None] + sig[:, None] * np.linspace(-12, 12, 49)[None, :]
    peak = np.nanmax(np.where(np.isnan(lg := log_g(coarse)), -np.inf, lg), axis=1)
    lo, hi = centre - 12 * sig, centre + 12 * sig
    diverges = ~np.isfinite(peak) & (peak > 0)
    for _ in range(12):  # widen each side until its end is negligible
        end_lo, end_hi = log_g(lo), log_g(hi)
        grow_lo = ~(end_lo < peak - 40)
        grow_hi = ~(end_hi < peak - 40)
        if not (grow_lo.any() or grow_hi.any()):
            break
        width = hi - lo
        lo = np.where(grow_lo, lo - width, lo)
        hi = np.where(grow_hi, hi + width, hi)
        lo = np.maximum(lo, -740.0)
        hi = np.minimum(hi, 740.0)
    else:
        diverges |= ~(log_g(lo) < peak - 40) | ~(log_g(hi) < peak - 40)
    points = int(np.clip(np.ceil(np.max((hi - lo) / (sig / 4))), 64, 8192))
    grid = np.linspace(0.0, 1.0, points)
    z = lo[:, None] + (hi - lo)[:, None] * grid[None, :]
    step = (hi - lo) / (points - 1)
    with np.errstate(over="ignore", invalid="ignore"):
        g = np.exp(log_g(z)) * np.sign(h(_quantile_logit(law, z)))
        out = np.where(np.isnan(g), 0.0, g).sum(axis=1) * step
    out = np.where(diverges | ~np.isfinite(out), np.inf, out)
    return out


def _quantile_logit(law: IIDLaw, z: np.ndarray) -> np.ndarray:
    """F⁻¹(expit(z)) evaluated without cancellation: the right half uses isf(expit(-z))."""
    out = np.empty_like(z)
    left = z < 0
    with np.errstate(all="ignore"):
        out[left] = law.ppf(special.expit(z[left]))
        out[~left] = law.isf(special.expit(-z[~left]))
    return out
