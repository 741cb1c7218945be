"""Exact E[τ] for i.i.d. laws, with its accuracy checked (docs/algorithms.md, "Exact E[τ]").

E[τ] = ∫_0^∞ P(τ > t) dt, with P(τ > t) from the binomial walk (``exact``). The integral is taken
in u = log t, where both heavy and concentrated laws are tame: the integrand e^u P(τ > e^u) decays
like a power (e^{u(1-β)}) for a tail P(τ > t) ~ t^(-β) and the sharp drop of a concentrated law is
resolved by break points at the quantiles of the terms a_i T_(N-m_i) of τ. Below t_0 (where
P(τ ≤ t_0) ≤ 1e-17) the integrand is 1; above the last break point the window grows until the rest
is negligible, and a polynomial tail whose exponent the law knows (``tail_index``) contributes its
closed-form remainder t·P(τ > t)/(β - 1).

E[τ] is infinite when the law says so: with full stragglers, and when the tail exponent of the
slowest-decaying term, β = (m + 1)·α for a law with P(T > t) ~ t^(-α), is at most 1. A result whose
quadrature error cannot be brought under ``RTOL`` raises :class:`InexactQuadrature`, so that no
unchecked number is ever labelled exact (``evaluate`` then falls back to Monte Carlo and says so).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import integrate, special

from ..timing._cache import remembered
from ..timing.orderstat import OrderStatMax
from .exact import completion_probability_exact

__all__ = ["expected_runtime_exact", "mean_is_finite", "InexactQuadrature", "RTOL"]

#: relative accuracy an exact E[τ] must reach (quadrature error estimate included)
RTOL = 1e-8
_EDGE = 1e-17  # probability left outside [t_0, t_1] by the term quantiles
_U_MAX = 700.0  # e^u stays finite


class InexactQuadrature(ArithmeticError):
    """The exact path could not reach its accuracy; the message says why, ``value`` and ``error``
    are the quadrature's result and its error estimate (inf when not finite)."""

    def __init__(self, message: str, value: float = math.inf, error: float = math.inf):
        super().__init__(message)
        self.value, self.error = value, error


def mean_is_finite(law, levels, workers: int | None = None) -> tuple[bool, str]:
    """Whether E[τ] is finite for a chain of terms at ``levels`` (m_i), and why not: the law's own
    check (``StragglerModel.mean_is_finite``) at the least level."""
    m = int(np.min(levels))
    return law.mean_is_finite(m + 1 if workers is None else workers, m)


def _term_quantiles(law, workers, coefs, levels, q, upper: bool) -> np.ndarray:
    """Quantile q (or 1 - q with ``upper``) of each term a_i · T_(N-m_i). T_(N-m), the (m+1)-th
    largest, has P(T_(N-m) ≤ t) = I_{F(t)}(N - m, m + 1) (regularised incomplete beta)."""
    m = levels.astype(float)
    with np.errstate(all="ignore"):
        if upper:
            return coefs * np.asarray(law.isf(special.betaincinv(m + 1, workers - m, q)), dtype=float)
        return coefs * np.asarray(law.ppf(special.betaincinv(workers - m, m + 1, q)), dtype=float)


def _break_points(law, workers, coefs, levels):
    """t_0, t_1 and break points in between, from the terms' quantiles: τ ≥ every term, so
    P(τ ≤ max_i Q_i(q)) ≤ q; and P(τ > max_i Q_i(1 - q/k)) ≤ q by the union bound."""
    k = len(coefs)
    t0 = float(np.max(_term_quantiles(law, workers, coefs, levels, _EDGE, upper=False)))
    t1 = float(np.max(_term_quantiles(law, workers, coefs, levels, _EDGE / k, upper=True)))
    qs = (1e-6, 1e-3, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999, 1 - 1e-6)
    pts = [np.max(_term_quantiles(law, workers, coefs, levels, q, upper=False)) for q in qs]
    pts += [np.max(_term_quantiles(law, workers, coefs, levels, q / k, upper=True)) for q in (0.5, 0.05, 1e-3, 1e-6)]
    # where the law's density jumps, each term's contribution has a kink: break there too
    kinks = np.outer(coefs, np.asarray(getattr(law, "kinks", ()), dtype=float)).ravel()
    if kinks.size > 48:  # many terms: an even subset keeps the cost bounded (quad still adapts)
        kinks = np.sort(kinks)[np.linspace(0, kinks.size - 1, 48).astype(int)]
    pts += list(kinks)
    t0 = max(t0, 1e-300)
    t1 = min(max(t1, t0 * (1 + 1e-12)), math.exp(_U_MAX))
    u = np.log(np.clip(np.array(pts, dtype=float), t0, t1))
    u = np.unique(u[np.isfinite(u)])
    return t0, t1, u[(u > math.log(t0)) & (u < math.log(t1))]


def expected_runtime_exact(law, workers: int, runtime: OrderStatMax) -> float:
    """Exact E[τ] for an i.i.d. law: inf where it diverges (see the module doc), else the
    integral to relative accuracy RTOL, or :class:`InexactQuadrature`.

    Remembered per (law, N, formula) for the last _REMEMBERED ones: a design's evaluation and a
    comparison's row for the same blocks are one quadrature (a fifth of reproduce's E[τ] sweeps)."""
    try:
        key = (law, int(workers), runtime.levels.tobytes(), runtime.coefs.tobytes())
        hash(key)
    except TypeError:  # a law holding arrays: not remembered
        key = None
    return remembered(_DONE, key, _REMEMBERED, lambda: _expected_runtime_exact(law, workers, runtime))


_REMEMBERED = 512
_DONE: dict = {}


def _expected_runtime_exact(law, workers: int, runtime: OrderStatMax) -> float:
    coefs, levels = runtime.chain()
    finite, _ = mean_is_finite(law, levels, workers)
    if not finite:
        return math.inf
    t0, t1, points = _break_points(law, workers, coefs, levels)

    def f(u):
        t = math.exp(u)
        return t * completion_probability_exact(law, workers, runtime, t)[1][0]

    u0, u1 = math.log(t0), math.log(t1)
    val, err = _quad(f, u0, u1, points)
    val, err = _extend_tail(law, levels, f, u0, u1, val, err)
    if not (np.isfinite(val) and err <= RTOL * (t0 + val)):
        raise InexactQuadrature(
            f"the quadrature error estimate {err:.3g} exceeds {RTOL:g} of E[τ] ≈ {t0 + val:.6g}", t0 + val, err
        )
    return t0 + val


def _quad(f, a, b, points=()):
    if b <= a:
        return 0.0, 0.0
    with warnings.catch_warnings():
        # QUADPACK flags "roundoff" once it reaches the walk's own rounding (~1e-15): its error
        # estimate, checked by the caller, is what the result's accuracy is
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        pts = [p for p in points if a < p < b]
        return integrate.quad(f, a, b, points=pts or None, limit=max(200, 4 * len(pts)), epsabs=0.0, epsrel=1e-11)


def _extend_tail(law, levels, f, u0, u1, val, err):
    """Grow the window past t_1 until the rest is negligible; a known power tail adds its remainder."""
    width = max(u1 - u0, 1.0)
    for _ in range(40):
        if u1 >= _U_MAX or f(u1) * width <= 1e-3 * RTOL * max(val, 1e-300):
            break
        nxt = min(u1 + width, _U_MAX)
        v, e = _quad(f, u1, nxt)
        val, err, u1 = val + v, err + e, nxt
    alpha = float(getattr(law, "tail_index", math.inf))
    rest = f(u1)
    if rest > 1e-3 * RTOL * max(val, 1e-300):
        if not math.isfinite(alpha):
            return val, err + rest * width  # an unresolved light tail: counted as error
        beta = (int(np.min(levels)) + 1) * alpha
        val += rest / (beta - 1.0)  # ∫_t^∞ C s^-β ds = t·P(τ > t)/(β - 1)
        err += 1e-3 * rest / (beta - 1.0)  # the next-order terms of the power tail
    return val, err
