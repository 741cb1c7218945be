"""Methods on samples of T, for any joint law: A2 (``subgradient``), A3 (``saa-lp``), and the
common-random-numbers comparison by which ``optimal`` keeps the best candidate.

docs/algorithms.md: "A3: the sample-average LP, solved exactly by row generation" and "A2, A6, R".
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, sparse

from .. import _validate as V
from .. import streams
from ..analysis import OrderStatMax
from ..timing.orderstat import descending, normalized_load
from .closed_forms import _m_jensen
from .common import _Problem, _project_simplex, _pull_back, _worst_block, _z_from_c


def _sample_subgradient(td_batch, z):
    """Mean of τ over a batch and its subgradient in z (A2)."""
    tau, arg, slope = _worst_block(td_batch, z)
    return float(tau.mean()), _pull_back(slope, arg, z.size)


def _m_subgradient(p: _Problem, iterations: int = 3000, batch: int = 32):
    """A2: stochastic projected subgradient on {z ≥ 0, Σ z = 1} with steps η_k = η_0/√k and the
    average of the second half of the iterates. Starts from A4. Fresh samples each step (seeded)."""
    p.check_runtime_finite()
    rng = streams.rng(p.seed, streams.SUBGRADIENT)
    z, _ = _m_jensen(p)
    free = p.levels
    zf = z[free]
    avg, count, eta0 = np.zeros_like(zf), 0, None
    for k in range(1, iterations + 1):
        td = descending(p.model.sample(batch, p.workers, rng))
        full = np.zeros(p.workers)
        full[free] = zf
        _, g = _sample_subgradient(td, full)
        gf = g[free]
        if eta0 is None:
            eta0 = 0.5 / max(np.linalg.norm(gf), 1e-300)
        zf = _project_simplex(zf - eta0 / math.sqrt(k) * gf)
        if k > iterations // 2:
            avg += zf
            count += 1
    out = np.zeros(p.workers)
    out[free] = avg / count
    return out / out.sum(), {"nit": iterations, "batch": batch, "samples_used": iterations * batch}


def _m_saa_lp(p: _Problem, max_rounds: int = 60, tol: float = 1e-9, start_rows: int = 4, band: float = 0.05):
    """A3: min (1/K) Σ_k τ_k s.t. τ_k ≥ T^k_(N-s) c_s for all k, s — a linear program in the
    normalised loads c (non-decreasing, Σ_s c_s (1/(s+1) - 1/(s'+1)) = 1) solved by HiGHS.

    Only a few of the K·N rows are active at the optimum (about K + m), so rows are generated: start
    with each sample's ``start_rows`` worst blocks under A4 (and the last block); after each solve
    add, for every violated sample, its violated blocks within ``band`` of its worst at the new
    solution (after a third of ``max_rounds``, all of them); stop when none is violated (then the
    solution is optimal for the full LP). Adding every violated block converges in fewer rounds
    but, at large N, with 10⁵ rows whose interior-point solves cost far more (N = 1000, K = 1000:
    183 000 rows and 14 s, against about 16 000 rows in 5 rounds and 2 s; docs/algorithms.md, A3).
    Works for any joint law of T.
    """
    p.check_runtime_finite()
    start_rows = V.integer("start_rows", start_rows, minimum=1)
    if not 0.0 <= band < 1.0:
        raise V.InputError(f"band must be in [0, 1), got {band!r}")
    # K × m, T_(N-s) at the allowed levels. The optimal z does not depend on the unit of T, but HiGHS's
    # tolerances do (times of 1e5-1e6 made it report "infeasible"): solve in units of the mean time.
    scale = float(np.mean(p.td[:, p.levels]))
    td = p.td[:, p.levels] / scale
    K, m = td.shape
    s = p.levels.astype(float)
    w = 1.0 / (s + 1.0) - np.concatenate([1.0 / (s[1:] + 1.0), [0.0]])
    # monotonicity rows c_{i-1} - c_i ≤ 0
    mono = sparse.diags([np.ones(m - 1), -np.ones(m - 1)], [0, 1], shape=(m - 1, m + K)) if m > 1 else None
    z0, _ = _m_jensen(p)
    c = normalized_load(z0)[p.levels]
    # seed rows: each sample's `start_rows` worst blocks at A4, and the last block (it bounds every c_s)
    terms = td * c
    near = np.zeros_like(terms, dtype=bool)
    near[np.arange(K)[:, None], np.argpartition(-terms, min(start_rows, m) - 1, axis=1)[:, :start_rows]] = True
    near[:, -1] = True
    rows_k, rows_i = np.nonzero(near)
    cost = np.concatenate([np.zeros(m), np.full(K, 1.0 / K)])
    a_eq = np.concatenate([w, np.zeros(K)])[None, :]
    nit, rounds, status = 0, 0, None
    for rounds in range(1, max_rounds + 1):
        n = rows_k.size
        cuts = sparse.csr_matrix(
            (
                np.concatenate([td[rows_k, rows_i], -np.ones(n)]),
                (np.concatenate([np.arange(n), np.arange(n)]), np.concatenate([rows_i, m + rows_k])),
            ),
            shape=(n, m + K),
        )
        a_ub = sparse.vstack([cuts, mono]) if mono is not None else cuts
        res = optimize.linprog(
            cost,
            A_ub=a_ub,
            b_ub=np.zeros(a_ub.shape[0]),
            A_eq=a_eq,
            b_eq=[1.0],
            bounds=[(0, None)] * (m + K),
            method="highs-ipm",
        )
        status = res.status
        if res.status != 0:
            raise V.RunFailed(f"HiGHS failed on the SAA linear program: {res.message}")
        nit += int(getattr(res, "nit", 0) or 0)
        c, tau = res.x[:m], res.x[m:]
        full = td * c
        worst = np.argmax(full, axis=1)
        viol = full[np.arange(K), worst] - tau > tol * np.maximum(1.0, np.abs(tau))
        if not viol.any():
            break
        # for each violated sample, its violated blocks near its worst (the worst itself always)
        add = (full - tau[:, None] > tol * np.maximum(1.0, np.abs(tau))[:, None]) & viol[:, None]
        if rounds <= max_rounds // 3:  # then every violated row: a slow case still ends exact
            add &= full >= (1.0 - band) * full[np.arange(K), worst][:, None]
        add_k, add_i = np.nonzero(add)
        rows_k = np.concatenate([rows_k, add_k])
        rows_i = np.concatenate([rows_i, add_i])
    z = _z_from_c(p.levels, np.maximum.accumulate(np.maximum(c, 0.0)), p.workers)
    return z, {
        "nit": nit,
        "rounds": rounds,
        "rows": int(rows_k.size),
        "samples": K,
        "saa_objective": float(res.fun) * scale,
        "converged": not viol.any(),
        "highs_status": status,
    }


def _common_draws(p: _Problem) -> np.ndarray:
    """The candidates' common draws, sorted descending: a fresh seeded stream, at least 20 000 rows."""
    rng = streams.rng(p.seed, streams.CANDIDATES)
    k = max(p.n_samples, 20_000)
    V.memory(f"comparing candidates on {k} draws of {p.workers} workers", 3.0 * k * p.workers, "lower --workers")
    return descending(p.model.sample(k, p.workers, rng))


def _best_of(candidates: dict, td: np.ndarray):
    """Pick the candidate with the lowest E[τ] on the common draws ``td`` (:func:`_common_draws`)."""
    scores = {}
    for name, z in candidates.items():
        if z is not None:
            scores[name] = float(OrderStatMax.from_blocks(z).samples(td).mean())
    best = min(scores, key=scores.get)
    return candidates[best], {"chosen": best, "crn_means": scores}
