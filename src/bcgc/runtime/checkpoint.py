"""Trained parameters and checkpoints of a training run (docs/runtime.md, "The update rule, parameters
and checkpoints").

:func:`save_theta` writes θ: ``problem.save(theta, path)`` when the problem has it (a PyTorch problem
writes a state_dict), else a ``.npy`` file. A checkpoint is a pickled dict (load only files you
wrote): ``format`` ("bcgc-checkpoint"), ``version`` (1), ``scheme``, ``iteration`` (iterations done:
the next one to run), ``theta``, ``optimizer`` (its ``state_dict()``, or None), ``seed``, ``round``
(the master's round counter), ``workers`` and ``L``. Every random draw of a run is seeded by the seed
and the iteration (stragglers, codes; a problem's mini-batches through ``set_iteration``), so a run
resumed from it continues the same sequence: the same draws, from the same θ and optimizer state.
"""

from __future__ import annotations

import io
import os
import pickle
from dataclasses import dataclass

import numpy as np

from .. import _validate as V
from ..problems.models import set_iteration

__all__ = ["Checkpoints", "FORMAT", "save_theta", "write_checkpoint", "read_checkpoint", "check_resume", "restore"]

FORMAT, VERSION = "bcgc-checkpoint", 1


@dataclass(frozen=True)
class Checkpoints:
    """Write a checkpoint to ``path`` every ``every`` iterations (and after the last)."""

    path: str
    every: int

    def __post_init__(self):
        object.__setattr__(self, "every", V.integer("checkpoint_every", self.every, minimum=1))

    def due(self, done: int, iterations: int) -> bool:
        return done % self.every == 0 or done == iterations


def save_theta(problem, theta, path) -> None:
    """θ to ``path``: the problem's own ``save(theta, path)`` when it has one, else a .npy file
    (written to exactly ``path``)."""
    hook = getattr(problem, "save", None)
    if hook is not None:
        hook(np.asarray(theta), str(path))
        return
    buf = io.BytesIO()
    np.save(buf, np.asarray(theta))
    _atomic(path, buf.getvalue())


def _atomic(path, data: bytes) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)  # an interrupted write never leaves half a checkpoint


def write_checkpoint(path, master, done: int) -> None:
    """The state of ``master`` (a :class:`~.master.Master`) after ``done`` iterations."""
    opt = master.optimizer
    state = {
        "format": FORMAT,
        "version": VERSION,
        "scheme": master.name,
        "iteration": int(done),
        "theta": np.array(master.theta),
        "optimizer": opt.state_dict() if callable(getattr(opt, "state_dict", None)) else None,
        "seed": master.seed,
        "round": master.round,
        "workers": master.N,
        "L": int(np.size(master.theta)),
    }
    _atomic(path, pickle.dumps(state, protocol=5))


def read_checkpoint(path) -> dict:
    """A checkpoint written by :func:`write_checkpoint`; anything else is an input error."""
    try:
        with open(path, "rb") as fh:
            state = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        raise V.InputError(f"resume: {path} is not a readable checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT or state.get("version") != VERSION:
        raise V.InputError(f"resume: {path} is not a bcgc checkpoint (format {FORMAT} version {VERSION})")
    return state


def check_resume(state, problem, scheme: str, seed: int, iterations: int) -> None:
    """A checkpoint continues this run only with its scheme, seed, workers and L, and iterations left."""
    for what, mine, theirs in (
        ("scheme", scheme, state["scheme"]),
        ("seed", seed, state["seed"]),
        ("workers", problem.workers, state["workers"]),
        ("L", problem.L, state["L"]),
    ):
        if mine != theirs:
            raise V.InputError(f"resume: the checkpoint has {what} {theirs!r}, this run {mine!r}: they must agree")
    if state["iteration"] >= iterations:
        raise V.InputError(
            f"iterations must be more than the checkpoint's {state['iteration']} done to resume, got {iterations}"
        )


def restore(master, state) -> None:
    """Start ``master`` where the checkpoint left off: θ, the optimizer's state, the iteration
    and the round counter (its initial loss is the loss there)."""
    opt, saved = master.optimizer, state["optimizer"]
    if saved is not None:
        if not callable(getattr(opt, "load_state_dict", None)):
            raise V.InputError("resume: the checkpoint holds an optimizer state; the optimizer has no load_state_dict")
        opt.load_state_dict(saved)
    master.theta = master.result.theta = np.array(state["theta"], dtype=float)
    master.first_iteration = master.result.first_iteration = int(state["iteration"])
    master.round = int(state["round"])
    set_iteration(master.problem, master.first_iteration)
    master.result.initial_loss = master.problem.loss(master.theta)
