"""One attempt at an iteration (:class:`Round`) and its log line (``bcgc train --log``, ``TrainResult.logs``; docs/runtime.md, the log)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..problems.models import metrics_of
from .holdings import sizes_list

__all__ = ["Round", "iteration_record", "json_list", "sizes_record"]


@dataclass
class Round:
    """What one attempt at an iteration has gathered so far."""

    tag: int
    T: np.ndarray
    start: float
    dec: object  # the plan's decoder: what has arrived, what is decoded
    compute: list = field(default_factory=list)
    overhead: float = 0.0
    a: np.ndarray | None = None  # the injected fixed costs and rates (unit of T)
    stamps: list = field(default_factory=list)  # (worker, level, stamp, seconds since publish)


def iteration_record(m, iteration, attempt, r, measured, overhead, error, obs, est) -> dict:
    """Master ``m``'s record of round ``r`` (a :class:`Round`): what it measured, what the model
    predicted for the same draw, the decoded blocks, the observations and the (a, b) fitted to them."""
    est_a, est_b = est
    rec = {
        "event": "iteration",
        "scheme": m.name,
        "iteration": iteration,
        "round": r.tag,
        "attempts": attempt + 1,
        "measured_seconds": measured,
        "predicted_seconds": m._predicted(r, obs, est_a, est_b),
        "T": json_list(r.T) if m.mode != "natural" else None,
        "design": m.plan.design,
        **sizes_record(m.data.sizes),
        "blocks": {str(s): r.dec.info[s] for s in sorted(r.dec.info)},
        "master_overhead_seconds": overhead,
        "loss": m.problem.loss(m.theta),
        "metrics": metrics_of(m.problem, m.theta),
        "gradient_error": error,
        "dead": sorted(m.dead),
        "observations": obs,
        "estimated": {"a": json_list(est_a), "b": json_list(est_b)},
    }
    if m.mode != "natural":
        rec["injected"] = {"a": json_list(r.a), "b": json_list(r.T - r.a), "unit": m._seconds_per_unit()}
    return rec


def json_list(values) -> list:
    """Finite numbers as floats, inf and NaN as null (JSON has neither)."""
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=float)]


def sizes_record(sizes) -> dict:
    """The design's data allocation for a log line (nothing with equal subsets)."""
    return {} if sizes is None else {"subset_sizes": sizes_list(sizes)}
