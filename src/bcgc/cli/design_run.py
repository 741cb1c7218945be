"""``bcgc design``, ``evaluate`` and ``compare``: what they run (their parsers: :mod:`.design_cmds`)."""

from __future__ import annotations

from .. import _validate as V
from .. import report
from .._args import UsageError
from ..analysis import evaluate
from ..analysis.links import evaluate_links
from ..design.document import load_design
from ..design.procedure import design_procedure
from ..peers import compare
from ..peers.holdout import compare_holdout
from ..schemes.blocks import BlockScheme
from ..timing.links import links
from .options import document_links, link_args, need_coords, need_workers_and_model, order_of


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
