"""Fit the fixed-cost law T(w) = a + b · w to traces taken at several loads w (docs/fitting.md,
several loads).

The load-0 trace holds a alone: a is its empirical law (or the named family of smallest AIC). The
traces at loads w > 0 give b's law by maximum likelihood of the convolution, a and b independent:

    f_{T(w)}(t) = E_a[ f_b((t − a) / w) ] / w ≈ (1/M) Σ_i f_b((t − a_i) / w) / w,

the expectation over a taken at M of a's quantiles a_i = F_a⁻¹((i + ½)/M) (a quadrature), and
evaluated on a grid by one FFT convolution per likelihood (:func:`convolution_loglik`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy  # scipy.stats loads on first use (0.5 s): the design path never needs it
from scipy import fft, special

from .. import progress
from .._validate import InputError
from ..stragglers import Empirical, FixedCost, FullStragglers
from .likelihood import CANDIDATES, logpdf, mle, numeric_mle
from .likelihood import choose as choose_family
from .trace_fit import FitResult

#: quantiles of a in the quadrature of E_a[·] (the KS distances), and points of the likelihood's grid
QUADRATURE = 4096
GRID = 2**15


def quadrature(a_law, points: int = QUADRATURE) -> np.ndarray:
    """a_i = F_a⁻¹((i + ½)/M), i < M: equal-weight points for E_a[·]."""
    if isinstance(a_law, float):
        return np.array([a_law])
    return np.asarray(a_law.ppf((np.arange(points) + 0.5) / points), dtype=float)


def convolution_loglik(b_law, grid, t, w) -> float:
    """Σ_t log f_{T(w)}(t) for the times t seen at load w > 0, f_{T(w)}(t) = E_a[f_b((t − a)/w)]/w.

    On the grid of :func:`grid_of`: a's bin masses convolved (FFT) with b's mass per bin,
    F_b((m + ½)h/w) − F_b((m − ½)h/w), over the bin width h. Where that density is below 1e-9 of
    its peak (far tails, where FFT round-off dominates), the sum over a's quantile points is taken
    directly in log space."""
    start, h, mass, a_points, (size, spectrum) = grid
    edges = (np.arange(mass.size + 1) - 0.5) * h / w
    with np.errstate(all="ignore"):
        g = np.diff(b_law.cdf(np.maximum(edges, 0.0)))
        # the convolution of a's masses with b's (scipy.signal.fftconvolve's steps), a's spectrum computed once
        dens = fft.irfftn(spectrum * fft.rfftn(g, [size], axes=[0]), [size], axes=[0])[: mass.size] / h
        idx = np.clip(np.rint((t - start) / h).astype(int), 0, mass.size - 1)
        d = dens[idx]
        tail = ~(d > 1e-9 * np.max(dens))
        lp = np.log(d[~tail])
        if tail.any():
            # a sum with one term not finite is refused (-inf) below: the earliest time seen, the one
            # most likely outside b's support, is tried alone first, so a refused law costs one row
            # (a log-sum-exp is finite exactly where the largest term is)
            if not math.isfinite(np.max(logpdf(b_law, (np.min(t[tail]) - a_points) / w))):
                return -math.inf
            inner = logpdf(b_law, (t[tail, None] - a_points[None, :]) / w)
            lp = np.concatenate([lp, special.logsumexp(inner, axis=1) - math.log(a_points.size * w)])
    total = float(np.sum(lp))
    return total if math.isfinite(total) else -math.inf


def grid_of(a_points, data):
    """(start, h, masses, a_points, (FFT size, spectrum of the masses)): a's law binned on a grid from
    min a to the largest time seen, of 4 points per time seen (at least 2^12, at most :data:`GRID`);
    the spectrum is the one every likelihood of the fit convolves with (computed once)."""
    size = int(min(GRID, max(2**12, 4 * sum(t.size for _, t in data))))
    start = float(np.min(a_points))
    stop = max(float(np.max(t)) for _, t in data)
    h = (stop - start) / (size - 1)
    idx = np.clip(np.rint((a_points - start) / h).astype(int), 0, size - 1)
    mass = np.bincount(idx, minlength=size) / a_points.size
    # the first `size` terms of the linear convolution need a length of (a's bins) + size − 1: beyond
    # a's largest point its masses are 0 (the full length 2·size − 1 computed the same sums, and more)
    padded = fft.next_fast_len(int(idx.max()) + size, True)
    return start, h, mass, a_points, (padded, fft.rfftn(mass, [padded], axes=[0]))


def load_cdf(b_law, a_points, w, t):
    """P(T(w) ≤ t) = E_a[F_b((t − a)/w)]; at w = 0 the law of a (its points)."""
    t = np.asarray(t, dtype=float)
    if w == 0:
        return np.searchsorted(np.sort(a_points), t, side="right") / a_points.size
    if t.ndim != 1:
        return np.mean(b_law.cdf((t[..., None] - a_points) / w), axis=-1)
    # by chunks of times: the same row means, without a (times × points) matrix of 10^8 entries
    step = max(1, 2**20 // max(a_points.size, 1))
    return np.concatenate(
        [np.mean(b_law.cdf((t[i : i + step, None] - a_points) / w), axis=-1) for i in range(0, t.size, step)]
        or [np.zeros(0)]
    )


def _check(traces, loads, sources):
    if len(traces) != len(loads):
        raise InputError(f"loads must give one load per trace: {len(loads)} loads for {len(traces)} traces")
    if len(traces) < 2:
        raise InputError("loads: a fixed-cost fit needs at least 2 traces (load 0 and a load > 0)")
    for w in loads:
        if not (math.isfinite(w) and w >= 0):
            raise InputError(f"loads must be finite numbers >= 0, got {w!r}")
    if len(set(loads)) != len(loads):
        raise InputError(f"loads must be distinct, got {list(loads)}")
    if 0 not in loads:
        raise InputError(f"loads must include 0 (the trace of the fixed cost a alone), got {list(loads)}")
    cols = {np.shape(t)[1] for t in traces}
    if len(cols) > 1:
        raise InputError(
            f"traces at several loads must have the same workers (columns), got {sorted(cols)} "
            f"in {', '.join(map(str, sources))}"
        )


def _a_law(zero, source, fixed):
    """The law of a from the load-0 trace: empirical (its pooled times) or a named family."""
    finite = zero[np.isfinite(zero)]
    if fixed == "empirical":
        return Empirical(finite, source=source)
    if fixed == "named":
        return choose_family(finite)[0]
    raise InputError(f"fixed must be 'empirical' or 'named', got {fixed!r}")


def _fit_b(family, a_points, data):
    """b's maximum-likelihood law in ``family``: started at the fit of the quantile differences
    (Q_{T(w)}(u) − Q_a(u)) / w, then the convolution likelihood maximised by Nelder–Mead."""
    u = (np.arange(400) + 0.5) / 400
    diffs = np.concatenate([(np.quantile(t, u) - np.quantile(a_points, u)) / w for w, t in data])
    diffs = diffs[diffs > 0]
    if diffs.size < 2:
        raise InputError("the times at load > 0 are not larger than at load 0: no positive b to fit")
    grid = grid_of(a_points, data)

    def objective(law):
        return sum(convolution_loglik(law, grid, t, w) for w, t in data)

    start = mle(family, diffs)
    candidates = [start]
    if not objective(start) > -math.inf:
        # b's support must start below every (t − min a)/w: a start beyond it has likelihood 0;
        # the search from it may still find its way, so both searches run and the better is kept
        room = min((float(np.min(t)) - float(np.min(a_points))) / w for w, t in data)
        candidates += [law for law in (_inside(start, room),) if law is not None]
    law = max((numeric_mle(type(s), s, objective) for s in candidates), key=objective)
    return law, objective(law)


def _inside(law, room):
    """The law with its support start (shift, or the Pareto scale) moved to half of ``room``."""
    name = "shift" if "shift" in type(law).params() else "scale" if type(law).name == "pareto" else None
    if name is None or room <= 0 or getattr(law, name) < room:
        return None
    return type(law)(**{**{k: getattr(law, k) for k in type(law).params()}, name: 0.5 * room})


def fit_loads(traces, loads, sources=None, fixed="empirical", families=CANDIDATES) -> FitResult:
    """T(w) = a + b · w from traces at ``loads`` (one must be 0), a and b independent
    (docs/fitting.md): a from the load-0 trace, b's family chosen by the AIC of the convolution
    likelihood of the traces at w > 0."""
    traces = [np.asarray(t, dtype=float) for t in traces]
    loads = [float(w) for w in loads]
    sources = list(sources) if sources is not None else [""] * len(traces)
    _check(traces, loads, sources)
    zero = loads.index(0.0)
    a_law = _a_law(traces[zero], sources[zero], fixed)
    a_points = quadrature(a_law)
    data = [(w, t[np.isfinite(t)].ravel()) for w, t in zip(loads, traces) if w > 0]
    table, laws = [], {}
    with progress.task("fit b's family", len(families)) as step:
        for family in families:
            step(family)
            try:
                # a tiny load w makes (t − a)/w overflow scipy's moment starts: refused below, not warned
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore", RuntimeWarning)
                    law, ll = _fit_b(family, a_points, data)
            except ValueError:
                law, ll = None, -math.inf
            laws[family] = law
            k = len(type(law).params()) if law is not None else 0
            table.append({"family": family, "loglik": ll, "aic": 2 * k - 2 * ll, "spec": law.spec if law else None})
    table.sort(key=lambda r: r["aic"])
    if not math.isfinite(table[0]["aic"]):
        raise InputError("no family for b fits the traces at load > 0")
    b_law = laws[table[0]["family"]]
    # a worker that never answers (inf) at a load w > 0, what a run experiences, is a full straggler
    # of the fitted law, as in fit_trace: dropping it would make the law faster than the measurements
    full = float(np.mean(np.concatenate([np.isinf(t).ravel() for w, t in zip(loads, traces) if w > 0])))
    model = FixedCost(a_law, FullStragglers(b_law, full) if full > 0 else b_law)
    files = [{"path": s, "load": w, "ks": _ks(b_law, a_points, w, t)} for s, w, t in zip(sources, loads, traces)]
    report = {
        "a": a_law.spec,
        "a_kind": fixed,
        "b_family": table[0]["family"],
        "families": table,
        "full_stragglers": full,
        "files": files,
        "independence": independence(traces, loads, zero),
        "model": model.spec,
    }
    return FitResult(model, report)


def _ks(b_law, a_points, w, t):
    t = np.sort(t[np.isfinite(t)].ravel())
    return float(scipy.stats.kstest(t, lambda x: load_cdf(b_law, a_points, w, x)).statistic)


def independence(traces, loads, zero) -> dict:
    """What the data can say about a and b being independent. Traces at different loads are
    separate runs, so the pair (a, b) of one invocation is never seen; its consequence is: a worker
    with a persistently large a (or b) would be slow at every load. Spearman's ρ between the
    per-worker medians at load 0 and at each other load tests that (H0: ρ = 0)."""
    base = np.median(traces[zero], axis=0)
    out = []
    for w, t in zip(loads, traces):
        if w == 0:
            continue
        rho, p = scipy.stats.spearmanr(base, np.median(t, axis=0))
        out.append({"load": w, "spearman_rho": float(rho), "p_value": float(p)})
    return {"test": "spearman rank correlation of per-worker medians (load 0 vs load w)", "results": out}
