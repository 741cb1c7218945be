"""Distributed runtime measurements on this machine (issue: runtime acceptance). One command:

    python benchmarks/runtime.py

1. Fidelity and speed-up: --emulate, unit 0.2 s, N = 8, softmax on the synthetic set with L = 10 004,
   shifted exponential (shift 0.1, rate 1): measured/predicted per iteration (median, p90) for BCGC,
   GC and uncoded, and the measured time ratios next to the model's.
2. Master overhead per iteration (decode + bookkeeping) for L = 10^3, 10^4, 10^5.
3. Cancellation latency: from the master's cancel to the end of a worker's stream whose next
   block was due an hour later.
"""

from __future__ import annotations

import time

import numpy as np

from bcgc.problems import load_dataset, make_problem
from bcgc.runtime.train import train
from bcgc.scheme import BlockScheme
from bcgc.stragglers import ShiftedExponential

LAW = ShiftedExponential(0.1, 1.0)


def main():
    import ray
    ray.init(include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    print("## 1. Fidelity and speed-up (N = 8, unit 0.2 s, L = 10 004, 30 iterations)\n")
    problem = make_problem("softmax", load_dataset("synthetic", features=2500, seed=0), 8)
    res = {r.name: r for r in train(problem, LAW, iterations=30, unit=0.2, seed=0)}
    print("| scheme | mean measured s | mean predicted s | median meas/pred | p90 meas/pred | max grad err |")
    print("|---|---|---|---|---|---|")
    for name, r in res.items():
        s = r.summary()
        print(f"| {name} | {s['mean_iteration_seconds']:.4f} | {s['mean_predicted_seconds']:.4f} | "
              f"{s['median_measured_over_predicted']:.3f} | {s['p90_measured_over_predicted']:.3f} | "
              f"{s['max_gradient_error']:.1e} |")
    print()
    for other in ("gc", "uncoded"):
        m = res["bcgc"].column("measured_seconds").mean() / res[other].column("measured_seconds").mean()
        p = res["bcgc"].column("predicted_seconds").mean() / res[other].column("predicted_seconds").mean()
        print(f"- BCGC / {other}: measured {m:.3f}, predicted {p:.3f} (agree within {abs(m / p - 1) * 100:.1f}%)")

    print("\n## 2. Master overhead per iteration (BCGC, unit 0.02 s, 10 iterations)\n")
    for features, samples in ((249, 1200), (2500, 1200), (25000, 400)):
        problem = make_problem("softmax", load_dataset("synthetic", features=features, samples=samples, seed=0), 8)
        r = train(problem, LAW, ("bcgc",), iterations=10, unit=0.02, seed=0)[0]
        o = r.column("master_overhead_seconds")
        print(f"- L = {problem.L}: median {np.median(o) * 1e3:.2f} ms, max {o.max() * 1e3:.2f} ms "
              f"(mean iteration {r.column('measured_seconds').mean() * 1e3:.1f} ms)")

    print("\n## 3. Cancellation latency (Ray actor, next block due in an hour)\n")
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
        while be.pending:
            be.next_event(timeout=5.0)
        lat.append(time.perf_counter() - t0)
    be.shutdown()
    print(f"- median {np.median(lat) * 1e3:.1f} ms, max {np.max(lat) * 1e3:.1f} ms over 20 cancels of 4 workers "
          "(until every abandoned stream has ended at the master)")
    ray.shutdown()


if __name__ == "__main__":
    main()
