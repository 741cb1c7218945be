"""``bcgc design``, ``evaluate`` and ``compare``: their parsers (light: the core they call is
imported only when one of them runs, from :mod:`.design_run`)."""

from __future__ import annotations

from .. import _validate as V
from .._args import fraction_list, int_list, whole
from ..analysis import EVALUATION_METHODS
from .commands import add
from .options import common, cv_options, design_file, design_options, fraction, link_options, order_options


def register(sub) -> dict:
    """Add design, evaluate and compare."""
    d = add(sub, "design")
    common(d)
    design_options(d)
    link_options(d)
    order_options(d)
    e = add(sub, "evaluate")
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
    c = add(sub, "compare")
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


#: each command's runner: (module, function), imported when the command runs
COMMANDS = {
    "design": ("design_run", "run_design"),
    "evaluate": ("design_run", "run_evaluate"),
    "compare": ("design_run", "run_compare"),
}
