"""Design of the block sizes x (SPEC §4): one entry point, many methods (STYLE: scipy.optimize).

``design(model, workers, coords, objective="runtime"|"deadline", method=...)`` returns a
:class:`DesignResult`. Every method works on the normalised relaxation z = x / L (z ≥ 0, Σ z = 1),
so L never enters a complexity; the integer blocks come from rounding R (SPEC §4, "R").

Methods (SPEC §4 table):

* ``optimal`` — the default. Runtime: the sample-average LP (A3) solved to optimality by
  constraint generation, compared on common random numbers with A2 (whose 96 000 fresh draws beat
  the LP's 1000 by ~0.1% when T is very variable) and the closed forms; the best is kept.
  Deadline: ``stationary`` (A6).
* ``subgradient`` (A2), ``saa-lp`` (A3), ``jensen`` (A4), ``inverse`` (A5), ``stationary`` (A6),
  ``large-deadline`` (A7), ``brute-force`` (A1: exact enumeration of integer block vectors).

Constraints (SPEC §4, ours): ``tolerate=f`` forces x_s = 0 for s < f; ``allowed_levels`` restricts
the non-empty blocks to a set of levels. All four closed forms share one fact: with c_s = y_s / L
non-decreasing, min max_s w_s c_s over Σz = 1 (w_s > 0 non-increasing in s) is reached by equalising
every term, c_s = θ / w_s (``_equalize``); A4 takes w_s = E[T_(N-s)], A5 w_s = 1 / E[1/T_(N-s)],
A7 w_s = 1/(s+1).
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, sparse, special

from . import _validate as V
from .analysis import (OrderStatMax, can_evaluate_exactly, completion_probability_exact, evaluate_runtime,
                       expected_runtime_exact, tail_probability_and_gradient, EXACT_MAX_WORKERS)
from .model import coordinate_runtime, descending, normalized_load
from .stragglers import StragglerModel

__all__ = ["design", "DesignResult", "METHODS", "round_blocks", "brute_force_blocks",
           "brute_force_coordinates", "allowed_level_set"]


@dataclass(frozen=True)
class DesignResult:
    """The answer of :func:`design` (modelled on scipy's OptimizeResult).

    blocks: integer x (N entries summing to L) · relaxed: the continuous solution (sums to L) ·
    value: the objective of ``blocks`` (E[τ] for "runtime", P(τ ≤ deadline) for "deadline"),
    ``stderr`` None when exact · diagnostics: solver details of the method.
    """

    blocks: np.ndarray
    relaxed: np.ndarray
    objective: str
    method: str
    value: float
    stderr: float | None
    expected_runtime: float
    expected_runtime_stderr: float | None
    completion_probability: float | None
    completion_probability_stderr: float | None
    deadline: float | None
    success: bool
    message: str
    nit: int
    solve_seconds: float
    evaluation: str
    diagnostics: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        def fmt(v, se):
            return "None" if v is None else (f"{v:.6g}" if se is None else f"{v:.6g} ± {se:.2g}")
        nz = np.flatnonzero(self.blocks)
        shown = ", ".join(f"{s}: {self.blocks[s]}" for s in nz[:12]) + (", …" if nz.size > 12 else "")
        return (f"DesignResult(method={self.method!r}, objective={self.objective!r}, success={self.success},\n"
                f"  blocks={{{shown}}} (level: coordinates),\n"
                f"  expected_runtime={fmt(self.expected_runtime, self.expected_runtime_stderr)}, "
                f"completion_probability={fmt(self.completion_probability, self.completion_probability_stderr)}"
                f", deadline={self.deadline},\n"
                f"  evaluation={self.evaluation!r}, nit={self.nit}, solve_seconds={self.solve_seconds:.3g}, "
                f"message={self.message!r})")


# ---------------------------------------------------------------------------- helpers
def allowed_level_set(workers: int, tolerate: int = 0, allowed_levels=None) -> np.ndarray:
    """Levels that may hold coordinates: s ≥ tolerate and s in allowed_levels (SPEC §4 constraints)."""
    levels = np.arange(tolerate, workers)
    if allowed_levels is not None:
        allowed = set()
        for s in allowed_levels:
            allowed.add(V.integer("allowed_levels entry", s, minimum=0, maximum=workers - 1))
        levels = np.array([s for s in levels if s in allowed], dtype=np.int64)
    if levels.size == 0:
        raise ValueError(f"no level is left: tolerate={tolerate} and allowed_levels={allowed_levels} "
                         f"exclude every level 0..{workers - 1}")
    return levels


def _z_from_c(levels: np.ndarray, c: np.ndarray, workers: int) -> np.ndarray:
    """Block fractions from normalised loads at the allowed levels: z_s = (c_s - c_prev)/(s+1)."""
    z = np.zeros(workers)
    z[levels] = np.maximum(np.diff(np.concatenate([[0.0], c])), 0.0) / (levels + 1.0)
    return z / z.sum()


def _equalize(levels: np.ndarray, weight: np.ndarray, workers: int) -> np.ndarray:
    """argmin over z of max_s weight_s c_s: c_s = θ / weight_s (non-decreasing since weight is
    non-increasing in s). Levels with infinite weight get c = 0, i.e. stay empty."""
    with np.errstate(divide="ignore"):
        c = np.where(np.isfinite(weight), 1.0 / weight, 0.0)
    c = np.maximum.accumulate(c)  # guards ties/noise in estimated moments
    if not np.any(c > 0):
        raise ValueError("every allowed level has an infinite weight: the closed form does not exist")
    return _z_from_c(levels, c, workers)


def _project_simplex(v: np.ndarray) -> np.ndarray:
    """Euclidean projection onto {z ≥ 0, Σ z = 1} (sort-based, O(m log m))."""
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - 1.0
    idx = np.arange(1, v.size + 1)
    rho = np.nonzero(u - css / idx > 0)[0][-1]
    return np.maximum(v - css[rho] / (rho + 1.0), 0.0)


def _order_moments(model, workers, samples_desc=None, inverse=False):
    """E[T_(N-s)] (or E[1/T_(N-s)] with ``inverse``) for s = 0..N-1: exact for i.i.d. laws, else
    from the samples."""
    if model.iid:
        return (model.order_stat_inv_mean(workers) if inverse else model.order_stat_mean(workers))[::-1]
    with np.errstate(divide="ignore"):
        return (1.0 / samples_desc).mean(axis=0) if inverse else samples_desc.mean(axis=0)


class _Problem:
    """Everything a method needs: law, N, allowed levels, samples (lazily drawn, seeded)."""

    def __init__(self, model, workers, levels, deadline, samples, seed):
        self.model, self.workers, self.levels = model, workers, levels
        self.deadline, self.n_samples, self.seed = deadline, samples, seed
        self._td = None

    @property
    def td(self) -> np.ndarray:
        """Design samples, sorted descending (column s = T_(N-s)); seed stream 0."""
        if self._td is None:
            rng = np.random.default_rng([self.seed, 0])
            self._td = descending(self.model.sample(self.n_samples, self.workers, rng))
        return self._td

    def check_runtime_finite(self):
        if self.model.full_prob > 0:
            raise ValueError("objective 'runtime' is undefined with full stragglers (E[τ] = inf for every "
                             "design); use objective='deadline' with a deadline")


# ---------------------------------------------------------------------------- methods (relaxed)
def _m_jensen(p: _Problem, **opts):
    """A4: minimise max_s E[T_(N-s)] y_s / L (a lower bound of E[τ] by Jensen); equalise terms."""
    mean = _order_moments(p.model, p.workers, None if p.model.iid else p.td)
    return _equalize(p.levels, mean[p.levels], p.workers), {"nit": 0, "moments": "exact" if p.model.iid else "sampled"}


def _m_inverse(p: _Problem, **opts):
    """A5: y_s proportional to E[1/T_(N-s)] (levels where it diverges stay empty)."""
    inv = _order_moments(p.model, p.workers, None if p.model.iid else p.td, inverse=True)
    b = inv[p.levels]
    with np.errstate(divide="ignore"):
        z = _equalize(p.levels, np.where(np.isfinite(b) & (b > 0), 1.0 / b, np.inf), p.workers)
    return z, {"nit": 0, "empty_divergent_levels": [int(s) for s in p.levels[~np.isfinite(b)]]}


def _m_large_deadline(p: _Problem, **opts):
    """A7: for a large deadline, 1 - P(τ ≤ t) is dominated by the block with the smallest tail
    exponent (s+1)/c_s (exponential-type tails); maximise the smallest: c_s ∝ s + 1, so that
    x_s = θ/(s+1) for every free level past the first (SPEC §4, A7; derivation in docs/)."""
    return _equalize(p.levels, 1.0 / (p.levels + 1.0), p.workers), {"nit": 0}


def _worst_block(td, z):
    """Per sample: τ = max_s T_(N-s) c_s over the non-empty blocks, the block s* reaching it, and
    T_(N-s*) (the slope of τ in c_{s*})."""
    c = normalized_load(z)
    used = np.flatnonzero(z > 0)
    arg = used[np.argmax(td[:, used] * c[used], axis=1)]
    slope = td[np.arange(td.shape[0]), arg]
    return slope * c[arg], arg, slope


def _pull_back(weights, arg, n):
    """Σ_k weights_k ∂τ_k/∂z averaged over samples: ∂τ/∂z_j = T_(N-s*) (j+1) for j ≤ s*."""
    g = np.zeros(n)
    np.add.at(g, arg, weights)
    return np.cumsum(g[::-1])[::-1] * (np.arange(n) + 1.0) / arg.size


def _sample_subgradient(td_batch, z):
    """Mean of τ over a batch and its subgradient in z (SPEC §4, A2)."""
    tau, arg, slope = _worst_block(td_batch, z)
    return float(tau.mean()), _pull_back(slope, arg, z.size)


def _m_subgradient(p: _Problem, iterations: int = 3000, batch: int = 32, **opts):
    """A2: stochastic projected subgradient on {z ≥ 0, Σ z = 1} with steps η_k = η_0/√k and the
    average of the second half of the iterates. Starts from A4. Fresh samples each step (seeded)."""
    p.check_runtime_finite()
    rng = np.random.default_rng([p.seed, 2])
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


def _m_saa_lp(p: _Problem, max_rounds: int = 60, tol: float = 1e-9, band: float = 0.03, **opts):
    """A3: min (1/K) Σ_k τ_k s.t. τ_k ≥ T^k_(N-s) c_s for all k, s — a linear program in the
    normalised loads c (non-decreasing, Σ_s c_s (1/(s+1) - 1/(s'+1)) = 1) solved by HiGHS.

    Only a few of the K·N rows are active at the optimum, so rows are generated: start with each
    sample's worst block under A4, re-solve with every violated row added, stop when none is
    violated (then the solution is optimal for the full LP). Works for any joint law of T.
    """
    p.check_runtime_finite()
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
    # seed rows: every block within `band` of each sample's worst at A4, and the last block
    terms = td * c
    near = terms >= (1.0 - band) * terms.max(axis=1, keepdims=True)
    near[:, -1] = True
    rows_k, rows_i = np.nonzero(near)
    cost = np.concatenate([np.zeros(m), np.full(K, 1.0 / K)])
    a_eq = np.concatenate([w, np.zeros(K)])[None, :]
    nit, rounds, status = 0, 0, None
    for rounds in range(1, max_rounds + 1):
        n = rows_k.size
        cuts = sparse.csr_matrix(
            (np.concatenate([td[rows_k, rows_i], -np.ones(n)]),
             (np.concatenate([np.arange(n), np.arange(n)]), np.concatenate([rows_i, m + rows_k]))),
            shape=(n, m + K))
        a_ub = sparse.vstack([cuts, mono]) if mono is not None else cuts
        res = optimize.linprog(cost, A_ub=a_ub, b_ub=np.zeros(a_ub.shape[0]), A_eq=a_eq, b_eq=[1.0],
                               bounds=[(0, None)] * (m + K), method="highs-ipm")
        status = res.status
        if res.status != 0:
            raise RuntimeError(f"HiGHS failed on the SAA linear program: {res.message}")
        nit += int(getattr(res, "nit", 0) or 0)
        c, tau = res.x[:m], res.x[m:]
        full = td * c
        worst = np.argmax(full, axis=1)
        viol = full[np.arange(K), worst] - tau > tol * np.maximum(1.0, np.abs(tau))
        if not viol.any():
            break
        # add, for each violated sample, every block that exceeds its current τ_k
        add = (full - tau[:, None] > tol * np.maximum(1.0, np.abs(tau))[:, None]) & viol[:, None]
        add_k, add_i = np.nonzero(add)
        rows_k = np.concatenate([rows_k, add_k])
        rows_i = np.concatenate([rows_i, add_i])
    z = _z_from_c(p.levels, np.maximum.accumulate(np.maximum(c, 0.0)), p.workers)
    return z, {"nit": nit, "rounds": rounds, "rows": int(rows_k.size), "samples": K,
               "saa_objective": float(res.fun) * scale, "converged": not viol.any(), "highs_status": status}


def _smoothed_tail(p: _Problem, zf: np.ndarray, h: float):
    """Smoothed sample estimate of P(τ > t): mean of expit((τ_k - t)/h), and its gradient."""
    z = np.zeros(p.workers)
    z[p.levels] = np.maximum(zf, 0)
    tau, arg, slope = _worst_block(p.td, z)
    sig = special.expit((tau - p.deadline) / h)
    g = _pull_back(sig * (1 - sig) / h * slope, arg, p.workers)
    return float(sig.mean()), g[p.levels]


def _m_stationary(p: _Problem, starts: int | None = None, polish: int = 4, **opts):
    """A6: a stationary point of max P(τ ≤ t) over the relaxed simplex, multi-start.

    i.i.d. named laws: SLSQP on log(1 - P) computed exactly by the binomial walk, with its exact
    adjoint gradient (both accurate for large deadlines, where 1 - P is tiny). Other laws: SLSQP on a smoothed sample estimate
    (bandwidth 2% of t), then the best start is chosen on the same samples.
    Starts: A4, A7, every single-level design (classic GC at each allowed level), uniform; all are
    scored and the ``polish`` best (default 4) are refined.
    """
    if p.deadline is None:
        raise ValueError("deadline is required for objective 'deadline' (a number > 0)")
    exact = can_evaluate_exactly(p.model, p.workers)
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

    def full(zf):
        z = np.zeros(p.workers)
        z[p.levels] = np.maximum(zf, 0)
        return z / z.sum()

    if exact:
        cache = {}

        def tail(zf):  # log(1 - P) and its exact adjoint gradient, shared by fun and jac
            key = zf.tobytes()
            if key not in cache:
                q, grad = tail_probability_and_gradient(p.model, p.workers, full(zf), p.deadline)
                cache.clear()
                cache[key] = (math.log(max(q, 1e-300)), grad[p.levels] / q if q > 1e-300 else np.zeros(m))
            return cache[key]

        def fun(zf):
            return tail(zf)[0]

        def jac(zf):
            return tail(zf)[1]
    else:
        h = 0.02 * p.deadline

        def fun(zf):
            return _smoothed_tail(p, zf, h)[0]

        def jac(zf):
            return _smoothed_tail(p, zf, h)[1]
    # screen the starts, then polish the most promising ones
    scored = sorted(((fun(z0), i) for i, z0 in enumerate(starts_z)))
    best, best_val, nit = None, math.inf, 0
    for _, i in scored[: max(1, min(int(polish), len(scored)))]:
        if m == 1:
            zf, val = starts_z[i], fun(starts_z[i])
        else:
            res = optimize.minimize(fun, starts_z[i], jac=jac, method="SLSQP",
                                    bounds=[(0.0, 1.0)] * m,
                                    constraints=[{"type": "eq", "fun": lambda v: v.sum() - 1.0,
                                                  "jac": lambda v: np.ones_like(v)}],
                                    options={"maxiter": 300, "ftol": 1e-12})
            nit += int(res.nit)
            zf, val = res.x, fun(res.x)
        if val < best_val:
            best, best_val = zf, val
    return full(best), {"nit": nit, "starts": len(starts_z), "estimator": "exact" if exact else "smoothed samples"}


METHODS = {
    "jensen": _m_jensen,
    "inverse": _m_inverse,
    "subgradient": _m_subgradient,
    "saa-lp": _m_saa_lp,
    "stationary": _m_stationary,
    "large-deadline": _m_large_deadline,
    "optimal": None,      # dispatched in design()
    "brute-force": None,  # integer enumeration, see _brute_force_design
}


# ---------------------------------------------------------------------------- integers (R, A0, A1)
def round_blocks(z: np.ndarray, coords: int, levels: np.ndarray | None = None) -> np.ndarray:
    """Largest-remainder rounding of the relaxed blocks z·L to integers with Σ x = L (SPEC §4, R)."""
    target = np.asarray(z, dtype=float) * coords
    x = np.floor(target).astype(np.int64)
    short = coords - int(x.sum())
    if short > 0:
        frac = target - x
        if levels is not None:
            mask = np.full(frac.size, -np.inf)
            mask[levels] = frac[levels]
            frac = mask
        x[np.argsort(-frac, kind="stable")[:short]] += 1
    return x


def _local_moves(x: np.ndarray, levels: np.ndarray, objective, max_evals: int):
    """Move single coordinates between neighbouring allowed levels while ``objective`` decreases."""
    best = objective(x)
    evals, moves, improved = 1, 0, True
    while improved and evals < max_evals:
        improved = False
        for a, b in itertools.chain(zip(levels[:-1], levels[1:]), zip(levels[1:], levels[:-1])):
            if x[a] == 0 or evals >= max_evals:
                continue
            cand = x.copy()
            cand[a] -= 1
            cand[b] += 1
            val = objective(cand)
            evals += 1
            if val < best - 1e-15 * abs(best):
                x, best, improved, moves = cand, val, True, moves + 1
    return x, moves, evals


def _compositions(total: int, parts: int):
    """All vectors of ``parts`` non-negative integers summing to ``total`` (stars and bars)."""
    for bars in itertools.combinations(range(total + parts - 1), parts - 1):
        edges = (-1,) + bars + (total + parts - 1,)
        yield [edges[i + 1] - edges[i] - 1 for i in range(parts)]


def brute_force_blocks(td: np.ndarray, coords: int, levels=None, score=None):
    """A1: the integer block vector minimising the sample mean of τ (SPEC (2)) over all
    compositions of L into the allowed levels. ``td``: descending-sorted samples.
    ``score(x)`` replaces the sample mean (e.g. an exact objective). Returns (x, value, count)."""
    workers = td.shape[1]
    levels = np.arange(workers) if levels is None else np.asarray(levels)
    best, best_val, count = None, math.inf, 0
    for comp in _compositions(coords, levels.size):
        x = np.zeros(workers, dtype=np.int64)
        x[levels] = comp
        val = score(x) if score is not None else float(OrderStatMax.from_blocks(x).samples(td).mean())
        count += 1
        if val < best_val:
            best, best_val = x, val
    return best, best_val, count


def brute_force_coordinates(T: np.ndarray, coords: int):
    """A0: the coordinate-level vector s ∈ {0..N-1}^L minimising the sample mean of τ(s; T), SPEC (1).
    Returns (levels, value). N^L candidates: tiny cases only (a reference for tests)."""
    workers = T.shape[1]
    best, best_val = None, math.inf
    for levels in itertools.product(range(workers), repeat=coords):
        val = float(coordinate_runtime(np.array(levels), T).mean())
        if val < best_val:
            best, best_val = np.array(levels), val
    return best, best_val


BRUTE_FORCE_LIMIT = 200_000


def _brute_force_design(p: _Problem, coords: int, objective: str):
    count = math.comb(coords + p.levels.size - 1, p.levels.size - 1)
    if count > BRUTE_FORCE_LIMIT:
        raise ValueError(f"method 'brute-force' would enumerate {count} block vectors (limit "
                         f"{BRUTE_FORCE_LIMIT}): use fewer workers/coords or another method")
    score = _integer_score(p, objective, exact_if_possible=True)
    x, val, n = brute_force_blocks(p.td if score is None else np.zeros((1, p.workers)), coords, p.levels, score)
    return x, {"nit": n, "enumerated": n}


def _integer_score(p: _Problem, objective: str, exact_if_possible: bool):
    """A function x -> value to minimise, exact where cheap, else on common random numbers."""
    exact = exact_if_possible and can_evaluate_exactly(p.model, p.workers) and p.workers <= 12
    if objective == "runtime":
        p.check_runtime_finite()
        if exact:
            return lambda x: expected_runtime_exact(p.model, p.workers, OrderStatMax.from_blocks(x))
        return lambda x: float(OrderStatMax.from_blocks(x).samples(p.td).mean())
    if exact:
        return lambda x: float(completion_probability_exact(p.model, p.workers, OrderStatMax.from_blocks(x),
                                                            p.deadline)[1][0])
    return lambda x: float(np.mean(OrderStatMax.from_blocks(x).samples(p.td) > p.deadline))


# ---------------------------------------------------------------------------- entry point
def design(model: StragglerModel, workers: int, coords: int, objective: str = "runtime",
           deadline: float | None = None, method: str = "optimal", tolerate: int = 0,
           allowed_levels=None, samples: int | None = None, seed: int = 0,
           eval_samples: int = 200_000, options: dict | None = None) -> DesignResult:
    """Design the block sizes x for N workers and L coordinates (SPEC §4).

    Parameters
    ----------
    model : a straggler law (SPEC §2), e.g. ``ShiftedExponential(shift=1, rate=1)``.
    workers, coords : N ≥ 1 and L ≥ 1.
    objective : "runtime" (P1, minimise E[τ]) or "deadline" (P2, maximise P(τ ≤ deadline)).
    method : one of METHODS; "optimal" picks the best exact method for the case.
    tolerate : f, forces x_s = 0 for s < f (f full stragglers never block an iteration).
    allowed_levels : optional set of levels that may be non-empty.
    samples : draws of T for sample-based methods (default 1000 for the LP, 20000 for A6).
    seed : seeds every random quantity (same seed, same design).
    eval_samples : Monte Carlo draws for the final evaluation when it cannot be exact.
    """
    t_start = time.perf_counter()
    workers = model.check_workers(workers)
    coords = V.integer("coords", coords, minimum=1)
    if objective not in ("runtime", "deadline"):
        raise ValueError(f"objective must be 'runtime' or 'deadline', got {objective!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    tolerate = V.integer("tolerate", tolerate, minimum=0, maximum=workers - 1)
    if deadline is not None:
        deadline = V.positive("deadline", deadline)
    if objective == "deadline" and deadline is None:
        raise ValueError("deadline is required for objective 'deadline' (a number > 0)")
    seed = V.integer("seed", seed, minimum=0)
    levels = allowed_level_set(workers, tolerate, allowed_levels)
    opts = dict(options or {})
    if samples is None:
        samples = 20_000 if (objective == "deadline" or method == "stationary") else 1_000
    samples = V.integer("samples", samples, minimum=10)
    eval_samples = V.integer("eval_samples", eval_samples, minimum=10)
    p = _Problem(model, workers, levels, deadline, samples, seed)
    if objective == "runtime":
        p.check_runtime_finite()

    chosen = method
    if method == "optimal":
        chosen = "saa-lp" if objective == "runtime" else "stationary"
    diagnostics: dict = {}
    if chosen == "brute-force":
        x, diag = _brute_force_design(p, coords, objective)
        z = x / coords
        diagnostics.update(diag)
        moves = 0
    else:
        z, diag = METHODS[chosen](p, **opts)
        diagnostics.update(diag)
        if method == "optimal" and objective == "runtime":
            z, pick = _best_of(p, {"saa-lp": z, "subgradient": _m_subgradient(p)[0], "jensen": _m_jensen(p)[0],
                                   "inverse": _safe(_m_inverse, p)})
            diagnostics["candidates"] = pick
        x = round_blocks(z, coords, levels)
        score = _integer_score(p, objective, exact_if_possible=False)
        x, moves, evals = _local_moves(x, levels, score, max_evals=4 * levels.size + 4) \
            if workers <= EXACT_MAX_WORKERS else (x, 0, 0)
    diagnostics["rounding_moves"] = moves
    solve_seconds = time.perf_counter() - t_start

    ev = evaluate_runtime(model, workers, OrderStatMax.from_blocks(x), deadline,
                          "auto", eval_samples, np.random.default_rng([seed, 1]))
    value, stderr = (ev.expected_runtime, ev.expected_runtime_stderr) if objective == "runtime" \
        else (ev.completion_probability, ev.completion_probability_stderr)
    return DesignResult(
        blocks=x, relaxed=z * coords, objective=objective, method=method, value=value, stderr=stderr,
        expected_runtime=ev.expected_runtime, expected_runtime_stderr=ev.expected_runtime_stderr,
        completion_probability=ev.completion_probability,
        completion_probability_stderr=ev.completion_probability_stderr, deadline=deadline,
        success=bool(diagnostics.get("converged", True)),
        message=f"{chosen} solved the relaxed problem" if chosen != "brute-force" else "enumerated all integer designs",
        nit=int(diagnostics.get("nit", 0)), solve_seconds=solve_seconds, evaluation=ev.method,
        diagnostics=diagnostics)


def _safe(fn, p):
    try:
        return fn(p)[0]
    except ValueError:
        return None


def _best_of(p: _Problem, candidates: dict):
    """Pick the candidate with the lowest E[τ] on common random numbers (a fresh seeded stream)."""
    rng = np.random.default_rng([p.seed, 3])
    td = descending(p.model.sample(max(p.n_samples, 20_000), p.workers, rng))
    scores = {}
    for name, z in candidates.items():
        if z is not None:
            scores[name] = float(OrderStatMax.from_blocks(z).samples(td).mean())
    best = min(scores, key=scores.get)
    return candidates[best], {"chosen": best, "crn_means": scores}
