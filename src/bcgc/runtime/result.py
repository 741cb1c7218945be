"""The per-iteration logs of one training run and their summary (docs/runtime.md, logs)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["TrainResult"]


@dataclass
class TrainResult:
    """Per-iteration logs of one run and their summary; ``theta``: the parameters after the last
    iteration (None before any); ``first_iteration``: where the run started (a resumed run: > 0)."""

    name: str
    logs: list = field(default_factory=list)
    redesigns: int = 0
    initial_loss: float = float("nan")
    theta: np.ndarray | None = None
    first_iteration: int = 0
    #: how the first design's procedure was chosen on a trace law (``Procedure.summary``); None: not a
    #: trace, a given design, or a peer
    procedure: str | None = None

    def column(self, key) -> np.ndarray:
        return np.array([r[key] for r in self.logs], dtype=float)

    @property
    def ratios(self) -> np.ndarray:
        return self.column("measured_seconds") / self.column("predicted_seconds")

    def summary(self) -> dict:
        r = self.ratios
        return {
            "name": self.name,
            "iterations": len(self.logs),
            "median_measured_over_predicted": float(np.median(r)),
            "p90_measured_over_predicted": float(np.percentile(r, 90)),
            "mean_iteration_seconds": float(self.column("measured_seconds").mean()),
            "mean_second_half_seconds": float(self.column("measured_seconds")[len(self.logs) // 2 :].mean()),
            "mean_predicted_seconds": float(self.column("predicted_seconds").mean()),
            "mean_master_overhead_seconds": float(self.column("master_overhead_seconds").mean()),
            "final_loss": float(self.logs[-1]["loss"]),
            "max_gradient_error": float(np.nanmax(self.column("gradient_error"))),
            "retries": int(sum(r["attempts"] - 1 for r in self.logs)),
            "redesigns": self.redesigns,
            "design_procedure": self.procedure,
            **({"final_metrics": self.logs[-1]["metrics"]} if self.logs[-1].get("metrics") else {}),
        }

    def time_to_loss(self, target: float) -> float | None:
        """Wall-clock seconds (sum of iteration times) until the loss first reaches ``target``."""
        total = 0.0
        for r in self.logs:
            total += r["measured_seconds"]
            if r["loss"] <= target:
                return total
        return None
