"""The evaluation of a design or scheme, and the one summary of Monte Carlo draws of τ."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

__all__ = ["Evaluation", "summarize", "tail_checked"]


@dataclass(frozen=True)
class Evaluation:
    """E[τ] and P(τ ≤ deadline) of a design; stderr fields are None when the value is exact.
    ``method`` says how it was computed ("exact" or "monte-carlo"); ``note`` why, when it matters."""

    expected_runtime: float
    expected_runtime_stderr: float | None
    completion_probability: float | None
    completion_probability_stderr: float | None
    deadline: float | None
    method: str
    note: str = ""


def summarize(tau: np.ndarray, deadline=None) -> Evaluation:
    """Monte Carlo estimate from draws of τ: the sample mean with its standard error (inf when a
    draw never completes), and the fraction of draws with τ ≤ deadline with its binomial error."""
    if np.isfinite(tau).all():
        mean = float(tau.mean())
        se = float(tau.std(ddof=1) / math.sqrt(tau.size)) if tau.size > 1 else None
    else:
        mean, se = math.inf, None
    prob = prob_se = None
    if deadline is not None:
        prob = float(np.mean(tau <= deadline))
        prob_se = math.sqrt(prob * (1 - prob) / tau.size)
    return Evaluation(mean, se, prob, prob_se, deadline, "monte-carlo")


def tail_checked(ev: Evaluation, model, workers: int, level: int) -> Evaluation:
    """A Monte Carlo evaluation checked against the law's tail (``StragglerModel.mean_is_finite``):
    a finite sample mean of a runtime whose E[τ] diverges becomes inf with the law's reason, and one
    with an infinite variance keeps its estimate but says that its standard error understates the
    error. ``level``: the fewest stragglers any part of the gradient tolerates (None: no check)."""
    if level is None or not math.isfinite(ev.expected_runtime):
        return ev
    finite, why = model.mean_is_finite(workers, level)
    if not finite:
        return replace(ev, expected_runtime=math.inf, expected_runtime_stderr=None, note=why)
    if model.order_tail_exponent(workers, level) <= 2 and ev.expected_runtime_stderr is not None:
        why = (
            f"the variance of τ is infinite (its tail ~ t^-{model.order_tail_exponent(workers, level):g}): "
            "the Monte Carlo standard error understates the error"
        )
        return replace(ev, note="; ".join(v for v in (ev.note, why) if v))
    return ev
