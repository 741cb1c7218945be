"""``bcgc fit``: fit a straggler law to measurements (docs/fitting.md) and print its ``--model`` text."""

from __future__ import annotations

import math

from .. import _validate as V
from .._args import UsageError, number
from .commands import add


def _loads(text):
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = [math.nan]
    if not values or not all(math.isfinite(v) and v >= 0 for v in values):
        raise UsageError(f"--loads must be a comma-separated list of numbers >= 0, e.g. 0,1, got {text!r}")
    return values


def register(sub) -> None:
    p = add(sub, "fit")
    p.add_argument(
        "traces",
        nargs="*",
        metavar="TRACE.csv",
        help="trace files (one row per iteration, one column per worker, '#' comments) or shipped "
        "traces trace:name=NAME (docs/traces.md)",
    )
    p.add_argument(
        "--loads",
        type=_loads,
        help="the load w of each trace, in order (one must be 0): "
        "fit the fixed-cost law T(w) = a + b·w, e.g. --loads 0,1 A.csv B.csv",
    )
    p.add_argument(
        "--log",
        metavar="RUN.jsonl",
        help="fit the observations of a training log (bcgc train --log); cancelled workers are censored observations",
    )
    p.add_argument(
        "--alpha",
        type=number("--alpha", V.Interval(float, 0, 1, closed="neither")),
        default=0.01,
        help="level of the Kruskal-Wallis test of persistent differences between workers",
    )
    p.add_argument(
        "--fixed",
        choices=("empirical", "named"),
        default="empirical",
        help="with --loads: the law of the fixed cost a, the load-0 times themselves "
        "(empirical) or the named family of smallest AIC",
    )
    p.add_argument(
        "--predict",
        type=number("--predict", V.NONNEGATIVE),
        metavar="W",
        help="also give the 1st..99th percentiles of one worker's time at load W",
    )
    p.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")


def _paths(traces) -> list[str]:
    """Trace files as given; a shipped trace ``trace:name=NAME`` (as ``--model`` takes it) becomes
    its file, so that the fitted law's text names a file that exists."""
    from ..stragglers.shipped import shipped_path

    out = []
    for t in traces:
        kind, _, rest = t.partition(":")
        key, _, value = rest.partition("=")
        if kind in ("trace", "empirical") and key == "name":
            out.append(str(shipped_path(value)))
        elif kind in ("trace", "empirical") and key == "path":  # as --model names a file
            out.append(value)
        else:
            out.append(t)
    return out


def _fit(a):
    from ..fitting import fit_loads, fit_log, fit_trace, read_log
    from ..stragglers import read_trace

    a.traces = _paths(a.traces)

    if a.log is not None:
        if a.traces or a.loads is not None:
            raise UsageError("fit: --log takes no trace files and no --loads")
        return "log", fit_log(read_log(a.log), alpha=a.alpha, source=a.log)
    if not a.traces:
        raise UsageError("fit: give a trace file, several with --loads, or --log RUN.jsonl")
    if a.loads is None:
        if len(a.traces) != 1:
            raise UsageError(f"fit: several traces ({len(a.traces)}) need --loads (the load of each)")
        return "trace", fit_trace(read_trace(a.traces[0]), alpha=a.alpha, source=a.traces[0])
    if len(a.loads) != len(a.traces):
        raise UsageError(f"--loads gives {len(a.loads)} loads for {len(a.traces)} trace files: one load per file")
    traces = [read_trace(path) for path in a.traces]
    return "loads", fit_loads(traces, a.loads, a.traces, fixed=a.fixed)


def _clean(value):
    """JSON without NaN or inf (none: not defined, e.g. the AIC of a family that does not fit)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def run_fit(a):
    from ..fitting import predicted_quantiles

    kind, result = _fit(a)
    out = {"command": "fit", "kind": kind, **result.report, "model": result.spec}
    if a.predict is not None:
        out["predict_load"] = a.predict
        out["predicted_quantiles"] = [float(v) for v in predicted_quantiles(result.model, a.predict)]
    if a.json:
        return _clean(out)
    return _text(out)


def _families(rows) -> list[str]:
    lines = [f"  {'family':<22} {'log-likelihood':>15} {'AIC':>13}"]
    for r in rows:
        extra = f"  (fixed cost a = {r['fixed_cost']:.4g})" if r.get("fixed_cost") else ""
        lines.append(f"  {r['family']:<22} {r['loglik']:>15.2f} {r['aic']:>13.2f}{extra}")
    return lines


def _test_line(t) -> str:
    if t.get("p_value") is None:
        return f"  persistence: not tested ({t.get('why', '')})"
    verdict = "workers differ persistently" if t["differ"] else "no persistent difference"
    return (
        f"  persistence (Kruskal-Wallis across workers): H = {t['statistic']:.2f}, p = {t['p_value']:.3g} "
        f"-> {verdict} at level {t['alpha']:g}"
    )


def _text(out) -> str:
    lines = []
    if out["kind"] == "loads":
        lines.append(f"fixed cost a: {out['a']}; b's family by AIC of the convolution likelihood:")
        lines += _families(out["families"])
        lines += [f"  KS distance {f['ks']:.4f}  load {f['load']:g}  {f['path']}" for f in out["files"]]
        lines += [
            f"  independence of a and b: Spearman rho of per-worker medians, load 0 vs {r['load']:g}: "
            f"{r['spearman_rho']:.3f} (p = {r['p_value']:.3g})"
            for r in out["independence"]["results"]
        ]
    else:
        what = (
            f"{out['rows']} rows x {out['workers']} workers"
            if out["kind"] == "trace"
            else f"{out['observations']} observations ({out['censored']} censored), {out['workers']} workers"
        )
        lines.append(f"{out['path']}: {what}")
        lines += _families(out["families"])
        lines.append(_test_line(out["persistence"]))
        if out.get("per_worker"):
            pw = out["per_worker"]
            lines.append(
                f"  per-worker {pw['family']} laws: total AIC {pw['aic']:.2f} "
                f"({'chosen' if pw.get('chosen') else 'not better than the pooled law'})"
            )
        lines.append(f"  KS distance {out['ks']:.4f}")
    if "predicted_quantiles" in out:
        q = out["predicted_quantiles"]
        lines.append(
            f"predicted at load {out['predict_load']:g}: p10 {q[9]:.4g}, p50 {q[49]:.4g}, p90 {q[89]:.4g}, "
            f"p99 {q[98]:.4g}"
        )
    lines.append(f"--model {out['model']}")
    return "\n".join(lines)


#: the runner: (module, function); its core is imported inside it, when it runs
COMMANDS = {"fit": ("fit_cmd", "run_fit")}
