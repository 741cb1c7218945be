"""Out-of-sample comparison on a measured trace (docs/traces.md, "Honest evaluation").

A trace's rows are split in time: the first (1 - F) of them (the *training* rows) are all that the
design of BCGC and the tuning of every peer may see — :func:`bcgc.peers.compare` runs on the joint law
of those rows alone — and every scheme, with the parameters it chose there, is then evaluated on the
remaining F of the rows (the *held-out* rows), each row once:

    Ê[τ] = (1/K_h) Σ_{k held out} τ(T_k),   its standard error std(τ) / √K_h,

with τ the scheme's runtime on the row T_k (formula (2) for the block schemes, docs/peers.md for the
peers, N / Σ_n 1/T_n for the oracle). Nothing of the held-out rows reaches a design or a tuning.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .._validate import InputError
from ..analysis import summarize
from ..design.procedure import design_procedure
from ..schemes import Context, by_label
from ..stragglers import Trace
from . import CompareInputs, PeerResult, compare

__all__ = ["HoldoutSplit", "split_trace", "compare_holdout"]

#: draws of the (unused) in-sample evaluation of BCGC's design: only its blocks are evaluated, on the held-out rows
_DESIGN_EVAL_SAMPLES = 1000


@dataclass(frozen=True)
class HoldoutSplit:
    """A trace split in time: ``train`` (the first rows, a :class:`Trace`) and ``test`` (the rest)."""

    model: Trace  # the whole trace, as given
    fraction: float  # F, the held-out share of the rows
    train: Trace
    test: np.ndarray  # held-out rows, shape (K_h, N)
    #: how BCGC's design procedure was chosen on the training rows (``bcgc.design.crossval``); None: not
    cross_validation: object = None

    @property
    def describe(self) -> str:
        k = self.train.samples.shape[0]
        return (
            f"out of sample: designed and tuned on rows 1-{k} of {self.model.spec}, evaluated on the "
            f"held-out rows {k + 1}-{k + self.test.shape[0]} (holdout {self.fraction:g}); '±' is the standard "
            "error over those rows; bcgc_mm is not evaluated out of sample (compare without --holdout shows it)"
            + ("" if self.cross_validation is None else "\n" + self.cross_validation.describe)
        )

    def as_json(self) -> dict:
        k = self.train.samples.shape[0]
        cv = None if self.cross_validation is None else self.cross_validation.as_json()
        return {
            "fraction": self.fraction,
            "train_rows": [1, k],
            "test_rows": [k + 1, k + self.test.shape[0]],
            "cross_validation": cv,
        }


def split_trace(model, holdout: float) -> HoldoutSplit:
    """Split a trace law's rows: the first round((1 - F) · K) for design and tuning, the rest held out.

    ``holdout`` F must be a fraction in (0, 1) leaving at least one row on each side; ``model`` must be
    a trace law (``trace:path=F`` or ``trace:name=NAME``): only its rows have an order in time."""
    if (
        isinstance(holdout, (bool, np.bool_, str, bytes))
        or not isinstance(holdout, (int, float, np.number))
        or not 0 < float(holdout) < 1
    ):
        raise InputError(
            f"holdout must be a fraction in (0, 1) (the share of a trace's rows held out for "
            f"evaluation), got {holdout!r}"
        )
    if not isinstance(model, Trace):
        spec = getattr(model, "spec", type(model).__name__)
        raise InputError(
            f"holdout needs a trace law (trace:path=FILE.csv or trace:name=NAME), whose rows are "
            f"iterations in time; got {spec!r}"
        )
    rows = model.samples.shape[0]
    k = int(round((1.0 - float(holdout)) * rows))
    if not 1 <= k <= rows - 1:
        raise InputError(
            f"holdout {float(holdout):g} of a trace with {rows} rows leaves "
            f"{k} row(s) to design on and {rows - k} to evaluate on: each side needs at least one"
        )
    train = Trace(model.samples[:k], source=model.source)
    return HoldoutSplit(model, float(holdout), train, model.samples[k:])


def compare_holdout(
    model,
    workers: int,
    coords: int,
    holdout: float,
    deadline: float | None = None,
    samples: int = 100_000,
    seed: int = 0,
    bcgc_blocks=None,
    alpha: float = 6.0,
    bcgc_subset_sizes=None,
    folds: int | None = None,
    design_samples: int | None = None,
    cv: bool = True,
) -> tuple[list[PeerResult], HoldoutSplit]:
    """:func:`bcgc.peers.compare` designed and tuned on the training rows of a trace, every scheme
    evaluated on the held-out rows (module doc). ``samples``: draws of the training rows' joint law
    for the tuning; ``bcgc_blocks`` pins the BCGC row, with its ``bcgc_subset_sizes`` (None: equal
    subsets). Else BCGC is designed on the training rows by the design procedure of every command
    (:func:`bcgc.design.procedure.design_procedure`: chosen by cross-validation over those rows and
    refitted on all of them): ``folds`` K (None: leave-one-out up to 10 training rows, 10 folds up
    to :data:`~bcgc.design.crossval.AUTO_MAX_ROWS`, above that the optimal design without
    cross-validation); ``cv``: False designs optimal without cross-validation; ``design_samples``: the
    design's draws (None: its default). Returns the rows (evaluations on the held-out rows) and the split."""
    split = split_trace(model, holdout)
    CompareInputs.checked(split.train, workers, coords, deadline, samples, seed, alpha, "monte-carlo")
    design_label = "given"
    if bcgc_blocks is not None and (folds is not None or not cv):
        raise InputError(
            "folds: a pinned BCGC design (bcgc_blocks, --design) is not cross-validated; give one or the other"
            if folds is not None
            else "cv: a pinned BCGC design (bcgc_blocks, --design) is not cross-validated; drop cv=False (--no-cv)"
        )
    if bcgc_blocks is None:  # the design procedure of every command (bcgc.design.procedure)
        r = design_procedure(
            split.train,
            workers,
            coords,
            folds=folds,
            cv=cv,
            objective="runtime" if deadline is None else "deadline",
            deadline=deadline,
            samples=design_samples,
            seed=seed,
            eval_samples=_DESIGN_EVAL_SAMPLES,
        )
        split = replace(split, cross_validation=r.procedure.cross_validation)
        bcgc_blocks, bcgc_subset_sizes, design_label = r.blocks, r.subset_sizes, r.procedure.label
    tuned = compare(
        split.train,
        workers,
        coords,
        deadline=deadline,
        samples=samples,
        seed=seed,
        bcgc_blocks=bcgc_blocks,
        alpha=alpha,
        method="monte-carlo",
        bcgc_subset_sizes=bcgc_subset_sizes,
    )
    T = split.test
    out = []
    for row in tuned:
        ev = replace(summarize(_runtime_on(row, T), row.inputs.deadline), method="held-out rows")
        row = replace(row, evaluation=ev, inputs=replace(row.inputs, model=model))
        if row.name == "bcgc" and design_label != "given":  # designed here, not pinned by the caller
            row = replace(row, parameters={**row.parameters, "design": design_label}, tuned_for=row.inputs.objective)
        out.append(row)
    return out, split


def _runtime_on(row: PeerResult, T: np.ndarray) -> np.ndarray:
    """τ of one compared scheme, with the parameters it was tuned to (``row.tuned``), on each row of
    ``T``: the scheme's own timing under free links with a = 0 (any registered scheme, one's own too)."""
    i = row.inputs
    ctx = Context(i.model, T.shape[1], i.coords, np.zeros_like(T), T, i.deadline, i.alpha)
    return by_label(row.name).runtime(row.tuned if row.tuned is not None else row.parameters, ctx)
