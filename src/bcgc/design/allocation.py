"""Designs beyond formula (2): laws with a fixed cost, and heterogeneous workers, for which the
design chooses the data allocation (subset sizes d) with the blocks (docs/algorithms.md, "Fixed
costs and unequal subsets"; docs/model.md, "Unequal subsets").

* A law with a fixed cost: only methods that work on samples of (a, b) can take it (``optimal``,
  ``subgradient``, ``brute-force``); the others are derived from formula (2) and refuse it.
* Workers that differ (a heterogeneous law, a trace, per-worker fitted laws) and ``optimal`` for
  the runtime: the design searches blocks and subset sizes jointly, from today's design with equal
  subsets and from d_n ∝ 1/median(T_n), and keeps the allocation only when it beats the
  equal-subset design on independent common draws by more than two standard errors of the paired
  difference. Identical workers (an i.i.d. law) skip all of this: today's design, exactly.
"""

from __future__ import annotations

import numpy as np

from .. import streams
from .._validate import InputError
from ..stragglers import FixedCost, FullStragglers, Heterogeneous
from . import general as G
from .closed_forms import _m_jensen, _m_large_deadline
from .common import _Problem
from .integer import _compositions, _local_moves, round_blocks
from .sample_based import _m_saa_lp

#: methods that can take a fixed cost (they work on samples of (a, b))
GENERAL_METHODS = ("optimal", "subgradient", "brute-force")
#: above this N the allocation search is skipped (its sample objective costs K·N² per step)
ALLOCATION_MAX_WORKERS = 64
#: draws on which the kept design is chosen (common random numbers, at most this many values K·N²)
_CHOICE_VALUES = 20_000_000


def workers_differ(model) -> bool:
    """Whether workers may differ persistently: not for i.i.d. laws or identical per-worker laws."""
    if getattr(model, "iid", False):
        return False
    if isinstance(model, FullStragglers):
        return workers_differ(model.base)
    if isinstance(model, Heterogeneous):
        return len({law.spec for law in model.laws}) > 1
    if isinstance(model, FixedCost):
        return any(workers_differ(m) for m in (model.fixed, model.rate) if not isinstance(m, float))
    return True  # a trace, or a law this module does not know: the search decides on common draws


def applies(model, method: str, objective: str, allocate: bool = True, workers: int = 0) -> bool:
    """Whether the design leaves formula (2): a fixed cost, or an allocation worth searching
    (workers that differ, N ≤ ALLOCATION_MAX_WORKERS)."""
    if model.has_fixed_cost:
        if method not in GENERAL_METHODS:
            raise InputError(
                f"method {method!r} is derived from formula (2), which a fixed cost breaks "
                f"({model.spec}); use one of {', '.join(GENERAL_METHODS)}"
            )
        return True
    return _searches_allocation(model, method, objective, allocate, workers)


def _searches_allocation(model, method, objective, allocate, workers) -> bool:
    """Unequal subsets are searched for the runtime by ``optimal`` when workers differ (N ≤ the cap)."""
    return (
        allocate
        and method == "optimal"
        and objective == "runtime"
        and workers <= ALLOCATION_MAX_WORKERS
        and workers_differ(model)
    )


def solve(p: _Problem, coords: int, objective: str, method: str, today, allocate: bool = True):
    """(x, z, d or None, diagnostics). ``today()`` runs the formula (2) design (no fixed cost)."""
    n = p.workers
    fixed = p.model.has_fixed_cost
    if fixed and getattr(p, "options", None):
        raise InputError(
            f"options {sorted(p.options)} apply to formula (2)'s methods, not to the local search "
            "under a fixed cost: leave them out"
        )
    allocate = _searches_allocation(p.model, method, objective, allocate, n)
    draws = _design_draws(p)
    diag = {"general_model": "fixed cost" if fixed else "unequal subsets", "design_draws": draws.b.shape[0]}
    if method == "brute-force":
        x = _brute_force(draws, coords, p.levels, objective, p.deadline)
        return x, x / coords, None, {**diag, "nit": 0}
    if fixed:
        starts = _fixed_cost_starts(p, method, objective)
        equal_x = None
    else:
        equal_x, z_today, today_diag = today()
        starts = {"formula-2": z_today}
        diag["formula_2_design"] = today_diag
    iterations = _iterations(n)
    best = _search(starts, p, draws, objective, allocate, iterations)
    diag["starts"] = {name: v for name, (v, _, _) in best.items()}
    name = min(best, key=lambda k: best[k][0])
    _, z, d = best[name]
    if not fixed and d is None:  # equal subsets win: today's design, exactly
        return equal_x, z_today, None, {**today_diag, "allocation": "equal subsets kept on the design draws"}
    x = _round(z, d, coords, p, draws, objective)
    diag.update(start=name, nit=len(best) * iterations)
    if d is None:
        return x, z, None, diag
    if fixed:  # the best equal-subset candidate is the reference
        name = min((k for k in best if best[k][2] is None), key=lambda k: best[k][0])
        z_today = best[name][1]
        equal_x = _round(z_today, None, coords, p, draws, objective)
    keep, choice = _keep_allocation(p, equal_x, x, d, objective)
    if keep:
        return x, z, d, {**diag, "allocation": choice}
    if not fixed:  # the allocation did not pay on independent draws: today's design, exactly
        return equal_x, z_today, None, {**today_diag, "allocation": choice}
    return equal_x, z_today, None, {**diag, "start": name, "allocation": choice}


def _design_draws(p: _Problem, order=None) -> G.Draws:
    """The draws the local search works on: at most the design's samples, fewer at large N (its
    objective costs K·N² per step); runtimes under the work ``order`` (None: the paper's)."""
    n = p.workers
    k = int(min(p.n_samples, max(50, _CHOICE_VALUES // (10 * n * n))))
    return G.Draws(p.model, n, k, p.seed, streams.DESIGN_SAMPLES, order)


def solve_given(p: _Problem, coords: int, objective: str, method: str, today, d):
    """(x, z, d, diagnostics): the blocks for a GIVEN allocation d (the data stay where they are, e.g.
    after deaths), by local search on the general model from the formula (2) design (``today()``, or
    the fixed-cost starts) and from the lowest allowed level alone."""
    if method not in GENERAL_METHODS:
        raise InputError(
            f"method {method!r} is derived from formula (2), which unequal subset_sizes break; "
            f"use one of {', '.join(GENERAL_METHODS)}"
        )
    n = p.workers
    draws = _design_draws(p)
    diag = {"general_model": "given subset sizes", "design_draws": draws.b.shape[0]}
    if method == "brute-force":
        x = _brute_force(draws, coords, p.levels, objective, p.deadline, d)
        return x, x / coords, d, {**diag, "nit": 0}
    if p.model.has_fixed_cost:
        starts = _fixed_cost_starts(p, method, objective)
    else:
        starts = {"formula-2": today()[1], "single": _single(p.levels[0], n)}
    name, z, x, best, iterations = _best_start(starts, d, coords, p, draws, objective)
    return (
        x,
        z,
        d,
        {**diag, "start": name, "starts": {k: v for k, (v, _) in best.items()}, "nit": len(best) * iterations},
    )


def _best_start(starts, d, coords, p, draws, objective):
    """Local search on the exact sample objective from each start; (name, z, rounded x, {name: (value,
    z)}, iterations per start) of the best."""
    iterations = _iterations(p.workers)
    best = {
        name: G.local_search(z0, d, p.levels, draws, objective, p.deadline, iterations)[:2]
        for name, z0 in starts.items()
        if z0 is not None
    }
    name = min(best, key=lambda k: best[k][0])
    z = best[name][1]
    return name, z, _round(z, d, coords, p, draws, objective), best, iterations


#: local-search starts from single levels under a work order (the best ones on the design draws)
_SINGLE_STARTS = 3


def solve_order(p: _Problem, coords: int, objective: str, method: str, today, d, order):
    """(x, z, d, diagnostics) under a work order other than the paper's (docs/algorithms.md, "The
    backprop work order"): local search on the general model under the order from the paper's design
    (``today()``; the fixed-cost starts with a fixed cost) and from the best single levels; every
    level alone is scored on the design draws and the best is kept when the search does no better
    (under the backprop order the lowest non-empty level's block costs as much as that level alone,
    so a single level is optimal). The allocation d (given, or None for equal subsets) is not moved."""
    if method not in GENERAL_METHODS:
        raise InputError(
            f"method {method!r} is derived from formula (2), which the {order.kind} work order breaks; "
            f"use one of {', '.join(GENERAL_METHODS)}"
        )
    n = p.workers
    draws = _design_draws(p, order)
    diag = {
        "general_model": f"{order.kind} work order",
        "design_draws": draws.b.shape[0],
        "allocation": "not searched under this work order (subset sizes as given, or equal)",
    }
    if method == "brute-force":
        x = _brute_force(draws, coords, p.levels, objective, p.deadline, d)
        return x, x / coords, d, {**diag, "nit": 0}
    score = _score(draws, d, objective, p.deadline)
    singles = {int(s): score(_single(s, n) * coords) for s in p.levels}  # every level alone, scored
    top = sorted(singles, key=singles.get)[:_SINGLE_STARTS]
    starts = _fixed_cost_starts(p, method, objective) if p.model.has_fixed_cost else {"formula-2": today()[1]}
    starts.update({f"level {s}": _single(s, n) for s in top})
    name, z, x, best, iterations = _best_start(starts, d, coords, p, draws, objective)
    if singles[top[0]] <= score(x):  # the best level alone: under the backprop order no design beats it
        x, z, name = (_single(top[0], n) * coords).astype(np.int64), _single(top[0], n), f"level {top[0]} alone"
    starts_seen = {k: v for k, (v, _) in best.items()}
    return (
        x,
        z,
        d,
        {**diag, "start": name, "starts": starts_seen, "single_levels": singles, "nit": len(best) * iterations},
    )


def _fixed_cost_starts(p, method, objective) -> dict:
    """Starts computed on T(1) = a + b: A4 (and for ``optimal`` A3's LP for the runtime, A7 for a
    deadline), and uncoded. A start whose closed form does not exist (infinite moments) is left out."""

    starts = {"uncoded": _single(p.levels[0], p.workers)}
    makers = {"jensen": _m_jensen}
    if method == "optimal":
        makers["saa-lp" if objective == "runtime" else "large-deadline"] = (
            _m_saa_lp if objective == "runtime" else _m_large_deadline
        )
    for name, fn in makers.items():
        try:
            starts[name] = fn(p)[0]
        except ValueError:
            pass
    return starts


def _iterations(n: int) -> int:
    """Local-search steps per start: each costs K·N·(non-empty blocks) ready times, so fewer at large N."""
    return 300 if n <= 16 else (100 if n <= 64 else 30)


def _single(level, n):
    z = np.zeros(n)
    z[level] = 1.0
    return z


def _search(starts: dict, p, draws, objective, allocate, iterations):
    """Local search from every start, with equal subsets and (when allocating) with d ∝ 1/median T_n."""
    out = {}
    d_inv = None
    if allocate:
        med = np.median(draws.a + draws.b, axis=0)
        d_inv = (1.0 / med) / np.sum(1.0 / med)
    for name, z0 in starts.items():
        if z0 is None:
            continue
        out[name] = G.local_search(z0, None, p.levels, draws, objective, p.deadline, iterations)[:3]
        if d_inv is not None:
            for tag, d0 in (("", np.full(p.workers, 1.0 / p.workers)), ("+1/T", d_inv)):
                out[f"{name}+allocation{tag}"] = G.local_search(
                    z0, d0, p.levels, draws, objective, p.deadline, iterations, move_d=True
                )[:3]
    if d_inv is not None:
        out["uncoded+1/T"] = G.local_search(
            _single(p.levels[0], p.workers), d_inv, p.levels, draws, objective, p.deadline, iterations, move_d=True
        )[:3]
    return out


def _score(draws, d, objective, deadline):
    return lambda x: G.objective_weights(G.runtimes(np.asarray(x, dtype=float), d, draws), objective, deadline)[0]


def _round(z, d, coords, p, draws, objective):
    """Rounding R and local moves of single coordinates on the exact sample objective."""
    x = round_blocks(z, coords, p.levels)
    return _local_moves(x, p.levels, _score(draws, d, objective, p.deadline), max_evals=4 * p.levels.size + 4)[0]


def _brute_force(draws, coords, levels, objective, deadline, d=None):
    """A1 on the general model: every composition of L into the allowed levels, scored on draws."""
    score = _score(draws, d, objective, deadline)
    best, best_val = None, np.inf
    for comp in _compositions(coords, levels.size):
        x = np.zeros(draws.workers, dtype=np.int64)
        x[levels] = comp
        val = score(x)
        if val < best_val:
            best, best_val = x, val
    return best


def _keep_allocation(p, equal_x, x, d, objective):
    """Whether (x, d) beats (equal_x, equal subsets) on fresh common draws by > 2 paired standard
    errors, and what was measured."""
    n = p.workers
    k = int(min(max(p.n_samples, 20_000), max(1_000, _CHOICE_VALUES // (n * n))))
    draws = G.Draws(p.model, n, k, p.seed, streams.CANDIDATES)
    alloc = G.runtimes(x.astype(float), d, draws)
    equal = G.runtimes(equal_x.astype(float), None, draws)
    if objective != "runtime":
        alloc, equal = (alloc > p.deadline).astype(float), (equal > p.deadline).astype(float)
    diff = equal - alloc
    se = float(diff.std(ddof=1) / np.sqrt(k)) if np.all(np.isfinite(diff)) else np.inf
    gain = float(diff.mean()) if np.all(np.isfinite(diff)) else 0.0
    keep = gain > 2 * se
    return bool(keep), {
        "kept": bool(keep),
        "equal_subsets": float(equal.mean()),
        "allocation": float(alloc.mean()),
        "gain": gain,
        "gain_stderr": se,
        "draws": k,
    }
