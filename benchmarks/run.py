"""Benchmarks of the design engine (issue: design engine acceptance). One command, one table:

    python benchmarks/run.py            # or: make bench

* solve time of each design method for N = 10, 100, 1000 (shifted exponential shift 1, rate 1,
  L = 10^6), with the quality gap of its relaxed solution to the best relaxed solution found;
* time of the exact P(τ ≤ t) and E[τ] for N = 100;
* Monte Carlo draws per second.

Targets (from the issue): closed forms at N = 1000 within 50 ms; the optimal relaxed design within
0.1% of the optimum for N = 100 within 2 s and for N = 1000 within 60 s; exact P(τ ≤ t) at N = 100
within 20 ms. Times are wall-clock on this machine, one run; compare them as ratios.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bcgc.analysis import OrderStatMax, completion_probability_exact, expected_runtime_exact, monte_carlo
from bcgc.design import design
from bcgc.stragglers import LogNormal, ShiftedExponential
from bcgc.timing.orderstat import descending

LAW = ShiftedExponential(1.0, 1.0)
COORDS = 10**6


def solve(repeat=1, **kw):
    """Best ``solve_seconds`` of ``design`` (its own final evaluation is not counted)."""
    best, out = float("inf"), None
    model = kw.pop("model", LAW)  # once: every repeat must time the same law
    for _ in range(repeat):
        out = design(model, eval_samples=1000, **kw)
        best = min(best, out.solve_seconds)
    return best, out


def timed(fn, repeat=1):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def quality(n, relaxed, td_eval):
    """E[τ] of a relaxed design: exact for N ≤ 100, common-random-number Monte Carlo above."""
    if n <= 100:
        return expected_runtime_exact(LAW, n, OrderStatMax.from_blocks(relaxed))
    return float(OrderStatMax.from_blocks(relaxed).samples(td_eval).mean())


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10,100,1000")
    ap.add_argument("--skip-stationary-above", type=int, default=100)
    a = ap.parse_args(argv)
    sizes = [int(v) for v in a.sizes.split(",")]
    print("## Design methods: solve time and relaxed quality (shifted-exponential shift=1 rate=1, L=1e6)\n")
    print("| N | method | solve s | E[τ] of relaxed | gap to best | note |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        td_eval = descending(LAW.sample(20_000, n, seed=12345)) if n > 100 else None
        rows = []
        for method in ("jensen", "inverse", "large-deadline", "subgradient", "saa-lp", "optimal"):
            sec, r = solve(
                repeat=3 if method in ("jensen", "inverse", "large-deadline") else 1,
                workers=n,
                coords=COORDS,
                method=method,
                seed=0,
            )
            rows.append((method, sec, quality(n, r.relaxed, td_eval), ""))
        # reference optimum: the LP with 8x the samples
        sec_ref, ref = solve(workers=n, coords=COORDS, method="saa-lp", samples=8000 if n <= 100 else 3000, seed=7)
        rows.append(("saa-lp (reference, 8x/3x samples)", sec_ref, quality(n, ref.relaxed, td_eval), ""))
        if n <= a.skip_stationary_above:
            t_med = float(
                np.median(OrderStatMax.from_blocks(ref.relaxed).samples(descending(LAW.sample(4000, n, seed=3))))
            )
            sec, r = solve(workers=n, coords=COORDS, objective="deadline", deadline=t_med, method="stationary")
            rows.append(
                (
                    "stationary (P2, t = median τ)",
                    sec,
                    quality(n, r.relaxed, td_eval),
                    f"P={r.completion_probability:.4f}",
                )
            )
        best = min(v for _, _, v, _ in rows)
        for method, sec, val, note in rows:
            gap = (val / best - 1) * 100
            print(f"| {n} | {method} | {sec:.3f} | {val:.6f} | {gap:.3f}% | {note} |", flush=True)
    print("\n## Closed forms with quadrature moments (lognormal mu=0 sigma=0.5, N=1000)\n")
    for method in ("jensen", "inverse"):
        sec, _ = solve(repeat=3, model=LogNormal(0, 0.5), workers=1000, coords=COORDS, method=method)
        print(f"- {method}: {sec * 1000:.1f} ms (includes E[T_(k)] / E[1/T_(k)] by quadrature)")
    print("\n## Exact evaluation, N = 100\n")
    n = 100
    x = design(LAW, n, COORDS, method="jensen", eval_samples=1000).relaxed
    rt = OrderStatMax.from_blocks(x)
    t_med = float(np.median(rt.samples(descending(LAW.sample(4000, n, seed=3)))))
    sec_p, p = timed(lambda: completion_probability_exact(LAW, n, rt, t_med), repeat=5)
    sec_e, e = timed(lambda: expected_runtime_exact(LAW, n, rt))
    print(f"- P(τ ≤ {t_med:.3f}) = {p[0][0]:.6f}: {sec_p * 1000:.2f} ms (target 20 ms: ratio {sec_p / 0.020:.2f})")
    print(f"- E[τ] = {e:.6f}: {sec_e:.3f} s")
    for n2 in (300, 1000):
        x2 = design(LAW, n2, COORDS, method="jensen", eval_samples=1000).relaxed
        rt2 = OrderStatMax.from_blocks(x2)
        t2 = float(np.median(rt2.samples(descending(LAW.sample(2000, n2, seed=3)))))
        sec2, _ = timed(lambda: completion_probability_exact(LAW, n2, rt2, t2))
        print(f"- P(τ ≤ t) at N = {n2}: {sec2 * 1000:.1f} ms")
    print("\n## Monte Carlo throughput (draw T, sort, evaluate τ), N = 100\n")
    sec, est = timed(lambda: monte_carlo(LAW, n, rt.samples, 200_000, seed=1))
    print(
        f"- {200_000 / sec:,.0f} realisations/s ({200_000 * n / sec:,.0f} worker draws/s); "
        f"E[τ] = {est.expected_runtime:.5f} ± {est.expected_runtime_stderr:.5f} (exact {e:.5f})"
    )


if __name__ == "__main__":
    main()
