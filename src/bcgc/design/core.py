"""The design() dispatcher of ``bcgc.design`` (see the package docstring)."""

from __future__ import annotations

import inspect
import math
import time
from dataclasses import replace

from .. import _validate as V
from .. import progress, streams
from ..analysis import EXACT_MAX_WORKERS, OrderStatMax, evaluate_runtime, general_monte_carlo, needs_general
from ..stragglers import StragglerModel, as_law
from ..timing.general import unequal_sizes
from ..timing.links import links
from ..timing.work import as_order
from . import allocation
from .closed_forms import _m_inverse, _m_jensen, _m_large_deadline
from .common import _Problem, allowed_level_set
from .deadline import _m_stationary
from .integer import _brute_force_design, _integer_score, _local_moves, brute_force_blocks, round_blocks
from .links_design import communication_aware
from .names import METHOD_NAMES, OBJECTIVES
from .optimal import optimal_runtime
from .result import DesignInputs, DesignResult, outcome
from .sample_based import _m_saa_lp, _m_subgradient

__all__ = [
    "design",
    "DesignResult",
    "DesignInputs",
    "METHODS",
    "OBJECTIVES",
    "round_blocks",
    "brute_force_blocks",
    "allowed_level_set",
]


#: methods that minimise E[τ] only (a deadline objective needs another)
_RUNTIME_ONLY = ("jensen", "inverse", "subgradient", "saa-lp")

METHODS = {
    "jensen": _m_jensen,
    "inverse": _m_inverse,
    "subgradient": _m_subgradient,
    "saa-lp": _m_saa_lp,
    "stationary": _m_stationary,
    "large-deadline": _m_large_deadline,
    "optimal": None,  # dispatched in design()
    "brute-force": None,  # integer enumeration, see _brute_force_design
}
if tuple(METHODS) != METHOD_NAMES:  # the command line lists .names without importing this module
    raise ImportError(f"bcgc.design.names.METHOD_NAMES {METHOD_NAMES} must list METHODS {tuple(METHODS)}")


def design(
    model: StragglerModel,
    workers: int,
    coords: int,
    objective: str = "runtime",
    deadline: float | None = None,
    method: str = "optimal",
    tolerate: int = 0,
    allowed_levels=None,
    samples: int | None = None,
    seed: int = 0,
    eval_samples: int | None = None,
    options: dict | None = None,
    allocate: bool = True,
    bandwidth: float = math.inf,
    latency: float = 0.0,
    ingress: float | None = None,
    subset_sizes=None,
    work_order=None,
) -> DesignResult:
    """Design the block sizes x for N workers and L coordinates.

    Parameters
    ----------
    model : a straggler law (``bcgc.stragglers``), e.g. ``ShiftedExponential(shift=1, rate=1)``.
    workers, coords : N ≥ 1 and L ≥ 1.
    objective : "runtime" (P1, minimise E[τ]) or "deadline" (P2, maximise P(τ ≤ deadline)).
    method : one of METHODS; "optimal" picks the best exact method for the case.
    tolerate : f, forces x_s = 0 for s < f (f full stragglers never block an iteration).
    allowed_levels : optional set of levels that may be non-empty.
    samples : draws of T for sample-based methods (default 1000 for the LP, 20000 for A6).
    seed : seeds every random quantity (same seed, same design).
    eval_samples : Monte Carlo draws for the final evaluation when it cannot be exact (default
        200 000, or 2·10^7 / N draws when N > 100, at least 2 000: the same work at every N).
    allocate : when workers differ, let ``optimal`` choose unequal subset sizes too (the result's
        ``subset_sizes``; docs/model.md, "Unequal subsets"); False keeps equal subsets. Under links
        subsets stay equal.
    bandwidth, latency, ingress : upload links (``bcgc.timing.links``; default free communication). Under
        links the result minimises E[τ] including uploads (``design.links_design``), evaluated by
        Monte Carlo; runtime objective only.
    subset_sizes : a given data allocation d (N numbers ≥ 0 summing to 1; None: equal subsets, or
        the design's choice with ``allocate``): the blocks are designed for it by local search on the
        general model (methods optimal, subgradient, brute-force; free links) — e.g. a re-design after
        deaths, when the data stay where they are (docs/algorithms.md, "Fixed costs and unequal subsets").
    work_order : the workers' work order (``bcgc.timing.work.WorkOrder``; None: the paper's). A backprop
        order designs by local search on the general model under that order (methods optimal,
        subgradient, brute-force; free links; subset sizes are not searched, a given allocation is
        kept): docs/model.md, "The backprop work order"; docs/algorithms.md, same section.
    """
    t_start = time.perf_counter()
    p, inputs = _setup(
        model,
        workers,
        coords,
        objective,
        deadline,
        method,
        tolerate,
        allowed_levels,
        samples,
        seed,
        eval_samples,
        options,
    )
    net = links(bandwidth, latency, ingress)
    if not net.free and objective != "runtime":
        raise V.InputError("a deadline objective under links is not supported: use objective 'runtime'")
    chosen = _chosen(method, objective)
    order = as_order(work_order)
    d = unequal_sizes(subset_sizes, p.workers)
    if subset_sizes is not None and d is None:
        allocate = False  # given equal subsets: today's design, exactly
    if d is not None and not net.free:
        raise V.InputError("subset_sizes (a given allocation) is for free links: drop bandwidth/latency/ingress")
    if not order.is_paper:
        if not net.free:
            raise V.InputError(
                "work_order: the backprop order is designed for free links: drop bandwidth/latency/ingress"
            )
        p.options = dict(inputs.options)
        x, z, d, diagnostics = allocation.solve_order(
            p,
            inputs.coords,
            objective,
            method,
            lambda: _solve(p, inputs.coords, objective, method, chosen, dict(inputs.options)),
            d,
            order,
        )
        inputs = replace(inputs, work_order=order)
    elif d is not None:
        p.options = dict(inputs.options)
        x, z, d, diagnostics = allocation.solve_given(
            p,
            inputs.coords,
            objective,
            method,
            lambda: _solve(p, inputs.coords, objective, method, chosen, dict(inputs.options)),
            d,
        )
    elif allocation.applies(
        p.model, method, objective, allocate and net.free, p.workers
    ):  # a fixed cost or workers that differ
        p.options = dict(inputs.options)
        x, z, d, diagnostics = allocation.solve(
            p,
            inputs.coords,
            objective,
            method,
            lambda: _solve(p, inputs.coords, objective, method, chosen, dict(inputs.options)),
            allocate and net.free,
        )
    else:
        x, z, diagnostics = _solve(p, inputs.coords, objective, method, chosen, dict(inputs.options))
    if not net.free:  # the oblivious design is the start and the reference (docs/algorithms.md)
        x, ev, diagnostics["links"] = communication_aware(p, x, inputs.coords, net, inputs.eval_samples)
        return replace(
            _result(p, x, z, inputs, chosen, diagnostics, time.perf_counter() - t_start, d, ev),
            inputs=replace(inputs, links=net),
        )
    solve_seconds = time.perf_counter() - t_start
    return _result(p, x, z, inputs, chosen, diagnostics, solve_seconds, d)


def _chosen(method: str, objective: str) -> str:
    """The method that actually solves: ``optimal`` is A3 for the runtime, A6 for a deadline."""
    if method == "optimal":
        return "saa-lp" if objective == "runtime" else "stationary"
    return method


def _check_options(method: str, objective: str, options: dict) -> dict:
    """Options are keyword arguments of the solving method; anything else is refused, never ignored."""
    fn = METHODS.get(_chosen(method, objective))
    allowed = [] if fn is None else [k for k in inspect.signature(fn).parameters if k != "p"]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise V.InputError(
            f"options {unknown} are not options of method {_chosen(method, objective)!r}; "
            f"allowed: {', '.join(allowed) if allowed else 'none'}"
        )
    return dict(options)


def _setup(
    model, workers, coords, objective, deadline, method, tolerate, allowed_levels, samples, seed, eval_samples, options
):
    """Validate the arguments (in this order, so the first bad one is named) and build the problem.
    Returns (problem, inputs)."""
    model = as_law(model)
    workers = model.check_workers(workers)
    coords = V.coords(coords)
    if objective not in OBJECTIVES:
        raise V.InputError(f"objective must be 'runtime' or 'deadline', got {objective!r}")
    method = V.Options(*METHODS).check("method", method)
    if objective == "deadline" and method in _RUNTIME_ONLY:
        raise V.InputError(
            f"method {method!r} minimises E[τ]; for objective 'deadline' use one of "
            "optimal, stationary, large-deadline, brute-force"
        )
    tolerate = V.integer("tolerate", tolerate, minimum=0, maximum=workers - 1)
    if deadline is not None:
        deadline = V.positive("deadline", deadline, allow_inf=False)
    if objective == "deadline" and deadline is None:
        raise V.InputError("deadline is required for objective 'deadline' (a number > 0)")
    seed = V.integer("seed", seed, minimum=0)
    levels = allowed_level_set(workers, tolerate, allowed_levels)
    opts = _check_options(method, objective, dict(options or {}))
    if samples is None:
        samples = 20_000 if (objective == "deadline" or method == "stationary") else 1_000
    samples = V.integer("samples", samples, minimum=10)
    if eval_samples is None:
        eval_samples = min(200_000, max(2_000, 20_000_000 // workers))
    eval_samples = V.integer("eval_samples", eval_samples, minimum=10)

    p = _Problem(model, workers, levels, deadline, samples, seed)
    if objective == "runtime":
        p.check_runtime_finite()
    inputs = DesignInputs(
        model,
        workers,
        coords,
        objective,
        deadline,
        method,
        tolerate,
        None if allowed_levels is None else tuple(int(v) for v in allowed_levels),
        samples,
        seed,
        eval_samples,
        opts,
    )
    return p, inputs


def _solve(p: _Problem, coords: int, objective: str, method: str, chosen: str, opts: dict):
    """Run the chosen method, then round (R) and improve by local moves. Returns (x, z, diagnostics)."""
    diagnostics: dict = {}
    if chosen == "brute-force":
        x, diag = _brute_force_design(p, coords, objective)
        z = x / coords
        diagnostics.update(diag)
        moves = 0
    else:
        optimal = method == "optimal" and objective == "runtime"
        with progress.task("design", 4 if optimal else 1) as step:
            if optimal:
                z, diag = optimal_runtime(p, opts, step)
            else:
                step(chosen)
                z, diag = METHODS[chosen](p, **opts)
            diagnostics.update(diag)
        x = round_blocks(z, coords, p.levels)
        score = _integer_score(p, objective, exact_if_possible=False)
        # above EXACT_MAX_WORKERS one coordinate changes nothing measurable
        x, moves, evals = (
            _local_moves(x, p.levels, score, max_evals=4 * p.levels.size + 4)
            if p.workers <= EXACT_MAX_WORKERS
            else (x, 0, 0)
        )
    diagnostics["rounding_moves"] = moves
    return x, z, diagnostics


def _result(p: _Problem, x, z, inputs: DesignInputs, chosen, diagnostics, solve_seconds, d=None, ev=None):
    """Evaluate the integer design (exactly where possible; ``ev`` when given) and pack the answer."""
    if ev is None and (needs_general(p.model, d) or inputs.work_order is not None):
        rng = streams.rng(p.seed, streams.EVALUATION)
        ev = general_monte_carlo(p.model, p.workers, x, d, inputs.eval_samples, rng, p.deadline, inputs.work_order)
    if ev is None:
        ev = evaluate_runtime(
            p.model,
            p.workers,
            OrderStatMax.from_blocks(x),
            p.deadline,
            "auto",
            inputs.eval_samples,
            streams.rng(p.seed, streams.EVALUATION),
        )
    success, message = outcome(chosen, diagnostics)
    return DesignResult(
        blocks=x,
        relaxed=z * inputs.coords,
        evaluation=ev,
        inputs=inputs,
        success=success,
        message=message,
        nit=int(diagnostics.get("nit", 0)),
        solve_seconds=solve_seconds,
        diagnostics=diagnostics,
        subset_sizes=d,
    )
