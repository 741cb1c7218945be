"""Arguments of ``bcgc simulate`` and ``train`` that need checking against each other: what the
workers experience, a --design document's blocks, the work order, the problem (a shipped one or a
PyTorch model, docs/torch.md)."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass

from .._args import UsageError
from ..design.document import load_design
from .options import document_links, order_of
from .torch_cmd import torch_problem


@dataclass(frozen=True)
class ModelData:
    """What the reports say of a PyTorch model's data (a shipped problem's is its Dataset)."""

    name: str
    note: str = ""


def problem_of(a, features: int | None = None):
    """(problem, data, optimizer): the --torch model and its optimizer, else the shipped problem on
    --dataset (optimizer None: gradient descent)."""
    if getattr(a, "torch", None):
        if a.dataset != "digits" or a.problem != "least-squares" or a.max_samples is not None or a.label is not None:
            raise UsageError("--torch brings its own model and data: drop --problem, --dataset, --max-samples, --label")
        problem, optimizer = torch_problem(a, a.workers)
        return problem, ModelData(a.torch), optimizer
    from ..problems import load_dataset, make_problem

    for flag in ("batch_size", "threads"):
        if getattr(a, flag, None) is not None:
            raise UsageError(f"--{flag.replace('_', '-')} applies to --torch models only")
    kw = {} if features is None else {"features": features}
    data = load_dataset(a.dataset, samples=a.max_samples, seed=a.seed, label=a.label, **kw)
    return make_problem(a.problem, data, a.workers), data, None


def experience(a):
    """--stragglers and --adapt, checked against --model and the mode before any data is loaded."""
    from ..runtime import AdaptConfig, parse_experience

    try:
        stragglers = parse_experience(a.stragglers if a.stragglers is not None else a.model)
    except ValueError as exc:
        raise UsageError(f"--stragglers: {exc}") from None
    if a.stragglers is None and a.model is None:
        raise UsageError("--model or --stragglers is required (--stragglers natural or replay:path=F with --adapt)")
    if a.model is None and a.adapt is None:
        raise UsageError(
            f"--model (the law the design assumes) is required with --stragglers {stragglers.spec} "
            "unless --adapt learns it"
        )
    if a.window != 20 and a.adapt is None:
        raise UsageError("--window applies to --adapt only")
    if stragglers.kind == "natural":
        if a.mode is not None:  # never ignore an option silently
            raise UsageError(
                f"--{a.mode} does not apply to --stragglers natural (no injected delay, real computation only)"
            )
        a.mode = "natural"
    elif a.mode is None:
        a.mode = "emulate"  # the default (runtime.MODES[0])
    return stragglers, None if a.adapt is None else AdaptConfig(every=a.adapt, window=a.window)


def document_designs(a, problem, schemes) -> dict:
    """{"bcgc": (blocks, subset sizes)} from --design (checked against N, the problem's L and the
    scheme), else {}."""
    if a.design is None:
        return {}
    if "bcgc" not in schemes:
        raise UsageError("--design applies to the bcgc scheme: use --scheme bcgc or all")
    doc = load_design(a.design)
    doc.check_workers(a.workers)
    if hasattr(a, "bandwidth"):  # train: the document's links are emulated, as evaluate uses them
        document_links(a, doc)
    elif not doc.links.free:
        raise UsageError(
            f"--design {a.design}: the design was made for the links {doc.links.as_dict()}, and simulate does "
            "not model uploads: evaluate it (bcgc evaluate --design) or train it (bcgc train --design)"
        )
    what = a.torch if getattr(a, "torch", None) else f"{a.problem} on {a.dataset}"
    doc.check_coords(problem.L, f"L ({what}: its number of coordinates)")
    if getattr(a, "equal_subsets", False) and doc.subset_sizes is not None:
        raise UsageError(
            f"--equal-subsets: the design document {a.design} gives unequal subset sizes; drop one or the other"
        )
    return {"bcgc": (doc.blocks, doc.subset_sizes)}


def simulated_order(a):
    """The work order of ``simulate``: the options', else the --design document's (None: the paper's)."""
    given = order_of(a)
    if a.design is None or any(v is not None for v in (a.work_order, a.costs, a.forward_share)):
        return given
    return load_design(a.design).work_order


@contextlib.contextmanager
def stdout_to_stderr():
    """Engines (Ray's driver) may print to the process's stdout; the run's own output, one table or
    one JSON object, is printed afterwards, so route file descriptor 1 to stderr meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
