"""Communication-aware design: minimise E[τ] including uploads (docs/algorithms.md, "Designing under
upload links").

The sample objective is exact: τ of each draw by the link recursion (``bcgc.timing.links``). With
per-worker links of one bandwidth B and latency λ, equal shares and no fixed cost, the arrival of
block s from worker n, F_n(s) = max_{j≤s} [T_n c_j + Σ_{i=j..s} (λ + x_i/B)], is non-decreasing in
T_n, so the workers arrive in the order of their T for every block and

    τ = max_{j ≤ s} [ T_(N-s) c_j + (L/B) Σ_{i=j..s} z_i + λ · #{i : j ≤ i ≤ s, block i sent} ].

For a fixed set of sent blocks this is a maximum of functions linear in z: the sample-average
problem is a linear program with epigraph variables τ_k ≥ each (j, s) term — the max() of the
recursion costs nothing, since the objective pushes τ_k down onto the largest term. The latency
count makes the choice of sent blocks combinatorial (the LP counts every allowed level; a level the
LP leaves empty costs less in truth). With fixed costs or unequal shares the order of the workers
changes from block to block and the (N − s)-th arrival is no longer convex in z: no LP.

Method: candidates — the communication-oblivious design, the LP's (when it applies), every single
level — scored on the exact sample objective; the best is improved by a local search (moving
coordinates between and into neighbouring levels, emptying blocks). Finally the oblivious and the
aware designs are scored on the same evaluation draws and the better is kept, so the aware design
is never worse there than the oblivious one.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, sparse

from .. import streams
from .._validate import RunFailed
from ..analysis import summarize
from ..timing.links import Links, block_runtime_samples
from ..timing.orderstat import descending
from .integer import round_blocks

__all__ = ["pair_terms", "saa_lp_links", "communication_aware"]


def pair_terms(td, z, coords: int, net: Links, levels=None) -> np.ndarray:
    """The (j, s) terms of τ, shape (K, m, m) (-inf where j > s): ``td`` (K, m) holds T_(N-s) at the
    ``levels`` (default 0..m-1), ``z`` (m,) the block fractions there, every level sent."""
    m = z.size
    lv = np.arange(m) if levels is None else np.asarray(levels)
    c = np.cumsum((lv + 1.0) * z)
    cum = np.cumsum(z)
    j, s = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    send = coords / net.bandwidth * (cum[s] - cum[j] + z[j]) + net.latency * (s - j + 1)
    out = td[:, None, :] * c[None, :, None] + send[None, :, :]
    out[:, j > s] = -np.inf
    return out


def saa_lp_links(
    td_levels, levels, coords: int, net: Links, z0=None, max_rounds: int = 40, tol: float = 1e-9, band: float = 0.02
):
    """min (1/K) Σ τ_k s.t. τ_k ≥ each (j, s) term (module docstring), z ≥ 0, Σ z = 1, by row
    generation from ``z0`` (default uniform): each round adds, for every sample whose τ_k is violated,
    its terms within ``band`` of its largest. ``td_levels``: (K, m) = T_(N-s) at the allowed
    ``levels``. Returns z at the levels."""
    # times in units of the larger of the mean compute time and the upload time of L: the LP's
    # coefficients then stay near 1 (L = 1e8 at B = 1e-9 put 1e17 beside 1: HiGHS "Model error")
    scale = max(float(np.mean(td_levels)), coords / net.bandwidth, net.latency)
    td = td_levels / scale
    unit = Links(net.bandwidth * scale, net.latency / scale)
    K, m = td.shape
    lv = np.asarray(levels, dtype=np.int64)
    z = np.full(m, 1.0 / m) if z0 is None else np.asarray(z0, dtype=float) / np.sum(z0)
    rows = np.zeros((K, m * m), dtype=bool)
    cost = np.concatenate([np.zeros(m), np.full(K, 1.0 / K)])
    a_eq = np.concatenate([np.ones(m), np.zeros(K)])[None, :]
    tau = np.full(K, -np.inf)
    for _ in range(max_rounds):
        terms = pair_terms(td, z, coords, unit, lv).reshape(K, m * m)
        top = terms.max(axis=1)
        violated = top > tau + tol * np.maximum(1.0, np.abs(top))
        new = (terms >= top[:, None] - band * np.abs(top[:, None])) & violated[:, None] & ~rows
        if not new.any():
            break
        rows |= new
        res = _solve(np.nonzero(rows), td, lv.astype(float), coords, unit, cost, a_eq, m, K)
        z, tau = np.maximum(res.x[:m], 0.0), res.x[m:]
        z /= z.sum()
    return z


def _solve(rows, td, lv, coords, unit, cost, a_eq, m, K):
    k, w = rows
    j, s = np.divmod(w, m)
    i = np.arange(m)[None, :]
    coef = td[k, s][:, None] * (lv + 1.0)[None, :] * (i <= j[:, None]) + coords / unit.bandwidth * (
        (i >= j[:, None]) & (i <= s[:, None])
    )
    a_ub = sparse.hstack(
        [sparse.csr_matrix(coef), sparse.csr_matrix((-np.ones(k.size), (np.arange(k.size), k)), shape=(k.size, K))]
    ).tocsr()
    rhs = -unit.latency * (s - j + 1.0)
    res = optimize.linprog(
        cost, A_ub=a_ub, b_ub=rhs, A_eq=a_eq, b_eq=[1.0], bounds=[(0, None)] * m + [(None, None)] * K, method="highs"
    )
    if res.status != 0:
        raise RunFailed(f"HiGHS failed on the link-aware sample-average LP: {res.message}")
    return res


def communication_aware(p, oblivious_blocks, coords: int, net: Links, eval_samples: int, lp_max_levels: int = 40):
    """The aware design for problem ``p`` (``design.common._Problem``) under ``net``: returns
    (x, evaluation, diagnostics) as in the module docstring."""
    a, b = p.model.sample_parts(p.n_samples, p.workers, streams.rng(p.seed, streams.DESIGN_SAMPLES))

    def score(x):
        return float(block_runtime_samples(x, a, b, net).mean())

    cands = {"oblivious": np.asarray(oblivious_blocks, dtype=np.int64)}
    if net.per_worker and not np.any(a) and p.levels.size <= lp_max_levels:
        td = descending(b)[:, p.levels]
        z = np.zeros(p.workers)
        z[p.levels] = saa_lp_links(td, p.levels, coords, net, z0=np.maximum(cands["oblivious"][p.levels], 1e-3))
        cands["saa-lp-links"] = round_blocks(z, coords, p.levels)
    for s in p.levels:
        x = np.zeros(p.workers, dtype=np.int64)
        x[s] = coords
        cands[f"level {s}"] = x
    scores = {k: score(x) for k, x in cands.items()}
    start = min(scores, key=scores.get)
    x, moves = _local_search(cands[start], p.levels, score, scores[start])
    diag = {
        "network": net.as_dict(),
        "start": start,
        "local_moves": moves,
        "candidate_sample_means": {k: v for k, v in scores.items() if not k.startswith("level ")}
        | {"best single level": min(v for k, v in scores.items() if k.startswith("level "))},
    }
    return _keep_better(p, x, cands["oblivious"], net, eval_samples, diag)


def _keep_better(p, x, x0, net, eval_samples, diag):
    """Score aware and oblivious on the same evaluation draws; keep the better (never worse)."""
    a, b = p.model.sample_parts(eval_samples, p.workers, streams.rng(p.seed, streams.EVALUATION))
    tau, tau0 = _chunked(x, a, b, net), _chunked(x0, a, b, net)
    ev, ev0 = summarize(tau, p.deadline), summarize(tau0, p.deadline)
    if ev0.expected_runtime < ev.expected_runtime:
        x, ev, tau, diag["kept"] = x0, ev0, tau0, "oblivious"
    else:
        diag["kept"] = "aware"
    diff = tau0 - tau
    diag.update(
        oblivious_blocks=x0.tolist(),
        oblivious_expected_runtime=ev0.expected_runtime,
        margin_percent=100.0 * float(diff.mean()) / ev0.expected_runtime,
        margin_stderr_percent=100.0 * float(diff.std(ddof=1) / np.sqrt(diff.size)) / ev0.expected_runtime,
    )
    return x, ev, diag


def _chunked(x, a, b, net, rows: int = 20_000):
    """τ of blocks x on many draws, a slice of rows at a time (arrays K × N × blocks stay small)."""
    return np.concatenate(
        [block_runtime_samples(x, a[i : i + rows], b[i : i + rows], net) for i in range(0, a.shape[0], rows)]
    )


def _local_search(x, levels, score, best, max_evals: int = 400):
    """Moves of δ coordinates (δ from a quarter of the largest block down to 1) from a sent block to
    its neighbouring allowed levels, and whole blocks merged into the next sent one, while the
    sample mean decreases."""
    x, evals, moves = x.copy(), 0, 0
    step = max(1, int(x.max()) // 4)
    while step >= 1 and evals < max_evals:
        improved = False
        for cand in _neighbours(x, levels, step):
            val = score(cand)
            evals += 1
            if val < best - 1e-12 * abs(best):
                x, best, improved, moves = cand, val, True, moves + 1
                break
            if evals >= max_evals:
                break
        if not improved:
            step //= 2
    return x, moves


def _neighbours(x, levels, step):
    pos = {int(s): i for i, s in enumerate(levels)}
    sent = [int(s) for s in levels if x[s] > 0]
    for s in sent:
        i = pos[s]
        targets = {int(levels[k]) for k in (i - 1, i + 1) if 0 <= k < levels.size}
        targets |= {t for t in sent if t != s and abs(sent.index(t) - sent.index(s)) == 1}
        for t in sorted(targets):
            for amount in {min(step, int(x[s])), int(x[s])}:
                cand = x.copy()
                cand[s] -= amount
                cand[t] += amount
                yield cand
