"""``bcgc design``, ``evaluate`` and ``compare``: the design engine on the command line."""

from __future__ import annotations

from .. import _validate as V
from .. import report
from .._args import UsageError, int_list, whole
from ..analysis import EVALUATION_METHODS
from ..compare_links import evaluate_links
from ..links import links
from ..design import design
from ..peers import compare
from ..scheme import BlockScheme
from .options import common, design_options, link_args, link_options, need_coords


def register(sub) -> dict:
    """Add design, evaluate and compare."""
    d = sub.add_parser("design", help="design the block sizes x")
    common(d)
    design_options(d)
    link_options(d)
    e = sub.add_parser("evaluate", help="E[τ] and P(τ ≤ t) of given blocks")
    common(e)
    e.add_argument("--blocks", "-x", required=True, type=int_list("--blocks"),
                   help="x_0,x_1,...,x_{N-1}: coordinates per level, summing to L")
    e.add_argument("--evaluation", choices=EVALUATION_METHODS, default="auto",
                   help="exact for i.i.d. named laws when possible (auto), or force one")
    e.add_argument("--samples", type=whole("--samples", 2, V.MAX_SAMPLES), default=200_000, help="Monte Carlo draws")
    link_options(e)
    c = sub.add_parser("compare", help="BCGC, bcgc_mm and every peer scheme side by side")
    common(c)
    c.add_argument("--samples", type=whole("--samples", 2, V.MAX_SAMPLES), default=100_000, help="Monte Carlo draws")
    link_options(c)
    c.add_argument("--no-mm", action="store_true",
                   help="leave out the bcgc_mm row (its design search takes seconds at N = 20, minutes at N = 256)")


def run_design(a):
    need_coords(a)
    r = design(a.model, a.workers, a.coords, objective=a.objective, deadline=a.deadline, method=a.method,
               tolerate=a.tolerate, allowed_levels=a.allowed_levels, samples=a.samples, seed=a.seed, **link_args(a))
    if not a.json:
        return report.render_design(r)
    return report.design_json(r, BlockScheme(r.blocks, a.workers, seed=a.seed))


def run_evaluate(a):
    x = V.blocks(a.blocks, a.workers, a.coords)
    net = links(**link_args(a))
    if not net.free and a.evaluation == "exact":
        raise UsageError("--evaluation exact is not available under links (Monte Carlo on the link recursion)")
    ev = evaluate_links(a.model, a.workers, x, net, deadline=a.deadline, method=a.evaluation, samples=a.samples,
                        seed=a.seed)
    if a.json:
        return {**report.evaluation_json(ev, a.model, x), "links": report.as_json(net.as_dict())}
    return report.render_evaluation(ev, a.model, x) + ("" if net.free else f"\n  links: {net.describe()}")


def run_compare(a):
    need_coords(a)
    rows = compare(a.model, a.workers, a.coords, deadline=a.deadline, samples=a.samples, seed=a.seed, mm=not a.no_mm,
                   **link_args(a))
    return report.compare_json(rows) if a.json else report.render_compare(rows)


COMMANDS = {"design": run_design, "evaluate": run_evaluate, "compare": run_compare}
