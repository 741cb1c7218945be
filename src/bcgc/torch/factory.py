"""``FILE.py:factory`` — a user's PyTorch model for ``bcgc train --torch`` and ``bcgc profile``
(docs/torch.md).

The factory is a function of the file, called as ``factory(seed=seed)`` (or with no argument when it
takes none), that returns a dict with ``module`` (a ``torch.nn.Module``), ``loss`` (a mean-reduction
loss), ``train`` ((X, y) tensors or a ``torch.utils.data.Dataset``) and optionally ``test`` ((X, y),
for the logged test accuracy) and ``batch_size``.
"""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

from .. import _validate as V
from .problem import TorchProblem

__all__ = ["load_factory", "problem_from_factory"]


def load_factory(spec: str):
    """The function named by ``FILE.py:NAME`` (NAME defaults to ``factory``)."""
    path, _, name = str(spec).partition(":")
    name = name or "factory"
    file = Path(path)
    if file.suffix != ".py" or not file.is_file():
        raise V.InputError(f"--torch must be FILE.py:FUNCTION with an existing Python file, got {spec!r}")
    module_spec = importlib.util.spec_from_file_location(f"bcgc_user_{file.stem}", file)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)  # the user's own code: its errors are its own tracebacks
    fn = getattr(module, name, None)
    if not callable(fn):
        raise V.InputError(f"--torch: {file} has no function {name!r}")
    return fn


def problem_from_factory(spec: str, workers: int, seed: int = 0, **kw) -> TorchProblem:
    """A :class:`TorchProblem` from the factory's dict; ``kw`` (batch_size, dtype, threads, ...)
    overrides what the factory says."""
    fn = load_factory(spec)
    made = fn(seed=seed) if "seed" in inspect.signature(fn).parameters else fn()
    if not isinstance(made, dict) or not {"module", "loss", "train"} <= set(made):
        raise V.InputError(f"--torch: {spec} must return a dict with keys module, loss, train (and test, batch_size)")
    train = made["train"]
    X, y = (train, None) if not isinstance(train, (tuple, list)) else train
    if kw.get("batch_size") is None and made.get("batch_size") is not None:
        kw["batch_size"] = made["batch_size"]
    kw = {k: v for k, v in kw.items() if v is not None}
    return TorchProblem(made["module"], made["loss"], X, y, workers, test=made.get("test"), seed=seed, **kw)
