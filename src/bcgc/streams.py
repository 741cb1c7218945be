"""Every random stream of bcgc, named in one place.

A stream is ``numpy.random.default_rng([seed, STREAM, ...])``: the user's seed plus a fixed id, so
that each random quantity is reproducible on its own and no two consumers share draws by accident.
Changing an id changes results: never reuse or renumber one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DESIGN_SAMPLES", "EVALUATION", "SUBGRADIENT", "CANDIDATES", "COMMON_DRAWS", "SCENARIOS",
           "SYNTHETIC_DATA", "DATA_SUBSET", "ITERATION", "rng", "code_rng", "iteration_times"]

DESIGN_SAMPLES = 0    #: the samples a design method optimises on
EVALUATION = 1        #: Monte Carlo evaluation of a finished design
SUBGRADIENT = 2       #: A2's fresh batches
CANDIDATES = 3        #: common draws on which ``optimal`` picks among candidate designs
COMMON_DRAWS = 10     #: common draws of ``compare`` and of the peers' parameter choice
SCENARIOS = 55        #: the synthetic trace of ``bcgc reproduce``
SYNTHETIC_DATA = 77   #: the ``synthetic`` data set
DATA_SUBSET = 78      #: the seeded subset of rows kept by ``max_samples``
ITERATION = 100       #: T of iteration k (and its retries): shared by the simulator and the runtime


def rng(seed: int, stream: int, *more: int) -> np.random.Generator:
    """The generator of one named stream (``more`` indexes within it, e.g. the iteration)."""
    return np.random.default_rng([seed, stream, *more])


def code_rng(seed: int, workers: int, level: int, draw: int) -> np.random.Generator:
    """Random code constructions (``bcgc.codes``): keyed by (N, s) and the draw, so a code depends
    only on its own shape and seed (draw 1 also picks the random probe sets)."""
    return np.random.default_rng([seed, workers, level, draw])


def iteration_times(model, workers: int, seed: int, iteration: int, attempt: int = 0) -> np.ndarray:
    """T of one iteration, shape (N,): the same numbers in the simulator and in the runtime, so
    that the twin mirrors the run. ``attempt`` > 0 draws a retry of an iteration that could not
    complete (too many full stragglers)."""
    more = (iteration,) if attempt == 0 else (iteration, attempt)
    return model.sample(1, workers, rng(seed, ITERATION, *more))[0]
