"""``torchrun --nproc-per-node N -m bcgc.torch.run --torch FILE.py:FUNCTION ...``: the coded all-reduce
(or a baseline) on every rank of a process group (docs/torch.md, "Coded all-reduce").

The process group comes from the environment torchrun sets (RANK, WORLD_SIZE, MASTER_ADDR,
MASTER_PORT): gloo on CPU, NCCL when a GPU is present (one per local rank). Rank 0 prints the report
(``--json``: one JSON object). Bad input: one line on stderr, exit 2; a rank that times out or a run
that cannot finish: one line, exit 1.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pickle
import sys

import torch
import torch.distributed as dist

from .. import _validate as V
from .launch import SCHEMES, RunSpec, run_rank

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bcgc.torch.run", description=__doc__.splitlines()[0])
    p.add_argument("--torch", metavar="FILE.py:FUNCTION", help="the model, as bcgc train --torch")
    p.add_argument("--scheme", choices=SCHEMES, default="bcgc", help="coded (bcgc, gc, uncoded) or a baseline")
    p.add_argument("--model", help="the straggler law the design assumes (default: --stragglers)")
    p.add_argument("--stragglers", help="what the ranks experience: a law, replay:name=NAME, or natural")
    p.add_argument("--design", metavar="FILE.json", help="a design document (bcgc design --json)")
    p.add_argument("--costs", metavar="FILE.json", help="a cost document (bcgc profile): the backprop work order")
    p.add_argument("--forward-share", type=float, help="the backprop order with a uniform backward")
    p.add_argument("--iterations", "-k", type=int, default=20, help="steps")
    p.add_argument("--unit", type=float, default=0.1, help="seconds of one full-subset gradient (emulated)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, help="rows per subset and step (default: the factory's)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--threads", type=int, default=1, help="torch threads per rank")
    p.add_argument("--optimizer", choices=("sgd", "adam", "adamw"), default="sgd")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.0)
    p.add_argument("--tolerate", type=int, default=0, help="full stragglers the design must tolerate")
    p.add_argument("--micro", type=int, default=4, help="deadline baseline: micro-batches per rank")
    p.add_argument("--compute-deadline", type=float, help="deadline baseline: D in the unit of T (default BCGC's E[τ])")
    p.add_argument("--no-verify", action="store_true", help="skip the per-step check against plain DDP's gradient")
    p.add_argument("--check-every", type=int, default=10, help="check identical parameters every K steps (0: never)")
    p.add_argument("--stop-timeout", type=float, default=30.0, help="seconds a rank may take to reach the stop")
    p.add_argument("--close-timeout", type=float, default=300.0, help="seconds a step may take to close")
    p.add_argument("--json", action="store_true", help="rank 0 prints one JSON object")
    p.add_argument("--spec", help=argparse.SUPPRESS)  # bcgc train --backend torch-ddp: a pickled RunSpec
    p.add_argument("--result", help=argparse.SUPPRESS)  # ... and where rank 0 writes its result
    return p


def specs_of(a) -> list:
    """The runs: the pickled list of ``--spec`` (bcgc train --backend torch-ddp), else the options'."""
    if a.spec is not None:
        with open(a.spec, "rb") as fh:
            return pickle.load(fh)
    if a.torch is None:
        raise V.InputError("--torch FILE.py:FUNCTION is required (the model)")
    if a.model is None and a.stragglers is None:
        raise V.InputError("--model or --stragglers is required (natural: no injected delay)")
    fields = RunSpec.__dataclass_fields__
    kw = {k: v for k, v in vars(a).items() if k in fields and v is not None}
    return [RunSpec(**kw, verify=not a.no_verify)]


def init_group(timeout: float = 600.0) -> None:
    """The default process group from torchrun's environment (gloo on CPU, NCCL with GPUs)."""
    if dist.is_initialized():
        return
    for key in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        if key not in os.environ:
            raise V.InputError(f"{key} is not set: start with torchrun --nproc-per-node N -m bcgc.torch.run ...")
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)) % torch.cuda.device_count())
    dist.init_process_group(backend, init_method="env://", timeout=datetime.timedelta(seconds=timeout))


def main(argv=None) -> int:
    from ..report_runs import render_train, train_json

    a = parser().parse_args(argv)
    try:
        specs = specs_of(a)
        init_group()
        results = [run_rank(spec) for spec in specs]
        if dist.get_rank() == 0 and a.result:
            with open(a.result, "wb") as fh:
                pickle.dump(results, fh)
        elif dist.get_rank() == 0:
            spec, ranks = specs[0], dist.get_world_size()
            title = f"{spec.torch}: {spec.scheme} on {ranks} ranks, stragglers {spec.stragglers or spec.model}"
            run = {"ranks": ranks, "scheme": spec.scheme, "stragglers": spec.stragglers or spec.model}
            print(json.dumps(train_json(results, run)) if a.json else render_train(results, title))
    except V.InputError as exc:
        print(f"bcgc.torch.run: error: {exc}", file=sys.stderr)
        return 2
    except V.RunFailed as exc:
        print(f"bcgc.torch.run: {exc}", file=sys.stderr)
        return 1
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
