"""Distributed runtime measurements on this machine (issue: runtime acceptance). One command:

    python benchmarks/runtime.py

1. Fidelity and speed-up: --emulate, unit 0.2 s, N = 8, softmax on the synthetic set with L = 10 004,
   shifted exponential (shift 0.1, rate 1): measured/predicted per iteration (median, p90) for BCGC,
   GC and uncoded, and the measured time ratios next to the model's; then BCGC at unit 0.05 s, with
   the workers' real computation per iteration beside the prediction (under --emulate the workers
   still compute every coded block, and here N workers share this machine's cores).
2. Engine overhead per iteration against N = 8, 32, 64 emulated workers: BCGC on a small problem
   (L = 260, 10 samples per worker), so that measured minus predicted is what the engine adds
   (dispatch, messages, the master's work) as long as the workers' real computation, shown beside
   it (it grows with the number of coded blocks, about N^2 per iteration), fits on this machine.
3. Master overhead per iteration (decode + bookkeeping) for L = 10^3, 10^4, 10^5.
4. Cancellation latency: from the master's cancel to the end of a worker's round whose next
   block was due an hour later.
"""

from __future__ import annotations

import os
import time

import numpy as np

from bcgc.problems import load_dataset, make_problem
from bcgc.runtime import WorkerCore, worker_views
from bcgc.runtime.training import train
from bcgc.schemes.blocks import BlockScheme
from bcgc.stragglers import ShiftedExponential

LAW = ShiftedExponential(0.1, 1.0)


def _row(name, r):
    s = r.summary()
    excess = np.median(r.column("measured_seconds") - r.column("predicted_seconds"))
    return (
        f"| {name} | {s['mean_iteration_seconds']:.4f} | {s['mean_predicted_seconds']:.4f} | "
        f"{s['median_measured_over_predicted']:.3f} | {s['p90_measured_over_predicted']:.3f} | "
        f"{excess * 1e3:.1f} | {s['max_gradient_error']:.1e} |"
    )


HEAD = (
    "| scheme | mean measured s | mean predicted s | median meas/pred | p90 meas/pred | median excess ms "
    "| max grad err |\n|---|---|---|---|---|---|---|"
)


def fidelity():
    print("## 1. Fidelity and speed-up (N = 8, unit 0.2 s, L = 10 004, 30 iterations)\n")
    problem = make_problem("softmax", load_dataset("synthetic", features=2500, seed=0), 8)
    res = {r.name: r for r in train(problem, LAW, iterations=30, unit=0.2, seed=0)}
    print(HEAD)
    for name, r in res.items():
        print(_row(name, r))
    print()
    for other in ("gc", "uncoded"):
        m = res["bcgc"].column("measured_seconds").mean() / res[other].column("measured_seconds").mean()
        p = res["bcgc"].column("predicted_seconds").mean() / res[other].column("predicted_seconds").mean()
        print(f"- BCGC / {other}: measured {m:.3f}, predicted {p:.3f} (agree within {abs(m / p - 1) * 100:.1f}%)")
    r = train(problem, LAW, ("bcgc",), iterations=30, unit=0.05, seed=0)[0]
    print(f"\nBCGC at unit 0.05 s (30 iterations):\n\n{HEAD}\n{_row('bcgc', r)}\n")
    cpu = _compute_per_iteration(problem, np.array(r.logs[0]["design"]))
    cores = os.cpu_count()
    print(
        f"- the workers' real computation: {cpu * 1e3:.0f} ms of CPU per iteration in all, at least "
        f"{cpu / cores * 1e3:.0f} ms on this machine's {cores} cores, against a mean predicted iteration of "
        f"{r.column('predicted_seconds').mean() * 1e3:.0f} ms"
    )


def _compute_per_iteration(problem, blocks, repeats=3):
    """CPU seconds every worker spends on one iteration's coded blocks (one process, no sleeping)."""
    scheme = BlockScheme(blocks, problem.workers)
    cores = [WorkerCore(n, v) for n, v in enumerate(worker_views(problem, scheme))]
    theta, spent = problem.init(), []
    for i in range(repeats):
        t0 = time.process_time()
        for core in cores:
            list(core.run(i, theta, 1.0, scheme, "emulate", 0.0))
        spent.append(time.process_time() - t0)
    return float(np.median(spent))


def engine_overhead():
    print("\n## 2. Engine overhead per iteration against N (BCGC, L = 260, 10 samples per worker, 20 iterations)\n")
    print(
        "| N | unit s | median meas/pred | p90 meas/pred | median excess ms | median master overhead ms | "
        "mean predicted ms | workers' computation, CPU ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n in (8, 32, 64):
        problem = make_problem("softmax", load_dataset("synthetic", features=64, samples=10 * n, seed=0), n)
        for unit in (0.2, 0.05):
            r = train(problem, LAW, ("bcgc",), iterations=20, unit=unit, seed=0)[0]
            excess = np.median(r.column("measured_seconds") - r.column("predicted_seconds"))
            cpu = _compute_per_iteration(problem, np.array(r.logs[0]["design"]))
            print(
                f"| {n} | {unit:g} | {np.median(r.ratios):.3f} | {np.percentile(r.ratios, 90):.3f} | "
                f"{excess * 1e3:.1f} | {np.median(r.column('master_overhead_seconds')) * 1e3:.1f} | "
                f"{r.column('predicted_seconds').mean() * 1e3:.0f} | {cpu * 1e3:.0f} |",
                flush=True,
            )


def master_overhead():
    print("\n## 3. Master overhead per iteration (BCGC, unit 0.02 s, 10 iterations)\n")
    for features, samples in ((249, 1200), (2500, 1200), (25000, 400)):
        problem = make_problem("softmax", load_dataset("synthetic", features=features, samples=samples, seed=0), 8)
        r = train(problem, LAW, ("bcgc",), iterations=10, unit=0.02, seed=0)[0]
        o = r.column("master_overhead_seconds")
        print(
            f"- L = {problem.L}: median {np.median(o) * 1e3:.2f} ms, max {o.max() * 1e3:.2f} ms "
            f"(mean iteration {r.column('measured_seconds').mean() * 1e3:.1f} ms)"
        )


def cancellation():
    print("\n## 4. Cancellation latency (Ray actor, next block due in an hour)\n")
    from bcgc.runtime.ray_backend import RayBackend

    problem = make_problem("logistic", load_dataset("digits", samples=400), 4)
    scheme = BlockScheme([20, 20, problem.L - 40, 0], 4)
    be = RayBackend([problem.restrict(scheme.subsets_of(w)) for w in range(4)])
    lat = []
    for i in range(20):
        be.publish(i, problem.init(), np.full(4, 1.0), scheme, "emulate", 3600.0)
        time.sleep(0.05)
        t0 = time.perf_counter()
        be.cancel(i)
        while be.pending and time.perf_counter() - t0 < 5.0:  # "ended" messages empty it, without an event
            be.next_event(timeout=0.001)
        lat.append(time.perf_counter() - t0)
    be.shutdown()
    print(
        f"- median {np.median(lat) * 1e3:.1f} ms, max {np.max(lat) * 1e3:.1f} ms over 20 cancels of 4 workers "
        "(until every abandoned round has ended at the master)"
    )


def main():
    import ray

    ray.init(include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    fidelity()
    engine_overhead()
    master_overhead()
    cancellation()
    ray.shutdown()


if __name__ == "__main__":
    main()
