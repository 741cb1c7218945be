"""``bcgc simulate``, ``train`` and ``reproduce``: what they run (their parsers: :mod:`.run_cmds`)."""

from __future__ import annotations

import os
import time

from .. import progress, report_runs
from .._args import LazyFile, UsageError
from ..policy import allowed_schemes
from ..runtime.adapt import PRIOR
from .options import design_args, order_of
from .run_args import document_designs, experience, problem_of, simulated_order, stdout_to_stderr
from .train_outputs import Outputs, checkpoints


def run_simulate(a):
    from .. import plots
    from ..simulate import simulate_all

    problem, data, optimizer = problem_of(a)
    schemes = allowed_schemes(**design_args(a)) if a.scheme == "all" else (a.scheme,)
    results = simulate_all(
        problem,
        a.model,
        schemes,
        iterations=a.iterations,
        seed=a.seed,
        code_kind=a.code,
        design_args=design_args(a),
        designs=document_designs(a, problem, schemes),
        work_order=simulated_order(a),
        optimizer=optimizer,
    )
    if a.plot:
        title = f"{problem.name} on {data.name} (N={a.workers}, T ~ {a.model.spec})"
        plots.save(plots.simulate_figure(results, title), a.plot)
    if a.json:
        return report_runs.simulation_json(results, problem, data, a.model)
    return report_runs.render_simulation(results, problem, data, a.model) + (f"\nwrote {a.plot}" if a.plot else "")


def run_train(a):
    from .. import plots
    from ..runtime import train
    from ..runtime.checkpoint import save_theta

    if a.features is not None and a.dataset != "synthetic":  # never ignore an option silently
        raise UsageError("--features applies to --dataset synthetic only")
    if a.address is not None and a.backend != "ray":
        raise UsageError("--address applies to --backend ray only")
    if a.startup_timeout != 120.0 and a.backend != "ray":
        raise UsageError("--startup-timeout applies to --backend ray only")
    if a.cpus_per_worker != 0.0 and a.backend != "ray":
        raise UsageError("--cpus-per-worker applies to --backend ray only")
    stragglers, adapt = experience(a)
    if a.backend == "torch-ddp":
        from . import ddp_cmd

        return ddp_cmd.run(a, stragglers)
    if a.baselines:
        raise UsageError("--baselines applies to --backend torch-ddp only")
    problem, data, optimizer = problem_of(a, features=a.features or 64)
    _refuse_ingress(a)
    schemes = _all_schemes(a) if a.scheme == "all" else a.scheme
    designs = document_designs(a, problem, schemes)  # first: the document's links set --bandwidth
    _refuse_ingress(a)
    checkpoint = checkpoints(a, schemes)
    with (
        LazyFile(a.log) as log,
        Outputs(a, terminal=True) as outputs,
        stdout_to_stderr(),
    ):  # files opened at first write
        results = train(
            problem,
            a.model,
            schemes,
            iterations=a.iterations,
            mode=a.mode,
            unit=a.unit,
            backend=a.backend,
            address=a.address,
            cpus_per_worker=a.cpus_per_worker,
            startup_timeout=a.startup_timeout,
            seed=a.seed,
            log=log if a.log else None,
            stragglers=stragglers,
            adapt=adapt,
            designs=designs,
            progress=outputs,
            checkpoint=checkpoint,
            resume=a.resume,
            bandwidth=a.bandwidth,
            latency=a.latency,
            optimizer=optimizer,
            work_order=order_of(a),
            **design_args(a),
        )
    if a.save:
        save_theta(problem, results[0].theta, a.save)
    law = a.model.spec if a.model is not None else f"adaptive from {PRIOR}"
    title = (
        f"{problem.name} on {data.name} (L={problem.L}), N={a.workers}"
        + (f"  [{data.note}]" if data.note else "")  # a user's labels mapped to classes: said, never silent
        + f", design for {law}, stragglers "
        f"{stragglers.spec}"
        + (f", --adapt {a.adapt} --window {a.window}" if a.adapt else "")
        + (" (no injected delay)" if a.mode == "natural" else f", --{a.mode}")  # natural is not an option
        + (f" unit={a.unit:g}s" if a.mode == "emulate" else "")
        + f", backend={a.backend}"
        + ("" if a.bandwidth == float("inf") and a.latency == 0 else f", links B={a.bandwidth:g} λ={a.latency:g}")
    )
    if a.plot:
        plots.save(plots.train_figure(results, title), a.plot)
    if a.json:
        return report_runs.train_json(
            results,
            {
                "workers": a.workers,
                "model": a.model.spec if a.model else None,
                "stragglers": stragglers.spec,
                "adapt": a.adapt,
                "window": a.window if a.adapt else None,
                "problem": problem.name,
                "dataset": data.name,
                "dataset_note": data.note or None,
                "coords": problem.L,
                "mode": a.mode,
                "unit": a.unit if a.mode == "emulate" else None,
                "backend": a.backend,
                "bandwidth": a.bandwidth if a.bandwidth != float("inf") else None,
                "latency": a.latency,
            },
        )
    return report_runs.render_train(results, title, natural=a.mode == "natural")


def _refuse_ingress(a) -> None:
    """Before and after a --design document sets the links: the runtime emulates each worker's link only."""
    if a.ingress is not None:
        raise UsageError(
            "--ingress is not emulated by the runtime (each worker's link is): use it with compare, design or evaluate"
        )


def _all_schemes(a) -> tuple:
    """--scheme all: the block schemes, and the MM schemes where the design arguments allow them."""
    return allowed_schemes(a.objective, a.method, a.allowed_levels, a.tolerate, bool(a.adapt))


def run_reproduce(a):
    from ..experiments.parallel import available_cores
    from ..experiments.reproduce import FULL, QUICK, reproduce, step_count

    t0 = time.perf_counter()
    if a.traces is not None and not os.path.isdir(a.traces):
        raise UsageError(f"--traces must name a folder, got {a.traces!r}")
    cfg = QUICK if a.quick else FULL
    with progress.task("reproduce", step_count(cfg, a.traces)) as step:  # "step k of n", on a terminal
        margins = reproduce(a.out, cfg, seed=a.seed, progress=step, traces=a.traces, jobs=a.jobs or available_cores())
    return report_runs.render_reproduce(a.out, margins, time.perf_counter() - t0)
