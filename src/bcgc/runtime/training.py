"""Train with the distributed runtime, one run per scheme on the same data (docs/runtime.md)."""

from __future__ import annotations

import math

from .. import _validate as V
from ..optim import fresh_optimizer
from ..policy import DesignPolicy, fixed_designs
from ..schemes.plan import make_scheme
from ..stragglers import as_law
from ..timing.links import links as make_links
from .adapt import AdaptConfig
from .checkpoint import Checkpoints, check_resume, read_checkpoint, restore, write_checkpoint
from .engine import ThreadBackend, check_mode
from .experience import parse_experience
from .holdings import Holdings, can_allocate
from .master import Master, TrainResult
from .names import BACKENDS

__all__ = ["BACKENDS", "train", "worker_views"]


def worker_views(problem, scheme):
    """What each worker stores: the data of the subsets its design needs, the problem's rows split
    by the scheme's subset sizes (:class:`.holdings.Holdings`)."""
    return Holdings(problem, scheme.workers, getattr(scheme, "subset_sizes", None)).views(scheme)


def _make_backend(kind: str, views, address=None, cpus_per_worker: float = 0.0, startup_timeout: float = 120.0):
    if kind == "threads":
        return ThreadBackend(views)
    from .ray_backend import RayBackend

    return RayBackend(views, address=address, cpus_per_worker=cpus_per_worker, startup_timeout=startup_timeout)


def _laws(workers: int, model, stragglers, adapt, objective):
    """What the workers experience and the law the design assumes, checked."""
    experience = parse_experience(model if stragglers is None else stragglers)
    experience.check_workers(workers)
    if model is None and adapt is None:
        raise V.InputError(
            f"model must be given (the law the design assumes) with stragglers {experience.spec!r}, unless adapt is on"
        )
    if adapt is not None and not isinstance(adapt, AdaptConfig):
        raise V.InputError(f"adapt must be an AdaptConfig (or None), got {adapt!r}")
    if adapt is not None and objective != "runtime":  # the fitted law is in seconds, a deadline in units of T
        raise V.InputError(f"objective must be runtime with adapt (the refitted law is in seconds), got {objective!r}")
    model = AdaptConfig.prior() if model is None else as_law(model)
    model.check_workers(workers)
    return experience, model


def train(
    problem,
    model,
    schemes=("bcgc", "gc", "uncoded"),
    iterations: int = 20,
    mode: str = "emulate",
    unit: float = 0.2,
    backend: str = "ray",
    address=None,
    seed: int = 0,
    log=None,
    progress=None,
    objective: str = "runtime",
    deadline: float | None = None,
    method: str = "optimal",
    tolerate: int = 0,
    allowed_levels=None,
    samples: int | None = None,
    code_kind: str = "auto",
    cpus_per_worker: float = 0.0,
    stragglers=None,
    adapt: AdaptConfig | None = None,
    bandwidth: float = math.inf,
    latency: float = 0.0,
    designs=None,
    allocate: bool = True,
    startup_timeout: float = 120.0,
    optimizer=None,
    work_order=None,
    checkpoint: Checkpoints | None = None,
    resume=None,
    folds: int | None = None,
    cv: bool = True,
    **master_kw,
) -> list[TrainResult]:
    """Run each scheme for ``iterations`` on fresh workers holding that scheme's data.

    The design arguments (``objective``, ``deadline``, ``method``, ``tolerate``, ``allowed_levels``,
    ``samples``, as in :func:`bcgc.design.design`) form each scheme's :class:`DesignPolicy`, used
    for the first design and for every re-design after deaths. Every scheme is designed before any
    runs, so a bad argument stops the command before the first worker starts. ``cpus_per_worker``
    (Ray only): 0 lets workers share the cores of one machine; 1 gives each a core of a cluster.
    ``stragglers``: what the workers experience (``natural``, ``replay:path=F``, or a law; default:
    ``model``); ``model``: the law the design assumes, required unless ``adapt`` (an
    :class:`AdaptConfig`) is given, and then the prior of the adaptive run (docs/runtime.md).
    ``bandwidth`` B (coordinates per unit of T) and ``latency`` λ (unit of T): every worker's
    emulated upload link (``bcgc.timing.links``; seconds = unit of T × ``unit``); each scheme is designed
    for them and each iteration's prediction includes them (docs/runtime.md, schemes and links).
    ``designs``: fixed starting designs by scheme name, (blocks, subset sizes or None) (e.g. a design
    document's for ``bcgc``), used instead of the first design; re-designs after deaths still follow
    the policy. For workers that differ BCGC's design may give them unequal data subsets (the
    problem's rows split by the sizes, :mod:`.holdings`) when the problem can split its data
    (``with_subset_sizes``; docs/runtime.md, "Data on the workers") and ``allocate`` is on.
    ``startup_timeout`` (Ray only): seconds the workers may take to start (importing PyTorch is slow).
    ``optimizer``: the update rule at the master (:mod:`bcgc.optim`; an object, copied for each
    scheme when there are several, or a factory of one; None: GradientDescent(problem.step_size)).
    ``work_order``: how the workers order their work (``bcgc.timing.work.WorkOrder``; None: the
    paper's): BCGC is designed for it, the emulated times follow it, and under ``backprop`` a worker
    computes subset by subset, each backward pass only as deep as its blocks (docs/model.md).
    ``checkpoint`` (:class:`.checkpoint.Checkpoints`) and ``resume`` (a checkpoint's path): one
    scheme only; a resumed run continues to ``iterations`` in all (docs/runtime.md).
    ``folds``, ``cv``: how BCGC's design procedure is chosen on a trace law (and on ``adapt``'s
    window), by cross-validation over its rows (:func:`bcgc.design.procedure.design_procedure`);
    each result's ``procedure`` says what was chosen for the first design.
    """
    iterations, unit = _check_run(mode, iterations, unit, schemes, log)
    experience, model = _laws(problem.workers, model, stragglers, adapt, objective)
    backend = V.Options(*BACKENDS).check("backend", backend)
    cpus_per_worker = V.nonnegative("cpus_per_worker", cpus_per_worker)
    startup_timeout = V.positive("startup_timeout", startup_timeout)
    if backend == "ray":
        from .ray_backend import require_ray

        require_ray(address)
    state = _resume(resume, checkpoint, problem, schemes, seed, iterations, adapt)
    net = make_links(bandwidth, latency)
    if adapt is not None and not net.free:  # its gain estimate and its refitted law (seconds) assume free links
        raise V.InputError("adapt works with free communication only (for now): drop bandwidth/latency or adapt")
    policies = [
        DesignPolicy(
            name,
            objective=objective,
            deadline=deadline,
            method=method,
            tolerate=tolerate,
            allowed_levels=allowed_levels,
            samples=samples,
            seed=seed,
            links=net,
            allocate=allocate and can_allocate(problem),
            work_order=work_order,
            folds=folds,
            cv=cv,
        )
        for name in schemes
    ]
    fixed = fixed_designs(designs, problem.workers, problem.L)
    designs = [
        (p, (*fixed[p.scheme], None) if p.scheme in fixed else p.planned(model, problem.workers, problem.L))
        for p in policies
    ]
    results = []
    for policy, (blocks, sizes, procedure) in designs:
        scheme = make_scheme(blocks, problem.workers, code_kind, seed, sizes)
        be = _make_backend(backend, worker_views(problem, scheme), address, cpus_per_worker, startup_timeout)
        try:
            m = Master(
                be,
                problem,
                model,
                blocks,
                policy=policy,
                mode=mode,
                unit=unit,
                seed=seed,
                log=log,
                code_kind=code_kind,
                stragglers=experience,
                adapt=adapt,
                links=net,
                subset_sizes=getattr(scheme, "subset_sizes", None),
                optimizer=fresh_optimizer(optimizer, len(designs)),
                **master_kw,
            )
            m.result.procedure = None if procedure is None else procedure.summary
            if state is not None:
                restore(m, state)
            results.append(m.run(iterations, _after_each(m, progress, checkpoint)))
        finally:
            be.shutdown()
    return results


def _resume(resume, checkpoint, problem, schemes, seed, iterations, adapt):
    """The checkpoint to resume from (None: start afresh), checked against the run."""
    if checkpoint is not None and not isinstance(checkpoint, Checkpoints):
        raise V.InputError(f"checkpoint must be a Checkpoints(path, every) (or None), got {checkpoint!r}")
    if (resume is not None or checkpoint is not None) and len(schemes) != 1:
        raise V.InputError(f"checkpoint and resume apply to one scheme, got schemes {list(schemes)}")
    if resume is None:
        return None
    if adapt is not None:
        raise V.InputError("resume does not restore adapt's learnt law: resume without adapt")
    state = read_checkpoint(resume)
    check_resume(state, problem, schemes[0], seed, iterations)
    return state


def _after_each(master, progress, checkpoint):
    """The master's per-iteration callback: the user's ``progress``, then a checkpoint when due."""
    if checkpoint is None:
        return progress

    def after(name, it, total, rec):
        if progress is not None:
            progress(name, it, total, rec)
        if checkpoint.due(it + 1, total):
            write_checkpoint(checkpoint.path, master, it + 1)

    return after


def _check_run(mode, iterations, unit, schemes, log):
    """The run's own arguments, checked before anything starts: (iterations, unit)."""
    check_mode(mode)
    iterations = V.integer("iterations", iterations, minimum=1, maximum=V.MAX_ITERATIONS)
    unit = V.UNIT.check("unit", unit)  # seconds
    if isinstance(schemes, str) or not all(isinstance(s, str) for s in schemes):
        raise V.InputError(f"schemes must be a list of scheme names, e.g. ('bcgc', 'gc'), got {schemes!r}")
    if log is not None and not hasattr(log, "write"):
        raise V.InputError(f"log must be a file object opened for writing (or None), got {log!r}")
    return iterations, unit
