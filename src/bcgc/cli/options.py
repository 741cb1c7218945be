"""Options shared by several commands, and what they become for the core."""

from __future__ import annotations

import math
import os

from .. import _validate as V
from .._args import UsageError, int_list, model, number, positive, whole
from ..design import METHOD_NAMES, OBJECTIVES
from ..problems import DATASETS, PROBLEM_NAMES
from ..timing.links import MAX_INGRESS, MAX_LATENCY, MIN_BANDWIDTH
from ..timing.work import KINDS, WorkOrder


def workers_and_model(p, model_required=True, model_help="", workers_required=True):
    p.add_argument(
        "--workers",
        "-N",
        required=workers_required,
        type=number("--workers", V.WORKERS),
        help=f"number of workers N ({V.WORKERS.describe()})"
        + ("" if workers_required else "; default: the --design document's"),
    )
    p.add_argument(
        "--model",
        "-m",
        required=model_required,
        type=model,
        help="straggler law, e.g. shifted-exponential:shift=1,rate=1 (see docs/model.md)" + model_help,
    )


def output(p, seed_help="seed of every random draw"):
    p.add_argument("--seed", type=number("--seed", V.SEED), default=0, help=seed_help)
    p.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")


def common(p, from_design=False):
    """N, the law, L, a deadline, seed and --json; ``from_design``: N and the law may come from --design."""
    workers_and_model(
        p,
        model_required=not from_design,
        workers_required=not from_design,
        model_help="; default: the --design document's" if from_design else "",
    )
    p.add_argument(
        "--coords", "-L", type=number("--coords", V.COORDS), help=f"number of coordinates L ({V.COORDS.describe()})"
    )
    p.add_argument("--deadline", "-t", type=positive("--deadline"), help="deadline t for P(τ ≤ t), in the unit of T")
    output(p)


#: the largest latency and the smallest bandwidth the command line takes (unit of T; coordinates per unit)


def link_options(p):
    """--bandwidth, --latency, --ingress: upload links (docs/model.md, "Communication: upload links")."""
    p.add_argument(
        "--bandwidth",
        "-B",
        type=number("--bandwidth", V.Interval(float, MIN_BANDWIDTH, math.inf, closed="both")),
        default=math.inf,
        help="each worker's upload bandwidth B, coordinates per unit of T (inf: free)",
    )
    p.add_argument(
        "--latency",
        type=number("--latency", V.Interval(float, 0.0, MAX_LATENCY)),
        default=0.0,
        help="latency λ of every message, in the unit of T",
    )
    p.add_argument(
        "--ingress",
        type=number("--ingress", V.Interval(float, MIN_BANDWIDTH, MAX_INGRESS, closed="both")),
        help="bandwidth B_m of a master ingress shared by all uploads, coordinates per unit of T (FIFO; default: none)",
    )


def link_args(a) -> dict:
    return {"bandwidth": a.bandwidth, "latency": a.latency, "ingress": a.ingress}


def document_links(a, doc) -> None:
    """A --design document's links apply unless the options give others (then they must agree: a
    design made for one network is not silently evaluated, simulated or trained on another)."""
    made, given = doc.links.as_dict(), link_args(a)
    if given == {"bandwidth": math.inf, "latency": 0.0, "ingress": None}:
        a.bandwidth, a.latency, a.ingress = made["bandwidth"], made["latency"], made["ingress"]
    elif given != made:
        raise UsageError(
            f"--design {a.design}: the design was made for the links {made}, but "
            f"--bandwidth/--latency/--ingress give {given}; drop them to use the document's"
        )


def order_options(p):
    """--work-order, --forward-share, --costs: the workers' work order (docs/model.md, "The backprop
    work order")."""
    p.add_argument(
        "--work-order",
        choices=KINDS,
        help="how a worker orders its work: paper (coordinate-major, the default) or backprop (subset-major)",
    )
    p.add_argument(
        "--forward-share",
        type=number("--forward-share", V.Interval(float, 0.0, 1.0, closed="left")),
        metavar="F",
        help="backprop: the forward pass's share φ of one full-subset gradient (default 0)",
    )
    p.add_argument(
        "--costs",
        metavar="FILE.json",
        help="backprop: a cost document (bcgc profile: forward seconds, backward seconds and sizes per tensor, "
        "output side first); implies --work-order backprop",
    )


def order_of(a):
    """The WorkOrder the options give, or None for the paper's order."""
    kind = a.work_order or ("backprop" if a.costs is not None or a.forward_share is not None else "paper")
    if kind == "paper":
        if a.costs is not None or a.forward_share is not None:
            raise UsageError("--costs and --forward-share describe the backprop order: drop --work-order paper")
        return None
    if a.costs is not None:
        if a.forward_share is not None:
            raise UsageError("--forward-share and --costs: the cost document gives the forward share")
        return WorkOrder.from_costs(a.costs)
    return WorkOrder.backprop(a.forward_share or 0.0)


def design_options(p, samples_help="draws of T for sample-based methods"):
    p.add_argument(
        "--objective",
        choices=OBJECTIVES,
        default="runtime",
        help="minimise E[τ] (runtime) or maximise P(τ ≤ deadline) (deadline)",
    )
    p.add_argument(
        "--method",
        choices=METHOD_NAMES,
        default="optimal",
        help="design method (docs/algorithms.md, which method when)",
    )
    p.add_argument(
        "--tolerate",
        "-f",
        type=whole("--tolerate", 0),
        default=0,
        help="full stragglers to tolerate: x_s = 0 for s < f",
    )
    p.add_argument(
        "--allowed-levels",
        type=int_list("--allowed-levels"),
        help="only these levels may be used, e.g. 0,2,5 (default: all)",
    )
    p.add_argument(
        "--samples",
        type=whole("--samples", 10, V.MAX_SAMPLES),
        help=samples_help + " (default: 1000 for the runtime, 20000 for a deadline)",
    )
    p.add_argument(
        "--equal-subsets",
        action="store_true",
        help="keep equal data subsets (default: for workers that differ, the optimal method also "
        "chooses the subset sizes; docs/model.md, unequal subsets)",
    )
    cv_options(p)


def cv_options(p, what="the design"):
    """--folds K and --no-cv: how BCGC's design procedure is chosen on a trace (docs/traces.md)."""
    p.add_argument(
        "--folds",
        type=whole("--folds", 2, V.MAX_SAMPLES),
        metavar="K",
        help=f"with a trace law: choose {what}'s procedure (uncoded, one level, optimal) by K-fold "
        "cross-validation over its rows (default: leave-one-out up to 10 rows, 10 folds up to 100, "
        "none above; docs/traces.md)",
    )
    p.add_argument(
        "--no-cv",
        action="store_true",
        help="with a trace law: design as asked (optimal), without choosing the procedure by cross-validation",
    )


def data_options(p):
    def dataset(text):  # a built-in name, else a file: say here, naming the flag, when there is none
        if text in DATASETS or os.path.isfile(text):
            return text
        why = "not a file" if os.path.exists(text) else "no such file"
        raise UsageError(
            f"--dataset must be one of {', '.join(DATASETS)} or a data file (.npz, .csv, .svm), got {text!r}: {why}"
        )

    p.add_argument(
        "--problem",
        choices=PROBLEM_NAMES,
        default="least-squares",
        help="the model to train; logistic needs 2 classes (docs/problems.md)",
    )
    p.add_argument(
        "--dataset",
        type=dataset,
        default="digits",
        help=f"{', '.join(DATASETS)}, or your file: .npz "
        "(arrays X, y), .csv (a label column), .svm/.svmlight/.libsvm (docs/problems.md)",
    )
    p.add_argument("--label", metavar="NAME", help="the label column of a CSV file (default: the column 'label')")
    p.add_argument("--max-samples", type=whole("--max-samples", 1), help="keep a seeded subset of the data rows")


def design_args(a) -> dict:
    return {
        "objective": a.objective,
        "deadline": a.deadline,
        "method": a.method,
        "tolerate": a.tolerate,
        "allowed_levels": a.allowed_levels,
        "samples": a.samples,
        "allocate": not a.equal_subsets,
        "folds": a.folds,
        "cv": not a.no_cv,
    }


def design_file(p, text="a design document (the output of bcgc design ... --json) instead of --blocks"):
    p.add_argument("--design", metavar="FILE", help=text + " (docs/traces.md)")


def fraction(name):
    return number(name, V.Interval(float, 0, 1, closed="neither", noun="fraction"))


def need_workers_and_model(a):
    """--workers and --model, required unless a --design document gave them."""
    for option, value in (("--workers", a.workers), ("--model", a.model)):
        if value is None:
            raise UsageError(f"{option} is required for {a.command} (or --design FILE, which carries it)")


def need_coords(a):
    if a.coords is None:
        raise UsageError(f"--coords is required for {a.command}")
