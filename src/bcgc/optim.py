"""The update rule the master applies to each decoded gradient (docs/runtime.md, "The update rule,
parameters and checkpoints").

An optimizer is any object with ``step(theta, grad, iteration) -> new theta`` (numpy vectors of L
entries; ``iteration`` counts from 0). It may keep state between steps (momentum, Adam's moments):
then ``state_dict()`` and ``load_state_dict(state)`` let a checkpoint save and restore it (a PyTorch
optimizer's adapter has them). :class:`GradientDescent` is the default: θ ← θ − step · g.
"""

from __future__ import annotations

import copy
from typing import Protocol, runtime_checkable

import numpy as np

from . import _validate as V

__all__ = ["Optimizer", "GradientDescent", "as_optimizer", "fresh_optimizer", "OPTIMIZERS", "SCHEDULES"]

#: the optimizers and learning-rate schedules ``bcgc.torch.optim.make_optimizer`` (and the CLI) build
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "cosine", "step")


@runtime_checkable
class Optimizer(Protocol):
    """What the master and the simulator need of an update rule."""

    def step(self, theta: np.ndarray, grad: np.ndarray, iteration: int) -> np.ndarray:
        """The new θ after applying ``grad`` (the decoded gradient Σ_k ∇f_k(θ)) in ``iteration``."""
        ...


class GradientDescent:
    """θ ← θ − ``step_size`` · g: the default update rule (stateless)."""

    def __init__(self, step_size: float):
        self.step_size = V.positive("step_size", step_size)

    def step(self, theta: np.ndarray, grad: np.ndarray, iteration: int) -> np.ndarray:
        return theta - self.step_size * grad

    def __repr__(self) -> str:
        return f"GradientDescent({self.step_size!r})"


def as_optimizer(optimizer, step_size: float):
    """``optimizer``, or GradientDescent(``step_size``) when it is None; anything without a
    ``step`` method is an input error."""
    if optimizer is None:
        return GradientDescent(step_size)
    if not callable(getattr(optimizer, "step", None)):
        raise V.InputError(
            f"optimizer must have a step(theta, grad, iteration) method (e.g. GradientDescent(0.1)), got {optimizer!r}"
        )
    return optimizer


def fresh_optimizer(optimizer, runs: int):
    """The optimizer of one run among ``runs`` (one per scheme): None stays None (the default);
    a factory (a callable without ``step``) is called; an optimizer object is used as is for a
    single run, else deep-copied so that every scheme starts from the same state."""
    if optimizer is None:
        return None
    if not hasattr(optimizer, "step") and callable(optimizer):
        return optimizer()
    return optimizer if runs == 1 else copy.deepcopy(optimizer)
