"""A6 (``stationary``): a stationary point of max P(τ ≤ t) over the relaxed designs.

docs/algorithms.md: "A2, A6, R" (the method) and "Exact P(τ ≤ t) for i.i.d. laws" (the exact tail
and its adjoint gradient).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from .._validate import InputError
from ..analysis import tail_probability_and_gradient, use_exact
from .closed_forms import _m_jensen, _m_large_deadline
from .common import _Problem, _pull_back, _worst_block


def _smoothed_tail(p: _Problem, zf: np.ndarray, h: float):
    """Smoothed sample estimate of P(τ > t): mean of expit((τ_k - t)/h), and its gradient."""
    z = np.zeros(p.workers)
    z[p.levels] = np.maximum(zf, 0)
    tau, arg, slope = _worst_block(p.td, z)
    sig = special.expit((tau - p.deadline) / h)
    # a sample that never completes (τ = inf: full stragglers) has expit' = 0 and slope inf; its
    # contribution is the limit, 0 (the sigmoid's tail decays faster than T grows), not 0 · inf = nan
    slope = np.where(np.isfinite(slope), slope, 0.0)
    g = _pull_back(sig * (1 - sig) / h * slope, arg, p.workers)
    return float(sig.mean()), g[p.levels]


def _full_design(p: _Problem, zf: np.ndarray) -> np.ndarray:
    """The N-vector z from its entries at the allowed levels (clipped at 0, renormalised)."""
    z = np.zeros(p.workers)
    z[p.levels] = np.maximum(zf, 0)
    return z / z.sum()


def _stationary_starts(p: _Problem, starts: int | None) -> list:
    """Starts at the allowed levels: A4, A7 (where they exist), every single-level design, uniform;
    the first ``starts`` of them when given."""
    m = p.levels.size
    starts_z = []
    for fn in (_m_jensen, _m_large_deadline):
        try:
            starts_z.append(fn(p)[0][p.levels])
        except ValueError:
            pass
    for i in range(m):
        e = np.zeros(m)
        e[i] = 1.0
        starts_z.append(e)
    starts_z.append(np.full(m, 1.0 / m))
    if starts is not None:
        starts_z = starts_z[: max(1, int(starts))]
    return starts_z


def _exact_log_tail(p: _Problem):
    """(fun, jac): log(1 - P(τ ≤ t)) by the binomial walk and its exact adjoint gradient. Both stay
    accurate for large deadlines, where 1 - P is tiny; one evaluation serves fun and jac."""
    m = p.levels.size
    cache = {}

    def tail(zf):
        key = zf.tobytes()
        if key not in cache:
            q, grad = tail_probability_and_gradient(p.model, p.workers, _full_design(p, zf), p.deadline)
            cache.clear()
            cache[key] = (math.log(max(q, 1e-300)), grad[p.levels] / q if q > 1e-300 else np.zeros(m))
        return cache[key]

    def fun(zf):
        return tail(zf)[0]

    def jac(zf):
        return tail(zf)[1]

    return fun, jac


def _smoothed_tail_objective(p: _Problem):
    """(fun, jac): the smoothed sample estimate of 1 - P(τ ≤ t), bandwidth 2% of t."""
    h = 0.02 * p.deadline

    def fun(zf):
        return _smoothed_tail(p, zf, h)[0]

    def jac(zf):
        return _smoothed_tail(p, zf, h)[1]

    return fun, jac


def _polish_best(fun, jac, starts_z: list, polish: int):
    """Screen the starts by ``fun``, refine the ``polish`` most promising with SLSQP on the simplex,
    return the best point found and the total SLSQP iterations."""
    m = starts_z[0].size
    scored = sorted(((fun(z0), i) for i, z0 in enumerate(starts_z)))
    # SLSQP may end worse than it started (e.g. at the simplex's corners): the best start stands
    best, best_val, nit = starts_z[scored[0][1]], scored[0][0], 0
    for _, i in scored[: max(1, min(int(polish), len(scored)))]:
        if m == 1:
            zf, val = starts_z[i], fun(starts_z[i])
        else:
            res = optimize.minimize(
                fun,
                starts_z[i],
                jac=jac,
                method="SLSQP",
                bounds=[(0.0, 1.0)] * m,
                constraints=[{"type": "eq", "fun": lambda v: v.sum() - 1.0, "jac": lambda v: np.ones_like(v)}],
                options={"maxiter": 300, "ftol": 1e-12},
            )
            nit += int(res.nit)
            zf, val = res.x, fun(res.x)
        if val < best_val:
            best, best_val = zf, val
    return best, nit


def _m_stationary(p: _Problem, starts: int | None = None, polish: int = 4):
    """A6: a stationary point of max P(τ ≤ t) over the relaxed simplex, multi-start.

    i.i.d. named laws: SLSQP on log(1 - P) computed exactly by the binomial walk, with its exact
    adjoint gradient. Other laws: SLSQP on a smoothed sample estimate (bandwidth 2% of t), then the
    best start is chosen on the same samples.
    Starts: A4, A7, every single-level design (classic GC at each allowed level), uniform; all are
    scored and the ``polish`` best (default 4) are refined.
    """
    if p.deadline is None:
        raise InputError("deadline is required for objective 'deadline' (a number > 0)")
    exact = use_exact(p.model, p.workers, "auto", max_workers=math.inf)  # the walk scales; sampling is noisier
    starts_z = _stationary_starts(p, starts)
    fun, jac = _exact_log_tail(p) if exact else _smoothed_tail_objective(p)
    best, nit = _polish_best(fun, jac, starts_z, polish)
    return _full_design(p, best), {
        "nit": nit,
        "starts": len(starts_z),
        "estimator": "exact" if exact else "smoothed samples",
    }
