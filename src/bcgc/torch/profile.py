"""The cost profile of a module's gradient: what the backprop work order needs (docs/model.md,
"The backprop work order"; ``bcgc profile``).

One full-subset gradient costs a forward pass and a backward pass; the backward pass runs from the
output side and can stop after any tensor. We time, on one subset's batch, the forward pass and the
backward pass stopped after the P tensors' last 1, 2, ..., P (``torch.autograd.grad`` asked for those
tensors only), take medians over ``repeats``, and give each tensor the increment between consecutive
stops. The document lists the tensors output side first, the order the backward pass meets them. A
timer's noise can make a median cumulative time smaller than the one before it; the cumulative times
are made non-decreasing (a running maximum) before differencing, and the document says so.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from .. import _validate as V

__all__ = ["profile_costs"]


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def profile_costs(problem, repeats: int = 5, subset: int = 0) -> dict:
    """The cost document of ``problem`` (a :class:`~bcgc.torch.TorchProblem`): seconds of the
    forward pass per subset and of the backward pass per tensor, in θ's order."""
    repeats = V.integer("repeats", repeats, minimum=1)
    subset = V.integer("subset", subset, minimum=0, maximum=problem.workers - 1)
    theta = problem.init()
    problem.module.train()
    params = problem.params[::-1]  # output side first
    forward, stops = [], [[] for _ in params]
    problem._subset_loss(theta, subset)  # warm-up: allocations, kernels
    for _ in range(repeats):
        forward.append(_timed(lambda: problem._subset_loss(theta, subset)))
        for i in range(len(params)):
            value = problem._subset_loss(theta, subset)
            stops[i].append(_timed(lambda: torch.autograd.grad(value, params[: i + 1], allow_unused=True)))
    cumulative = np.maximum.accumulate([float(np.median(s)) for s in stops])
    return {
        "version": 1,
        "unit": "seconds",
        "forward": float(np.median(forward)),
        "backward": np.diff(np.concatenate([[0.0], cumulative])).tolist(),
        "sizes": problem.sizes[::-1].tolist(),
        "names": list(problem.names[::-1]),
        "batch_rows": int(problem._batch(subset).size),
        "device": str(problem.device),
        "threads": torch.get_num_threads(),
        "repeats": repeats,
        "note": "medians; cumulative backward times made non-decreasing before differencing",
    }
