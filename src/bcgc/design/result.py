"""The answer of :func:`bcgc.design.design`: the design, its evaluation, and what it was made from."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..analysis import Evaluation
from ..timing.work import PAPER

__all__ = ["DesignInputs", "DesignResult"]


@dataclass(frozen=True)
class DesignInputs:
    """The arguments a design was made from (validated), so that a result explains itself."""

    model: object
    workers: int
    coords: int
    objective: str
    deadline: float | None
    method: str
    tolerate: int
    allowed_levels: tuple | None
    samples: int
    seed: int
    eval_samples: int
    options: dict = field(default_factory=dict)
    links: object = None  #: upload links (``bcgc.timing.links.Links``) the design minimised E[τ] under; None: free
    #: the work order (``bcgc.timing.work.WorkOrder``) the design minimised under; None: the paper's
    work_order: object = None


@dataclass(frozen=True)
class DesignResult:
    """The answer of :func:`design` (modelled on scipy's OptimizeResult).

    blocks: integer x (N entries summing to L) · relaxed: the continuous solution (sums to L) ·
    evaluation: E[τ] and P(τ ≤ deadline) of ``blocks`` (stderr None when exact) · inputs: the
    arguments · success/message: whether the method converged, said in words · diagnostics: solver
    details of the method. ``value``/``stderr`` are the objective's entry of the evaluation.
    """

    blocks: np.ndarray
    relaxed: np.ndarray
    evaluation: Evaluation
    inputs: DesignInputs
    success: bool
    message: str
    nit: int
    solve_seconds: float
    diagnostics: dict = field(default_factory=dict)
    #: the data allocation d_0..d_{N-1} (fractions summing to 1, cyclic placement, docs/model.md
    #: "Unequal subsets"); None: equal subsets (1/N each)
    subset_sizes: np.ndarray | None = None
    #: how the design procedure was chosen on a trace law (``bcgc.design.procedure.Procedure``:
    #: cross-validated, or why not); None: a law that is not a trace, or :func:`design` called directly
    procedure: object = None

    objective = property(lambda self: self.inputs.objective)
    method = property(lambda self: self.inputs.method)
    deadline = property(lambda self: self.inputs.deadline)
    expected_runtime = property(lambda self: self.evaluation.expected_runtime)
    expected_runtime_stderr = property(lambda self: self.evaluation.expected_runtime_stderr)
    completion_probability = property(lambda self: self.evaluation.completion_probability)
    completion_probability_stderr = property(lambda self: self.evaluation.completion_probability_stderr)

    @property
    def work_order(self):
        """The work order the design is for (docs/model.md, "The backprop work order")."""
        return self.inputs.work_order or PAPER

    @property
    def value(self) -> float:
        """The objective of ``blocks``: E[τ] ("runtime") or P(τ ≤ deadline) ("deadline")."""
        return self.expected_runtime if self.objective == "runtime" else self.completion_probability

    @property
    def stderr(self) -> float | None:
        return self.expected_runtime_stderr if self.objective == "runtime" else self.completion_probability_stderr

    def __repr__(self) -> str:
        def fmt(v, se):
            return "None" if v is None else (f"{v:.6g}" if se is None else f"{v:.6g} ± {se:.2g}")

        nz = np.flatnonzero(self.blocks)
        shown = ", ".join(f"{s}: {self.blocks[s]}" for s in nz[:12]) + (", …" if nz.size > 12 else "")
        return (
            f"DesignResult(method={self.method!r}, objective={self.objective!r}, success={self.success},\n"
            f"  blocks={{{shown}}} (level: coordinates),\n"
            + ("" if self.subset_sizes is None else f"  subset_sizes={np.round(self.subset_sizes, 4).tolist()},\n")
            + ("" if self.inputs.work_order is None else f"  work_order={self.work_order.describe()!r},\n")
            + ("" if self.procedure is None else f"  procedure={self.procedure.label!r},\n")
            + f"  expected_runtime={fmt(self.expected_runtime, self.expected_runtime_stderr)}, "
            f"completion_probability={fmt(self.completion_probability, self.completion_probability_stderr)}"
            f", deadline={self.deadline},\n"
            f"  evaluation={self.evaluation.method!r}, nit={self.nit}, solve_seconds={self.solve_seconds:.3g}, "
            f"message={self.message!r})"
        )


def outcome(chosen: str, diagnostics: dict) -> tuple[bool, str]:
    """``success`` and ``message`` from the same facts: the solver's convergence and, for
    ``optimal``, which candidate design was kept."""
    converged = bool(diagnostics.get("converged", True))
    if "general_model" in diagnostics:
        kept = diagnostics.get("allocation", {})
        what = "blocks and subset sizes" if isinstance(kept, dict) and kept.get("kept") else "blocks"
        return True, (
            f"{what} by local search on the exact sample objective of the general model "
            f"({diagnostics['general_model']}; best start {diagnostics.get('start')}): a local optimum"
        )
    if chosen == "brute-force":
        return True, "enumerated all integer designs"
    solved = (
        f"{chosen} solved the relaxed problem"
        if converged
        else f"{chosen} stopped before convergence after {diagnostics.get('rounds')} rounds"
    )
    if "exact_on_rows" in diagnostics:
        solved += f" on the trace's {diagnostics['exact_on_rows']} rows, each once (its exact sample objective)"
    pick = diagnostics.get("candidates")
    if pick is None:
        return converged, solved + ("" if converged else ": the design is the best found, not a proven optimum")
    kept = pick["chosen"]
    others = ", ".join(sorted(pick["crn_means"]))
    return converged or kept != chosen, (f"{solved}; kept {kept}, the lowest E[τ] on common draws among {others}")
