"""BCGC's design procedure, the one every command uses (docs/traces.md, "Cross-validated design on a
short trace"): ``bcgc design``, ``compare --holdout``, ``simulate``, ``train`` and ``train --adapt``.

On a trace law (``trace:``, or the window of ``--adapt``) of K rows a design can over-fit its rows.
For 2 ≤ K ≤ :data:`~bcgc.design.crossval.AUTO_MAX_ROWS` (or any K ≥ 2 when ``folds`` is given) the
procedure — uncoded, a single level, or optimal (with its allocation where workers differ) — is
chosen by K-fold cross-validation over the rows (:func:`bcgc.design.crossval.score_procedures`) and the
chosen one is designed on every row by :func:`bcgc.design.design`:

    uncoded: allowed_levels = {0};   single level s: allowed_levels = {s};   optimal: as asked,

the single level s being the one the procedure fitted on all rows. Any other law, a trace of one
row or of more than 100 rows, ``cv=False``, and the options cross-validation does not cover (a method
other than ``optimal``, allowed levels, links, the backprop order, solver options) design as asked;
the result's ``procedure`` says which and why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .. import _validate as V
from ..fitting.trace_fit import persistence_test
from ..stragglers import Trace, as_law
from ..timing.links import links
from ..timing.work import as_order
from . import crossval as CV
from .allocation import ALLOCATION_MAX_WORKERS
from .core import design
from .result import DesignResult

__all__ = ["Procedure", "design_procedure"]


@dataclass(frozen=True)
class Procedure:
    """How a design on a trace was made: ``chosen`` (uncoded, single level, optimal, or the method
    asked), ``label`` (a few words, e.g. ``cross-validated: uncoded (level 0)``), and the
    :class:`~bcgc.design.crossval.CrossValidation` when there was one (its scores, the winner's
    ``score`` ± ``stderr``)."""

    chosen: str
    label: str
    cross_validation: CV.CrossValidation | None = None
    #: the persistence test that let the design choose unequal subsets or not (None: not asked)
    persistence: dict | None = None

    @property
    def summary(self) -> str:
        """The label and, when cross-validated, the winner's CV score ± se, e.g. ``cross-validated:
        optimal (CV E[τ] 1.565 ± 0.052, leave-one-out over 15 rows)``."""
        cv = self.cross_validation
        if cv is None:
            return self.label
        unit = "E[τ]" if cv.objective == "runtime" else "P(τ≤t)"
        how = "leave-one-out" if cv.folds == cv.rows else f"{cv.folds}-fold"
        return f"{self.label} (CV {unit} {cv.score:.4g} ± {cv.stderr:.2g}, {how} over {cv.rows} rows)"

    @property
    def describe(self) -> str:
        cv, p = self.cross_validation, self.persistence
        out = self.label if cv is None else f"{self.label}; {cv.describe}"
        if p is not None and p.get("p_value") is not None:
            out += (
                f"; workers {'differ' if p['differ'] else 'do not differ'} persistently on these rows "
                f"(Kruskal-Wallis p = {p['p_value']:.2g}): {'unequal' if p['differ'] else 'equal'} subsets allowed"
            )
        return out

    def as_json(self) -> dict:
        cv = self.cross_validation
        return {
            "chosen": self.chosen,
            "label": self.label,
            "cross_validation": None if cv is None else cv.as_json(),
            "persistence": self.persistence,
        }


def design_procedure(
    model, workers: int, coords: int, folds: int | None = None, cv: bool = True, **options
) -> DesignResult:
    """:func:`bcgc.design.design` with the procedure chosen by cross-validation on a short trace
    (module doc). ``folds``: K (None: leave-one-out up to 10 rows, 10 folds up to 100 rows, none
    above); ``cv``: False designs as asked; ``options``: those of :func:`bcgc.design.design`. The
    result's ``procedure`` (a :class:`Procedure`) is None for a law that is not a trace."""
    law = as_law(model)
    if not isinstance(cv, bool):
        raise V.InputError(f"cv must be True or False (choose the design procedure by cross-validation), got {cv!r}")
    if folds is not None and not cv:
        raise V.InputError("folds: cross-validation is off (cv=False, --no-cv): give one or the other")
    why = _not_cross_validated(law, folds, cv, options)
    if not isinstance(law, Trace):
        return design(law, workers, coords, **options)
    law.check_workers(workers)
    differ = None
    if options.get("allocate", True) and options.get("subset_sizes") is None and workers <= ALLOCATION_MAX_WORKERS:
        # unequal subsets only where the rows show workers that differ persistently, else they fit
        # noise (the same gate as inside the folds, bcgc.design.crossval.fit_procedure)
        differ = persistence_test(law.samples)
        options = {**options, "allocate": differ["differ"]}
    if why is not None:
        r = design(law, workers, coords, **options)
        return replace(r, procedure=Procedure(r.method, f"{r.method}, not cross-validated ({why})", None, differ))
    by_deadline = options.get("objective", "runtime") == "deadline"
    found = CV.score_procedures(
        law.samples,
        coords,
        folds,
        options.get("seed", 0),
        options.get("deadline") if by_deadline else None,
        options.get("samples"),
        tolerate=options.get("tolerate", 0),
        allocate=options.get("allocate", True),
        subset_sizes=options.get("subset_sizes"),
    )
    if found.chosen != "optimal":  # the level the procedure fitted on every row (0: uncoded)
        options = {**options, "allowed_levels": (found.level,), "allocate": False}
    r = design(law, workers, coords, **options)
    found = replace(found, blocks=r.blocks, subset_sizes=r.subset_sizes)
    return replace(r, procedure=Procedure(found.chosen, found.label, found, differ))


def _not_cross_validated(law, folds, cv: bool, options: dict) -> str | None:
    """Why the procedure is not chosen by cross-validation (None: it is); ``folds`` given where it
    cannot be is an error naming it."""
    if not isinstance(law, Trace):
        if folds is not None:
            raise V.InputError(
                f"folds: cross-validation chooses the design procedure on a trace's rows "
                f"(trace:name=NAME or trace:path=FILE.csv), not on {law.spec!r}"
            )
        return "not a trace"
    rows = law.samples.shape[0]
    asked = _options_outside_cv(options)
    if asked is not None:
        if folds is not None:
            raise V.InputError(f"folds: cross-validation chooses among uncoded, one level and optimal; {asked}")
        return asked
    if not cv:
        return "cross-validation off"
    if rows < 2:
        if folds is not None:
            raise V.InputError(f"folds: a trace of {rows} row cannot be cross-validated (at least 2 rows)")
        return "one design row"
    if folds is None and rows > CV.AUTO_MAX_ROWS:
        return f"{rows} design rows > {CV.AUTO_MAX_ROWS}"
    return None


def _options_outside_cv(options: dict) -> str | None:
    """The design options cross-validation does not cover, said in words (None: none)."""
    if options.get("method", "optimal") != "optimal":
        return f"method {options['method']!r} asked"
    if options.get("allowed_levels") is not None:
        return "allowed levels given"
    if options.get("options"):
        return "solver options given"
    if not as_order(options.get("work_order")).is_paper:
        return "the backprop work order"
    net = {k: options[k] for k in ("bandwidth", "latency", "ingress") if k in options}
    return None if links(**net).free else "links given"
