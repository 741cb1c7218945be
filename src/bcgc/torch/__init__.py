"""BCGC for PyTorch models (docs/torch.md): a module as a problem, any ``torch.optim`` optimizer at the
master, and the cost profile of its backward pass (the backprop work order, docs/model.md).

Needs the ``torch`` extra (``pip install 'bcgc[torch]'``); every other part of bcgc works without it.
"""

from __future__ import annotations

try:
    import torch as _torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("bcgc.torch needs PyTorch: pip install 'bcgc[torch]' (or pip install torch)") from exc

from .optim import TorchOptimizer
from .problem import TorchProblem

__all__ = ["TorchProblem", "TorchOptimizer"]
