"""Fit a law to one trace (rows = iterations, columns = workers): a family chosen by AIC, the
Kruskal–Wallis test of persistent differences between workers, and per-worker laws when the
workers differ (docs/fitting.md, one trace)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy  # scipy.stats loads on first use (0.5 s): the design path never needs it

from .. import progress
from .._validate import InputError
from ..stragglers import FAMILIES, FullStragglers, Heterogeneous, StragglerModel
from .likelihood import CANDIDATES, aic, choose, ks_distance, loglik

#: per-worker laws are fitted to a few dozen times each: two-parameter families only (the
#: four-parameter bimodal mixture needs the pooled data)
PER_WORKER = tuple(FAMILIES)


@dataclass(frozen=True)
class FitResult:
    """A fitted law and what the fit found (``report``: JSON-ready, docs/fitting.md)."""

    model: StragglerModel
    report: dict

    @property
    def spec(self) -> str:
        return self.model.spec


def persistence_test(samples: np.ndarray, alpha: float = 0.01) -> dict:
    """Kruskal–Wallis H test across columns: H0 = every worker's times come from one law.

    H = (12 / (n(n+1))) Σ_j R_j² / n_j − 3(n+1) on the ranks of all n times (R_j the rank sum of
    worker j), ~ χ² with N − 1 degrees of freedom under H0 (ties corrected by scipy). Small p:
    some workers are persistently faster or slower than others."""
    samples = np.asarray(samples, dtype=float)
    if samples.shape[1] < 2 or samples.shape[0] < 2:
        return {
            "test": "kruskal-wallis",
            "statistic": None,
            "p_value": None,
            "alpha": alpha,
            "differ": False,
            "why": "needs at least 2 workers and 2 rows",
        }
    # a full straggler (inf) ranks above every time: it is the slowest, as it should be
    h, p = scipy.stats.kruskal(*[samples[:, j] for j in range(samples.shape[1])])
    return {
        "test": "kruskal-wallis",
        "statistic": float(h),
        "p_value": float(p),
        "alpha": alpha,
        "differ": bool(p < alpha),
    }


def _with_full(law, values: np.ndarray):
    """The law, mixed with full stragglers at the observed share of ``inf``."""
    share = float(np.mean(np.isinf(values)))
    return FullStragglers(law, share) if share > 0 else law


def _per_worker(samples: np.ndarray) -> tuple[list, dict]:
    """The family whose per-worker fits have the smallest summed AIC, and those fits."""
    best = None
    with progress.task("per-worker laws", len(PER_WORKER) * samples.shape[1]) as step:
        for family in PER_WORKER:
            laws, total = [], 0.0
            try:
                for j in range(samples.shape[1]):
                    step(family)
                    col = samples[:, j][np.isfinite(samples[:, j])]
                    law, _ = choose(col, families=(family,))
                    laws.append(law)
                    total += aic(law, loglik(law, col))
            except ValueError:
                continue
            if best is None or total < best[1]:
                best = (family, total, laws)
    if best is None:
        raise InputError("no family fits every worker's times")
    family, total, laws = best
    return [_with_full(law, samples[:, j]) for j, law in enumerate(laws)], {"family": family, "aic": total}


def fit_trace(samples, alpha: float = 0.01, source: str = "", families=CANDIDATES) -> FitResult:
    """Fit one trace (docs/fitting.md): the pooled law of smallest AIC among ``families``; if the
    Kruskal–Wallis test rejects equal workers at level ``alpha`` AND per-worker laws have the
    smaller total AIC, the heterogeneous law of the per-worker fits."""
    samples = np.asarray(samples, dtype=float)
    if samples.ndim != 2 or samples.shape[0] < 2:
        raise InputError(f"trace {source!r} must hold at least 2 rows of times (one per iteration)")
    if not 0 < alpha < 1:
        raise InputError(f"alpha (the test level) must be in (0, 1), got {alpha!r}")
    finite = samples[np.isfinite(samples)]
    pooled, table = choose(finite, families=families)
    test = persistence_test(samples, alpha)
    per_worker, model = None, _with_full(pooled, samples)
    if test["differ"]:
        laws, per_worker = _per_worker(samples)
        if per_worker["aic"] < table[0]["aic"]:
            model = Heterogeneous(tuple(laws))
        per_worker["chosen"] = isinstance(model, Heterogeneous)
    ks = ks_distance(lambda t: pooled_cdf(model, t), finite)
    report = {
        "path": source,
        "rows": samples.shape[0],
        "workers": samples.shape[1],
        "family": table[0]["family"],
        "aic": table[0]["aic"],
        "families": table,
        "full_stragglers": float(np.mean(np.isinf(samples))),
        "persistence": test,
        "per_worker": per_worker,
        "ks": ks,
        "model": model.spec,
    }
    return FitResult(model, report)


def pooled_cdf(model, t):
    """P(T ≤ t) of one worker picked at random: the mean of the per-worker CDFs (a heterogeneous
    law) or the law's own CDF, at finite times (full stragglers excluded: KS on the finite part)."""
    laws = model.laws if isinstance(model, Heterogeneous) else (model,)
    out = 0.0
    for law in laws:
        inner = law.base if isinstance(law, FullStragglers) else law
        out = out + inner.cdf(t)
    return out / len(laws)
