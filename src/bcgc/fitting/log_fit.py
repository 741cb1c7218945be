"""Fit a law to the observations of a training log (docs/fitting.md, training logs).

Each JSON line of ``bcgc train --log`` may carry "observations": [worker, work, seconds, censored]
(work in full-subset gradients done since the iteration started, seconds since the worker started
it, censored = 1 when the worker was cancelled before finishing that work: it was slower). The
time for work w is T(w) = a + b · w; a is a constant fixed cost (a = 0: no fixed cost) and b a named
family, so an observation contributes f_b((t − a)/w)/w if seen and S_b((t − a)/w) if censored. The
observations of one worker in one iteration share their a and b: the likelihood that treats them
as independent is a composite likelihood (consistent estimates, AIC approximate).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import scipy  # scipy.stats loads on first use (0.5 s): the design path never needs it
from scipy import optimize

from .._validate import InputError
from ..stragglers import FAMILIES, FixedCost, Heterogeneous
from .likelihood import aic, choose, ks_censored, loglik, mle
from .trace_fit import FitResult


def read_log(path) -> np.ndarray:
    """The observations of a training log as an array (rows: worker, work, seconds, censored)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"log {str(path)!r} is not a readable file")
    rows, number = [], 0
    try:
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                rows.extend(_line_observations(line, f"log {path.name}: line {number}"))
    except UnicodeDecodeError:  # a binary file, or another encoding: a log is UTF-8 JSON lines
        raise InputError(f"log {path.name}: line {number + 1} is not UTF-8 text (a log is JSON lines)") from None
    except OSError as exc:
        raise InputError(f"log {str(path)!r} cannot be read: {exc.strerror or exc}") from None
    if not rows:
        raise InputError(
            f'log {path.name} holds no observations (lines with "observations": '
            "[[worker, work, seconds, censored], ...])"
        )
    return np.array(rows, dtype=float)


def _line_observations(line: str, where: str) -> list:
    """The observations of one log line ([] for a blank line or a record without them)."""
    if not line.strip():
        return []
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):  # JSONDecodeError, or an integer past Python's 4300 digits
        raise InputError(f"{where} is not JSON (a log line is one JSON object)") from None
    obs = record.get("observations") if isinstance(record, dict) else None
    if obs is None:
        return []
    if not isinstance(obs, list):
        raise InputError(f"{where}: observations must be a list of [worker, work, seconds, censored]")
    return [_observation(o, where) for o in obs]


def _observation(o, where: str) -> list[float]:
    bad = InputError(
        f"{where}: an observation must be [worker, work, seconds, censored] with worker an "
        f"integer >= 0, work and seconds finite numbers > 0, censored 0 or 1, got {o!r}"
    )
    if not isinstance(o, list) or len(o) != 4 or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in o):
        raise bad
    worker, work, seconds, censored = o
    if not (float(worker).is_integer() and worker >= 0 and censored in (0, 1)):
        raise bad
    if not all(math.isfinite(v) and v > 0 for v in (work, seconds)):
        raise bad
    return [float(worker), float(work), float(seconds), float(censored)]


def _fit_with_fixed_cost(family, work, t, c):
    """(a, b law, ℓ) maximising ℓ over a constant a in [0, min seen t): for each a, b's censored
    MLE on u = (t − a)/w, plus the Jacobian −Σ_seen log w."""
    jac = -float(np.sum(np.log(work[~c])))
    top = float(np.min(t[~c]))

    def fit_at(a):
        u = (t - a) / work
        keep = u > 0  # a censored u <= 0 says nothing (S = 1)
        law = mle(family, u[keep], c[keep])
        return law, loglik(law, u[keep], c[keep]) + jac

    def neg(a):
        try:
            return -fit_at(a)[1]
        except ValueError:
            return math.inf

    res = optimize.minimize_scalar(neg, bounds=(0.0, top * (1 - 1e-9)), method="bounded", options={"xatol": 1e-6 * top})
    a = float(res.x) if neg(res.x) <= neg(0.0) else 0.0
    law, ll = fit_at(a)
    return a, law, ll


def fit_log(obs, alpha: float = 0.01, source: str = "", families=tuple(FAMILIES)) -> FitResult:
    """Choose by AIC among: b alone (T(w) = b·w) and a constant fixed cost a plus b (when the log
    holds at least 2 distinct works), for every family; censored observations through S
    (docs/fitting.md). Kruskal–Wallis on the seen times at the smallest work across workers; if
    the workers differ, per-worker laws of the chosen family and kind (a_n and b_n per worker)."""
    obs = np.asarray(obs, dtype=float)
    worker, work, t, c = obs[:, 0].astype(int), obs[:, 1], obs[:, 2], obs[:, 3].astype(bool)
    if (~c).sum() < 2:
        raise InputError(f"log {source}: at least 2 uncensored observations are needed to fit a law")
    plain, table = choose(t / work, c, families=families)
    jac = -float(np.sum(np.log(work[~c])))  # the density of t = b·w is f_b(t/w)/w
    rows = [dict(r, loglik=r["loglik"] + jac, aic=r["aic"] - 2 * jac, fixed_cost=0.0) for r in table]
    best = {"kind": "plain", "law": plain, "aic": rows[0]["aic"], "a": 0.0}
    if np.unique(work).size >= 2:
        for family in families:
            try:
                a, law, ll = _fit_with_fixed_cost(family, work, t, c)
            except ValueError:
                continue
            score = aic(law, ll) + 2  # a is one more parameter
            rows.append({"family": family, "loglik": ll, "aic": score, "spec": law.spec, "fixed_cost": a})
            if score < best["aic"]:
                best = {"kind": "affine", "law": law, "aic": score, "a": a}
    rows.sort(key=lambda r: r["aic"])
    # one work level (the smallest: the first block, rarely cancelled), so that a fixed cost or
    # the censoring of slow workers at larger works does not pass for a worker difference
    first = (work == work.min()) & ~c
    groups = [t[(worker == n) & first] for n in np.unique(worker)]
    test = _test(groups, alpha)
    model = best["law"] if best["kind"] == "plain" else FixedCost(best["a"], best["law"])
    if test["differ"]:
        model = _per_worker(type(best["law"]).name, best["kind"], worker, work, t, c) or model
    u = (t - best["a"]) / work
    ks = ks_censored(best["law"].cdf, u[u > 0], c[u > 0])
    report = {
        "path": source,
        "observations": int(len(t)),
        "censored": int(c.sum()),
        "workers": int(np.unique(worker).size),
        "family": type(best["law"]).name,
        "fixed_cost": best["a"],
        "aic": best["aic"],
        "families": rows,
        "persistence": test,
        "ks": ks,
        "model": model.spec,
    }
    return FitResult(model, report)


def _test(groups, alpha):
    """Kruskal–Wallis on the seen times at the smallest work, one group per worker (ragged groups)."""
    groups = [g for g in groups if g.size]
    if len(groups) < 2:
        return {
            "test": "kruskal-wallis",
            "statistic": None,
            "p_value": None,
            "alpha": alpha,
            "differ": False,
            "why": "needs seen times of at least 2 workers",
        }
    h, p = scipy.stats.kruskal(*groups)
    return {
        "test": "kruskal-wallis",
        "statistic": float(h),
        "p_value": float(p),
        "alpha": alpha,
        "differ": bool(p < alpha),
        "note": "on the uncensored times at the smallest work",
    }


def _per_worker(family, kind, worker, work, t, c):
    """One law per worker, of the chosen family and kind (with a fixed cost a_n or without); None
    when some worker has too few seen times (or, with a fixed cost, fewer than 2 distinct works)."""
    laws = []
    for n in range(int(worker.max()) + 1):
        mine = worker == n
        if (~c[mine]).sum() < 2 or (kind == "affine" and np.unique(work[mine]).size < 2):
            return None  # keep the pooled law
        if kind == "plain":
            laws.append(mle(family, t[mine] / work[mine], c[mine]))
        else:
            a, law, _ = _fit_with_fixed_cost(family, work[mine], t[mine], c[mine])
            laws.append(FixedCost(a, law))
    return Heterogeneous(tuple(laws))
