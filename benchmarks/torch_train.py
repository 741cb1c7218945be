"""PyTorch CNN under stragglers: BCGC in the backprop work order against the paper's design, GC,
uncoded, UC-MMC and bcgc_mm (docs/torch.md) → benchmarks/torch_results.md.

1. The cost profile of the CNN (bcgc profile) gives its backprop work order; every scheme is
   designed for it and timed under it.
2. Time to a target test accuracy in virtual time (bcgc.simulate: real gradients of the CNN, each
   scheme's time per iteration from the model on the same draws). Exact schemes follow one parameter
   trajectory (the same seeded batches), so they reach the target at the same iteration.
3. Measured against predicted time per iteration on threads (emulated stragglers), for BCGC's
   backprop design, the paper's design run subset-major, and uncoded.

    python benchmarks/torch_train.py [--iterations 120] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from bcgc.design import design
from bcgc.runtime import train
from bcgc.simulate import simulate
from bcgc.stragglers import parse_model
from bcgc.timing.work import WorkOrder
from bcgc.torch.factory import problem_from_factory
from bcgc.torch.optim import make_optimizer
from bcgc.torch.profile import profile_costs

HERE = Path(__file__).resolve().parent
FACTORY = str(HERE.parent / "docs" / "examples" / "torch_models.py") + ":cnn"
LAWS = {  # name: (law text, N)
    "shifted-exponential (shift 1, rate 1)": ("shifted-exponential:shift=1,rate=1", 8),
    "pareto (shape 1.5)": ("pareto:scale=1,shape=1.5", 8),
    "alibaba-pai-job2 trace": ("trace:name=alibaba-pai-job2", 10),
}
SCHEMES = ["bcgc", "paper design", "gc", "uncoded", "ucmmc", "bcgc_mm"]


def _optimizer(problem):
    return make_optimizer(problem, "adam", lr=2e-3)


def _simulate(problem, law, scheme, order, iterations, paper_blocks):
    if scheme == "paper design":
        return simulate(
            problem,
            law,
            "bcgc",
            iterations=iterations,
            blocks=paper_blocks,
            work_order=order,
            optimizer=_optimizer(problem),
        )
    return simulate(problem, law, scheme, iterations=iterations, work_order=order, optimizer=_optimizer(problem))


def time_to_target(res, target):
    acc = np.array([m.get("test_accuracy", 0.0) for m in res.metrics])
    hit = np.flatnonzero(acc >= target)
    return (float(res.times[hit[0] + 1]), int(hit[0] + 1)) if hit.size else (float("nan"), None)


def part_time_to_accuracy(iterations, target, out):
    rows = []
    for label, (text, n) in LAWS.items():
        problem = problem_from_factory(FACTORY, n, seed=0)
        law = parse_model(text)
        order = WorkOrder.from_costs(profile_costs(problem, repeats=3))
        paper = design(law, n, problem.L).blocks
        runs = {s: _simulate(problem, law, s, order, iterations, paper) for s in SCHEMES}
        ref = runs["uncoded"]
        final = {s: r.metrics[-1].get("test_accuracy") for s, r in runs.items()}
        for s, r in runs.items():
            t, it = time_to_target(r, target)
            rows.append(
                (
                    label,
                    s,
                    float(np.mean(r.iteration_times)),
                    t,
                    it,
                    final[s],
                    float(np.mean(ref.iteration_times) / np.mean(r.iteration_times)),
                    float(np.max(r.gradient_errors)),
                )
            )
        ours = design(law, n, problem.L, work_order=order).blocks
        out.append(
            f"- {label} (N = {n}): forward share φ = {order.forward:.2f}; BCGC's backprop design uses levels "
            f"{np.flatnonzero(ours).tolist()}, the paper's design levels {np.flatnonzero(paper).tolist()}"
        )
    return rows


def part_measured(iterations, unit):
    text, n = LAWS["shifted-exponential (shift 1, rate 1)"]
    problem = problem_from_factory(FACTORY, n, seed=0)
    law = parse_model(text)
    order = WorkOrder.from_costs(profile_costs(problem, repeats=3))
    paper = design(law, n, problem.L).blocks
    backprop = design(law, n, problem.L, work_order=order).blocks
    rows = []
    for label, blocks in (
        ("bcgc (backprop design)", backprop),
        ("paper design, subset-major", paper),
        ("uncoded", None),
    ):
        scheme = "uncoded" if blocks is None else "bcgc"
        designs = None if blocks is None else {"bcgc": (blocks, None)}
        [r] = train(
            problem,
            law,
            [scheme],
            iterations=iterations,
            unit=unit,
            backend="threads",
            designs=designs,
            work_order=order,
            optimizer=_optimizer(problem),
        )
        ratio = r.column("measured_seconds") / r.column("predicted_seconds")
        rows.append(
            (
                label,
                float(np.mean(r.column("measured_seconds"))),
                float(np.mean(r.column("predicted_seconds"))),
                float(np.median(ratio)),
                float(r.summary()["max_gradient_error"]),
            )
        )
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=120)
    ap.add_argument("--target", type=float, default=0.70)
    ap.add_argument("--measured-iterations", type=int, default=15)
    ap.add_argument("--unit", type=float, default=0.1)
    ap.add_argument("--out", default=str(HERE / "torch_results.md"))
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    torch.set_num_threads(1)
    notes = []
    acc_rows = part_time_to_accuracy(a.iterations, a.target, notes)
    measured = part_measured(a.measured_iterations, a.unit)
    text = render(a, acc_rows, measured, notes, time.perf_counter() - t0)
    Path(a.out).write_text(text)
    print(text)
    json.dump({"accuracy": acc_rows, "measured": measured}, sys.stderr)


def render(a, acc_rows, measured, notes, seconds):
    lines = [
        "# PyTorch CNN under stragglers (benchmarks/torch_train.py)",
        "",
        f"The CNN of docs/examples/torch_models.py (Fashion-MNIST, 6,000 training and 2,000 test rows, 32 rows per "
        f"subset and iteration), Adam (lr 2e-3) at the master, {a.iterations} iterations, target test accuracy "
        f"{a.target:.0%}. Every scheme in the backprop work order measured by `bcgc profile` on this machine. "
        f"Ran in {seconds:.0f} s on {torch.get_num_threads()} torch thread(s).",
        "",
        *notes,
        "",
        "## Time to target accuracy (virtual time, unit of T; simulator: real CNN gradients, the model's times)",
        "",
        "| law | scheme | mean τ per iteration | time to target | iterations | final accuracy | uncoded / scheme | max gradient error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for law, s, tau, t, it, acc, speed, err in acc_rows:
        lines.append(f"| {law} | {s} | {tau:.3f} | {t:.1f} | {it} | {acc:.3f} | {speed:.2f}× | {err:.1e} |")
    lines += [
        "",
        f"## Measured against predicted on threads (shifted-exponential, N = 8, emulated, unit {a.unit} s, "
        f"{a.measured_iterations} iterations)",
        "",
        "| design | measured s/iter | predicted s/iter | median measured/predicted | max gradient error |",
        "|---|---|---|---|---|",
    ]
    for label, m, p, r, err in measured:
        lines.append(f"| {label} | {m:.3f} | {p:.3f} | {r:.3f} | {err:.1e} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
