"""``bcgc simulate``, ``train`` and ``reproduce``: gradient descent in virtual and real time, figures."""

from __future__ import annotations

import os
import sys
import time

from .. import _validate as V
from .. import report_runs
from .._args import LazyFile, UsageError, number, output_file, positive, whole
from ..codes import KINDS
from ..policy import allowed_schemes, runtime_schemes
from ..runtime.adapt import PRIOR
from .options import (
    data_options,
    design_args,
    design_file,
    design_options,
    link_options,
    order_of,
    order_options,
    output,
    workers_and_model,
)
from .run_args import document_designs, experience, problem_of, simulated_order, stdout_to_stderr
from .torch_cmd import torch_options
from .train_outputs import Outputs, checkpoints, output_options, scheme_list


def register(sub) -> dict:
    """Add simulate, train and reproduce."""
    _simulate_parser(sub)
    _train_parser(sub)
    r = sub.add_parser("reproduce", help="regenerate the paper's evaluation and more: PNG + CSV + index.md")
    r.add_argument("--quick", action="store_true", help="fewer Monte Carlo draws (every point kept)")
    r.add_argument("--out", default="reproduce", help="output folder")
    r.add_argument("--seed", type=number("--seed", V.SEED), default=0, help="seed of every random draw")
    r.add_argument(
        "--traces",
        metavar="DIR",
        help="folder holding the frontier's trace files "
        "(lambda-sydney-b256-load1.000.csv, alibaba-pai-job1.csv); default: the ones shipped, if any",
    )


def _simulate_parser(sub):
    m = sub.add_parser("simulate", help="coded gradient descent on real data in virtual time")
    workers_and_model(m)
    data_options(m)
    m.add_argument(
        "--iterations", "-k", type=whole("--iterations", 1, V.MAX_ITERATIONS), default=50, help="gradient steps"
    )
    m.add_argument(
        "--scheme",
        choices=[*runtime_schemes(), "all"],
        default="all",
        help="scheme(s) to simulate (all: every one the design arguments allow, as for train)",
    )
    m.add_argument("--code", choices=KINDS, default="auto", help="gradient code kind per level")
    m.add_argument("--deadline", "-t", type=positive("--deadline"), help="deadline t for the deadline objective")
    design_options(m, "draws of T for the design")
    design_file(m, "run the bcgc scheme with this design document's blocks instead of designing")
    order_options(m)
    torch_options(m)
    m.add_argument("--plot", type=output_file("--plot"), help="write loss against virtual time to this PNG file")
    output(m)


def _train_parser(sub):
    from ..runtime import BACKENDS, MODES

    t = sub.add_parser("train", help="the real distributed runtime (Ray, or threads)")
    workers_and_model(
        t,
        model_required=False,
        model_help="; the law the design assumes (default: the "
        "--stragglers law; required with replay or natural unless --adapt)",
    )
    _experience_options(t)
    data_options(t)
    t.add_argument(
        "--features",
        type=whole("--features", 1, 100_000),
        help="dimension of the synthetic set (--dataset synthetic only; default: 64)",
    )
    t.add_argument(
        "--iterations", "-k", type=whole("--iterations", 1, V.MAX_ITERATIONS), default=20, help="gradient steps"
    )
    t.add_argument(
        "--scheme",
        type=scheme_list,
        default="bcgc",
        help=f"scheme(s) to train: one of {', '.join(runtime_schemes())}, a comma-separated list, or all (every "
        "one the design arguments allow: bcgc_mm and ucmmc need the runtime objective and the optimal method, "
        "bcgc_mm no --tolerate, none of them --adapt)",
    )
    t.add_argument(
        "--unit", type=number("--unit", V.UNIT), default=0.2, help="seconds of one full-subset gradient under --emulate"
    )
    how = t.add_mutually_exclusive_group()
    for mode, text in zip(
        MODES[:2],
        (
            "sleep so block s is done at (a_n + b_n W_n(s)) · unit (the default)",
            "real computation, stretched by the factor T_n",
        ),
    ):
        how.add_argument(f"--{mode}", dest="mode", action="store_const", const=mode, help=text)
    t.add_argument("--deadline", "-t", type=positive("--deadline"), help="deadline t for the deadline objective")
    design_options(t, "draws of T for the design")
    design_file(t, "start the bcgc scheme with this design document's blocks instead of designing")
    link_options(t)  # emulated per worker; --ingress is refused (run_train)
    order_options(t)
    torch_options(t)
    t.add_argument(
        "--backend",
        choices=[*BACKENDS, "torch-ddp"],
        default="ray",
        help="engine: Ray (processes, clusters), threads, or torch-ddp (the coded all-reduce on N local gloo "
        "processes, a --torch model; docs/torch.md)",
    )
    t.add_argument(
        "--baselines", action="store_true", help="torch-ddp: also run plain DDP and the compute-deadline baseline"
    )
    t.add_argument("--address", help="Ray cluster address (default: a local Ray on this machine)")
    t.add_argument(
        "--cpus-per-worker",
        type=number("--cpus-per-worker", V.NONNEGATIVE),  # 0, the one-machine default, is valid
        default=0.0,
        help="CPUs Ray reserves per worker: 0 lets workers share the cores of one machine, "
        "1 gives each worker a core of a cluster (docs/runtime.md)",
    )
    t.add_argument(
        "--startup-timeout",
        type=positive("--startup-timeout"),
        default=120.0,
        help="seconds Ray's workers may take to start (importing PyTorch on a busy machine takes 20+ s)",
    )
    t.add_argument("--log", type=output_file("--log"), help="write every iteration as a JSON line to this file")
    t.add_argument(
        "--plot", type=output_file("--plot"), help="write loss against wall-clock time per scheme to this PNG file"
    )
    output_options(t)
    output(t)
    t.set_defaults(mode=MODES[0])


def _experience_options(t):
    """--stragglers, --adapt, --window of ``bcgc train`` (docs/runtime.md)."""
    t.add_argument(
        "--stragglers",
        metavar="WHAT",
        help="what the workers experience: a straggler law (emulated, "
        "the default: --model), replay:path=F.csv[,fixed=P] or replay:name=NAME (a shipped trace) (worker n in "
        "iteration k takes F[k mod rows, n] "
        "/ median(F) · unit; P of it a fixed cost) or natural (no injected delay) (docs/runtime.md)",
    )
    t.add_argument(
        "--adapt",
        nargs="?",
        const=5,
        metavar="K",
        type=whole("--adapt", 1, V.MAX_ITERATIONS),
        help="learn the law during the run: refit from the last --window iterations every K "
        "(default 5) and re-design when the predicted gain outweighs moving data (docs/runtime.md)",
    )
    t.add_argument(
        "--window",
        type=whole("--window", 2, V.MAX_ITERATIONS),
        default=20,
        help="iterations the --adapt fit looks back on (default 20)",
    )


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
    stragglers, adapt = experience(a)
    if a.backend == "torch-ddp":
        from . import ddp_cmd

        return ddp_cmd.run(a, stragglers)
    if a.baselines:
        raise UsageError("--baselines applies to --backend torch-ddp only")
    problem, data, optimizer = problem_of(a, features=a.features or 64)
    if a.ingress is not None:
        raise UsageError(
            "--ingress is not emulated by the runtime (each worker's link is): use it with compare, design or evaluate"
        )
    schemes = _all_schemes(a) if a.scheme == "all" else a.scheme
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
            designs=document_designs(a, problem, schemes),
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
        f"{problem.name} on {data.name} (L={problem.L}), N={a.workers}, design for {law}, stragglers "
        f"{stragglers.spec}"
        + (f", --adapt {a.adapt} --window {a.window}" if a.adapt else "")
        + f", --{a.mode}"
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
                "coords": problem.L,
                "mode": a.mode,
                "unit": a.unit if a.mode == "emulate" else None,
                "backend": a.backend,
                "bandwidth": a.bandwidth if a.bandwidth != float("inf") else None,
                "latency": a.latency,
            },
        )
    return report_runs.render_train(results, title)


def _all_schemes(a) -> tuple:
    """--scheme all: the block schemes, and the MM schemes where the design arguments allow them."""
    return allowed_schemes(a.objective, a.method, a.allowed_levels, a.tolerate, bool(a.adapt))


def run_reproduce(a):
    from ..experiments.reproduce import FULL, QUICK, reproduce

    t0 = time.perf_counter()
    steps = [0]

    def progress(msg):
        steps[0] += 1
        print(
            f"\r[{time.perf_counter() - t0:6.1f} s] step {steps[0]:>2}: {msg:<50}", end="", file=sys.stderr, flush=True
        )

    if a.traces is not None and not os.path.isdir(a.traces):
        raise UsageError(f"--traces must name a folder, got {a.traces!r}")
    margins = reproduce(a.out, QUICK if a.quick else FULL, seed=a.seed, progress=progress, traces=a.traces)
    print(file=sys.stderr)
    return report_runs.render_reproduce(a.out, margins, time.perf_counter() - t0)


COMMANDS = {"simulate": run_simulate, "train": run_train, "reproduce": run_reproduce}
