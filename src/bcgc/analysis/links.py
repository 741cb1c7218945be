"""Evaluation of a block design under upload links (docs/model.md, "Communication: upload links")."""

from __future__ import annotations

import numpy as np

from .. import _validate as V
from .. import streams
from ..stragglers import as_law
from ..timing import runtime
from ..timing.links import Links
from . import evaluate
from .result import summarize, tail_checked

__all__ = ["evaluate_links"]


def evaluate_links(
    model, workers: int, blocks, net: Links, deadline=None, method: str = "auto", samples: int = 200_000, seed: int = 0
):
    """E[τ] and P(τ ≤ deadline) of blocks x under the links: :func:`bcgc.analysis.evaluate` when
    communication is free, else Monte Carlo on the link recursion (the evaluation stream of
    ``design``, so a design and its evaluation agree)."""
    if net.free:
        return evaluate(model, workers, blocks, deadline=deadline, method=method, samples=samples, seed=seed)
    model = as_law(model)
    workers = model.check_workers(workers)
    x = V.blocks(blocks, workers)
    if deadline is not None:
        deadline = V.positive("deadline", deadline)
    samples = V.integer("samples", samples, minimum=2)
    V.memory(
        f"evaluating on {samples} draws of {workers} workers under links",
        3.0 * samples * workers * max(1, np.count_nonzero(x)),
        "lower --samples",
    )
    a, b = model.sample_parts(samples, workers, streams.rng(V.integer("seed", seed, minimum=0), streams.EVALUATION))
    ev = summarize(runtime(x, b, a, None, net), deadline)
    return tail_checked(ev, model, workers, int(np.flatnonzero(x > 0)[0]))
