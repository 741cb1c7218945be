"""Maximum likelihood with right censoring, AIC and goodness of fit for the named families
(docs/fitting.md, likelihood).

An observation is a time t and a flag c: c = 0 means the time was seen (it contributes the density
f(t)), c = 1 means the worker was still busy at t (it was slower: it contributes the survival
function S(t) = P(T > t)). The log-likelihood is

    ℓ(θ) = Σ_{c_i = 0} log f_θ(t_i) + Σ_{c_i = 1} log S_θ(t_i),

AIC = 2k − 2 ℓ(θ̂) with k free parameters; the family with the smallest AIC is chosen.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy  # scipy.stats loads on first use (0.5 s): the design path never needs it
from scipy import optimize, special

from .._validate import InputError, Options
from ..stragglers import FAMILIES, REGISTRY, Bimodal
from ..stragglers.base import IIDLaw

#: the families ``bcgc fit`` chooses among: every fittable named law, and the bimodal mixture
#: (a slow mode for the outliers), fitted numerically.
CANDIDATES = tuple(FAMILIES) + ("bimodal",)


def _transforms(name: str):
    """(to the unconstrained z, back to the parameter) for one parameter name."""
    if name == "mu":
        return (lambda v: v), (lambda z: z)
    if name == "prob":
        return special.logit, special.expit
    if name == "factor":
        return (lambda v: math.log(max(v - 1.0, 1e-9))), (lambda z: 1.0 + math.exp(z))
    return (lambda v: math.log(max(v, 1e-300))), (lambda z: math.exp(z))


def logpdf(law, t):
    """log f(t): scipy's logpdf for the named laws (no underflow in the tails), log pdf else."""
    if isinstance(law, Bimodal):  # a mixture: no scipy distribution behind it
        return np.log(law.pdf(t))
    return law._dist.logpdf(t)


def loglik(law, t: np.ndarray, censored: np.ndarray | None = None) -> float:
    """ℓ = Σ log f(t_i) over seen times + Σ log S(t_i) over censored ones (docs/fitting.md)."""
    t = np.asarray(t, dtype=float)
    c = np.zeros(t.shape, bool) if censored is None else np.asarray(censored, bool)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        seen = logpdf(law, t[~c])
        cens = np.log(law.sf(t[c])) if c.any() else np.zeros(0)
    total = float(np.sum(seen) + np.sum(cens))
    return total if math.isfinite(total) else -math.inf


def starts(family: str, t: np.ndarray, censored: np.ndarray) -> list[IIDLaw]:
    """Starting laws for the search: the uncensored fit; for the bimodal mixture one start per
    guess of the slow share (the data split at its (1 − p) quantile: base below, slow mode above)."""
    seen = np.sort(t[~censored] if (~censored).sum() >= 2 else t)
    if family != "bimodal":
        return [FAMILIES[family].fit(seen)]
    starts = []
    for prob in (0.005, 0.02, 0.2, 0.5, 0.8):
        cut = max(int(round((1 - prob) * seen.size)), 2)
        base, slow = seen[:cut], seen[cut - 1 :]
        shift = 0.99 * float(base[0])
        rate = 1.0 / max(float(np.mean(base)) - shift, 1e-12 * shift + 1e-300)
        factor = max(float(np.median(slow) / np.median(base)), 1.01)
        starts.append(REGISTRY["bimodal"](shift=shift, rate=rate, factor=factor, prob=prob))
    return starts


def mle(family: str, t, censored=None) -> IIDLaw:
    """θ̂ maximising ℓ(θ) of ``family`` (docs/fitting.md). Without censoring the family's own
    maximum-likelihood fit (closed form or scipy's); with censoring, or for the bimodal mixture,
    Nelder–Mead on the unconstrained parameters, started at the uncensored fit."""
    family = Options(*CANDIDATES).check("family", family)
    t = np.asarray(t, dtype=float).ravel()
    c = np.zeros(t.shape, bool) if censored is None else np.asarray(censored, bool).ravel()
    keep = np.isfinite(t)
    t, c = t[keep], c[keep]
    if (~c).sum() < 2 or np.any(t <= 0):
        raise InputError("data to fit must hold at least 2 uncensored finite times > 0")
    first = starts(family, t, c)
    if family != "bimodal" and not c.any():
        return first[0]
    if family in ("shifted-exponential", "exponential", "pareto"):
        return _closed_form(family, t, c)
    fits = [numeric_mle(type(s), s, lambda law: loglik(law, t, c)) for s in first]
    return max(fits, key=lambda law: loglik(law, t, c))


def _closed_form(family: str, t, c) -> IIDLaw:
    """Censored MLE in closed form: the support start is the smallest seen time (shifted
    exponential, Pareto); the rate is d / Σ exposure with d the number of seen times."""
    d = float((~c).sum())
    if family == "pareto":
        scale = float(t[~c].min())
        return FAMILIES[family](scale=scale, shape=d / float(np.sum(np.log(np.maximum(t, scale) / scale))))
    shift = float(t[~c].min()) if family == "shifted-exponential" else 0.0
    rate = d / float(np.sum(np.maximum(t - shift, 0.0)))
    return FAMILIES[family](rate=rate) if family == "exponential" else FAMILIES[family](shift=shift, rate=rate)


class _Collapsed(Exception):
    """Nelder–Mead has seen only refused points (ℓ = −inf) for long enough that its simplex has
    shrunk onto its start: it cannot find a finite point any more."""


#: consecutive refused points, none finite before, after which a search is abandoned: each
#: Nelder–Mead step without a finite value halves the simplex, so after this many evaluations
#: (≥ 60 steps for up to 5 parameters) it is below 2^-60 of its size and never leaves its start
#: (a search started at ℓ = −inf that never finds a finite value ran to ``maxfev`` before)
HOPELESS = 400


def numeric_mle(cls, start, objective, fatol: float = 1e-6, maxfev: int = 8000):
    """Maximise ``objective(law)`` over the parameters of ``cls`` by Nelder–Mead from ``start``;
    a parameter set the law refuses counts as -inf. A search that sees only -inf for
    :data:`HOPELESS` evaluations returns ``start`` (it could not leave it)."""
    names = cls.params()
    fwd = [_transforms(n)[0] for n in names]
    back = [_transforms(n)[1] for n in names]
    z0 = np.array([f(getattr(start, n)) for f, n in zip(fwd, names)], dtype=float)

    def law_of(z):
        return cls(**{n: float(b(v)) for n, b, v in zip(names, back, z)})

    refused = [0]  # consecutive -inf, while no finite value has been seen (then: -1)

    def neg(z):
        try:
            value = objective(law_of(z))
        except (ValueError, OverflowError):
            value = -math.inf
        if math.isfinite(value):
            refused[0] = -1
            return -value
        if refused[0] >= 0:
            refused[0] += 1
            if refused[0] > HOPELESS:
                raise _Collapsed
        return math.inf

    with warnings.catch_warnings():  # inf − inf in scipy's convergence check near refused points
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            best = optimize.minimize(
                neg, z0, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": fatol, "maxfev": maxfev}
            )
        except _Collapsed:
            return start
    z = best.x if best.fun <= neg(z0) else z0
    return law_of(z)


def aic(law, loglik_value: float) -> float:
    """AIC = 2k − 2ℓ(θ̂), k = the law's number of parameters."""
    return 2 * len(type(law).params()) - 2 * loglik_value


#: a fit whose KS distance to the data exceeds max(KS_DEGENERATE, KS_C / √n) is degenerate (e.g. a
#: rate of 1e16 on tied times: the likelihood grows without bound on a near point mass), not a fit;
#: KS_C / √n is the KS test's critical value at level ~1e-6, so a fit this far off is never chance
KS_DEGENERATE, KS_C = 0.5, 2.69


def _distinct(t, censored) -> None:
    seen = t[np.isfinite(t)]
    if censored is not None:
        seen = seen[~np.asarray(censored, bool).ravel()[np.isfinite(t)]]
    if np.unique(seen).size < 2:
        value = f" (every one is {seen[0]:g})" if seen.size else ""
        raise InputError(
            f"data to fit must hold at least 2 distinct finite times{value}: a constant time has no "
            "density to fit; use empirical:path=FILE (or trace:path=FILE) to resample the measured times"
        )


def choose(t, censored=None, families=CANDIDATES) -> tuple[IIDLaw, list[dict]]:
    """Fit every family, return the one of smallest AIC whose fit is not degenerate (KS distance at
    most max(KS_DEGENERATE, KS_C/√n)) and the table [{family, loglik, aic, spec, ks}] (sorted by
    AIC). A family whose fit fails (e.g. its support misses the data) is listed with aic = inf."""
    t = np.asarray(t, dtype=float).ravel()
    _distinct(t, censored)
    rows, laws = [], {}
    for family in families:
        try:
            law = mle(family, t, censored)
            ll = loglik(
                law, t[np.isfinite(t)], None if censored is None else np.asarray(censored, bool).ravel()[np.isfinite(t)]
            )
        except ValueError:
            law, ll = None, -math.inf
        laws[family] = law
        rows.append(
            {
                "family": family,
                "loglik": ll,
                "aic": aic(law, ll) if law is not None else math.inf,
                "spec": law.spec if law is not None else None,
            }
        )
    rows.sort(key=lambda r: r["aic"])
    if not math.isfinite(rows[0]["aic"]):
        raise InputError("no family fits the data (every likelihood is 0)")
    finite = np.isfinite(t)
    c = None if censored is None else np.asarray(censored, bool).ravel()[finite]
    limit = max(KS_DEGENERATE, KS_C / math.sqrt(max(int(finite.sum()), 1)))
    for r in rows:
        law = laws[r["family"]]
        if law is None:
            continue
        with np.errstate(all="ignore"):
            r["ks"] = (
                ks_distance(law.cdf, t[finite]) if c is None or not c.any() else ks_censored(law.cdf, t[finite], c)
            )
        if r["ks"] <= limit:
            return law, [r] + [o for o in rows if o is not r]
    raise InputError(
        f"no family fits the data: the best fit by AIC, {rows[0]['spec']}, is {rows[0]['ks']:.2f} from the "
        f"data in KS distance (the times are nearly constant or tied: {np.unique(t[finite]).size} distinct "
        f"values among {int(finite.sum())}); use empirical:path=FILE to resample the measured times"
    )


def ks_distance(cdf, t) -> float:
    """Kolmogorov–Smirnov distance sup_t |F_n(t) − F(t)| between the data and a CDF."""
    t = np.sort(np.asarray(t, dtype=float).ravel())
    t = t[np.isfinite(t)]
    return float(scipy.stats.kstest(t, cdf).statistic)


def kaplan_meier(t, censored) -> tuple[np.ndarray, np.ndarray]:
    """The Kaplan–Meier estimate of F at the seen times: F̂(t) = 1 − Π_{t_i ≤ t} (1 − d_i / r_i),
    d_i deaths at t_i, r_i still at risk (censored times leave the risk set after their time)."""
    t = np.asarray(t, dtype=float)
    c = np.asarray(censored, bool)
    order = np.lexsort((c, t))  # at a tie a death comes before a censoring
    t, c = t[order], c[order]
    at_risk = t.size - np.arange(t.size)
    factors = np.where(c, 1.0, 1.0 - 1.0 / at_risk)
    surv = np.cumprod(factors)
    return t[~c], 1.0 - surv[~c]


def ks_censored(cdf, t, censored) -> float:
    """KS distance between the Kaplan–Meier estimate and a CDF (sup over the seen times, both
    sides of each step)."""
    times, F = kaplan_meier(t, censored)
    if times.size == 0:
        return math.nan
    model = cdf(times)
    before = np.concatenate([[0.0], F[:-1]])
    return float(max(np.max(np.abs(F - model)), np.max(np.abs(before - model))))
