"""The ``bcgc`` command line: a thin layer that parses, calls the core and prints (STYLE: thin layers).

Bad input ends with one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import textwrap

import numpy as np

from . import __version__
from . import _validate as V
from .analysis import evaluate
from .design import METHODS, design
from .peers import compare, json_number
from .stragglers import parse_model


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: one line, exit 2
        raise UsageError(f"{self.prog}: {message}")


def _int(name, minimum=None):
    def conv(text):
        try:
            value = int(text)
        except ValueError:
            raise UsageError(f"{name} must be an integer{'' if minimum is None else f' >= {minimum}'}, got {text!r}") from None
        if minimum is not None and value < minimum:
            raise UsageError(f"{name} must be an integer >= {minimum}, got {value}")
        return value
    return conv


def _positive(name):
    def conv(text):
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"{name} must be a number > 0, got {text!r}") from None
        if not (value > 0) or not math.isfinite(value):
            raise UsageError(f"{name} must be a finite number > 0, got {text}")
        return value
    return conv


def _int_list(name):
    def conv(text):
        try:
            return [int(v) for v in text.split(",") if v.strip() != ""]
        except ValueError:
            raise UsageError(f"{name} must be comma-separated integers, e.g. 0,1,3, got {text!r}") from None
    return conv


def _model(text):
    try:
        return parse_model(text)
    except ValueError as exc:
        raise UsageError(f"--model: {exc}") from None


def _common(p, deadline_help="deadline t for P(τ ≤ t), in the unit of T"):
    p.add_argument("--workers", "-N", required=True, type=_int("--workers", 1), help="number of workers N (>= 1)")
    p.add_argument("--coords", "-L", type=_int("--coords", 1), help="number of coordinates L (>= 1)")
    p.add_argument("--model", "-m", required=True, type=_model,
                   help="straggler law, e.g. shifted-exponential:shift=1,rate=1 (see docs)")
    p.add_argument("--deadline", "-t", type=_positive("--deadline"), help=deadline_help)
    p.add_argument("--seed", type=_int("--seed", 0), default=0, help="seed of every random draw (default 0)")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bcgc", description="Block coordinate gradient coding: design, evaluate, compare.")
    parser.add_argument("--version", action="version", version=f"bcgc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    d = sub.add_parser("design", help="design the block sizes x (SPEC §4)")
    _common(d)
    d.add_argument("--objective", choices=["runtime", "deadline"], default="runtime")
    d.add_argument("--method", default="optimal", help=f"one of {', '.join(METHODS)} (default optimal)")
    d.add_argument("--tolerate", "-f", type=_int("--tolerate", 0), default=0,
                   help="full stragglers to tolerate: x_s = 0 for s < f")
    d.add_argument("--allowed-levels", type=_int_list("--allowed-levels"), help="only these levels may be used")
    d.add_argument("--samples", type=_int("--samples", 10), help="draws of T for sample-based methods")

    e = sub.add_parser("evaluate", help="E[τ] and P(τ ≤ t) of given blocks (SPEC §3-§4)")
    _common(e)
    e.add_argument("--blocks", "-x", required=True, type=_int_list("--blocks"),
                   help="x_0,x_1,...,x_{N-1}: coordinates per level, summing to L")
    e.add_argument("--evaluation", choices=["auto", "exact", "monte-carlo"], default="auto")
    e.add_argument("--samples", type=_int("--samples", 2), default=200_000, help="Monte Carlo draws")

    c = sub.add_parser("compare", help="BCGC and every peer scheme side by side (SPEC §6)")
    _common(c)
    c.add_argument("--samples", type=_int("--samples", 2), default=100_000, help="Monte Carlo draws")
    m = sub.add_parser("simulate", help="coded gradient descent on real data in virtual time (SPEC §3, §5)")
    m.add_argument("--workers", "-N", required=True, type=_int("--workers", 1), help="number of workers N (>= 1)")
    m.add_argument("--model", "-m", required=True, type=_model, help="straggler law (see docs)")
    m.add_argument("--problem", choices=["least-squares", "logistic", "softmax"], default="least-squares")
    m.add_argument("--dataset", choices=["digits", "fashion-mnist", "synthetic"], default="digits")
    m.add_argument("--max-samples", type=_int("--max-samples", 1), help="keep a seeded subset of the data rows")
    m.add_argument("--iterations", "-k", type=_int("--iterations", 1), default=50)
    m.add_argument("--scheme", choices=["bcgc", "gc", "uncoded", "ucmmc", "all"], default="all")
    m.add_argument("--code", choices=["auto", "cyclic", "fractional", "gaussian", "mds"], default="auto",
                   help="gradient code kind per level (default auto)")
    m.add_argument("--seed", type=_int("--seed", 0), default=0)
    m.add_argument("--plot", help="write loss against virtual time to this PNG file")
    m.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    t = sub.add_parser("train", help="the real distributed runtime on Ray (SPEC §7)")
    t.add_argument("--workers", "-N", required=True, type=_int("--workers", 1), help="number of workers N (>= 1)")
    t.add_argument("--model", "-m", required=True, type=_model, help="straggler law (see docs)")
    t.add_argument("--problem", choices=["least-squares", "logistic", "softmax"], default="least-squares")
    t.add_argument("--dataset", choices=["digits", "fashion-mnist", "synthetic"], default="digits")
    t.add_argument("--features", type=_int("--features", 1), default=64, help="dimension of the synthetic set")
    t.add_argument("--max-samples", type=_int("--max-samples", 1), help="keep a seeded subset of the data rows")
    t.add_argument("--iterations", "-k", type=_int("--iterations", 1), default=20)
    t.add_argument("--scheme", choices=["bcgc", "gc", "uncoded", "all"], default="all")
    t.add_argument("--unit", type=_positive("--unit"), default=0.2,
                   help="seconds of one full-subset gradient under --emulate (default 0.2)")
    how = t.add_mutually_exclusive_group()
    how.add_argument("--emulate", dest="mode", action="store_const", const="emulate",
                     help="sleep so block s is done at T_n y_s / L · unit (default)")
    how.add_argument("--slowdown", dest="mode", action="store_const", const="slowdown",
                     help="real computation, stretched by the factor T_n")
    t.add_argument("--backend", choices=["ray", "threads"], default="ray")
    t.add_argument("--address", help="Ray cluster address (default: a local Ray on this machine)")
    t.add_argument("--seed", type=_int("--seed", 0), default=0)
    t.add_argument("--log", help="write every iteration as a JSON line to this file")
    t.add_argument("--plot", help="write loss against wall-clock time per scheme to this PNG file")
    t.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    t.set_defaults(mode="emulate")

    r = sub.add_parser("reproduce", help="regenerate the paper's evaluation and more: PNG + CSV + index.md")
    r.add_argument("--quick", action="store_true", help="fewer Monte Carlo draws (every point kept); < 3 min")
    r.add_argument("--out", default="reproduce", help="output folder (default ./reproduce)")
    r.add_argument("--seed", type=_int("--seed", 0), default=0)
    return parser


def _run_reproduce(a):
    import time as _time

    from .experiments.reproduce import FULL, QUICK, reproduce

    t0 = _time.perf_counter()
    steps = [0]

    def progress(msg):
        steps[0] += 1
        print(f"\r[{_time.perf_counter() - t0:6.1f} s] step {steps[0]:>2}: {msg:<50}", end="", file=sys.stderr,
              flush=True)

    margins = reproduce(a.out, QUICK if a.quick else FULL, seed=a.seed, progress=progress)
    print(file=sys.stderr)
    worst = {ref: min(m["margin_percent"] for m in margins if m["reference"] == ref) for ref in ("jensen", "inverse", "gc_best")}
    return (f"wrote {a.out}/index.md and its figures in {_time.perf_counter() - t0:.0f} s\n"
            "smallest margin of the optimum over: " + ", ".join(f"{k} {v:.3f}%" for k, v in worst.items())
            + f"; never worse at any point: {all(m['optimum_not_worse'] for m in margins)}")


def _run_train(a):
    from .problems import load_dataset, make_problem
    from .runtime.train import train

    data = load_dataset(a.dataset, samples=a.max_samples, seed=a.seed, features=a.features)
    problem = make_problem(a.problem, data, a.workers)
    schemes = ("bcgc", "gc", "uncoded") if a.scheme == "all" else (a.scheme,)
    log = open(a.log, "w") if a.log else None
    progress = None if a.json or not sys.stderr.isatty() else _progress
    try:
        results = train(problem, a.model, schemes, iterations=a.iterations, mode=a.mode, unit=a.unit,
                        backend=a.backend, address=a.address, seed=a.seed, log=log, progress=progress)
    finally:
        if log:
            log.close()
    if progress:
        print(file=sys.stderr)
    if a.plot:
        plot_wall(results, a.plot, f"{a.problem} on {data.name}, N={a.workers}, T ~ {a.model.spec}, {a.mode}")
    if a.json:
        summaries, target = train_summaries(results)
        return {"workers": a.workers, "model": a.model.spec, "problem": a.problem, "dataset": data.name,
                "coords": problem.L, "mode": a.mode, "unit": a.unit, "backend": a.backend,
                "target_loss": target, "schemes": [_jsonable(s) for s in summaries]}
    title = (f"{a.problem} on {data.name} (L={problem.L}), N={a.workers}, T ~ {a.model.spec}, --{a.mode}"
             + (f" unit={a.unit:g}s" if a.mode == "emulate" else "") + f", backend={a.backend}")
    return render_train(results, title)


def train_summaries(results):
    """Summaries of each scheme's run, with the time to reach a loss every scheme reached."""
    summaries = [r.summary() for r in results]
    target = max(s["final_loss"] for s in summaries)
    for s, r in zip(summaries, results):
        s["seconds_to_target_loss"] = r.time_to_loss(target)
    return summaries, target


def render_train(results, title) -> str:
    """The summary table of ``bcgc train``."""
    summaries, target = train_summaries(results)
    head = (f"{'scheme':<8} {'iters':>5} {'mean s/iter':>11} {'predicted':>10} {'meas/pred med':>13} "
            f"{'p90':>6} {'final loss':>11} {'to target s':>11} {'max grad err':>12} {'redesigns':>9}")
    out = [title, head, "-" * len(head)]
    for s in summaries:
        tt = s["seconds_to_target_loss"]
        out.append(f"{s['name']:<8} {s['iterations']:>5} {s['mean_iteration_seconds']:>11.4f} "
                   f"{s['mean_predicted_seconds']:>10.4f} {s['median_measured_over_predicted']:>13.3f} "
                   f"{s['p90_measured_over_predicted']:>6.3f} {s['final_loss']:>11.6g} "
                   f"{'-' if tt is None else f'{tt:.3f}':>11} {s['max_gradient_error']:>12.2g} {s['redesigns']:>9}")
    out.append(f"target loss {target:.6g} (reached by every scheme); predicted = SPEC (2) for the same draws.")
    return "\n".join(out)


def _progress(name, it, total, rec):
    print(f"\r{name:<8} iteration {it + 1}/{total}  loss {rec['loss']:.5g}  last {rec['measured_seconds']:.3f}s "
          f"(predicted {rec['predicted_seconds']:.3f}s)   ", end="", file=sys.stderr, flush=True)


def plot_wall(results, path, title):
    """Loss against measured wall-clock time, one line per scheme (``bcgc train``)."""
    curves = []
    for r in results:
        t = np.concatenate([[0.0], np.cumsum(r.column("measured_seconds"))])
        curves.append((f"{r.name} ({t[-1]:.2f} s)", t, np.concatenate([[r.initial_loss], r.column("loss")])))
    _plot_curves(curves, "wall-clock time (s)", path, title)


def _plot_curves(curves, xlabel, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, x, y in curves:
        ax.plot(x, y, label=label, marker=".", markersize=3)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("training loss")
    ax.set_yscale("log")
    ax.set_title(textwrap.fill(title, 80), fontsize=9)  # long run descriptions must not be clipped
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _run_simulate(a):
    from .problems import load_dataset, make_problem
    from .simulate import SCHEMES, simulate_all

    data = load_dataset(a.dataset, samples=a.max_samples, seed=a.seed)
    problem = make_problem(a.problem, data, a.workers)
    schemes = SCHEMES if a.scheme == "all" else (a.scheme,)
    results = simulate_all(problem, a.model, schemes, iterations=a.iterations, seed=a.seed, code_kind=a.code)
    if a.plot:
        plot_losses(results, a.plot, f"{a.problem} on {data.name} (N={a.workers}, T ~ {a.model.spec})")
    if a.json:
        return {"workers": a.workers, "model": a.model.spec, "problem": a.problem, "dataset": data.name,
                "dataset_note": data.note or None, "coords": problem.L, "samples": int(problem.n),
                "schemes": [_jsonable(r.as_dict()) for r in results]}
    head = f"{'scheme':<10} {'iterations':>10} {'final loss':>14} {'virtual time':>14} {'vs BCGC':>8} {'max grad err':>13}"
    base = next((r.virtual_time for r in results if r.name == "bcgc"), None)
    out = [f"{a.problem} on {data.name} ({problem.n} samples, L={problem.L}), N={a.workers}, T ~ {a.model.spec}"
           + (f"  [{data.note}]" if data.note else ""), head, "-" * len(head)]
    for r in results:
        ratio = "" if base is None else f"{r.virtual_time / base:.3f}"
        extra = ", ".join(f"{k}={v}" for k, v in r.parameters.items() if k in ("r",))
        out.append(f"{r.name:<10} {r.iterations:>10} {r.final_loss:>14.6g} {r.virtual_time:>14.6g} {ratio:>8} "
                   f"{r.max_gradient_error:>13.2g}  {extra}")
    out.append("virtual time in the unit of T; every scheme applies the exact gradient, so the losses agree.")
    if a.plot:
        out.append(f"wrote {a.plot}")
    return "\n".join(out)


def plot_losses(results, path, title):
    """Loss against virtual time, one line per scheme (``bcgc simulate``)."""
    _plot_curves([(f"{r.name} ({r.virtual_time:.3g})", r.times, r.losses) for r in results],
                 "virtual wall-clock time (unit of T)", path, title)


# ---------------------------------------------------------------------------- output
def _fmt(v, se=None, digits=5):
    if v is None:
        return "-"
    if not math.isfinite(v):
        return "inf"
    return f"{v:.{digits}g}" + ("" if se is None else f" ± {se:.1g}")


def _bar_chart(blocks: np.ndarray, width: int = 40, max_rows: int = 24) -> str:
    """A terminal bar chart of the non-empty blocks (consecutive levels grouped if too many)."""
    nz = np.flatnonzero(blocks)
    groups = np.array_split(nz, min(max_rows, nz.size)) if nz.size else []
    total = blocks.sum()
    rows = [(f"{g[0]}" if g.size == 1 else f"{g[0]}-{g[-1]}", int(blocks[g].sum())) for g in groups]
    top = max(v for _, v in rows)
    lines = []
    for label, v in rows:
        bar = "█" * max(1, round(width * v / top))
        lines.append(f"  s={label:>9} │{bar:<{width}} {v} ({100 * v / total:.1f}%)")
    return "\n".join(lines)


def _run_design(a):
    if a.coords is None:
        raise UsageError("--coords is required for design")
    r = design(a.model, a.workers, a.coords, objective=a.objective, deadline=a.deadline, method=a.method,
               tolerate=a.tolerate, allowed_levels=a.allowed_levels, samples=a.samples, seed=a.seed)
    if a.json:
        return design_json(r, a.model, a.tolerate)
    return render_design(r, a.model, a.tolerate)


def design_json(r, model, tolerate=0) -> dict:
    """The JSON object of ``bcgc design --json``."""
    return {"workers": int(r.blocks.size), "coords": int(r.blocks.sum()), "model": model.spec,
            "objective": r.objective, "method": r.method, "tolerate": tolerate,
            "blocks": [int(v) for v in r.blocks], "relaxed": [float(v) for v in r.relaxed],
            "expected_runtime": json_number(r.expected_runtime), "expected_runtime_stderr": json_number(r.expected_runtime_stderr),
            "completion_probability": json_number(r.completion_probability),
            "completion_probability_stderr": json_number(r.completion_probability_stderr),
            "deadline": r.deadline, "evaluation": r.evaluation, "solve_seconds": r.solve_seconds,
            "success": r.success, "message": r.message, "nit": r.nit, "diagnostics": _jsonable(r.diagnostics)}


def render_design(r, model, tolerate=0) -> str:
    """The human output of ``bcgc design``: summary lines and a bar chart of the blocks."""
    out = [f"BCGC design  N={r.blocks.size}  L={r.blocks.sum()}  model={model.spec}",
           f"  objective={r.objective}  method={r.method}  tolerate={tolerate}  "
           f"solve={r.solve_seconds:.3g}s  evaluation={r.evaluation}",
           f"  expected runtime     {_fmt(r.expected_runtime, r.expected_runtime_stderr)}  (unit of T)"]
    if r.deadline is not None:
        out.append(f"  P(τ ≤ {r.deadline:g})         {_fmt(r.completion_probability, r.completion_probability_stderr)}")
    out.append(f"  blocks (coordinates per level s, {np.count_nonzero(r.blocks)} non-empty):")
    out.append(_bar_chart(r.blocks))
    return "\n".join(out)


def _run_evaluate(a):
    x = V.blocks(a.blocks, a.workers, a.coords)
    ev = evaluate(a.model, a.workers, x, deadline=a.deadline, method=a.evaluation, samples=a.samples, seed=a.seed)
    if a.json:
        return {"workers": a.workers, "coords": int(x.sum()), "model": a.model.spec, "blocks": [int(v) for v in x],
                "expected_runtime": json_number(ev.expected_runtime),
                "expected_runtime_stderr": json_number(ev.expected_runtime_stderr),
                "completion_probability": json_number(ev.completion_probability),
                "completion_probability_stderr": json_number(ev.completion_probability_stderr),
                "deadline": a.deadline, "evaluation": ev.method}
    out = [f"N={a.workers}  L={int(x.sum())}  model={a.model.spec}  evaluation={ev.method}",
           f"  expected runtime  {_fmt(ev.expected_runtime, ev.expected_runtime_stderr)}"]
    if a.deadline is not None:
        out.append(f"  P(τ ≤ {a.deadline:g})      {_fmt(ev.completion_probability, ev.completion_probability_stderr)}")
    return "\n".join(out)


def _run_compare(a):
    if a.coords is None:
        raise UsageError("--coords is required for compare")
    rows = compare(a.model, a.workers, a.coords, deadline=a.deadline, samples=a.samples, seed=a.seed)
    if a.json:
        return {"workers": a.workers, "coords": a.coords, "model": a.model.spec, "deadline": a.deadline,
                "schemes": [r.as_dict() for r in rows]}
    return render_compare(rows, a.workers, a.coords, a.model, a.deadline)


def render_compare(rows, workers, coords, model, deadline=None) -> str:
    """The human table of ``bcgc compare``: runtime, ratio to BCGC, P(τ ≤ t) and upload."""
    base = next(r for r in rows if r.name == "bcgc").expected_runtime
    head = f"{'scheme':<18} {'E[τ]':>16} {'vs BCGC':>8} {'P(τ≤t)':>14} {'upload/worker':>14}  parameters"
    out = [f"N={workers}  L={coords}  model={model.spec}" + (f"  deadline={deadline:g}" if deadline else ""),
           head, "-" * len(head)]
    for r in rows:
        ratio = r.expected_runtime / base if math.isfinite(base) and math.isfinite(r.expected_runtime) else math.nan
        params = ", ".join(f"{k}={v}" for k, v in r.parameters.items() if k != "blocks")
        note = "" if r.exact_gradient else "  (inexact gradient)"
        out.append(f"{r.name:<18} {_fmt(r.expected_runtime, r.expected_runtime_stderr):>16} "
                   f"{'' if math.isnan(ratio) else f'{ratio:.3f}':>8} "
                   f"{_fmt(r.completion_probability, r.completion_probability_stderr, 4):>14} "
                   f"{'-' if r.upload_per_worker is None else r.upload_per_worker:>14}  {params}{note}")
    out.append("E[τ] in the unit of T; '±' marks a Monte Carlo standard error, no '±' is exact.")
    return "\n".join(out)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return json_number(float(obj))
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    return obj


def main(argv=None) -> int:
    parser = build_parser()
    try:
        a = parser.parse_args(argv)
        result = {"design": _run_design, "evaluate": _run_evaluate, "compare": _run_compare,
                  "simulate": _run_simulate, "train": _run_train, "reproduce": _run_reproduce}[a.command](a)
    except UsageError as exc:
        print(f"bcgc: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # validation in the core names the parameter and its range
        print(f"bcgc: error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # a solver failure is not the user's fault: exit 1, still one line
        print(f"bcgc: solver failed: {exc}", file=sys.stderr)
        return 1
    if isinstance(result, dict):
        print(json.dumps(result, allow_nan=False))
    else:
        print(result)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
