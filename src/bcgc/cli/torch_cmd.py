"""``bcgc profile`` and the PyTorch options of ``bcgc train --torch`` (docs/torch.md). PyTorch is
imported only when one of them is used: every other command works without it."""

from __future__ import annotations

import json
import os

from .. import _validate as V
from .._args import UsageError, number, whole
from ..optim import OPTIMIZERS, SCHEDULES
from .commands import add

DTYPES = ("float32", "float64")


def torch_options(p) -> None:
    """The model of ``--torch FILE.py:FUNCTION`` and the master's optimizer."""
    g = p.add_argument_group("PyTorch (docs/torch.md; needs pip install 'bcgc[torch]')")
    g.add_argument(
        "--torch",
        metavar="FILE.py:FUNCTION",
        help="train the PyTorch model the function returns ({'module', 'loss', 'train', 'test', 'batch_size'}), "
        "e.g. docs/examples/torch_models.py:cnn",
    )
    g.add_argument("--batch-size", type=whole("--batch-size", 1), help="rows per subset and iteration")
    g.add_argument("--dtype", choices=DTYPES, default="float32", help="the module's floating-point type")
    g.add_argument("--threads", type=whole("--threads", 1), help="torch threads per worker")
    g.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd", help="the master's optimizer")
    g.add_argument("--lr", type=number("--lr", V.POSITIVE), default=0.05, help="learning rate")
    g.add_argument(
        "--momentum",
        type=number("--momentum", V.Interval(float, 0, 1, closed="left")),
        default=0.0,
        help="SGD momentum",
    )
    g.add_argument("--weight-decay", type=number("--weight-decay", V.NONNEGATIVE), default=0.0, help="weight decay")
    g.add_argument("--schedule", choices=SCHEDULES, default="constant", help="learning rate schedule")


def _load_problem(a, workers: int, what: str):
    """The TorchProblem of ``--torch`` (PyTorch imported only here)."""
    try:
        import torch
    except ImportError:
        raise UsageError(f"{what} needs PyTorch: pip install 'bcgc[torch]'") from None
    from ..torch.factory import problem_from_factory

    dtype = torch.float64 if a.dtype == "float64" else torch.float32
    return problem_from_factory(a.torch, workers, seed=a.seed, batch_size=a.batch_size, dtype=dtype, threads=a.threads)


def torch_problem(a, workers: int):
    """(problem, optimizer) of ``--torch``."""
    from ..torch.optim import make_optimizer

    problem = _load_problem(a, workers, "--torch")
    opt = make_optimizer(problem, a.optimizer, a.lr, a.momentum, a.weight_decay, a.schedule, a.iterations)
    return problem, opt


def register(sub) -> None:
    p = add(sub, "profile")
    p.add_argument("--torch", required=True, metavar="FILE.py:FUNCTION", help="the model (as bcgc train --torch)")
    p.add_argument("--workers", "-N", type=whole("--workers", 1), default=8, help="data subsets")
    p.add_argument("--batch-size", type=whole("--batch-size", 1), help="rows per subset")
    p.add_argument("--dtype", choices=DTYPES, default="float32", help="the module's floating-point type")
    p.add_argument("--threads", type=whole("--threads", 1), help="torch threads")
    p.add_argument("--repeats", type=whole("--repeats", 1), default=5, help="timed repetitions (medians)")
    p.add_argument("--seed", type=number("--seed", V.SEED), default=0, help="seed of the model and its batches")
    p.add_argument("--out", metavar="COSTS.json", help="write the document there (design --costs reads it)")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")


def _profile(a):
    problem = _load_problem(a, a.workers, "profile")
    from ..torch.profile import profile_costs

    doc = profile_costs(problem, repeats=a.repeats)
    if a.out:
        tmp = f"{a.out}.tmp-{os.getpid()}"
        with open(tmp, "w") as fh:
            json.dump(doc, fh, indent=1)
        os.replace(tmp, a.out)  # an interrupted write never leaves half a document
    if a.json:
        return doc
    total = doc["forward"] + sum(doc["backward"])
    lines = [f"{a.torch}: {problem.L} parameters in {len(doc['sizes'])} tensors, {doc['batch_rows']} rows per subset"]
    lines.append(f"forward  {doc['forward'] * 1e3:9.3f} ms  ({doc['forward'] / total:.0%} of a subset's gradient)")
    for name, size, cost in zip(doc["names"], doc["sizes"], doc["backward"]):
        lines.append(f"backward {cost * 1e3:9.3f} ms  {name} ({size})")
    if a.out:
        lines.append(f"written to {a.out}: bcgc design ... --costs {a.out}")
    return "\n".join(lines)


#: the runner: (module, function); PyTorch is imported inside it, when it runs
COMMANDS = {"profile": ("torch_cmd", "_profile")}
