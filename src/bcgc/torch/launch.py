"""One training run of the coded all-reduce or a baseline, on every rank of a process group, and the
local launcher behind ``bcgc train --backend torch-ddp`` (docs/torch.md, "Coded all-reduce").

Every rank builds the same :class:`~bcgc.torch.TorchProblem` from the factory (same seed), rank 0
makes the design (``bcgc.policy.DesignPolicy``, or a ``--design`` document) and broadcasts it, and
every rank draws the same emulated (a, b) per step (``bcgc.runtime.experience``: a law, a replayed
trace, or nothing), picks its own, and runs. A step is timed from a barrier to the optimizer's step;
the check of its gradient against plain DDP's (``verify``) and of identical parameters
(``check_every``) run outside that time. Rank 0 returns the iteration records
(``bcgc.runtime.TrainResult``'s columns, so ``bcgc train``'s report reads them).
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

from .. import _validate as V
from ..runtime.experience import decodable_parts, parse_experience
from ..runtime.result import TrainResult
from ..timing.work import WorkOrder
from .baselines import DeadlineDataParallel, PlainDataParallel, TorchDDP
from .distributed import CodedDataParallel
from .factory import problem_from_factory
from .optim import make_optimizer

__all__ = ["RunSpec", "SCHEMES", "run_rank", "spawn"]

#: block schemes run coded; ``ddp``, ``deadline`` and ``torch-ddp`` (torch's DistributedDataParallel, no
#: emulated stragglers) are the baselines (bcgc.torch.baselines)
SCHEMES = ("bcgc", "gc", "uncoded", "ddp", "deadline", "torch-ddp")


@dataclass(frozen=True)
class RunSpec:
    """A run's settings, the same on every rank (``python -m bcgc.torch.run --help`` says each)."""

    torch: str
    scheme: str = "bcgc"
    model: str | None = None  # the law the design assumes (default: stragglers)
    stragglers: str | None = None  # what the ranks experience: a law, replay:..., natural
    design: str | None = None  # a design document (bcgc)
    costs: str | None = None  # a cost document: the backprop order
    forward_share: float | None = None  # the backprop order with a uniform backward
    iterations: int = 20
    unit: float = 0.1
    seed: int = 0
    batch_size: int | None = None
    dtype: str = "float32"
    threads: int | None = 1
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.0
    tolerate: int = 0
    micro: int = 4
    compute_deadline: float | None = None  # the deadline baseline's D (unit of T; default: BCGC's E[τ])
    verify: bool = True
    check_every: int = 10
    close_timeout: float = 300.0
    stop_timeout: float = 30.0

    def order(self):
        if self.costs is not None:
            return WorkOrder.from_costs(self.costs)
        return None if self.forward_share is None else WorkOrder.backprop(self.forward_share)


def _problem(spec: RunSpec, workers: int):
    dtype = torch.float64 if spec.dtype == "float64" else torch.float32
    kw = dict(batch_size=spec.batch_size, dtype=dtype, threads=spec.threads)
    return problem_from_factory(spec.torch, workers, seed=spec.seed, **kw)


def _design(spec: RunSpec, experience, problem, world: int):
    """The block design (rank 0 makes it, every rank receives it)."""
    box = [None]
    if dist.get_rank() == 0:
        try:
            box[0] = _make_design(spec, experience, problem, world)
        except Exception as exc:  # every rank must learn that the design failed
            box[0] = exc
    dist.broadcast_object_list(box, src=0)
    if isinstance(box[0], Exception):
        raise box[0]
    return box[0]


def _make_design(spec, experience, problem, world):
    from ..design.document import load_design
    from ..policy import DesignPolicy
    from ..stragglers import parse_model

    if spec.design is not None:
        doc = load_design(spec.design)
        doc.check_workers(world, "world size")
        doc.check_coords(problem.L, f"L ({spec.torch}: its number of parameters)")
        if doc.subset_sizes is not None:
            raise V.InputError("design: unequal subset_sizes are not run by the coded all-reduce (equal batches)")
        return np.asarray(doc.blocks)
    law = parse_model(spec.model) if spec.model is not None else experience.law
    if law is None:
        raise V.InputError("model (the law the design assumes) is required with a replay or natural stragglers")
    policy = DesignPolicy(spec.scheme, tolerate=spec.tolerate, seed=spec.seed, allocate=False, work_order=spec.order())
    return np.asarray(policy.plan(law, world, problem.L)[0])


def _wrapper(spec, experience, world):
    """The data-parallel object of the spec's scheme, and the problem it trains."""
    if spec.scheme in ("ddp", "torch-ddp"):
        problem = _problem(spec, world)
        return (PlainDataParallel if spec.scheme == "ddp" else TorchDDP)(problem), problem
    if spec.scheme == "deadline":
        coded, _ = _wrapper(dataclasses.replace(spec, scheme="bcgc", verify=False), experience, world)
        deadline = spec.compute_deadline or _mean_tau(coded, experience, spec.seed, world)
        problem = _problem(spec, world * spec.micro)
        return DeadlineDataParallel(problem, spec.micro, deadline), problem
    problem = _problem(spec, world)
    blocks = _design(spec, experience, problem, world)
    return (
        CodedDataParallel(
            problem,
            blocks,
            work_order=spec.order(),
            seed=spec.seed,
            close_timeout=spec.close_timeout,
            stop_timeout=spec.stop_timeout,
        ),
        problem,
    )


def _mean_tau(coded, experience, seed, world, draws: int = 200) -> float:
    """BCGC's mean τ over the experience's first draws (the deadline baseline's default budget)."""
    if experience.kind == "natural":
        raise V.InputError("the deadline baseline needs emulated stragglers (a law or a replay), not natural")
    return float(
        np.mean(
            [coded.predicted(decodable_parts(experience, world, seed, t, _runtime(coded))[:2]) for t in range(draws)]
        )
    )


def _runtime(wrapper):
    return lambda a, b: wrapper.predicted((a, b))


def run_rank(spec: RunSpec) -> TrainResult | None:
    """Train on this rank (the process group initialised); rank 0 returns the records."""
    world, rank = dist.get_world_size(), dist.get_rank()
    experience = parse_experience(spec.stragglers if spec.stragglers is not None else spec.model)
    experience.check_workers(world)
    ddp, problem = _wrapper(spec, experience, world)
    opt = make_optimizer(problem, spec.optimizer, spec.lr, spec.momentum).optimizer
    emulate = experience.kind != "natural"
    result = TrainResult(spec.scheme)
    for t in range(spec.iterations):
        parts = decodable_parts(experience, world, spec.seed, t, _runtime(ddp))[:2] if emulate else None
        dist.barrier()
        t0 = time.perf_counter()
        rec = ddp.backward(t, parts, spec.unit)
        computed = time.perf_counter() - t0
        err, loss = _verify(ddp, t) if spec.verify else (float("nan"), float("nan"))
        if "stop_latency" in rec:  # every rank's, gathered outside the step's time
            every = ddp.gather([rec["stop_latency"], rec["blocks_done"]])
            rec.update(stop_latency=float(every[:, 0].max()), stop_latencies=every[:, 0].tolist())
            rec.update(blocks_done=every[:, 1].astype(int).tolist())
        t1 = time.perf_counter()
        opt.step()
        problem._moved()
        measured = computed + time.perf_counter() - t1
        if spec.check_every and ((t + 1) % spec.check_every == 0 or t + 1 == spec.iterations):
            ddp.check(t)
        if rank == 0:
            predicted = ddp.predicted(parts) * spec.unit if emulate else float("nan")
            extra = {k: v for k, v in rec.items() if k not in ("iteration", "seconds")}
            result.logs.append(_record(t, measured, predicted, loss, err, extra))
    if rank == 0:
        result.theta = problem.flatten()
        result.logs[-1]["metrics"] = problem.metrics(result.theta)
        return result
    return None


def _verify(ddp, t):
    """(relative error of the step's gradient against plain DDP's, the loss at θ_t)."""
    exact, loss = ddp.exact(t)
    g = ddp.gradient()
    return float(torch.linalg.norm(g - exact) / max(float(torch.linalg.norm(exact)), 1e-300)), loss


def _record(t, measured, predicted, loss, err, extra) -> dict:
    return {
        "iteration": t,
        "attempts": 1,
        "measured_seconds": measured,
        "predicted_seconds": predicted,
        # no master: the protocol's time after the closure (stop, gather, decode, all-reduce)
        "master_overhead_seconds": float(extra.get("stop_seconds", 0.0) + extra.get("reduce_seconds", 0.0)),
        "loss": loss,
        "gradient_error": err,
        **extra,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(specs, workers: int, timeout: float = 3600.0) -> list[TrainResult]:
    """Run ``specs`` (RunSpecs, one after the other in one process group: PyTorch is imported once) on
    ``workers`` local processes (gloo, ``python -m bcgc.torch.run --spec``); rank 0's results. A
    process that fails ends the run: the others are stopped and its error is raised."""
    workers = V.integer("workers", workers, minimum=1)
    specs = [specs] if isinstance(specs, RunSpec) else list(specs)
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, out = os.path.join(tmp, "spec.pkl"), os.path.join(tmp, "result.pkl")
        with open(spec_path, "wb") as fh:
            pickle.dump(specs, fh)
        env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()), "WORLD_SIZE": str(workers)}
        cmd = [sys.executable, "-m", "bcgc.torch.run", "--spec", spec_path, "--result", out]
        logs = [open(os.path.join(tmp, f"rank{r}.err"), "w+") for r in range(workers)]  # a pipe could fill up
        procs = [
            subprocess.Popen(cmd, env={**env, "RANK": str(r), "LOCAL_RANK": str(r)}, stderr=logs[r])
            for r in range(workers)
        ]
        try:
            _wait_all(procs, logs, timeout)
        finally:
            for fh in logs:
                fh.close()
        with open(out, "rb") as fh:
            return pickle.load(fh)


def _wait_all(procs, logs, timeout):
    """Wait for every rank; the first failure stops the others and is raised with its stderr."""
    deadline = time.monotonic() + timeout
    while any(p.poll() is None for p in procs):
        failed = [r for r, p in enumerate(procs) if p.poll() not in (None, 0)]
        if failed or time.monotonic() > deadline:
            for p in procs:
                if p.poll() is None:
                    p.kill()
            for p in procs:
                p.wait()
            break
        time.sleep(0.05)
    failed = [r for r, p in enumerate(procs) if p.returncode != 0]
    if failed:
        first = min(failed, key=lambda r: (procs[r].returncode < 0, r))  # a rank that failed, not one killed
        logs[first].seek(0)
        text = logs[first].read().strip()
        if "Traceback" in text:  # a bug, not a run that could not finish: its traceback is the message
            raise RuntimeError(f"torch-ddp: rank {first} raised:\n{text[text.rindex('Traceback') :]}")
        tail = text.splitlines()[-1:] or ["(no message)"]
        kind = V.InputError if procs[first].returncode == 2 else V.RunFailed
        raise kind(f"torch-ddp: rank {first} failed (exit {procs[first].returncode}): {tail[0]}")
