"""The baselines of the coded all-reduce, in the same harness (docs/torch.md, "Coded all-reduce").

* :class:`PlainDataParallel` — plain data parallel (what DDP does): rank n computes the gradient of
  its own batch (subset n), everyone waits, one all-reduce in buckets. Under emulation rank n's
  gradient is done at (a_n + b_n) · unit (the uncoded design's ``Plan.ready``), so a step takes
  max_n (a_n + b_n): τ of uncoded (``bcgc.schemes.uncoded``).
* :class:`DeadlineDataParallel` — a compute deadline that drops late micro-batches (inexact): rank n's
  batch is M micro-batches (subsets nM..nM+M−1 of a problem of N·M subsets); micro-batch j is done at
  (a_n + b_n (j+1)/M) · unit, and one not done by the deadline D (unit of T) is dropped: the rank
  stops at D. The gradient is the mean over the rows processed, Σ_done ∇f_k · B / B_done, so a step
  takes min(D, max_n (a_n + b_n)) and the gradient differs from DDP's (reported, not hidden).
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.distributed as dist

from .. import _validate as V
from ..schemes.blocks import BlockScheme
from ..schemes.plan import Plan
from ..timing.orderstat import single_level_blocks
from .collective import all_reduce_buckets, flat_grads, write_grads
from .distributed import DataParallelBase

__all__ = ["PlainDataParallel", "TorchDDP", "DeadlineDataParallel", "deadline_runtime"]


def _zero(params) -> None:
    for p in params:
        p.grad = None


def _sleep_until(due: float) -> None:
    left = due - time.perf_counter()
    if left > 0:
        time.sleep(left)


class PlainDataParallel(DataParallelBase):
    """Uncoded data parallel on ``problem`` (N subsets, N = world size): the baseline everyone waits in."""

    def __init__(self, problem, *, group=None, bucket_mb: float = 25.0, reduce_dtype=None):
        rank = dist.get_rank(group) if dist.is_initialized() else 0
        super().__init__(problem, [rank], group, bucket_mb, reduce_dtype)
        if problem.workers != self.world:
            raise V.InputError(f"problem.workers must be the world size {self.world}, got {problem.workers}")
        self.own = [self.rank]
        self.plan = Plan(BlockScheme(single_level_blocks(self.world, problem.L, 0), self.world))

    def predicted(self, parts) -> float:
        """τ = max_n (a_n + b_n) in the unit of T (``Plan.runtime`` of the uncoded design)."""
        a, b = (np.asarray(v, dtype=float)[None, :] for v in parts)
        return float(self.plan.runtime(a, b)[0])

    def backward(self, t: int, parts=None, unit: float = 0.0) -> dict:
        """Own gradient, the emulated wait, one bucketed all-reduce; the sum lands in ``.grad``."""
        start = time.perf_counter()
        theta = self.theta(t)
        _zero(self.params)
        self.view.forward(theta, self.rank).backward()
        flat = flat_grads(self.params, self.dtype)
        if parts is not None:
            _sleep_until(start + unit * self.plan.ready(self.rank, parts[0][self.rank], parts[1][self.rank])[0])
        all_reduce_buckets(flat, self.bucket, self.group)
        write_grads(self.params, self.offsets, flat)
        return {"iteration": int(t), "seconds": time.perf_counter() - start}


class TorchDDP(PlainDataParallel):
    """torch's own ``DistributedDataParallel`` on the same batches (its all-reduce overlaps the
    backward pass): the reference for the cost with no stragglers, so it runs without emulated delays.
    Rank n's loss is N · f_n (DDP averages over the N ranks), so the gradient is Σ_n ∇f_n as above."""

    def __init__(self, problem, *, group=None, bucket_mb: float = 25.0):
        super().__init__(problem, group=group, bucket_mb=bucket_mb)
        self.ddp = torch.nn.parallel.DistributedDataParallel(problem.module, bucket_cap_mb=bucket_mb)

    def backward(self, t: int, parts=None, unit: float = 0.0) -> dict:
        if parts is not None:
            raise V.InputError("the torch DDP reference runs without emulated stragglers (stragglers natural)")
        start = time.perf_counter()
        view = self.view
        view.set_iteration(t)
        _zero(self.params)
        rows = view._batch(self.rank)
        xb, yb = view.X[torch.as_tensor(rows)], view.y[torch.as_tensor(rows)]
        self.module.train()
        (view.loss_fn(self.ddp(xb), yb) * (rows.size * self.world / view.global_rows)).backward()
        return {"iteration": int(t), "seconds": time.perf_counter() - start}


def deadline_runtime(parts, deadline: float) -> float:
    """The deadline baseline's step: min(D, max_n (a_n + b_n)) in the unit of T."""
    a, b = (np.asarray(v, dtype=float) for v in parts)
    return float(min(deadline, np.max(a + b)))


class DeadlineDataParallel(DataParallelBase):
    """A compute deadline ``deadline`` (unit of T) over ``micro`` micro-batches per rank;
    ``problem`` has N · ``micro`` subsets (rank n's micro-batches are subsets nM..nM+M−1)."""

    def __init__(self, problem, micro: int, deadline: float, *, group=None, bucket_mb: float = 25.0):
        self.micro = V.integer("micro", micro, minimum=1)
        self.deadline = V.positive("deadline", deadline)
        rank = dist.get_rank(group) if dist.is_initialized() else 0
        own = list(range(rank * self.micro, (rank + 1) * self.micro))
        super().__init__(problem, own, group, bucket_mb, torch.float64)
        if problem.workers != self.world * self.micro:
            raise V.InputError(
                f"problem.workers must be world size × micro = {self.world * self.micro}, got {problem.workers}"
            )
        self.own = own
        self.rows = problem.global_rows

    def predicted(self, parts) -> float:
        return deadline_runtime(parts, self.deadline)

    def backward(self, t: int, parts=None, unit: float = 0.0) -> dict:
        """The micro-batches done by the deadline, summed over ranks and rescaled to a mean."""
        start = time.perf_counter()
        theta = self.theta(t)
        _zero(self.params)
        a, b = (0.0, 0.0) if parts is None else (float(parts[0][self.rank]), float(parts[1][self.rank]))
        done = 0
        for j, k in enumerate(self.own):
            when = a + b * (j + 1) / self.micro
            if parts is not None and when > self.deadline:
                _sleep_until(start + unit * self.deadline)  # the rank is stopped at the deadline
                break
            self.view.forward(theta, k).backward()
            done += int(self.view._batch(k).size)
            if parts is not None:
                _sleep_until(start + unit * when)
        flat = torch.cat([flat_grads(self.params, torch.float64), torch.tensor([float(done)], dtype=torch.float64)])
        flat = all_reduce_buckets(flat.to(self.device), self.bucket, self.group)
        rows = float(flat[-1])
        grad = flat[:-1] * (self.rows / rows) if rows > 0 else flat[:-1] * 0.0
        write_grads(self.params, self.offsets, grad)
        return {"iteration": int(t), "seconds": time.perf_counter() - start, "rows_used": rows / self.rows}
