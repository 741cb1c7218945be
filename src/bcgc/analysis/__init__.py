"""Evaluation of runtimes: exact for i.i.d. named laws (``exact``: the binomial walk), Monte Carlo
for every law (``montecarlo``), with one policy deciding between them (:func:`use_exact`).

docs/algorithms.md, "Exact P(τ ≤ t) for i.i.d. laws".
"""

from __future__ import annotations

from .._lazy import lazy
from .names import EVALUATION_METHODS, EXACT_MAX_WORKERS

__all__ = [
    "OrderStatMax",
    "completion_probability_exact",
    "expected_runtime_exact",
    "tail_probability_and_gradient",
    "InexactQuadrature",
    "mean_is_finite",
    "monte_carlo",
    "runtime_quantiles",
    "Evaluation",
    "summarize",
    "tail_checked",
    "evaluate",
    "evaluate_runtime",
    "can_evaluate_exactly",
    "general_monte_carlo",
    "needs_general",
    "use_exact",
    "EVALUATION_METHODS",
    "EXACT_MAX_WORKERS",
]

#: where each name lives: imported at its first use (PEP 562), so that the command line's parsers,
#: which only need the names (.names), do not import scipy
_LAZY = {
    "OrderStatMax": "..timing.orderstat",
    "completion_probability_exact": ".exact",
    "tail_probability_and_gradient": ".exact",
    "expected_runtime_exact": ".expectation",
    "InexactQuadrature": ".expectation",
    "mean_is_finite": ".expectation",
    "monte_carlo": ".montecarlo",
    "runtime_quantiles": ".montecarlo",
    "Evaluation": ".result",
    "summarize": ".result",
    "tail_checked": ".result",
    "general_monte_carlo": ".general",
    "needs_general": ".general",
    "evaluate": ".evaluation",
    "evaluate_runtime": ".evaluation",
    "can_evaluate_exactly": ".evaluation",
    "use_exact": ".evaluation",
}


__getattr__, __dir__ = lazy(__name__, _LAZY, globals(), __all__)
