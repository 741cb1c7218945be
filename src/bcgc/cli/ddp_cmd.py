"""``bcgc train --backend torch-ddp``: the coded all-reduce on N local processes (gloo; docs/torch.md,
"Coded all-reduce"). The parent only checks the options and spawns ``python -m bcgc.torch.run``; each
rank builds the model, rank 0 designs and reports."""

from __future__ import annotations

import math

from .. import report_runs
from .._args import UsageError

#: the baselines --baselines adds (bcgc.torch.baselines)
BASELINES = ("ddp", "deadline")

_NOT_HERE = (  # (attribute, default, option): what the ray/threads engines have and torch-ddp has not
    ("adapt", None, "--adapt"),
    ("address", None, "--address"),
    ("startup_timeout", 120.0, "--startup-timeout"),
    ("cpus_per_worker", 0.0, "--cpus-per-worker"),
    ("bandwidth", math.inf, "--bandwidth"),
    ("latency", 0.0, "--latency"),
    ("ingress", None, "--ingress"),
    ("save", None, "--save"),
    ("checkpoint", None, "--checkpoint"),
    ("resume", None, "--resume"),
    ("metrics_csv", None, "--metrics-csv"),
    ("tensorboard", None, "--tensorboard"),
    ("plot", None, "--plot"),
    ("log", None, "--log"),
    ("objective", "runtime", "--objective"),
    ("allowed_levels", None, "--allowed-levels"),
)


def check(a) -> tuple:
    """The schemes to run, the options checked (one line, exit 2, before any process starts)."""
    if not getattr(a, "torch", None):
        raise UsageError("--backend torch-ddp trains a PyTorch model: give --torch FILE.py:FUNCTION")
    for attr, default, option in _NOT_HERE:
        value = getattr(a, attr, default)
        if value != default and not (isinstance(value, float) and math.isnan(value)):
            raise UsageError(f"{option} applies to --backend ray or threads, not torch-ddp")
    if a.mode != "emulate":
        raise UsageError("--backend torch-ddp emulates the stragglers (--emulate) or runs them natural")
    schemes = ("bcgc", "gc", "uncoded") if a.scheme == "all" else tuple(a.scheme)
    bad = [s for s in schemes if s not in ("bcgc", "gc", "uncoded")]
    if bad:
        raise UsageError(f"--backend torch-ddp runs the block schemes bcgc, gc, uncoded, got {', '.join(bad)}")
    return schemes + (BASELINES if a.baselines else ())


def run(a, stragglers):
    """Each scheme (and baseline) on --workers processes; the report of ``bcgc train``."""
    schemes = check(a)
    try:
        from ..torch.launch import RunSpec, spawn
    except ImportError:
        raise UsageError("--backend torch-ddp needs PyTorch: pip install 'bcgc[torch]'") from None
    costs, share = a.costs, a.forward_share
    if a.work_order == "backprop" and costs is None and share is None:
        share = 0.0
    if a.work_order == "paper" and (costs is not None or share is not None):
        raise UsageError("--costs and --forward-share describe the backprop order: drop --work-order paper")
    specs = [
        RunSpec(
            torch=a.torch,
            scheme=scheme,
            model=None if a.model is None else a.model.spec,
            stragglers=stragglers.spec,
            design=a.design if scheme == "bcgc" else None,
            costs=costs,
            forward_share=share,
            iterations=a.iterations,
            unit=a.unit,
            seed=a.seed,
            batch_size=a.batch_size,
            dtype=a.dtype,
            threads=a.threads or 1,
            optimizer=a.optimizer,
            lr=a.lr,
            momentum=a.momentum,
            tolerate=a.tolerate,
        )
        for scheme in schemes
    ]
    results = spawn(specs, a.workers)  # every run in one process group: PyTorch imported once per rank
    title = f"{a.torch} on {a.workers} gloo processes (torch-ddp), stragglers {stragglers.spec}, unit={a.unit:g}s"
    if a.json:
        run = {"workers": a.workers, "stragglers": stragglers.spec, "backend": "torch-ddp", "unit": a.unit}
        return report_runs.train_json(results, run)
    return report_runs.render_train(results, title)
