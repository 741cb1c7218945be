"""Any ``torch.optim`` optimizer applied at the master to the decoded gradient (docs/torch.md).

The decoded gradient is the DDP gradient of the iteration's global batch; the master writes it into
its own module's ``.grad`` tensor by tensor and calls the optimizer's ``step()``, so that an optimizer
built on ``problem.module.parameters()`` — per-tensor state, parameter groups, layer-wise rules — does
exactly what it does in a single-process run.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import _validate as V
from ..optim import OPTIMIZERS, SCHEDULES

__all__ = ["TorchOptimizer", "make_optimizer", "OPTIMIZERS", "SCHEDULES"]


class TorchOptimizer:
    """The master's update rule θ ← optimizer.step() for a :class:`~bcgc.torch.TorchProblem`.

    ``optimizer``: a ``torch.optim.Optimizer`` over ``problem.module.parameters()``; ``scheduler``: an
    optional ``torch.optim.lr_scheduler`` stepped once per iteration."""

    def __init__(self, problem, optimizer, scheduler=None):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise V.InputError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        owned = {id(p) for p in problem.params}
        foreign = [p for g in optimizer.param_groups for p in g["params"] if id(p) not in owned]
        if foreign:
            raise V.InputError("optimizer must be built on problem.module.parameters() (the master's module)")
        self.problem, self.optimizer, self.scheduler = problem, optimizer, scheduler

    def step(self, theta, grad, iteration: int) -> np.ndarray:
        p = self.problem
        p.load(theta)
        g = torch.as_tensor(np.asarray(grad), dtype=p.dtype, device=p.device)
        for param, lo, hi in zip(p.params, p.offsets[:-1], p.offsets[1:]):
            param.grad = g[lo:hi].view_as(param).clone()
        self.optimizer.step()
        p._moved()
        if self.scheduler is not None:
            self.scheduler.step()
        return p.flatten()

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def state_dict(self) -> dict:
        state = {"optimizer": self.optimizer.state_dict()}
        if self.scheduler is not None:
            state["scheduler"] = self.scheduler.state_dict()
        return state

    def load_state_dict(self, state) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and "scheduler" in state:
            self.scheduler.load_state_dict(state["scheduler"])


def make_optimizer(
    problem,
    name: str = "sgd",
    lr: float = 0.1,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    schedule: str = "constant",
    iterations: int | None = None,
) -> TorchOptimizer:
    """The CLI's optimizers: ``sgd`` (with ``momentum``), ``adam``, ``adamw``; the learning rate
    ``constant``, ``cosine`` (annealed to 0 over ``iterations``) or ``step`` (×0.1 at half and three
    quarters of ``iterations``)."""
    name = V.Options(*OPTIMIZERS).check("optimizer", name)
    schedule = V.Options(*SCHEDULES).check("schedule", schedule)
    lr = V.positive("lr", lr)
    momentum = V.probability("momentum", momentum, open_right=True)
    weight_decay = V.nonnegative("weight_decay", weight_decay)
    params = problem.module.parameters()
    if name == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    else:
        cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        opt = cls(params, lr=lr, weight_decay=weight_decay)
    sched = None
    if schedule != "constant":
        total = V.integer("iterations", iterations, minimum=1)
        if schedule == "cosine":
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
        else:
            sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[total // 2, (3 * total) // 4], gamma=0.1)
    return TorchOptimizer(problem, opt, sched)
