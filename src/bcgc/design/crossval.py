"""Cross-validated choice of the design procedure on a short trace (docs/traces.md, "Cross-validated
design on a short trace").

A design fitted to a few measured rows can over-fit them: one outlier row may drive most coordinates
to a higher level, which costs extra work on every later row and helps none. Which *procedure* to
fit is chosen by K-fold cross-validation over the design rows, then the chosen one is refitted on
all of them. The procedures, simplest first (each is a BCGC block design):

* ``uncoded`` — every coordinate at level 0; nothing is fitted;
* ``single level`` — every coordinate at one level s, the s with the lowest mean of
  (s + 1) · T_(N-s) on the training rows (classic GC's tuning, :func:`bcgc.schemes.gc.best_gc_level`);
* ``optimal`` — ``design(Trace(rows), N, L, method="optimal")``, with its data allocation when the
  rows show workers that differ persistently (Kruskal-Wallis at 1%,
  :func:`bcgc.fitting.trace_fit.persistence_test`; N ≤ 64), else equal subsets.

With ``tolerate`` f the single level is s ≥ f and uncoded is no candidate; a given allocation
(``subset_sizes``) is kept by every procedure. The commands reach this through
:func:`bcgc.design.procedure.design_procedure`.

The rows are assigned to K folds by a seeded permutation (the trace law bootstraps whole rows, so the
design already treats them as exchangeable). For each fold k and procedure P, P is fitted on the
other folds and scored on the rows of fold k:

    CV(P) = (1/K) Σ_k v_k(P),   v_k(P) = mean over the rows T of fold k of τ(P fitted without k; T),
    se(P) = std_k(v_k(P)) / √K,

τ by formula (2) (the general model for unequal subsets). With a deadline v_k is the share of rows
with τ ≤ deadline instead, and the highest wins. The lowest CV wins; a tie goes to the simpler
procedure. Every procedure's parameters are fitted inside the folds, so none is scored on the rows
that tuned it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .. import _validate as V
from .. import streams
from ..fitting.trace_fit import persistence_test
from ..schemes.gc import best_gc_level
from ..stragglers import Trace
from ..timing import runtime
from ..timing.orderstat import single_level_blocks
from .core import design

__all__ = [
    "PROCEDURES",
    "DEFAULT_FOLDS",
    "AUTO_MAX_ROWS",
    "CrossValidation",
    "cross_validate",
    "fit_procedure",
    "score_procedures",
]

#: the candidate procedures, simplest first (a tie goes to the earlier one)
PROCEDURES = ("uncoded", "single level", "optimal")

#: folds when none is given: leave-one-out up to this many rows, else this many folds
DEFAULT_FOLDS = 10

#: the out-of-sample comparison cross-validates by itself up to this many design rows: above, the
#: sample design barely over-fits (docs/traces.md) and K folds would cost K designs
AUTO_MAX_ROWS = 100

#: Monte Carlo draws of the (unused) evaluation inside each fitted design: only its blocks are kept
_FOLD_EVAL_SAMPLES = 1000


@dataclass(frozen=True)
class CrossValidation:
    """The procedure chosen by cross-validation and its design refitted on every row.

    ``scores``/``stderrs``: CV(P) and se(P) of each procedure (module doc), E[τ] (runtime) or
    P(τ ≤ deadline) (deadline); ``fold_of``: the fold of each row; ``level``: the level of a
    single-level choice (0 for uncoded), None for ``optimal``."""

    chosen: str
    blocks: np.ndarray
    subset_sizes: np.ndarray | None
    level: int | None
    scores: dict
    stderrs: dict
    folds: int
    rows: int
    seed: int
    objective: str
    fold_of: np.ndarray

    @property
    def label(self) -> str:
        """What the design is, in a few words: e.g. ``cross-validated: single level 0 (uncoded)``."""
        what = {"uncoded": "uncoded (level 0)", "single level": f"single level {self.level}", "optimal": "optimal"}[
            self.chosen
        ]
        return f"cross-validated: {what}"

    @property
    def score(self) -> float:
        """CV(P) of the chosen procedure."""
        return self.scores[self.chosen]

    @property
    def stderr(self) -> float:
        """se(P) of the chosen procedure."""
        return self.stderrs[self.chosen]

    @property
    def describe(self) -> str:
        unit = "E[τ]" if self.objective == "runtime" else "P(τ≤t)"
        scores = ", ".join(f"{p} {self.scores[p]:.4g} ± {self.stderrs[p]:.2g}" for p in self.scores)
        how = "leave-one-out" if self.folds == self.rows else f"{self.folds}-fold (seed {self.seed})"
        return (
            f"BCGC's design procedure chosen by {how} cross-validation over the {self.rows} design rows "
            f"(CV {unit}: {scores}); kept {self.chosen}, refitted on every design row"
        )

    def as_json(self) -> dict:
        return {
            "chosen": self.chosen,
            "level": self.level,
            "score": self.score,
            "stderr": self.stderr,
            "folds": self.folds,
            "rows": self.rows,
            "seed": self.seed,
            "objective": self.objective,
            "scores": dict(self.scores),
            "stderrs": dict(self.stderrs),
        }


def fit_procedure(
    procedure: str,
    rows: np.ndarray,
    coords: int,
    deadline=None,
    seed: int = 0,
    samples=None,
    eval_samples: int = _FOLD_EVAL_SAMPLES,
    tolerate: int = 0,
    allocate: bool = True,
    subset_sizes=None,
):
    """(blocks, subset_sizes, level) of one procedure fitted on ``rows`` (module doc); only the
    blocks are kept, so the design's own evaluation gets few draws. ``tolerate`` f: the single level
    is s ≥ f (uncoded is no candidate then); ``subset_sizes``: a given allocation every procedure
    keeps; ``allocate``: whether ``optimal`` may choose one."""
    workers = rows.shape[1]
    if procedure == "uncoded":
        return single_level_blocks(workers, coords, 0), subset_sizes, 0
    law = Trace(rows)
    objective = "runtime" if deadline is None else "deadline"
    if procedure == "single level":
        s = best_gc_level(law, workers, T=rows, deadline=deadline, tolerate=tolerate, objective=objective)
        return single_level_blocks(workers, coords, s), subset_sizes, s
    # unequal subsets only where the rows show workers that differ persistently, else they fit noise
    allocate = allocate and subset_sizes is None and persistence_test(rows)["differ"]
    r = design(
        law,
        workers,
        coords,
        objective=objective,
        deadline=deadline,
        tolerate=tolerate,
        samples=samples,
        seed=seed,
        eval_samples=eval_samples,
        allocate=allocate,
        subset_sizes=subset_sizes,
    )
    return r.blocks, r.subset_sizes, None


def _value(blocks, sizes, T: np.ndarray, deadline) -> float:
    """The objective of a design on rows ``T``: mean τ, or the share of rows with τ ≤ deadline."""
    tau = runtime(blocks, T, subset_sizes=sizes)
    return float(np.mean(tau)) if deadline is None else float(np.mean(tau <= deadline))


def _check(rows, folds, seed):
    """Validated (rows as a 2-D array, folds, seed)."""
    T = np.asarray(rows.samples if isinstance(rows, Trace) else rows, dtype=float)
    if T.ndim != 2 or T.shape[0] < 2:
        raise V.InputError(f"rows must be a trace with at least 2 rows (one per iteration), got shape {T.shape}")
    k = T.shape[0]
    folds = min(DEFAULT_FOLDS, k) if folds is None else V.integer("folds", folds, minimum=2, maximum=k)
    return T, folds, V.integer("seed", seed, minimum=0)


def cross_validate(
    rows,
    coords: int,
    folds: int | None = None,
    seed: int = 0,
    deadline: float | None = None,
    samples: int | None = None,
    procedures=PROCEDURES,
    tolerate: int = 0,
    allocate: bool = True,
    subset_sizes=None,
) -> CrossValidation:
    """Choose BCGC's design procedure by K-fold cross-validation over the rows of a trace, then refit it
    on every row (module doc).

    ``rows``: a :class:`~bcgc.stragglers.Trace` or an array (one row per iteration, one column per
    worker); ``folds``: K in [2, rows] (None: leave-one-out up to 10 rows, else 10 folds);
    ``seed``: the fold assignment and every design; ``deadline``: score by P(τ ≤ deadline) instead of
    E[τ]; ``samples``: draws of the design's sample-average problem (None: its default);
    ``procedures``: a subset of :data:`PROCEDURES` to choose from; ``tolerate``, ``allocate``,
    ``subset_sizes``: as in :func:`bcgc.design.design`, for every procedure (:func:`fit_procedure`)."""
    cv = score_procedures(rows, coords, folds, seed, deadline, samples, procedures, tolerate, allocate, subset_sizes)
    if cv.chosen != "optimal":
        return cv
    T = np.asarray(rows.samples if isinstance(rows, Trace) else rows, dtype=float)
    blocks, sizes, _ = fit_procedure(
        "optimal",
        T,
        coords,
        deadline,
        cv.seed,
        samples,
        tolerate=tolerate,
        allocate=allocate,
        subset_sizes=subset_sizes,
    )
    return replace(cv, blocks=blocks, subset_sizes=sizes)


def score_procedures(
    rows,
    coords: int,
    folds: int | None = None,
    seed: int = 0,
    deadline: float | None = None,
    samples: int | None = None,
    procedures=PROCEDURES,
    tolerate: int = 0,
    allocate: bool = True,
    subset_sizes=None,
) -> CrossValidation:
    """The cross-validation of :func:`cross_validate` (arguments alike) and the chosen procedure; its
    ``blocks`` are refitted on every row for uncoded and a single level (cheap), None for
    ``optimal``, which the caller designs on every row (``cross_validate``, or
    :func:`bcgc.design.procedure.design_procedure` with the options of the whole design)."""
    T, folds, seed = _check(rows, folds, seed)
    coords = V.coords(coords)
    if deadline is not None:
        deadline = V.positive("deadline", deadline)
    tolerate = V.integer("tolerate", tolerate, minimum=0, maximum=T.shape[1] - 1)
    if isinstance(procedures, str) or not set(procedures) or not set(procedures) <= set(PROCEDURES):
        raise V.InputError(f"procedures must be a non-empty subset of {', '.join(PROCEDURES)}, got {procedures!r}")
    # x_0 = L tolerates no full straggler: with tolerate > 0 uncoded is no candidate
    procedures = [p for p in PROCEDURES if p in set(procedures) and not (p == "uncoded" and tolerate > 0)]
    if not procedures:
        raise V.InputError(f"procedures: uncoded alone cannot tolerate {tolerate} full stragglers")
    fit = {"tolerate": tolerate, "allocate": allocate, "subset_sizes": subset_sizes}
    fold_of = np.empty(T.shape[0], dtype=np.int64)
    fold_of[streams.rng(seed, streams.FOLDS).permutation(T.shape[0])] = np.arange(T.shape[0]) % folds
    values = {p: np.empty(folds) for p in procedures}
    for k in range(folds):
        train, test = T[fold_of != k], T[fold_of == k]
        for p in procedures:
            blocks, sizes, _ = fit_procedure(p, train, coords, deadline, seed, samples, **fit)
            values[p][k] = _value(blocks, sizes, test, deadline)
    chosen = _choose(values, procedures, deadline is not None)
    blocks = sizes = level = None
    if chosen != "optimal":
        blocks, sizes, level = fit_procedure(chosen, T, coords, deadline, seed, samples, **fit)
    return CrossValidation(
        chosen,
        blocks,
        sizes,
        level,
        {p: float(v.mean()) for p, v in values.items()},
        {p: float(v.std(ddof=1) / np.sqrt(folds)) for p, v in values.items()},
        folds,
        T.shape[0],
        seed,
        "runtime" if deadline is None else "deadline",
        fold_of,
    )


def _choose(values: dict, procedures, higher_wins: bool) -> str:
    """The best CV score; a tie (within 1e-12 relative) goes to the simpler (earlier) procedure."""
    scores = {p: float(v.mean()) for p, v in values.items()}
    best = procedures[0]
    for p in procedures[1:]:
        a, b = (scores[p], scores[best]) if higher_wins else (scores[best], scores[p])
        if a - b > 1e-12 * max(abs(a), abs(b), 1e-300):
            best = p
    return best
