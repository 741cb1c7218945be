"""Exact evaluation of runtimes for i.i.d. laws (docs/algorithms.md, "Exact P(τ ≤ t) for i.i.d. laws").

Every scheme whose runtime is a maximum of scaled order statistics,

    τ = max_i  a_i · T_(N - m_i)        (a_i > 0; T_(N-m) is the (m+1)-th largest time),

is evaluated exactly for i.i.d. laws: BCGC (a_s = y_s/L, m = s, equation (2)), classic GC, uncoded,
Tandon's partial-straggler variant and ignore-stragglers (docs/peers.md). Since
T_(N-m) ≤ u  ⇔  #{n : T_n > u} ≤ m, the event τ ≤ t is a chain of count constraints at thresholds
u_i = t / a_i. The paper's walk runs over R_i = #{n : T_n > u_i} in increasing order of u_i:
R_1 ~ Binomial(N, S(u_1)), and R_{i+1} | R_i ~ Binomial(R_i, S(u_{i+1}) / S(u_i)) (each worker
above u_i independently stays above u_{i+1}); mass with R_i > m_i is removed. It is the same
recursion as the paper's K-walk (K = N - R), written as binomial thinning so that the removed
("killed") mass 1 - P is summed from positive terms and stays accurate when it is 1e-30.

E[τ] is in ``expectation``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import special

from ..timing.orderstat import OrderStatMax, normalized_load

__all__ = ["completion_probability_exact", "tail_probability_and_gradient"]


@lru_cache(maxsize=16)
def _log_binom_table(n: int) -> np.ndarray:
    """log C(r, r') for 0 ≤ r' ≤ r ≤ n; -inf above the diagonal."""
    lf = special.gammaln(np.arange(n + 1) + 1.0)
    r = np.arange(n + 1)
    diff = r[:, None] - r[None, :]
    with np.errstate(invalid="ignore"):
        table = lf[:, None] - lf[None, :] - lf[np.maximum(diff, 0)]
    table[diff < 0] = -np.inf
    table.setflags(write=False)
    return table


def _walk(survival: np.ndarray, max_above: np.ndarray, n: int) -> tuple[float, float]:
    """P(#{T > u_i} ≤ m_i for all i) and its complement, given S(u_i) along increasing u_i."""
    logc = _log_binom_table(n)
    mass = np.zeros(n + 1)
    mass[n] = 1.0  # before the first threshold every worker counts as "above"
    top, prev, killed = n, 1.0, 0.0
    for s_u, m in zip(survival, max_above):
        q = 0.0 if prev <= 0 else min(1.0, s_u / prev)
        live = np.flatnonzero(mass[: top + 1] > 0)
        if live.size == 0:
            return 0.0, 1.0
        lo = int(live[0])
        new = mass[lo : top + 1] @ _thinning(logc, lo, top, q)
        killed += float(new[m + 1 :].sum())
        mass = new[: m + 1]
        top, prev = int(m), s_u
    return float(mass.sum()), killed


def _thinning(logc, lo, top, q):
    """Rows lo..top of the thinning matrix M[r, r'] = C(r, r') q^r' (1-q)^(r-r') (exact at q = 0, 1)."""
    rows = top - lo + 1
    if q <= 0.0 or q >= 1.0:
        M = np.zeros((rows, top + 1))
        M[np.arange(rows), 0 if q <= 0.0 else np.arange(lo, top + 1)] = 1.0
        return M
    r = np.arange(lo, top + 1)[:, None]
    rp = np.arange(top + 1)[None, :]
    with np.errstate(invalid="ignore"):
        logp = logc[lo : top + 1, : top + 1] + rp * math.log(q) + (r - rp) * math.log1p(-q)
    return np.exp(logp)


def _walk_gradient(survival: np.ndarray, max_above: np.ndarray, n: int):
    """1 - P, its gradient g_i with respect to the thinning probabilities q_i, and the q_i.

    With k_i[r] the probability that a state r after step i is removed later, k_m = 0 and
    k_{i-1} = M_i · kpad_i (kpad_i = k_i on r ≤ m_i, 1 above), every term is non-negative, so the
    adjoint stays accurate when 1 - P is 1e-30. ∂(1-P)/∂q_i = mass_{i-1} · (∂M_i/∂q) · kpad_i, with
    the division-free identity ∂Bin(r, q)(r')/∂q = r (b_{r-1}(r'-1) - b_{r-1}(r')).
    """
    logc = _log_binom_table(n)
    mass = np.zeros(n + 1)
    mass[n] = 1.0
    top, prev, killed = n, 1.0, 0.0
    steps, qs = [], []
    for s_u, m in zip(survival, max_above):
        q = 0.0 if prev <= 0 else min(1.0, s_u / prev)
        steps.append((mass[: top + 1].copy(), top, q, int(m)))
        qs.append(q)
        new = mass[: top + 1] @ _thinning(logc, 0, top, q)
        killed += float(new[m + 1 :].sum())
        mass = new[: m + 1]
        top, prev = int(m), s_u
    g = np.zeros(len(steps))
    k = np.zeros(top + 1)
    for i in range(len(steps) - 1, -1, -1):
        mprev, tprev, q, m = steps[i]
        kpad = np.ones(tprev + 1)
        kpad[: m + 1] = k
        if tprev > 0:
            b = _thinning(logc, 0, tprev - 1, q) @ kpad[:tprev]  # Σ_r' b_{r-1}(r') kpad[r'], r = 1..top
            b_shift = _thinning(logc, 0, tprev - 1, q) @ kpad[1 : tprev + 1]  # Σ_r' b_{r-1}(r') kpad[r'+1]
            r = np.arange(1, tprev + 1)
            g[i] = float(mprev[1:] @ (r * (b_shift - b)))
        k = _thinning(logc, 0, tprev, q) @ kpad
    return killed, g, np.array(qs)


def tail_probability_and_gradient(law, workers: int, blocks, t: float) -> tuple[float, np.ndarray]:
    """1 - P(τ(x; T) ≤ t) for an i.i.d. named law and its exact gradient with respect to x, where
    the design is normalised, c_s = y_s / Σx (equation (2)); used by A6 (``stationary``)."""
    x = np.asarray(blocks, dtype=float)
    total = x.sum()
    rt = OrderStatMax.from_blocks(x)
    coefs, levels = rt.chain()
    with np.errstate(over="ignore"):
        u = t / coefs
    sf = np.asarray(law.sf(u), dtype=float)
    q, g, qs = _walk_gradient(sf, levels, workers)
    # q_i = S_i / S_{i-1} and S_i = S(t / c_i): through the hazard h = f / S,
    # ∂(1-P)/∂c_i = h(u_i) (g_i q_i - g_{i+1} q_{i+1}) t / c_i², free of tiny divisors
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(sf > 0, np.asarray(law.pdf(u), dtype=float) / np.where(sf > 0, sf, 1.0), 0.0)
    gq = g * qs
    dc = np.zeros(workers)
    dc[levels] = hazard * (gq - np.concatenate([gq[1:], [0.0]])) * t / coefs**2
    c = normalized_load(x)
    # c_s = Σ_{j≤s} (j+1) x_j / Σx  ⇒  ∂c_s/∂x_j = ((j+1) 1{j≤s} - c_s) / Σx
    grad = ((np.arange(workers) + 1.0) * np.cumsum(dc[::-1])[::-1] - float(dc @ c)) / total
    return q, grad


def completion_probability_exact(law, workers: int, runtime: OrderStatMax, t) -> tuple[np.ndarray, np.ndarray]:
    """Exact P(τ ≤ t) and 1 - P(τ ≤ t) for an i.i.d. law (docs/algorithms.md), for each t (array-like)."""
    t = np.atleast_1d(np.asarray(t, dtype=float))
    coefs, levels = runtime.chain()
    p, q = np.empty(t.shape), np.empty(t.shape)
    for i, ti in enumerate(t):
        if ti <= 0:
            p[i], q[i] = 0.0, 1.0
            continue
        with np.errstate(over="ignore"):  # a vanishing coefficient puts its threshold at inf
            u = ti / coefs
        p[i], q[i] = _walk(np.asarray(law.sf(u), dtype=float), levels, workers)
    # a sum of binomial masses can round to 1 + 2^-52: a probability stays in [0, 1]
    return np.clip(p, 0.0, 1.0), np.clip(q, 0.0, 1.0)
