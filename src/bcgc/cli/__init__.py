"""The ``bcgc`` command line: it parses, calls the core and prints (tables and JSON: ``bcgc.report``,
figures: ``bcgc.plots``). Choices come from the core's registries.

Bad input ends with one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
import warnings

import numpy as np

from . import __version__
from . import _validate as V
from . import report
from ._args import LazyFile, Parser, UsageError, int_list, model, output_file, positive, whole
from .analysis import EVALUATION_METHODS, evaluate
from .codes import KINDS
from .design import METHODS, OBJECTIVES, design
from .peers import compare
from .policy import BLOCK_SCHEMES, RedesignImpossible
from .problems import DATASETS, PROBLEMS
from .scheme import BlockScheme


# ---------------------------------------------------------------------------- parser
def _workers_and_model(p):
    p.add_argument("--workers", "-N", required=True, type=whole("--workers", 1), help="number of workers N (>= 1)")
    p.add_argument("--model", "-m", required=True, type=model,
                   help="straggler law, e.g. shifted-exponential:shift=1,rate=1 (see docs/model.md)")


def _output(p, seed_help="seed of every random draw"):
    p.add_argument("--seed", type=whole("--seed", 0), default=0, help=seed_help)
    p.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")


def _common(p):
    _workers_and_model(p)
    p.add_argument("--coords", "-L", type=whole("--coords", 1), help="number of coordinates L (>= 1)")
    p.add_argument("--deadline", "-t", type=positive("--deadline"), help="deadline t for P(τ ≤ t), in the unit of T")
    _output(p)


def _design_options(p, samples_help="draws of T for sample-based methods"):
    p.add_argument("--objective", choices=OBJECTIVES, default="runtime",
                   help="minimise E[τ] (runtime) or maximise P(τ ≤ deadline) (deadline)")
    p.add_argument("--method", choices=list(METHODS), default="optimal", help="design method (docs/algorithms.md, which method when)")
    p.add_argument("--tolerate", "-f", type=whole("--tolerate", 0), default=0,
                   help="full stragglers to tolerate: x_s = 0 for s < f")
    p.add_argument("--allowed-levels", type=int_list("--allowed-levels"), help="only these levels may be used, e.g. 0,2,5 (default: all)")
    p.add_argument("--samples", type=whole("--samples", 10, V.MAX_SAMPLES), help=samples_help + " (default: 1000 for the runtime, 20000 for a deadline)")


def _data_options(p):
    def dataset(text):  # a built-in name, else a file: say here, naming the flag, when there is none
        if text in DATASETS or os.path.isfile(text):
            return text
        why = "not a file" if os.path.exists(text) else "no such file"
        raise UsageError(f"--dataset must be one of {', '.join(DATASETS)} or a data file (.npz, .csv, .svm), "
                         f"got {text!r}: {why}")

    p.add_argument("--problem", choices=list(PROBLEMS), default="least-squares",
                   help="the model to train; logistic needs 2 classes (docs/problems.md)")
    p.add_argument("--dataset", type=dataset, default="digits", help=f"{', '.join(DATASETS)}, or your file: .npz "
                   "(arrays X, y), .csv (a label column), .svm/.svmlight/.libsvm (docs/problems.md)")
    p.add_argument("--label", metavar="NAME", help="the label column of a CSV file (default: the column 'label')")
    p.add_argument("--max-samples", type=whole("--max-samples", 1), help="keep a seeded subset of the data rows")


def _add_design_commands(sub):
    d = sub.add_parser("design", help="design the block sizes x")
    _common(d)
    _design_options(d)
    e = sub.add_parser("evaluate", help="E[τ] and P(τ ≤ t) of given blocks")
    _common(e)
    e.add_argument("--blocks", "-x", required=True, type=int_list("--blocks"),
                   help="x_0,x_1,...,x_{N-1}: coordinates per level, summing to L")
    e.add_argument("--evaluation", choices=EVALUATION_METHODS, default="auto",
                   help="exact for i.i.d. named laws when possible (auto), or force one")
    e.add_argument("--samples", type=whole("--samples", 2, V.MAX_SAMPLES), default=200_000, help="Monte Carlo draws")
    c = sub.add_parser("compare", help="BCGC and every peer scheme side by side")
    _common(c)
    c.add_argument("--samples", type=whole("--samples", 2, V.MAX_SAMPLES), default=100_000, help="Monte Carlo draws")


def _add_run_commands(sub):
    from .runtime import BACKENDS, MODES
    from .simulate import SCHEMES

    def _cpus(text):  # a finite number >= 0: 0 (the one-machine default) is valid, so positive() does not fit
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not 0 <= value < float("inf"):
            raise UsageError(f"--cpus-per-worker must be a finite number >= 0, got {text!r}")
        return value

    m = sub.add_parser("simulate", help="coded gradient descent on real data in virtual time")
    _workers_and_model(m)
    _data_options(m)
    m.add_argument("--iterations", "-k", type=whole("--iterations", 1, V.MAX_ITERATIONS), default=50, help="gradient steps")
    m.add_argument("--scheme", choices=[*SCHEMES, "all"], default="all", help="scheme(s) to simulate")
    m.add_argument("--code", choices=KINDS, default="auto", help="gradient code kind per level")
    m.add_argument("--deadline", "-t", type=positive("--deadline"), help="deadline t for the deadline objective")
    _design_options(m, "draws of T for the design")
    m.add_argument("--plot", type=output_file("--plot"), help="write loss against virtual time to this PNG file")
    _output(m)
    t = sub.add_parser("train", help="the real distributed runtime (Ray, or threads)")
    _workers_and_model(t)
    _data_options(t)
    t.add_argument("--features", type=whole("--features", 1, 100_000), help="dimension of the synthetic set "
                   "(--dataset synthetic only; default: 64)")
    t.add_argument("--iterations", "-k", type=whole("--iterations", 1, V.MAX_ITERATIONS), default=20, help="gradient steps")
    t.add_argument("--scheme", choices=[*BLOCK_SCHEMES, "all"], default="all", help="scheme(s) to train")
    t.add_argument("--unit", type=positive("--unit", V.MAX_UNIT), default=0.2,
                   help="seconds of one full-subset gradient under --emulate")
    how = t.add_mutually_exclusive_group()
    for mode, text in zip(MODES, ("sleep so block s is done at T_n y_s / L · unit (the default)",
                                  "real computation, stretched by the factor T_n")):
        how.add_argument(f"--{mode}", dest="mode", action="store_const", const=mode, help=text)
    t.add_argument("--deadline", "-t", type=positive("--deadline"), help="deadline t for the deadline objective")
    _design_options(t, "draws of T for the design")
    t.add_argument("--backend", choices=BACKENDS, default="ray", help="engine: Ray (processes, clusters) or threads")
    t.add_argument("--address", help="Ray cluster address (default: a local Ray on this machine)")
    t.add_argument("--cpus-per-worker", type=_cpus, default=0.0,
                   help="CPUs Ray reserves per worker: 0 packs every worker on one machine, "
                        "1 places one worker per core of a cluster (docs/runtime.md)")
    t.add_argument("--log", type=output_file("--log"), help="write every iteration as a JSON line to this file")
    t.add_argument("--plot", type=output_file("--plot"),
                   help="write loss against wall-clock time per scheme to this PNG file")
    _output(t)
    t.set_defaults(mode=MODES[0])


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="bcgc", description="Block coordinate gradient coding: design, evaluate, compare, "
                                              "simulate, train, reproduce.")
    parser.add_argument("--version", action="version", version=f"bcgc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    _add_design_commands(sub)
    _add_run_commands(sub)
    r = sub.add_parser("reproduce", help="regenerate the paper's evaluation and more: PNG + CSV + index.md")
    r.add_argument("--quick", action="store_true", help="fewer Monte Carlo draws (every point kept)")
    r.add_argument("--out", default="reproduce", help="output folder")
    r.add_argument("--seed", type=whole("--seed", 0), default=0, help="seed of every random draw")
    return parser


# ---------------------------------------------------------------------------- commands
def _need_coords(a):
    if a.coords is None:
        raise UsageError(f"--coords is required for {a.command}")


def _run_design(a):
    _need_coords(a)
    r = design(a.model, a.workers, a.coords, objective=a.objective, deadline=a.deadline, method=a.method,
               tolerate=a.tolerate, allowed_levels=a.allowed_levels, samples=a.samples, seed=a.seed)
    if not a.json:
        return report.render_design(r)
    return report.design_json(r, BlockScheme(r.blocks, a.workers, seed=a.seed))


def _run_evaluate(a):
    x = V.blocks(a.blocks, a.workers, a.coords)
    ev = evaluate(a.model, a.workers, x, deadline=a.deadline, method=a.evaluation, samples=a.samples, seed=a.seed)
    return report.evaluation_json(ev, a.model, x) if a.json else report.render_evaluation(ev, a.model, x)


def _run_compare(a):
    _need_coords(a)
    rows = compare(a.model, a.workers, a.coords, deadline=a.deadline, samples=a.samples, seed=a.seed)
    return report.compare_json(rows) if a.json else report.render_compare(rows)


def _run_simulate(a):
    from . import plots
    from .problems import load_dataset, make_problem
    from .simulate import SCHEMES, simulate_all

    data = load_dataset(a.dataset, samples=a.max_samples, seed=a.seed, label=a.label)
    problem = make_problem(a.problem, data, a.workers)
    schemes = SCHEMES if a.scheme == "all" else (a.scheme,)
    results = simulate_all(problem, a.model, schemes, iterations=a.iterations, seed=a.seed, code_kind=a.code,
                           design_args=_design_args(a))
    if a.plot:
        title = f"{a.problem} on {data.name} (N={a.workers}, T ~ {a.model.spec})"
        plots.save(plots.simulate_figure(results, title), a.plot)
    if a.json:
        return report.simulation_json(results, problem, data, a.model)
    return report.render_simulation(results, problem, data, a.model) + (f"\nwrote {a.plot}" if a.plot else "")


def _run_train(a):
    from . import plots
    from .problems import load_dataset, make_problem
    from .runtime import train

    if a.features is not None and a.dataset != "synthetic":   # never ignore an option silently
        raise UsageError("--features applies to --dataset synthetic only")
    if a.address is not None and a.backend != "ray":
        raise UsageError("--address applies to --backend ray only")
    data = load_dataset(a.dataset, samples=a.max_samples, seed=a.seed, features=a.features or 64,
                        label=a.label)
    problem = make_problem(a.problem, data, a.workers)
    schemes = BLOCK_SCHEMES if a.scheme == "all" else (a.scheme,)
    progress = None if a.json or not sys.stderr.isatty() else _progress
    with LazyFile(a.log) as log, _stdout_to_stderr():  # log opened at its first record
        results = train(problem, a.model, schemes, iterations=a.iterations, mode=a.mode, unit=a.unit,
                        backend=a.backend, address=a.address, cpus_per_worker=a.cpus_per_worker, seed=a.seed,
                        log=log if a.log else None,
                        progress=progress, **_design_args(a))
    if progress:
        print(file=sys.stderr)
    title = (f"{a.problem} on {data.name} (L={problem.L}), N={a.workers}, T ~ {a.model.spec}, --{a.mode}"
             + (f" unit={a.unit:g}s" if a.mode == "emulate" else "") + f", backend={a.backend}")
    if a.plot:
        plots.save(plots.train_figure(results, title), a.plot)
    if a.json:
        return report.train_json(results, {"workers": a.workers, "model": a.model.spec, "problem": a.problem,
                                           "dataset": data.name, "coords": problem.L, "mode": a.mode,
                                           "unit": a.unit if a.mode == "emulate" else None, "backend": a.backend})
    return report.render_train(results, title)


@contextlib.contextmanager
def _ticker(label: str):
    """On a terminal, a line on stderr that counts the seconds of long work (design, compare,
    evaluate, simulate), erased when it ends; nothing when stderr is not a terminal."""
    if not sys.stderr.isatty():
        yield
        return
    done, t0 = threading.Event(), time.perf_counter()

    def tick():
        while not done.wait(0.5):
            print(f"\r[{time.perf_counter() - t0:5.0f} s] {label} …", end="", file=sys.stderr, flush=True)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        print("\r" + " " * (len(label) + 14) + "\r", end="", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _stdout_to_stderr():
    """Engines (Ray's driver) may print to the process's stdout; the run's own output, one table or
    one JSON object, is printed afterwards, so route file descriptor 1 to stderr meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _design_args(a) -> dict:
    return {"objective": a.objective, "deadline": a.deadline, "method": a.method, "tolerate": a.tolerate,
            "allowed_levels": a.allowed_levels, "samples": a.samples}


def _progress(name, it, total, rec):
    print(f"\r{name:<8} iteration {it + 1}/{total}  loss {rec['loss']:.5g}  last {rec['measured_seconds']:.3f}s "
          f"(predicted {rec['predicted_seconds']:.3f}s)   ", end="", file=sys.stderr, flush=True)


def _run_reproduce(a):
    from .experiments.reproduce import FULL, QUICK, reproduce

    t0 = time.perf_counter()
    steps = [0]

    def progress(msg):
        steps[0] += 1
        print(f"\r[{time.perf_counter() - t0:6.1f} s] step {steps[0]:>2}: {msg:<50}", end="", file=sys.stderr,
              flush=True)

    margins = reproduce(a.out, QUICK if a.quick else FULL, seed=a.seed, progress=progress)
    print(file=sys.stderr)
    return report.render_reproduce(a.out, margins, time.perf_counter() - t0)


COMMANDS = {"design": _run_design, "evaluate": _run_evaluate, "compare": _run_compare, "simulate": _run_simulate,
            "train": _run_train, "reproduce": _run_reproduce}


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C (temporary folders, open files)


def main(argv=None) -> int:
    from .runtime import WorkerError
    from .runtime.ray_backend import RayMissing

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)

    try:
        a = build_parser().parse_args(argv)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            # numpy's floating-point warnings (overflow to inf, 0/0 in a discarded branch) are not
            # messages for a user: every result is checked for finiteness where it matters
            warnings.simplefilter("ignore", RuntimeWarning)
            with _ticker(f"bcgc {a.command}") if a.command not in ("train", "reproduce") else contextlib.nullcontext():
                result = COMMANDS[a.command](a)
    except (UsageError, ValueError, RayMissing) as exc:  # the core's messages name the parameter and range
        print(f"bcgc: error: {exc}", file=sys.stderr)
        return 2
    except WorkerError as exc:  # a bug in worker code: the worker's traceback is the message
        print(f"bcgc: {exc}", file=sys.stderr)
        return 1
    except RedesignImpossible as exc:
        print(f"bcgc: run stopped: {exc}", file=sys.stderr)
        return 1
    except RuntimeError as exc:  # a solver or run failure is not the user's fault: exit 1, still one line
        print(f"bcgc: failed: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file that could not be read or written
        print(f"bcgc: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bcgc: interrupted", file=sys.stderr)
        return 2
    print(json.dumps(result, allow_nan=False) if isinstance(result, dict) else result)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
