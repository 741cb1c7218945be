"""Train with the distributed runtime, one run per scheme on the same data (docs/runtime.md)."""

from __future__ import annotations

from .. import _validate as V
from ..policy import DesignPolicy
from ..scheme import BlockScheme
from .engine import ThreadBackend, check_mode
from .master import Master, TrainResult

__all__ = ["BACKENDS", "train", "worker_views"]

BACKENDS = ("ray", "threads")


def worker_views(problem, scheme):
    """What each worker stores: the data of the subsets its design needs."""
    return [problem.restrict(scheme.subsets_of(w)) for w in range(scheme.workers)]


def _make_backend(kind: str, views, address=None):
    if kind == "threads":
        return ThreadBackend(views)
    from .ray_backend import RayBackend
    return RayBackend(views, address=address)


def train(problem, model, schemes=("bcgc", "gc", "uncoded"), iterations: int = 20, mode: str = "emulate",
          unit: float = 0.2, backend: str = "ray", address=None, seed: int = 0, log=None, progress=None,
          objective: str = "runtime", deadline: float | None = None, method: str = "optimal", tolerate: int = 0,
          allowed_levels=None, samples: int | None = None, code_kind: str = "auto", **master_kw) -> list[TrainResult]:
    """Run each scheme for ``iterations`` on fresh workers holding that scheme's data.

    The design arguments (``objective``, ``deadline``, ``method``, ``tolerate``, ``allowed_levels``,
    ``samples``, as in :func:`bcgc.design.design`) form each scheme's :class:`DesignPolicy`, used
    for the first design and for every re-design after deaths. Every scheme is designed before any
    runs, so a bad argument stops the command before the first worker starts.
    """
    check_mode(mode)
    model = V.law(model)
    model.check_workers(problem.workers)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "ray":
        from .ray_backend import require_ray
        require_ray(address)
    policies = [DesignPolicy(name, objective=objective, deadline=deadline, method=method, tolerate=tolerate,
                             allowed_levels=allowed_levels, samples=samples, seed=seed) for name in schemes]
    designs = [(p, p.blocks(model, problem.workers, problem.L)) for p in policies]
    results = []
    for policy, blocks in designs:
        scheme = BlockScheme(blocks, problem.workers, kind=code_kind, seed=seed)
        be = _make_backend(backend, worker_views(problem, scheme), address)
        try:
            m = Master(be, problem, model, blocks, policy=policy, mode=mode, unit=unit, seed=seed, log=log,
                       code_kind=code_kind, **master_kw)
            results.append(m.run(iterations, progress))
        finally:
            be.shutdown()
    return results
