"""What the command line shows of runs: ``simulate``, ``train`` and ``reproduce`` as tables and JSON
(the design engine's commands are :mod:`bcgc.report`'s)."""

from __future__ import annotations

import numpy as np

from .report import as_json

__all__ = ["simulation_json", "render_simulation", "train_summaries", "train_json", "render_train", "render_reproduce"]


def _simulation_row(r) -> dict:
    return {
        "name": r.name,
        "iterations": r.iterations,
        "final_loss": r.final_loss,
        "virtual_time": r.virtual_time,
        "max_gradient_error": r.max_gradient_error,
        "max_time_model_gap": float(np.max(np.abs(r.iteration_times - r.predicted_times))),
        "retries": r.retries,
        "parameters": r.parameters,
        # the trajectory the plot draws: loss after i iterations at virtual time times[i] (i = 0..iterations)
        "losses": r.losses,
        "times": r.times,
    }


def simulation_json(results, problem, data, model) -> dict:
    """``bcgc simulate --json``."""
    return as_json(
        {
            "workers": problem.workers,
            "model": model.spec,
            "problem": problem.name,
            "dataset": data.name,
            "dataset_note": data.note or None,
            "coords": problem.L,
            "samples": int(problem.n),
            "schemes": [_simulation_row(r) for r in results],
        }
    )


def render_simulation(results, problem, data, model) -> str:
    head = (
        f"{'scheme':<10} {'iterations':>10} {'final loss':>14} {'virtual time':>14} {'vs BCGC':>8} {'max grad err':>13}"
    )
    base = next((r.virtual_time for r in results if r.name == "bcgc"), None)
    out = [
        f"{problem.name} on {data.name} ({problem.n} samples, L={problem.L}), N={problem.workers}, T ~ {model.spec}"
        + (f"  [{data.note}]" if data.note else ""),
        head,
        "-" * len(head),
    ]
    for r in results:
        ratio = "" if base is None else f"{r.virtual_time / base:.3f}"
        extra = ", ".join(f"{k}={v}" for k, v in r.parameters.items() if k in ("r",))
        out.append(
            f"{r.name:<10} {r.iterations:>10} {r.final_loss:>14.6g} {r.virtual_time:>14.6g} {ratio:>8} "
            f"{r.max_gradient_error:>13.2g}  {extra}"
        )
    out.append("virtual time in the unit of T; every scheme applies the exact gradient, so the losses agree.")
    return "\n".join(out)


# ---------------------------------------------------------------------------- train
def train_summaries(results):
    """Summaries of each scheme's run, with the time to reach a loss every scheme reached."""
    summaries = [r.summary() for r in results]
    target = max(s["final_loss"] for s in summaries)
    for s, r in zip(summaries, results):
        s["seconds_to_target_loss"] = r.time_to_loss(target)
    return summaries, target


def train_json(results, run: dict) -> dict:
    """``bcgc train --json``: the run's description (``run``) and one summary per scheme."""
    summaries, target = train_summaries(results)
    return as_json({**run, "target_loss": target, "schemes": summaries})


_PREDICTED = (
    "predicted = the model (formula (2), or the timeline model with fixed costs; under --bandwidth/--latency "
    "the links model, bcgc.timing.links) for the same draws"
)
#: under --stragglers natural nothing is drawn: what the prediction is, and what the ratio then measures
_NATURAL = (
    "stragglers natural: nothing is injected, so predicted = the timeline model at each iteration's per-worker "
    "(a_n, b_n) fitted to the blocks' time stamps, a reconstruction of the workers' computation, not a "
    "forecast; meas/pred is what that fit leaves out (the master's decoding and update, messages, "
    "scheduling), far above 1 when each iteration computes for milliseconds"
)


def render_train(results, title, natural: bool = False) -> str:
    """The summary table of ``bcgc train``; ``natural``: the workers ran with no injected delay, and
    the prediction is a reconstruction from their time stamps (docs/runtime.md)."""
    summaries, target = train_summaries(results)
    head = (
        f"{'scheme':<8} {'iters':>5} {'mean s/iter':>11} {'predicted':>10} {'meas/pred med':>13} "
        f"{'p90':>6} {'2nd half s':>10} {'final loss':>11} {'to target s':>11} {'max grad err':>12} "
        f"{'redesigns':>9}"
    )
    out = [title, head, "-" * len(head)]
    for s in summaries:
        tt = s["seconds_to_target_loss"]
        out.append(
            f"{s['name']:<8} {s['iterations']:>5} {s['mean_iteration_seconds']:>11.4f} "
            f"{s['mean_predicted_seconds']:>10.4f} {s['median_measured_over_predicted']:>13.3f} "
            f"{s['p90_measured_over_predicted']:>6.3f} {s['mean_second_half_seconds']:>10.4f} "
            f"{s['final_loss']:>11.6g} "
            f"{'-' if tt is None else f'{tt:.3f}':>11} {s['max_gradient_error']:>12.2g} {s['redesigns']:>9}"
        )
    out.append(
        f"target loss {target:.6g} (reached by every scheme); "
        + (_NATURAL if natural else _PREDICTED)
        + "; redesigns include --adapt's."
    )
    for r in results:  # how BCGC's design procedure was chosen on a trace law (docs/traces.md)
        if getattr(r, "procedure", None):
            out.append(f"{r.name}: first design {r.procedure}")
    for r in results:  # an allocation the run ended with (docs/runtime.md, data on the workers)
        d = r.logs[-1].get("subset_sizes") if r.logs else None
        if d is not None:
            out.append(f"{r.name}: unequal data subsets at the end, d = [{', '.join(f'{v:.3f}' for v in d)}]")
    return "\n".join(out)


def render_reproduce(out, margins, seconds) -> str:
    """The closing lines of ``bcgc reproduce``: the smallest margins of the optimum."""
    worst = {
        ref: min(m["margin_percent"] for m in margins if m["reference"] == ref)
        for ref in ("jensen", "inverse", "gc_best")
    }
    return (
        f"wrote {out}/index.md and its figures in {seconds:.0f} s\n"
        "smallest margin of the optimum over: "
        + ", ".join(f"{k} {v:.3f}%" for k, v in worst.items())
        + f"; never worse at any point: {all(m['optimum_not_worse'] for m in margins)}"
    )
