"""Train with the distributed runtime, one run per scheme on the same data (SPEC §7)."""

from __future__ import annotations

import numpy as np

from ..design import design
from ..peers import best_gc_level
from ..scheme import BlockScheme
from .engine import ThreadBackend
from .master import Master, TrainResult

__all__ = ["scheme_blocks", "make_backend", "train", "worker_views"]


def worker_views(problem, scheme):
    """What each worker stores: the data of the subsets its design needs (SPEC §3.3)."""
    return [problem.restrict(scheme.subsets_of(w)) for w in range(scheme.workers)]


def scheme_blocks(name: str, model, workers: int, coords: int, seed: int = 0) -> np.ndarray:
    """Block vector of a scheme: the BCGC design, classic GC at its best level, or uncoded."""
    if name == "bcgc":
        return design(model, workers, coords, seed=seed, eval_samples=2000).blocks
    x = np.zeros(workers, dtype=np.int64)
    x[best_gc_level(model, workers, seed=seed) if name == "gc" else 0] = coords
    return x


def make_backend(kind: str, views, address=None):
    if kind == "threads":
        return ThreadBackend(views)
    if kind == "ray":
        from .ray_backend import RayBackend
        return RayBackend(views, address=address)
    raise ValueError(f"backend must be 'ray' or 'threads', got {kind!r}")


def train(problem, model, schemes=("bcgc", "gc", "uncoded"), iterations: int = 20, mode: str = "emulate",
          unit: float = 0.2, backend: str = "ray", address=None, seed: int = 0, log=None,
          progress=None, **master_kw) -> list[TrainResult]:
    """Run each scheme for ``iterations`` on fresh workers holding that scheme's data."""
    results = []
    for name in schemes:
        blocks = scheme_blocks(name, model, problem.workers, problem.L, seed)
        scheme = BlockScheme(blocks, problem.workers, seed=seed)
        be = make_backend(backend, worker_views(problem, scheme), address)
        try:
            m = Master(be, problem, model, blocks, name=name, mode=mode, unit=unit, seed=seed, log=log, **master_kw)
            results.append(m.run(iterations, progress))
        finally:
            be.shutdown()
    return results
