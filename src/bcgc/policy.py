"""How a run chooses its blocks, at the start and again after workers die (a design policy).

``train()`` builds one :class:`DesignPolicy` per scheme from the user's design arguments and hands
it to the master, which asks it again when dead workers exceed what the design tolerates; the
simulator uses the same policy for its first design. A peer re-designs as that peer: classic GC
moves to its best level that tolerates the dead workers, uncoded cannot tolerate a dead worker and
stops, saying why; BCGC re-designs with ``tolerate = max(tolerate, #dead)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate as V
from . import schemes
from .design.allocation import GENERAL_METHODS
from .design.mm_design import design_mm
from .design.procedure import design_procedure
from .schemes import RedesignImpossible
from .schemes.running import MM_SCHEMES, allowed_schemes, runtime_schemes
from .timing.links import FREE, Links

__all__ = ["DesignPolicy", "MM_SCHEMES", "runtime_schemes", "allowed_schemes", "RedesignImpossible", "fixed_designs"]


@dataclass(frozen=True)
class DesignPolicy:
    """The user's design arguments for one scheme (as in :func:`bcgc.design.design`, which
    validates them at the first design)."""

    scheme: str = "bcgc"
    objective: str = "runtime"
    deadline: float | None = None
    method: str = "optimal"
    tolerate: int = 0
    allowed_levels: tuple | None = None
    samples: int | None = None
    seed: int = 0
    eval_samples: int = 2000
    #: let BCGC's design choose unequal subset sizes for workers that differ (the runtime: False)
    allocate: bool = True
    links: Links = FREE
    #: the workers' work order BCGC's design is made for (``bcgc.timing.work.WorkOrder``; None: the
    #: paper's; docs/model.md, "The backprop work order"). The simulator times every block scheme
    #: under it; the distributed runtime does not read it.
    work_order: object = None
    #: BCGC's design procedure on a trace law (``bcgc.design.procedure``): ``folds`` K for its
    #: cross-validation (None: the default), ``cv`` False to design as asked
    folds: int | None = None
    cv: bool = True

    def __post_init__(self):
        if self.scheme not in schemes.runnable():
            raise V.InputError(f"scheme must be one of {', '.join(schemes.runnable())}, got {self.scheme!r}")
        if not isinstance(self.links, Links):
            raise V.InputError(f"links must be a bcgc.timing.links.Links, got {self.links!r}")
        object.__setattr__(self, "tolerate", V.integer("tolerate", self.tolerate, minimum=0))
        if self.allowed_levels is not None:
            object.__setattr__(self, "allowed_levels", tuple(self.allowed_levels))

    def check_given_sizes(self) -> None:
        """A run that holds unequal subsets re-designs its blocks for them after deaths
        (``design(..., subset_sizes=d)``): that needs the bcgc scheme, free links and a method of
        the general model. Refused before the run starts rather than at the first death."""

        if self.scheme != "bcgc":
            raise V.InputError(f"unequal subset_sizes are run by the bcgc scheme only, not {self.scheme}")
        if not self.links.free:
            raise V.InputError(
                "unequal subset_sizes run on free links only: drop bandwidth/latency, or use a design "
                "with equal subsets"
            )
        if self.method not in GENERAL_METHODS:
            raise V.InputError(
                f"method must be one of {', '.join(GENERAL_METHODS)} for a run with unequal subset_sizes "
                f"(its re-designs after deaths keep them), got {self.method!r}"
            )

    def tolerance(self, dead: int = 0) -> int:
        """How many full stragglers a design must tolerate when ``dead`` workers are known dead."""
        return max(self.tolerate, dead)

    def blocks(self, model, workers: int, coords: int, dead: int = 0, subset_sizes=None) -> np.ndarray:
        """The block vector of this scheme for N workers and L coordinates, tolerating at least
        ``dead`` full stragglers (the workers known to be dead); for bcgc_mm and UC-MMC, their
        :class:`bcgc.timing.mm.MMDesign`. Under ``links`` BCGC's design is the
        communication-aware one, and GC's level is tuned through the links (``ClassicGC.run_design``: a
        shared ingress makes the levels pay differently)."""
        return self.plan(model, workers, coords, dead, subset_sizes)[0]

    def plan(self, model, workers: int, coords: int, dead: int = 0, subset_sizes=None):
        """(:meth:`blocks`, subset sizes or None): the data allocation BCGC's design chose for
        workers that differ (docs/model.md, "Unequal subsets"); the other schemes keep equal subsets.
        ``subset_sizes``: a given allocation (the data stay where they are, e.g. after deaths): BCGC's
        blocks are designed for it and it is returned unchanged. A peer's design is its scheme's
        (``bcgc.schemes``: ``run_design``); BCGC's and bcgc_mm's are made here, by ``bcgc.design``."""
        return self.planned(model, workers, coords, dead, subset_sizes)[:2]

    def planned(self, model, workers: int, coords: int, dead: int = 0, subset_sizes=None):
        """(blocks, subset sizes or None, procedure or None): :meth:`plan` and, for BCGC on a trace
        law, how its design procedure was chosen (``bcgc.design.procedure.Procedure``)."""
        if self.tolerate >= workers:
            raise V.InputError(
                f"tolerate must be an integer in [0, {workers - 1}] (fewer than the {workers} workers), "
                f"got {self.tolerate}"
            )
        if self.scheme == "uncoded" and self.tolerate > 0:
            raise V.InputError(
                f"tolerate must be 0 for the uncoded scheme (it waits for every worker), got "
                f"{self.tolerate}; use the gc or bcgc scheme to tolerate full stragglers"
            )
        tolerate = self.tolerance(dead)
        if subset_sizes is not None and self.scheme != "bcgc":
            raise V.InputError(
                f"subset_sizes (a data allocation) is designed by the bcgc scheme only, not {self.scheme}"
            )
        if tolerate >= workers:
            raise RedesignImpossible(f"{tolerate} of {workers} workers must be tolerated: no design can")
        if self.scheme in ("bcgc_mm", "ucmmc"):
            _check_mm_objective(self)
        if self.scheme == "bcgc":
            net = {} if self.links.free else self.links.as_dict()  # communication-aware under links
            r = design_procedure(
                model,
                workers,
                coords,
                folds=self.folds,
                cv=self.cv,
                objective=self.objective,
                deadline=self.deadline,
                method=self.method,
                tolerate=tolerate,
                allowed_levels=self.allowed_levels,
                samples=self.samples,
                seed=self.seed,
                eval_samples=self.eval_samples,
                allocate=self.allocate,
                subset_sizes=subset_sizes,
                work_order=self.work_order,
                **net,
            )
            return r.blocks, r.subset_sizes, r.procedure
        if self.scheme == "bcgc_mm":
            return _bcgc_mm_design(self, model, workers, coords, tolerate), None, None
        return schemes.get(self.scheme).run_design(model, workers, coords, tolerate, self), None, None


def fixed_designs(designs, workers: int, coords: int) -> dict:
    """{scheme: (blocks, subset sizes or None)} checked: the fixed starting designs of ``train`` and
    ``simulate`` (e.g. a design document's for ``bcgc``)."""
    out = {}
    for name, value in (designs or {}).items():
        if not (isinstance(value, tuple) and len(value) == 2):
            raise V.InputError(
                f"designs must map a scheme name to (blocks, subset sizes or None), got {value!r} for {name!r}"
            )
        out[name] = (V.blocks(value[0], workers, coords), value[1])
    return out


def _check_mm_objective(policy: DesignPolicy) -> None:
    if policy.objective != "runtime" or policy.method != "optimal" or policy.allowed_levels is not None:
        raise V.InputError(
            f"scheme {policy.scheme} is designed for the runtime objective only: objective "
            "'runtime', method 'optimal' and no allowed_levels"
        )


def _bcgc_mm_design(policy: DesignPolicy, model, workers: int, coords: int, tolerate: int):
    """``bcgc.design.mm_design.design_mm`` under the links, which has no tolerance (a run that needs one stops,
    saying so)."""
    if policy.tolerate > 0:
        raise V.InputError(
            f"tolerate must be 0 for the bcgc_mm scheme (its designs do not tolerate full "
            f"stragglers), got {policy.tolerate}; use bcgc, gc or ucmmc"
        )
    if tolerate > 0:
        raise RedesignImpossible(
            f"bcgc_mm designs do not tolerate full stragglers ({tolerate} asked): use "
            "bcgc, gc or ucmmc to survive dead workers"
        )
    net = policy.links
    return design_mm(
        model,
        workers,
        coords,
        net.bandwidth,
        net.latency,
        net.ingress,
        samples=policy.samples or 1000,
        seed=policy.seed,
    ).design
