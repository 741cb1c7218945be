"""The named i.i.d. laws, backed by ``scipy.stats`` distributions, and their registry.

Each law class carries its text ``name``; its parameter names are its dataclass fields, in order
(:meth:`_ScipyLaw.params`), so the text form, ``repr`` and the parser all read one source.
The registry of names (:data:`bcgc.stragglers.registry.REGISTRY`) and the two-speed law
(:mod:`.bimodal`) stand beside them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy  # scipy.stats (0.5 s to import) loads on first use: `bcgc design` may never need it
from scipy import special

from .. import _validate as V
from ._bound import Bound as _Bound
from .base import TIME_MAX, TIME_MIN, IIDLaw, bounded
from .empirical import _fit_data

#: Below shape 0.1 a draw t = scale·u^(±1/shape) overflows to inf (a false full straggler) or
#: rounds to 0 for u near 2^-53; larger shapes only concentrate the law (checked up to 1e300).
SHAPE_MIN = 0.1
#: exp(mu ± 40 sigma), the quantiles the quadrature visits, stay within floats; below 1e-100 the
#: density at small times is 0/0.
MU_MAX, SIGMA_MIN, SIGMA_MAX = 115.0, 1e-100, 10.0  # exp(115) < TIME_MAX: exp(mu) is the median time


def _time(name, value, why=""):
    return bounded(name, V.positive(name, value), TIME_MIN, TIME_MAX, why=why)


# Overflow inside scipy's standardisation ((t - loc)/scale, t**shape, ...) tends to the right limit
# (cdf 0 or 1, quantile inf): silence it; NaN ("invalid") still warns.
_QUIET = dict(over="ignore", divide="ignore", under="ignore")


def _scalar(out: np.ndarray):
    """A 0-d result as a numpy scalar, as scipy.stats returns it."""
    return out[()] if out.ndim == 0 else out


def _support_cdf(t, scale: float, lower: float, standard):
    """scipy.stats' ``cdf`` of a family with loc 0, without its per-call argument handling (a fit at
    loads asks for F on 32 768 grid points per likelihood, thousands of times): the same operations,
    the family's ``_cdf`` on x = (t − 0)/scale inside its open support (lower, inf), 0 below, 1 at
    inf, nan for nan, so the same numbers to the last bit."""
    with np.errstate(**_QUIET):
        x = (np.asarray(t, dtype=float) - 0.0) / scale
        inside = (x > lower) & (x < np.inf)
        out = np.where(x >= np.inf, 1.0, np.where(np.isnan(x), np.nan, 0.0))
        out[inside] = standard(x[inside])
        return _scalar(out)


class _ScipyLaw(IIDLaw):
    """A named law backed by a ``scipy.stats`` family with its parameters bound (``_dist``)."""

    exact = True
    name = ""

    @classmethod
    def params(cls) -> tuple[str, ...]:
        """Parameter names of the text form: the init fields in order (``base`` is Python-only)."""
        return tuple(f.name for f in dataclasses.fields(cls) if f.init and f.name != "base")

    @property
    def _fields(self) -> tuple[str, ...]:
        return self.params()

    @property
    def _dist(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def cdf(self, t):
        with np.errstate(**_QUIET):
            return self._dist.cdf(t)

    def sf(self, t):
        with np.errstate(**_QUIET):
            return self._dist.sf(t)

    def pdf(self, t):
        with np.errstate(**_QUIET):
            return self._dist.pdf(t)

    def ppf(self, q):
        with np.errstate(**_QUIET):
            return self._dist.ppf(q)

    def isf(self, q):
        with np.errstate(**_QUIET):
            return self._dist.isf(q)

    def mean(self) -> float:
        return float(self._dist.mean())

    @property
    def lower(self) -> float:
        return float(self._dist.support()[0])

    def _sample(self, rng, iterations, workers):
        return self._dist.rvs(size=(iterations, workers), random_state=rng)

    @property
    def spec(self) -> str:
        return self.name + ":" + ",".join(f"{f}={getattr(self, f):g}" for f in self.params())

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.params())
        return f"{type(self).__name__}({args})"


@dataclass(frozen=True, repr=False)
class ShiftedExponential(_ScipyLaw):
    """F(t) = 1 - exp(-rate·(t - shift)) for t ≥ shift: the reference model of the field."""

    shift: float = 1.0
    rate: float = 1.0
    name = "shifted-exponential"

    def __post_init__(self):
        object.__setattr__(self, "shift", bounded("shift", V.nonnegative("shift", self.shift), 0, TIME_MAX))
        rate = bounded("rate", V.positive("rate", self.rate), 1 / TIME_MAX, 1 / TIME_MIN, why=" (1/rate is a time)")
        object.__setattr__(self, "rate", rate)

    @cached_property
    def _dist(self):
        return _Bound(scipy.stats.expon, loc=self.shift, scale=1.0 / self.rate)

    # scipy's expon methods without their per-call argument handling (an exact E[τ] asks for S
    # hundreds of times, a fit for F and f thousands): the same operations on x = (t − loc)/scale
    # (expon's _cdf, _sf, _pdf and support masks), so the same numbers to the last bit
    def _x(self, t):
        return (np.asarray(t, dtype=float) - self.shift) / (1.0 / self.rate)

    def cdf(self, t):
        with np.errstate(**_QUIET):
            x = self._x(t)
            return _scalar(np.where(x <= 0, 0.0, -special.expm1(-x)))

    def sf(self, t):
        with np.errstate(**_QUIET):
            x = self._x(t)
            return _scalar(np.where(x <= 0, 1.0, np.exp(-x)))

    def pdf(self, t):
        with np.errstate(**_QUIET):
            x = self._x(t)
            return _scalar(np.where(x < 0, 0.0, np.exp(-x) / (1.0 / self.rate)))

    def ppf(self, q):
        # expon's _ppf, −log1p(−q), times scale plus loc; q = 0 is the support's start, 1 is inf
        with np.errstate(**_QUIET):
            q = np.asarray(q, dtype=float)
            inner = np.where((q > 0) & (q < 1), q, 0.5)
            x = np.where(q == 0, 0.0, np.where(q == 1, np.inf, -special.log1p(-inner)))
            return _scalar(np.where((q >= 0) & (q <= 1), x * (1.0 / self.rate) + self.shift, np.nan))

    def isf(self, q):
        # expon's _isf, −log(q), times scale plus loc; q = 1 is the support's start, 0 is inf
        with np.errstate(**_QUIET):
            q = np.asarray(q, dtype=float)
            inner = np.where((q > 0) & (q < 1), q, 0.5)
            x = np.where(q == 1, 0.0, np.where(q == 0, np.inf, -np.log(inner)))
            return _scalar(np.where((q >= 0) & (q <= 1), x * (1.0 / self.rate) + self.shift, np.nan))

    def mean(self) -> float:
        return float(1.0 * (1.0 / self.rate) + self.shift)

    @property
    def lower(self) -> float:
        return float(self.shift)

    def _sample(self, rng, iterations, workers):
        # scipy's expon.rvs without its per-call argument handling (a design draws thousands of
        # small batches): the same standard exponentials, times the same scale, plus the same loc
        return rng.standard_exponential((iterations, workers)) * (1.0 / self.rate) + self.shift

    def order_stat_mean(self, workers: int) -> np.ndarray:
        """Exact: E[T_(k)] = shift + (1/rate) Σ_{i=N-k+1}^{N} 1/i (Rényi's representation)."""
        workers = V.integer("workers", workers, minimum=1)
        inv = 1.0 / np.arange(workers, 0, -1, dtype=float)  # 1/N, 1/(N-1), .., 1
        return self.shift + np.cumsum(inv) / self.rate

    @classmethod
    def fit(cls, data) -> "ShiftedExponential":
        loc, scale = scipy.stats.expon.fit(_fit_data(data))
        return cls(shift=float(loc), rate=float(1.0 / scale))


@dataclass(frozen=True, repr=False)
class Exponential(ShiftedExponential):
    """F(t) = 1 - exp(-rate·t)."""

    rate: float = 1.0
    shift: float = field(default=0.0, init=False)  # not a parameter: drops out of params()
    name = "exponential"

    @classmethod
    def fit(cls, data) -> "Exponential":
        _, scale = scipy.stats.expon.fit(_fit_data(data), floc=0)
        return cls(rate=float(1.0 / scale))


@dataclass(frozen=True, repr=False)
class _ScaleShape(_ScipyLaw):
    """A two-parameter law given by a scipy family f(shape, scale=scale); MLE fit with loc = 0."""

    scale: float = 1.0
    shape: float = 2.5
    _family = ""  # the name of the scipy.stats family

    def __post_init__(self):
        object.__setattr__(self, "scale", _time("scale", self.scale))
        shape = bounded("shape", V.positive("shape", self.shape), SHAPE_MIN, why=" (smaller ones overflow the draws)")
        object.__setattr__(self, "shape", shape)

    @cached_property
    def _dist(self):
        return _Bound(getattr(scipy.stats, self._family), self.shape, scale=self.scale)

    @classmethod
    def fit(cls, data):
        shape, _, scale = getattr(scipy.stats, cls._family).fit(_fit_data(data), floc=0)
        return cls(scale=float(scale), shape=float(shape))


@dataclass(frozen=True, repr=False)
class Pareto(_ScaleShape):
    """F(t) = 1 - (scale/t)^shape for t ≥ scale: heavy (polynomial) tails."""

    name = "pareto"
    _family = "pareto"

    def cdf(self, t):  # pareto's _cdf: 1 − x^(−α) on x = t/scale > 1 (_support_cdf)
        return _support_cdf(t, self.scale, 1.0, lambda x: 1 - x ** (-self.shape))

    @property
    def tail_index(self) -> float:
        return float(self.shape)

    def order_stat_mean(self, workers: int) -> np.ndarray:
        """Exact: E[T_(k)] = scale · Γ(N+1) Γ(N-k+1-1/α) / (Γ(N-k+1) Γ(N+1-1/α)), finite iff
        (N-k+1)·α > 1 (the k-th smallest of N keeps N-k+1 draws above it); inf otherwise."""
        n = V.workers(workers)
        j = n - np.arange(1, n + 1) + 1.0  # N - k + 1 for k = 1..N
        a = 1.0 / self.shape
        with np.errstate(invalid="ignore"):
            v = self.scale * np.exp(
                special.gammaln(n + 1.0) + special.gammaln(j - a) - special.gammaln(j) - special.gammaln(n + 1.0 - a)
            )
        return np.where(j * self.shape > 1, v, np.inf)


@dataclass(frozen=True, repr=False)
class Weibull(_ScaleShape):
    """F(t) = 1 - exp(-(t/scale)^shape)."""

    shape: float = 1.5
    name = "weibull"
    _family = "weibull_min"

    def cdf(self, t):  # weibull_min's _cdf: −expm1(−x^c) on x = t/scale > 0 (_support_cdf)
        return _support_cdf(t, self.scale, 0.0, lambda x: -special.expm1(-pow(x, self.shape)))

    def pdf(self, t):
        t = np.asarray(t, dtype=float)
        with np.errstate(**_QUIET, invalid="ignore"):
            d = self._dist.pdf(t)
        # scipy's c x^(c-1) exp(-x^c) is inf * 0 once x^c overflows: the density there is 0
        return np.where(np.isnan(d) & ~np.isnan(t), 0.0, d)


@dataclass(frozen=True, repr=False)
class LogNormal(_ScipyLaw):
    """log T ~ Normal(mu, sigma²)."""

    mu: float = 0.0
    sigma: float = 0.5
    name = "lognormal"

    def __post_init__(self):
        try:
            mu = float(self.mu)
        except (TypeError, ValueError):
            raise V.InputError(f"mu must be a finite number, got {self.mu!r}") from None
        if not np.isfinite(mu):
            raise V.InputError(f"mu must be a finite number, got {self.mu!r}")
        object.__setattr__(self, "mu", bounded("mu", mu, -MU_MAX, MU_MAX, why=" (exp(mu) is the median time)"))
        sigma = bounded("sigma", V.positive("sigma", self.sigma), SIGMA_MIN, SIGMA_MAX)
        object.__setattr__(self, "sigma", sigma)

    @cached_property
    def _dist(self):
        return _Bound(scipy.stats.lognorm, self.sigma, scale=math.exp(self.mu))

    def cdf(self, t):  # lognorm's _cdf: Φ(log(x)/σ) on x = t/e^μ (_support_cdf)
        return _support_cdf(t, math.exp(self.mu), 0.0, lambda x: special.ndtr(np.log(x) / self.sigma))

    @classmethod
    def fit(cls, data) -> "LogNormal":
        s, _, scale = scipy.stats.lognorm.fit(_fit_data(data), floc=0)
        return cls(mu=float(np.log(scale)), sigma=float(s))
