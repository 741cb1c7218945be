"""The evaluation of a runtime: exact or Monte Carlo, and the one policy choosing between them
(:func:`use_exact`); re-exported by ``bcgc.analysis``."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .. import _validate as V
from .. import streams
from ..stragglers import as_law
from ..timing.general import check_subset_sizes
from ..timing.orderstat import OrderStatMax
from ..timing.work import as_order
from .exact import completion_probability_exact
from .expectation import InexactQuadrature, expected_runtime_exact, mean_is_finite
from .general import general_monte_carlo, needs_general
from .montecarlo import monte_carlo
from .names import EVALUATION_METHODS, EXACT_MAX_WORKERS
from .result import Evaluation, tail_checked


def can_evaluate_exactly(model, workers: int) -> bool:
    """Exact evaluation applies to i.i.d. named laws; "auto" also caps N (EXACT_MAX_WORKERS)."""
    return bool(model.iid and model.exact)


def use_exact(model, workers: int, method: str = "auto", max_workers: float = EXACT_MAX_WORKERS) -> bool:
    """The one exact-versus-Monte-Carlo policy: "exact" demands the exact path (an error when the
    law does not allow it), "monte-carlo" never takes it, "auto" takes it for i.i.d. named laws
    with N ≤ ``max_workers`` (the exact walk costs O(N³) per probability)."""
    method = V.Options(*EVALUATION_METHODS).check("evaluation method", method)
    possible = can_evaluate_exactly(model, workers)
    if method == "exact" and not possible:
        raise V.InputError(
            f"exact evaluation needs an i.i.d. named law, got {model.spec!r}; "
            "use Monte Carlo evaluation (--evaluation monte-carlo)"
        )
    return method == "exact" or (method == "auto" and possible and workers <= max_workers)


def evaluate_runtime(
    model, workers: int, runtime: OrderStatMax, deadline=None, method: str = "auto", samples: int = 200_000, seed=0
) -> Evaluation:
    """Evaluate a max-of-order-statistics runtime; ``method`` is auto, exact or monte-carlo.

    Under "auto" an exact E[τ] whose quadrature cannot reach its accuracy falls back to Monte Carlo
    and the evaluation's ``note`` says so; under "exact" that is an error. An infinite E[τ] says
    why in ``note``."""
    if use_exact(model, workers, method):
        try:
            mean = expected_runtime_exact(model, workers, runtime)
        except InexactQuadrature as exc:
            if method == "exact":
                raise V.InputError(
                    f"exact evaluation cannot reach its accuracy for {model.spec!r}: {exc}; "
                    "use Monte Carlo evaluation (--evaluation monte-carlo)"
                ) from None
            return _declined(model, workers, runtime, deadline, samples, seed, exc)
        prob = None
        if deadline is not None:
            prob = float(completion_probability_exact(model, workers, runtime, deadline)[0][0])
        note = "" if math.isfinite(mean) else mean_is_finite(model, runtime.chain()[1])[1]
        return Evaluation(mean, None, prob, None, deadline, "exact", note)
    ev = monte_carlo(model, workers, runtime.samples, samples, seed=seed, deadline=deadline)
    return tail_checked(ev, model, workers, int(np.min(runtime.chain()[1])))


def _declined(model, workers, runtime, deadline, samples, seed, exc: InexactQuadrature) -> Evaluation:
    """The exact quadrature fell short of RTOL: Monte Carlo, unless τ's variance is infinite (then a
    sample mean is far off while its standard error looks small, and the quadrature's own result,
    with its error estimate as the ±, is the better number; method "quadrature")."""
    level = int(np.min(runtime.chain()[1]))
    prob = None
    if deadline is not None:
        prob = float(completion_probability_exact(model, workers, runtime, deadline)[0][0])
    if model.order_tail_exponent(workers, level) <= 2 and math.isfinite(exc.value) and exc.error < 1e-2 * exc.value:
        note = f"exact quadrature short of its accuracy ({exc}): its result, ± its error estimate"
        return Evaluation(exc.value, exc.error, prob, None, deadline, "quadrature", note)
    ev = monte_carlo(model, workers, runtime.samples, samples, seed=seed, deadline=deadline)
    return tail_checked(
        replace(ev, note=f"exact quadrature declined ({exc}): Monte Carlo instead"), model, workers, level
    )


def evaluate(
    model,
    workers: int,
    blocks,
    deadline=None,
    method: str = "auto",
    samples: int = 200_000,
    seed=0,
    subset_sizes=None,
    work_order=None,
) -> Evaluation:
    """E[τ(x; T)] and P(τ(x; T) ≤ deadline) of a block design x (equation (2); docs/algorithms.md).

    ``blocks`` are the N block sizes (any non-negative numbers summing to L > 0; integers for a
    real design, fractions for a relaxed one). Exact for i.i.d. named laws (N ≤ EXACT_MAX_WORKERS
    under "auto"), Monte Carlo with standard errors otherwise.
    ``subset_sizes``: the data allocation d (None: equal subsets). A law with a fixed cost or unequal
    subsets is evaluated by Monte Carlo through the general model (docs/model.md), never by (2).
    ``work_order``: the workers' work order (``bcgc.timing.work.WorkOrder``; None: the paper's); a
    backprop order is evaluated by Monte Carlo too (docs/model.md, "The backprop work order").
    """
    model = as_law(model)
    workers = model.check_workers(workers)
    if isinstance(blocks, (str, bytes)) or any(isinstance(v, (bool, np.bool_, str)) for v in np.ravel(blocks)):
        raise V.InputError(f"blocks must be {workers} non-negative numbers with a positive sum, got {blocks!r}")
    try:
        x = np.asarray(blocks, dtype=float)
    except (TypeError, ValueError):  # a dict, ragged lists, ...
        x = np.full(0, np.nan)
    if x.ndim != 1 or x.size != workers or not np.all(np.isfinite(x)) or np.any(x < 0) or x.sum() <= 0:
        raise V.InputError(f"blocks must be {workers} non-negative numbers with a positive sum, got {blocks!r}")
    if deadline is not None:
        deadline = V.positive("deadline", deadline)
    samples = V.integer("samples", samples, minimum=2)
    if not isinstance(seed, np.random.Generator):  # design()'s own evaluation stream: same seed, same numbers
        seed = streams.rng(V.integer("seed", seed, minimum=0), streams.EVALUATION)
    order = as_order(work_order)
    if needs_general(model, check_subset_sizes(subset_sizes, workers)) or not order.is_paper:
        if method == "exact":
            raise V.InputError(
                f"exact evaluation needs formula (2): no fixed cost, equal subsets and the paper's work order, "
                f"got {model.spec!r}"
                + ("" if subset_sizes is None else " with unequal subset_sizes")
                + ("" if order.is_paper else f" under the {order.kind} order")
                + "; use Monte Carlo evaluation (--evaluation monte-carlo)"
            )
        ev = general_monte_carlo(model, workers, x, subset_sizes, samples, seed, deadline, order)
        return tail_checked(ev, model, workers, int(np.flatnonzero(x > 0)[0]))
    return evaluate_runtime(model, workers, OrderStatMax.from_blocks(x), deadline, method, samples, seed)
