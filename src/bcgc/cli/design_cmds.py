"""``bcgc design``, ``evaluate`` and ``compare``: the design engine on the command line."""

from __future__ import annotations

from .. import _validate as V
from .. import report
from .._args import int_list, whole
from ..analysis import EVALUATION_METHODS, evaluate
from ..design import design
from ..design.document import load_design
from ..holdout import compare_holdout
from ..peers import compare
from ..scheme import BlockScheme
from .options import common, design_file, design_options, fraction, need_coords


def register(sub) -> dict:
    """Add design, evaluate and compare."""
    d = sub.add_parser("design", help="design the block sizes x")
    common(d)
    design_options(d)
    e = sub.add_parser("evaluate", help="E[τ] and P(τ ≤ t) of given blocks")
    common(e)
    given = e.add_mutually_exclusive_group(required=True)
    given.add_argument("--blocks", "-x", type=int_list("--blocks"),
                       help="x_0,x_1,...,x_{N-1}: coordinates per level, summing to L")
    design_file(given)
    e.add_argument("--evaluation", choices=EVALUATION_METHODS, default="auto",
                   help="exact for i.i.d. named laws when possible (auto), or force one")
    e.add_argument("--samples", type=whole("--samples", 2, V.MAX_SAMPLES), default=200_000, help="Monte Carlo draws")
    c = sub.add_parser("compare", help="BCGC and every peer scheme side by side")
    common(c)
    c.add_argument("--samples", type=whole("--samples", 2, V.MAX_SAMPLES), default=100_000, help="Monte Carlo draws")
    design_file(c, "pin the bcgc row to this design document's blocks instead of designing")
    c.add_argument("--holdout", type=fraction("--holdout"), metavar="F",
                   help="with a trace law: design and tune on the first 1-F of its rows, evaluate every scheme "
                        "on the remaining F (out of sample, docs/traces.md)")


def run_design(a):
    need_coords(a)
    r = design(a.model, a.workers, a.coords, objective=a.objective, deadline=a.deadline, method=a.method,
               tolerate=a.tolerate, allowed_levels=a.allowed_levels, samples=a.samples, seed=a.seed)
    if not a.json:
        return report.render_design(r)
    return report.design_json(r, BlockScheme(r.blocks, a.workers, seed=a.seed))


def run_evaluate(a):
    if a.design is not None:
        doc = _document(a, "bcgc evaluate")
        a.coords = doc.check_coords(a.coords)
        x = doc.blocks
    else:
        x = V.blocks(a.blocks, a.workers, a.coords)
    ev = evaluate(a.model, a.workers, x, deadline=a.deadline, method=a.evaluation, samples=a.samples, seed=a.seed)
    return report.evaluation_json(ev, a.model, x) if a.json else report.render_evaluation(ev, a.model, x)


def run_compare(a):
    blocks = None
    if a.design is not None:
        doc = _document(a, "bcgc compare")
        a.coords, blocks = doc.check_coords(a.coords), doc.blocks
    need_coords(a)
    if a.holdout is None:
        rows = compare(a.model, a.workers, a.coords, deadline=a.deadline, samples=a.samples, seed=a.seed,
                       bcgc_blocks=blocks)
        return report.compare_json(rows) if a.json else report.render_compare(rows)
    rows, split = compare_holdout(a.model, a.workers, a.coords, a.holdout, deadline=a.deadline, samples=a.samples,
                                  seed=a.seed, bcgc_blocks=blocks)
    if a.json:
        return {**report.compare_json(rows), "holdout": split.as_json()}
    return split.describe + "\n" + report.render_compare(rows)


def _document(a, where):
    """The --design document, checked against --workers and usable by ``where``."""
    doc = load_design(a.design)
    doc.check_workers(a.workers)
    doc.require_equal_subsets(where)
    return doc


COMMANDS = {"design": run_design, "evaluate": run_evaluate, "compare": run_compare}
