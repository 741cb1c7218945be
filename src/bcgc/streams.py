"""Every random stream of bcgc, named in one place.

A stream is ``numpy.random.default_rng([seed, STREAM, ...])``: the user's seed plus a fixed id, so
that each random quantity is reproducible on its own and no two consumers share draws by accident.
numpy's seed sequences ignore trailing zeros (``[s, 5]`` and ``[s, 5, 0]`` give the same numbers),
so every consumer has its own id in the second place and extra indices come after it; id 0 is
``default_rng(seed)`` itself. Changing an id changes results: never reuse or renumber one.
"""

from __future__ import annotations

import numpy as np

from ._validate import InputError

__all__ = [
    "DESIGN_SAMPLES",
    "EVALUATION",
    "SUBGRADIENT",
    "CANDIDATES",
    "COMMON_DRAWS",
    "PATIENCE",
    "CODES",
    "FOLDS",
    "SCENARIOS",
    "SYNTHETIC_DATA",
    "DATA_SUBSET",
    "MINIBATCH",
    "DROPOUT",
    "ITERATION",
    "rng",
    "code_rng",
    "iteration_times",
    "decodable_times",
    "iteration_parts",
    "decodable_parts",
    "first_decodable",
]

DESIGN_SAMPLES = 0  #: the samples a design method optimises on (= default_rng(seed), kept for continuity)
EVALUATION = 1  #: Monte Carlo evaluation of a design (design()'s own and evaluate()'s: the same draws)
SUBGRADIENT = 2  #: A2's fresh batches
CANDIDATES = 3  #: common draws on which ``optimal`` picks among candidate designs
COMMON_DRAWS = 10  #: common draws of ``compare`` and of the peers' parameter choice
PATIENCE = 12  #: the runtime's estimate of how long an attempt may take
CODES = 20  #: random code constructions (Gaussian draws, random probe sets)
FOLDS = 30  #: the folds of a cross-validated design (bcgc.design.crossval)
SCENARIOS = 55  #: the synthetic trace of ``bcgc reproduce``
SYNTHETIC_DATA = 77  #: the ``synthetic`` data set
DATA_SUBSET = 78  #: the seeded subset of rows kept by ``max_samples``
MINIBATCH = 80  #: a subset's mini-batch of iteration t (bcgc.torch): the same on every worker holding it
DROPOUT = 81  #: the torch seed of a subset's dropout masks at iteration t (bcgc.torch)
ITERATION = 100  #: T of iteration k (and its retries): shared by the simulator and the runtime


def rng(seed: int, stream: int, *more: int) -> np.random.Generator:
    """The generator of one named stream (``more`` indexes within it, e.g. the iteration)."""
    return np.random.default_rng([seed, stream, *more])


def code_rng(seed: int, workers: int, level: int, draw: int) -> np.random.Generator:
    """Random code constructions (``bcgc.codes``), keyed by (N, s) and the draw, so that a code
    depends only on its own shape and seed."""
    return rng(seed, CODES, workers, level, draw)


def iteration_times(model, workers: int, seed: int, iteration: int, attempt: int = 0) -> np.ndarray:
    """T of one iteration, shape (N,): the same numbers in the simulator and in the runtime, so
    that the twin mirrors the run. ``attempt`` > 0 redraws an iteration that could not complete."""
    more = (iteration,) if attempt == 0 else (iteration, attempt)
    return model.sample(1, workers, rng(seed, ITERATION, *more))[0]


def iteration_parts(model, workers: int, seed: int, iteration: int, attempt: int = 0):
    """(a, b) of one iteration, each of shape (N,): the fixed cost and the rate of each worker
    (``StragglerModel.sample_parts``) from the stream of :func:`iteration_times`, so that a + b
    is the T the simulator draws for a fixed-cost law, and b that T for any other law."""
    more = (iteration,) if attempt == 0 else (iteration, attempt)
    a, b = model.sample_parts(1, workers, rng(seed, ITERATION, *more))
    return a[0], b[0]


def decodable_times(
    model, workers: int, seed: int, iteration: int, runtime, dead=(), first_attempt: int = 0, max_attempts: int = 1000
):
    """The first draw of iteration k whose runtime is finite: (T, attempt).

    ``runtime(T)`` is the scheme's runtime for one draw (formula (2) for block schemes); workers in
    ``dead`` never answer (T = inf). A draw in which too many workers never answer (full
    stragglers) cannot be decoded: the iteration is redrawn, in the simulator and the runtime
    alike. Raises ValueError when ``max_attempts`` draws all fail (e.g. a trace of ``inf``)."""
    (T,), attempt = first_decodable(
        lambda k: (iteration_times(model, workers, seed, iteration, k),),
        runtime,
        dead,
        first_attempt,
        max_attempts,
        f"iteration {iteration}: none of "
        f"{max_attempts} draws of T can be decoded (too many workers never "
        "answer): the scheme cannot run under this law",
    )
    return T, attempt


def first_decodable(
    draw, runtime, dead=(), first_attempt: int = 0, max_attempts: int = 1000, failure: str = "no draw can be decoded"
):
    """The redraw rule, once: the first ``draw(attempt)`` (a tuple of arrays, its last one the times
    or rates, set to inf for the ``dead`` workers) whose ``runtime(*draw)`` is finite, and the
    attempt; ValueError(``failure``) after ``max_attempts`` draws."""
    for attempt in range(first_attempt, first_attempt + max_attempts):
        *rest, rate = draw(attempt)
        rate = np.array(rate, dtype=float)
        rate[list(dead)] = np.inf
        if np.isfinite(runtime(*rest, rate)):
            return (*rest, rate), attempt
    raise InputError(failure)


def decodable_parts(model, workers: int, seed: int, iteration: int, runtime, max_attempts: int = 1000):
    """:func:`decodable_times` for the general model: the first (a, b) of iteration k whose
    ``runtime(a, b)`` is finite, and the attempt."""
    return first_decodable(
        lambda k: iteration_parts(model, workers, seed, iteration, k),
        runtime,
        max_attempts=max_attempts,
        failure=f"iteration {iteration}: none of {max_attempts} "
        "draws of T can be decoded (too many workers never answer): the scheme cannot run "
        "under this law",
    )
