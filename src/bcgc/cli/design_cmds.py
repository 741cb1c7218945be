"""``bcgc design``, ``evaluate`` and ``compare``: the design engine on the command line."""

from __future__ import annotations

from .. import _validate as V
from .. import report
from .._args import UsageError, fraction_list, int_list, whole
from ..analysis import EVALUATION_METHODS, evaluate
from ..analysis.links import evaluate_links
from ..design.document import load_design
from ..design.procedure import design_procedure
from ..peers import compare
from ..peers.holdout import compare_holdout
from ..schemes.blocks import BlockScheme
from ..timing.links import links
from .options import (
    common,
    cv_options,
    design_file,
    design_options,
    document_links,
    fraction,
    link_args,
    link_options,
    need_coords,
    need_workers_and_model,
    order_of,
    order_options,
)


def register(sub) -> dict:
    """Add design, evaluate and compare."""
    d = sub.add_parser("design", help="design the block sizes x")
    common(d)
    design_options(d)
    link_options(d)
    order_options(d)
    e = sub.add_parser("evaluate", help="E[τ] and P(τ ≤ t) of given blocks")
    common(e, from_design=True)
    given = e.add_mutually_exclusive_group(required=True)
    given.add_argument(
        "--blocks", "-x", type=int_list("--blocks"), help="x_0,x_1,...,x_{N-1}: coordinates per level, summing to L"
    )
    design_file(given)
    e.add_argument(
        "--subset-sizes",
        type=fraction_list("--subset-sizes"),
        help="d_0,...,d_{N-1}: the data fraction of each subset (default: equal, 1/N, or the design "
        "document's); unequal subsets are evaluated by Monte Carlo (docs/model.md, unequal subsets)",
    )
    e.add_argument(
        "--evaluation",
        choices=EVALUATION_METHODS,
        default="auto",
        help="exact for i.i.d. named laws when possible (auto), or force one",
    )
    e.add_argument("--samples", type=whole("--samples", 2, V.MAX_SAMPLES), default=200_000, help="Monte Carlo draws")
    link_options(e)
    order_options(e)
    c = sub.add_parser("compare", help="BCGC, bcgc_mm and every peer scheme side by side")
    common(c, from_design=True)
    c.add_argument("--samples", type=whole("--samples", 2, V.MAX_SAMPLES), default=100_000, help="Monte Carlo draws")
    link_options(c)
    order_options(c)
    design_file(c, "pin the bcgc row to this design document's blocks (and subset sizes) instead of designing")
    c.add_argument(
        "--holdout",
        type=fraction("--holdout"),
        metavar="F",
        help="with a trace law: design and tune on the first 1-F of its rows, evaluate every scheme "
        "on the remaining F (out of sample, docs/traces.md)",
    )
    cv_options(c, "BCGC's design (with --holdout, on the design rows)")
    c.add_argument(
        "--equal-subsets",
        action="store_true",
        help="keep every data subset equal, BCGC's too (default: for workers that differ BCGC's design "
        "chooses the subset sizes, and uncoded and GC appear on a speed-proportional split as well)",
    )
    c.add_argument(
        "--no-mm",
        action="store_true",
        help="leave out the bcgc_mm row (its design search takes seconds at N = 20, minutes at N = 256)",
    )


def run_design(a):
    need_coords(a)
    r = design_procedure(
        a.model,
        a.workers,
        a.coords,
        objective=a.objective,
        deadline=a.deadline,
        method=a.method,
        tolerate=a.tolerate,
        allowed_levels=a.allowed_levels,
        samples=a.samples,
        seed=a.seed,
        allocate=not a.equal_subsets,
        work_order=order_of(a),
        folds=a.folds,
        cv=not a.no_cv,
        **link_args(a),
    )
    if not a.json:
        return report.render_design(r)
    return report.design_json(r, BlockScheme(r.blocks, a.workers, seed=a.seed, subset_sizes=r.subset_sizes))


def run_evaluate(a):
    sizes, order = a.subset_sizes, order_of(a)
    if a.design is not None:
        doc = _document(a)
        if sizes is not None:
            raise UsageError("--subset-sizes and --design: the document carries its own subset sizes")
        a.coords, x, sizes = doc.check_coords(a.coords), doc.blocks, doc.subset_sizes
        order = _document_order(a, doc, order)
    else:
        need_workers_and_model(a)
        x = V.blocks(a.blocks, a.workers, a.coords)
    if sizes is not None and len(sizes) != a.workers:
        raise UsageError(f"--subset-sizes must have {a.workers} entries (one per worker), got {len(sizes)}")
    net = links(**link_args(a))
    if not net.free and sizes is not None:
        raise UsageError("unequal subset sizes cannot be combined with --bandwidth/--latency/--ingress yet")
    if not net.free and a.evaluation == "exact":
        raise UsageError("--evaluation exact is not available under links (Monte Carlo on the link recursion)")
    if not net.free and order is not None:
        raise UsageError("--work-order backprop is evaluated with free communication only (for now): drop the links")
    if net.free:
        ev = evaluate(
            a.model,
            a.workers,
            x,
            deadline=a.deadline,
            method=a.evaluation,
            samples=a.samples,
            seed=a.seed,
            subset_sizes=sizes,
            work_order=order,
        )
    else:
        ev = evaluate_links(
            a.model, a.workers, x, net, deadline=a.deadline, method=a.evaluation, samples=a.samples, seed=a.seed
        )
    if a.json:
        extra = {} if order is None else {"work_order": report.as_json(order.as_dict())}
        return {**report.evaluation_json(ev, a.model, x), "links": report.as_json(net.as_dict()), **extra}
    return (
        report.render_evaluation(ev, a.model, x)
        + ("" if net.free else f"\n  links: {net.describe()}")
        + ("" if order is None else f"\n  work order: {order.describe()}")
    )


def run_compare(a):
    blocks = sizes = None
    order = order_of(a)
    if a.design is not None:
        doc = _document(a)
        a.coords, blocks, sizes = doc.check_coords(a.coords), doc.blocks, doc.subset_sizes
        order = _document_order(a, doc, order)
    need_workers_and_model(a)
    need_coords(a)
    if a.holdout is None and (a.folds is not None or a.no_cv):
        option = "--folds" if a.folds is not None else "--no-cv"
        raise UsageError(f"{option} needs --holdout (it chooses how BCGC is designed on the design rows)")
    if a.holdout is None:
        rows = compare(
            a.model,
            a.workers,
            a.coords,
            deadline=a.deadline,
            samples=a.samples,
            seed=a.seed,
            bcgc_blocks=blocks,
            bcgc_subset_sizes=sizes,
            mm=not a.no_mm,
            equal_subsets=a.equal_subsets,
            work_order=order,
            **link_args(a),
        )
        return report.compare_json(rows) if a.json else report.render_compare(rows)
    if not links(**link_args(a)).free:
        raise UsageError("--holdout works with free communication only (for now): drop --bandwidth/--latency/--ingress")
    if a.equal_subsets:
        raise UsageError(
            "--equal-subsets works without --holdout only (for now): cross-validation chooses the allocation"
        )
    if order is not None:
        raise UsageError("--work-order backprop works without --holdout only (for now)")
    rows, split = compare_holdout(
        a.model,
        a.workers,
        a.coords,
        a.holdout,
        deadline=a.deadline,
        samples=a.samples,
        seed=a.seed,
        bcgc_blocks=blocks,
        bcgc_subset_sizes=sizes,
        folds=a.folds,
        cv=not a.no_cv,
    )
    if a.json:
        return {**report.compare_json(rows), "holdout": split.as_json()}
    return split.describe + "\n" + report.render_compare(rows)


def _document(a):
    """The --design document, checked against --workers; its links apply unless others are given
    (then they must agree: a design made for one network is not silently evaluated on another)."""
    doc = load_design(a.design)
    if a.workers is None:
        a.workers = doc.workers
    doc.check_workers(a.workers)
    if a.model is None:
        a.model = doc.law()
    document_links(a, doc)
    return doc


def _document_order(a, doc, given):
    """The document's work order unless the options give one (then they must agree)."""
    if a.work_order is None and a.costs is None and a.forward_share is None:
        return doc.work_order
    if given != doc.work_order:
        made = "the paper's order" if doc.work_order is None else doc.work_order.describe()
        raise UsageError(f"--design {a.design}: the design was made for {made}; drop the work-order options to use it")
    return given


COMMANDS = {"design": run_design, "evaluate": run_evaluate, "compare": run_compare}
