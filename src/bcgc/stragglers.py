"""Straggler models: the law of T = (T_0..T_{N-1}) (SPEC §2).

T_n is the time worker n needs, in one iteration, to compute all L partial derivatives on ONE data
subset. Laws are immutable values modelled on ``scipy.stats`` frozen distributions:

* i.i.d. laws (:class:`IIDLaw`) answer ``cdf, sf, pdf, ppf, isf, mean`` and the order statistic
  moments ``order_stat_mean(N)`` = (E[T_(1)], .., E[T_(N)]) and ``order_stat_inv_mean(N)`` =
  (E[1/T_(1)], .., E[1/T_(N)]) that the closed-form designs need (SPEC §4, A4/A5);
* every law answers ``sample(iterations, workers, seed)`` with an array of shape
  (iterations, workers); ``inf`` marks a full straggler (a worker that never answers).

Named laws wrap ``scipy.stats`` (well-kept, vectorised); only mixtures, traces and heterogeneous
workers are written here. :func:`parse_model` reads the command-line text form, e.g.
``shifted-exponential:shift=1,rate=1`` or ``pareto:scale=1,shape=2.5,full=0.01``.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from scipy import special, stats

from . import _validate as V

__all__ = [
    "StragglerModel", "IIDLaw", "ShiftedExponential", "Exponential", "Pareto", "Weibull",
    "LogNormal", "Bimodal", "Empirical", "FullStragglers", "Heterogeneous", "Trace",
    "parse_model", "fit", "read_trace", "FAMILIES",
]


class StragglerModel:
    """Joint law of T. Subclasses set ``iid`` and implement ``_sample(rng, iterations, workers)``."""

    iid: bool = False
    #: True when exact evaluation (SPEC §4, binomial walk) applies: i.i.d. with a smooth named law.
    exact: bool = False
    #: number of workers the law is tied to (traces, heterogeneous); None means any N.
    workers: int | None = None
    #: probability that a worker never answers (SPEC §2 full stragglers)
    full_prob: float = 0.0

    def sample(self, iterations: int, workers: int, seed=None) -> np.ndarray:
        """Draw T for ``iterations`` iterations of ``workers`` workers, shape (iterations, workers).

        Same seed, same numbers. ``inf`` entries are full stragglers.
        """
        iterations = V.integer("iterations", iterations, minimum=1)
        workers = self.check_workers(workers)
        return self._sample(V.as_rng(seed), iterations, workers)

    def check_workers(self, workers) -> int:
        workers = V.integer("workers", workers, minimum=1)
        if self.workers is not None and workers != self.workers:
            raise ValueError(f"workers must be {self.workers} for the model {self.spec!r} "
                             f"(it describes {self.workers} workers), got {workers}")
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

    def _sample(self, rng, iterations, workers):
        return self.ppf(rng.random((iterations, workers)))

    # -- order statistics (SPEC §4, closed forms A4/A5) ----------------------------------------
    def order_stat_mean(self, workers: int) -> np.ndarray:
        """E[T_(k)] for k = 1..N (k-th smallest of N i.i.d. draws); ``inf`` where it diverges."""
        workers = V.integer("workers", workers, minimum=1)
        if self.full_prob > 0:
            return np.full(workers, np.inf)
        return _order_stat_expectation(self, workers, lambda q: q)

    def order_stat_inv_mean(self, workers: int) -> np.ndarray:
        """E[1/T_(k)] for k = 1..N; ``inf`` where it diverges (e.g. k = 1 for an exponential)."""
        workers = V.integer("workers", workers, minimum=1)
        with np.errstate(divide="ignore"):
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


# ---------------------------------------------------------------------------- named laws
class _ScipyLaw(IIDLaw):
    """A named law backed by a frozen ``scipy.stats`` distribution (``_dist``)."""

    exact = True
    name = ""
    _fields: tuple[str, ...] = ()

    @property
    def _dist(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def cdf(self, t):
        return self._dist.cdf(t)

    def sf(self, t):
        return self._dist.sf(t)

    def pdf(self, t):
        return self._dist.pdf(t)

    def ppf(self, q):
        return self._dist.ppf(q)

    def isf(self, q):
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
        return self.name + ":" + ",".join(f"{f}={getattr(self, f):g}" for f in self._fields)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields) + ")"


@dataclass(frozen=True, repr=False)
class ShiftedExponential(_ScipyLaw):
    """F(t) = 1 - exp(-rate·(t - shift)) for t ≥ shift: the reference model of the field (SPEC §2)."""

    shift: float = 1.0
    rate: float = 1.0
    name = "shifted-exponential"
    _fields = ("shift", "rate")

    def __post_init__(self):
        object.__setattr__(self, "shift", V.nonnegative("shift", self.shift))
        object.__setattr__(self, "rate", V.positive("rate", self.rate))

    @cached_property
    def _dist(self):
        return stats.expon(loc=self.shift, scale=1.0 / self.rate)

    def order_stat_mean(self, workers: int) -> np.ndarray:
        """Exact: E[T_(k)] = shift + (1/rate) Σ_{i=N-k+1}^{N} 1/i (Rényi's representation)."""
        workers = V.integer("workers", workers, minimum=1)
        inv = 1.0 / np.arange(workers, 0, -1, dtype=float)  # 1/N, 1/(N-1), .., 1
        return self.shift + np.cumsum(inv) / self.rate

    @classmethod
    def fit(cls, data) -> "ShiftedExponential":
        loc, scale = stats.expon.fit(_fit_data(data))
        return cls(shift=float(loc), rate=float(1.0 / scale))


@dataclass(frozen=True, repr=False)
class Exponential(ShiftedExponential):
    """F(t) = 1 - exp(-rate·t)."""

    rate: float = 1.0
    shift: float = field(default=0.0, init=False)
    name = "exponential"
    _fields = ("rate",)

    @classmethod
    def fit(cls, data) -> "Exponential":
        _, scale = stats.expon.fit(_fit_data(data), floc=0)
        return cls(rate=float(1.0 / scale))


@dataclass(frozen=True, repr=False)
class _ScaleShape(_ScipyLaw):
    """A two-parameter law given by a scipy family f(shape, scale=scale); MLE fit with loc = 0."""

    scale: float = 1.0
    shape: float = 2.5
    _fields = ("scale", "shape")
    _family = None

    def __post_init__(self):
        object.__setattr__(self, "scale", V.positive("scale", self.scale))
        object.__setattr__(self, "shape", V.positive("shape", self.shape))

    @cached_property
    def _dist(self):
        return self._family(self.shape, scale=self.scale)

    @classmethod
    def fit(cls, data):
        shape, _, scale = cls._family.fit(_fit_data(data), floc=0)
        return cls(scale=float(scale), shape=float(shape))


@dataclass(frozen=True, repr=False)
class Pareto(_ScaleShape):
    """F(t) = 1 - (scale/t)^shape for t ≥ scale: heavy (polynomial) tails."""

    name = "pareto"
    _family = stats.pareto


@dataclass(frozen=True, repr=False)
class Weibull(_ScaleShape):
    """F(t) = 1 - exp(-(t/scale)^shape)."""

    shape: float = 1.5
    name = "weibull"
    _family = stats.weibull_min


@dataclass(frozen=True, repr=False)
class LogNormal(_ScipyLaw):
    """log T ~ Normal(mu, sigma²)."""

    mu: float = 0.0
    sigma: float = 0.5
    name = "lognormal"
    _fields = ("mu", "sigma")

    def __post_init__(self):
        try:
            mu = float(self.mu)
        except (TypeError, ValueError):
            raise ValueError(f"mu must be a finite number, got {self.mu!r}") from None
        if not np.isfinite(mu):
            raise ValueError(f"mu must be a finite number, got {self.mu!r}")
        object.__setattr__(self, "mu", mu)
        object.__setattr__(self, "sigma", V.positive("sigma", self.sigma))

    @cached_property
    def _dist(self):
        return stats.lognorm(s=self.sigma, scale=math.exp(self.mu))

    @classmethod
    def fit(cls, data) -> "LogNormal":
        s, _, scale = stats.lognorm.fit(_fit_data(data), floc=0)
        return cls(mu=float(np.log(scale)), sigma=float(s))


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
    _fields = ("shift", "rate", "factor", "prob")

    def __post_init__(self):
        if self.base is None:
            object.__setattr__(self, "base", ShiftedExponential(self.shift, self.rate))
        factor = V.positive("factor", self.factor)
        if factor < 1:
            raise ValueError(f"factor must be a number >= 1 (a slow-down), got {self.factor!r}")
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

    def _sample(self, rng, iterations, workers):
        t = self.base._sample(rng, iterations, workers)
        slow = rng.random((iterations, workers)) < self.prob
        return np.where(slow, t * self.factor, t)

    @property
    def spec(self) -> str:
        if isinstance(self.base, ShiftedExponential) and type(self.base) is ShiftedExponential:
            return super().spec
        return f"bimodal(base={self.base.spec},factor={self.factor:g},prob={self.prob:g})"


@dataclass(frozen=True, repr=False, eq=False)
class Empirical(IIDLaw):
    """i.i.d. draws from a finite list of observed times (e.g. a trace pooled over workers).

    A step CDF: exact order-statistic moments are finite sums, evaluation uses Monte Carlo.
    """

    values: np.ndarray = field(default_factory=lambda: np.ones(1))
    source: str = ""
    exact = False

    def __post_init__(self):
        v = np.sort(np.asarray(self.values, dtype=float).ravel())
        if v.size == 0 or not np.all(v > 0) or np.isnan(v).any():
            raise ValueError("values must be a non-empty list of times > 0")
        object.__setattr__(self, "values", v)
        object.__setattr__(self, "full_prob", float(np.mean(np.isinf(v))))

    def cdf(self, t):
        return np.searchsorted(self.values, np.asarray(t, dtype=float), side="right") / self.values.size

    def sf(self, t):
        return 1.0 - self.cdf(t)

    def ppf(self, q):
        idx = np.ceil(np.asarray(q, dtype=float) * self.values.size).astype(int) - 1
        return self.values[np.clip(idx, 0, self.values.size - 1)]

    def isf(self, q):
        return self.ppf(1.0 - np.asarray(q, dtype=float))

    @property
    def lower(self) -> float:
        return float(self.values[0])

    def _sample(self, rng, iterations, workers):
        return rng.choice(self.values, size=(iterations, workers), replace=True)

    def _moment(self, workers, h):
        support = np.unique(self.values)
        with np.errstate(divide="ignore"):
            hv = h(support)
        k = np.arange(1, workers + 1, dtype=float)[:, None]
        # P(T_(k) ≤ v) = I_{F(v)}(k, N-k+1); differences give the point masses of T_(k).
        cdf_k = special.betainc(k, workers - k + 1, self.cdf(support)[None, :])
        mass = np.diff(np.concatenate([np.zeros((workers, 1)), cdf_k], axis=1), axis=1)
        with np.errstate(invalid="ignore"):
            out = np.where(mass > 0, mass * hv[None, :], 0.0).sum(axis=1)
        return out

    def order_stat_mean(self, workers: int) -> np.ndarray:
        return self._moment(V.integer("workers", workers, minimum=1), lambda v: v)

    def order_stat_inv_mean(self, workers: int) -> np.ndarray:
        return self._moment(V.integer("workers", workers, minimum=1), lambda v: 1.0 / v)

    @property
    def spec(self) -> str:
        return f"empirical:path={self.source}" if self.source else f"empirical({self.values.size} values)"


@dataclass(frozen=True, repr=False)
class FullStragglers(StragglerModel):
    """Any law mixed with full stragglers: each worker independently never answers (T = inf)
    with probability ``prob`` (SPEC §2). With prob > 0, E[τ] = inf for every design (all workers can
    fail at once); the completion probability P(τ ≤ t) is the meaningful objective."""

    base: StragglerModel
    prob: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "prob", V.probability("full", self.prob, open_right=True))
        object.__setattr__(self, "full_prob", 1 - (1 - self.prob) * (1 - self.base.full_prob))
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
    """Independent, not identical: worker n draws from ``laws[n]`` (SPEC §2). Monte Carlo only."""

    laws: tuple = ()

    def __post_init__(self):
        laws = tuple(self.laws)
        if not laws:
            raise ValueError("laws must name at least one per-worker law")
        for law in laws:
            if not getattr(law, "iid", False):
                raise ValueError(f"each per-worker law must be a single-worker law, got {law!r}")
        object.__setattr__(self, "laws", laws)
        object.__setattr__(self, "workers", len(laws))
        object.__setattr__(self, "full_prob", max(law.full_prob for law in laws))

    def _sample(self, rng, iterations, workers):
        # one column per worker, each from its own law, in worker order (seeded as one stream)
        return np.column_stack([law._sample(rng, iterations, 1)[:, 0] for law in self.laws])

    @property
    def spec(self) -> str:
        parts, i = [], 0
        while i < len(self.laws):
            j = i
            while j < len(self.laws) and self.laws[j] == self.laws[i]:
                j += 1
            parts.append(f"{j - i}*{self.laws[i].spec}")
            i = j
        return "heterogeneous:" + ";".join(parts)


@dataclass(frozen=True, repr=False, eq=False)
class Trace(StragglerModel):
    """Any joint law given as samples: one row per iteration, one column per worker (SPEC §2, ours).

    ``sample`` bootstraps whole rows, so correlations between workers in one iteration are kept.
    """

    samples: np.ndarray = field(default_factory=lambda: np.ones((1, 1)))
    source: str = ""

    def __post_init__(self):
        s = np.asarray(self.samples, dtype=float)
        if s.ndim != 2 or s.size == 0:
            raise ValueError("trace samples must be a 2-D array: one row per iteration, one column per worker")
        if np.isnan(s).any() or (s <= 0).any():
            raise ValueError("trace times must be numbers > 0 (inf marks a full straggler)")
        object.__setattr__(self, "samples", s)
        object.__setattr__(self, "workers", s.shape[1])
        object.__setattr__(self, "full_prob", float(np.mean(np.isinf(s))))

    def _sample(self, rng, iterations, workers):
        return self.samples[rng.integers(0, self.samples.shape[0], size=iterations)]

    def pooled(self) -> Empirical:
        """The i.i.d. law of one worker's time, pooling every worker and iteration."""
        return Empirical(self.samples.ravel(), source=self.source)

    @property
    def spec(self) -> str:
        return f"trace:path={self.source}" if self.source else f"trace({self.samples.shape[0]}x{self.workers})"


# ---------------------------------------------------------------------------- traces and fitting
def read_trace(path) -> np.ndarray:
    """Read a CSV trace: one row per iteration, one column per worker, times > 0 (``inf`` allowed).

    Lines starting with ``#`` are comments. Any other non-numeric cell is an error naming its place.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"trace path {str(path)!r} is not a readable file")
    rows = []
    with path.open(newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            vals = []
            for col, cell in enumerate(row, start=1):
                try:
                    v = float(cell)
                except ValueError:
                    raise ValueError(f"trace {path.name}: line {lineno}, column {col}: time must be a "
                                     f"number > 0, got {cell.strip()!r}") from None
                if not (v > 0):
                    raise ValueError(f"trace {path.name}: line {lineno}, column {col}: time must be a "
                                     f"number > 0, got {cell.strip()!r}")
                vals.append(v)
            if rows and len(vals) != len(rows[0]):
                raise ValueError(f"trace {path.name}: line {lineno} has {len(vals)} columns, "
                                 f"expected {len(rows[0])} (one per worker)")
            rows.append(vals)
    if not rows:
        raise ValueError(f"trace {path.name} holds no rows of times")
    return np.array(rows)


FAMILIES = {
    "shifted-exponential": ShiftedExponential,
    "exponential": Exponential,
    "pareto": Pareto,
    "weibull": Weibull,
    "lognormal": LogNormal,
}


def _fit_data(data) -> np.ndarray:
    if isinstance(data, Trace):
        data = data.samples
    d = np.asarray(data, dtype=float).ravel()
    d = d[np.isfinite(d)]  # full stragglers carry no information on the speed of the others
    if d.size < 2 or np.any(d <= 0):
        raise ValueError("data to fit must hold at least 2 finite times > 0")
    return d


def fit(family: str, data) -> IIDLaw:
    """Fit a named i.i.d. law to observed times (array or :class:`Trace`) by maximum likelihood."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}, got {family!r}")
    return FAMILIES[family].fit(data)


# ---------------------------------------------------------------------------- text form
_NAMED = {
    "shifted-exponential": (ShiftedExponential, ("shift", "rate")),
    "exponential": (Exponential, ("rate",)),
    "pareto": (Pareto, ("scale", "shape")),
    "weibull": (Weibull, ("scale", "shape")),
    "lognormal": (LogNormal, ("mu", "sigma")),
    "bimodal": (Bimodal, ("shift", "rate", "factor", "prob")),
}
_SYNTAX = ("NAME:key=value,... with NAME one of " + ", ".join(list(_NAMED) + ["empirical", "trace", "heterogeneous"])
           + " (e.g. shifted-exponential:shift=1,rate=1; add full=P for full stragglers)")


def parse_model(text: str) -> StragglerModel:
    """Read a law from its text form (SPEC §2), e.g. ``pareto:scale=1,shape=2.5``.

    * ``shifted-exponential:shift=1,rate=1``, ``exponential:rate=1``, ``pareto:scale=1,shape=2.5``,
      ``weibull:scale=1,shape=1.5``, ``lognormal:mu=0,sigma=0.5``,
      ``bimodal:shift=1,rate=1,factor=5,prob=0.1``
    * ``trace:path=times.csv`` (joint law, bootstrapped rows), ``empirical:path=times.csv`` (pooled i.i.d.)
    * ``heterogeneous:6*shifted-exponential:shift=1,rate=1;2*shifted-exponential:shift=3,rate=1``
    * any of them with ``full=P`` appended: each worker never answers with probability P.
    """
    if not isinstance(text, str) or ":" not in text:
        raise ValueError(f"model {text!r} is malformed: expected {_SYNTAX}")
    name, _, rest = text.strip().partition(":")
    name = name.strip().lower()
    if name == "heterogeneous":
        laws = []
        for part in filter(None, (p.strip() for p in rest.split(";"))):
            count, star, law_text = part.partition("*")
            if not star:
                count, law_text = "1", part
            n = _int_param("model", "count", count)
            law = parse_model(law_text)
            if not law.iid:
                raise ValueError(f"model {text!r}: each part of heterogeneous must be an i.i.d. law")
            laws.extend([law] * n)
        if not laws:
            raise ValueError(f"model {text!r}: heterogeneous needs parts COUNT*LAW separated by ';'")
        return Heterogeneous(tuple(laws))
    params = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip() or "=" in value:
            raise ValueError(f"model {text!r} is malformed at {item!r}: expected key=value pairs "
                             "separated by commas")
        params[key.strip().lower()] = value.strip()
    full = params.pop("full", None)
    if name in ("trace", "empirical"):
        if set(params) != {"path"}:
            raise ValueError(f"model {text!r}: {name} takes exactly one parameter, path=FILE.csv")
        samples = read_trace(params["path"])
        law = Trace(samples, source=params["path"]) if name == "trace" else Empirical(samples, source=params["path"])
    elif name in _NAMED:
        cls, allowed = _NAMED[name]
        unknown = set(params) - set(allowed)
        if unknown:
            raise ValueError(f"model {text!r}: unknown parameter {sorted(unknown)[0]!r} for {name}; "
                             f"allowed: {', '.join(allowed)}, full")
        missing = [k for k in allowed if k not in params]
        if missing:  # never guess a parameter the user did not give
            raise ValueError(f"model {text!r}: missing parameter {missing[0]!r} for {name}; "
                             f"required: {', '.join(allowed)}")
        kwargs = {}
        for k, v in params.items():
            try:
                kwargs[k] = float(v)
            except ValueError:
                raise ValueError(f"model {text!r}: {k} must be a number, got {v!r}") from None
        law = cls(**kwargs)
    else:
        raise ValueError(f"model {text!r} has an unknown law {name!r}: expected {_SYNTAX}")
    if full is not None:
        try:
            q = float(full)
        except ValueError:
            raise ValueError(f"model {text!r}: full must be a probability in [0, 1), got {full!r}") from None
        law = FullStragglers(law, q)
    return law


def _int_param(owner, name, value):
    try:
        v = int(value)
    except ValueError:
        raise ValueError(f"{owner}: {name} must be an integer >= 1, got {value!r}") from None
    if v < 1:
        raise ValueError(f"{owner}: {name} must be an integer >= 1, got {v}")
    return v
