"""The runtime under emulated upload links (issue 10, item 6). One command:

    python benchmarks/runtime_links.py [--iterations K]

N = 8 workers, softmax on the synthetic set (64 features, 800 samples: L = 260), the workers'
times drawn from a shifted exponential (shift 0.1, rate 1), --emulate. For each engine (threads,
Ray), unit (0.2 s, 0.05 s), link (B = ∞; B = L / 0.5 and B = L / 2, i.e. an upload of L values takes
0.5 and 2 units of T, both with latency λ = 0.05) and scheme (bcgc, bcgc_mm, gc, ucmmc, each
designed for that link), ``bcgc.runtime.train`` runs K iterations; each iteration's predicted time
is the core's link model (``bcgc.timing.links`` / ``bcgc.timing.mm``) at the injected draws. Printed: a markdown
section (benchmarks/runtime_results.md) with the median and p90 of measured/predicted per
iteration and the largest relative gradient error.
"""

from __future__ import annotations

import argparse
import math
import os
import time

from bcgc.problems import load_dataset, make_problem
from bcgc.runtime.training import train
from bcgc.stragglers import ShiftedExponential

LAW = ShiftedExponential(0.1, 1.0)
SCHEMES = ("bcgc", "bcgc_mm", "gc", "ucmmc")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=20)
    k = ap.parse_args().iterations
    import ray

    ray.init(address="local", num_cpus=4, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    problem = make_problem("softmax", load_dataset("synthetic", features=64, samples=800, seed=0), 8)
    L = problem.L
    nets = [(math.inf, 0.0), (L / 0.5, 0.05), (L / 2.0, 0.05)]
    print(
        f"## 5. Emulated upload links (N = 8, L = {L}, shifted exponential shift 0.1 rate 1, {k} iterations "
        f"per row; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start)\n"
    )
    print(
        "| engine | unit s | B (L/B, unit of T) | λ | scheme | design | mean predicted s | median meas/pred "
        "| p90 meas/pred | max grad err |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    ratios, errors, t0 = {s: [] for s in SCHEMES}, {s: 0.0 for s in SCHEMES}, time.time()
    for backend in ("threads", "ray"):
        for unit in (0.2, 0.05):
            for B, lam in nets:
                for r in train(
                    problem, LAW, SCHEMES, iterations=k, unit=unit, backend=backend, seed=0, bandwidth=B, latency=lam
                ):
                    s = r.summary()
                    ratios[r.name].append(s["median_measured_over_predicted"])
                    errors[r.name] = max(errors[r.name], s["max_gradient_error"])
                    print(
                        f"| {backend} | {unit:g} | {_b(B, L)} | {lam:g} | {r.name} | {_design(r.logs[0]['design'])} "
                        f"| {s['mean_predicted_seconds']:.3f} | {s['median_measured_over_predicted']:.3f} "
                        f"| {s['p90_measured_over_predicted']:.3f} | {s['max_gradient_error']:.1e} |",
                        flush=True,
                    )
    ray.shutdown()
    print(
        f"\nPer scheme over the {len(ratios['bcgc'])} rows (engine × unit × link): "
        + "; ".join(
            f"{s}: medians {min(v):.3f} to {max(v):.3f}, max grad err {errors[s]:.1e}" for s, v in ratios.items()
        )
        + f". Load average {os.getloadavg()[0]:.1f} at the end; {time.time() - t0:.0f} s in all."
    )


def _b(B, L):
    return "∞" if math.isinf(B) else f"{B:g} ({L / B:g})"


def _design(d):
    if isinstance(d, dict):  # an MMDesign
        return ", ".join(f"{b['coords']:g}@r{b['redundancy']}:{b['mode']}" for b in d["blocks"])
    return "x = " + ",".join(str(int(v)) for v in d)


if __name__ == "__main__":
    main()
