"""How the commands' work grows with the number of workers N (issue 20). One command:

    python benchmarks/scale.py [BUDGET_SECONDS] [N ...]     # default 60 s, N = 8 32 64 256 1024
    python benchmarks/scale.py --only compare 60 8 32       # only the tasks whose name starts so

For each N: the CPU seconds (``time.process_time``: the wall time an idle machine would show for this
single process; the machine these were measured on is shared) and the wall seconds of

* ``design optimal (law)``: ``design`` on a shifted exponential (shift 0.1, rate 1), L = 10 000;
* ``design jensen`` / ``design inverse``: the closed forms (A4, A5) on the same law;
* ``design optimal (trace)``: on a synthetic trace of 30 rows × N workers (seeded lognormal rows with
  a per-worker speed: workers differ, like a measured trace);
* ``compare`` and ``compare + bcgc_mm``: every peer on the law (100 000 common draws, as the CLI), with
  and without the bcgc_mm design search;
* ``fit``: ``fit_trace`` on the synthetic trace (families by AIC, Kruskal–Wallis, per-worker laws);
* ``evaluate``: E[τ] of the optimal design (exact for N ≤ 200, Monte Carlo above).

A cell is skipped (``skipped``) when the previous N's time, grown at the rate seen so far, would pass
the budget. The last column of each table is the growth exponent k of time ∝ N^k between the two
largest N measured. The runtime's per-worker CPU per iteration is measured by the runtime benchmark
(``benchmarks/runtime.py``), not here.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from bcgc.analysis import evaluate
from bcgc.design import design
from bcgc.fitting import fit_trace
from bcgc.peers import compare
from bcgc.stragglers import ShiftedExponential, Trace

LAW = ShiftedExponential(0.1, 1.0)
L = 10_000
SIZES = (8, 32, 64, 256, 1024)


def synthetic_trace(n: int, rows: int = 30, seed: int = 0) -> Trace:
    """rows × n times: a per-worker speed (lognormal, σ 0.3) times i.i.d. lognormal noise (σ 0.5)."""
    rng = np.random.default_rng(seed)
    speed = rng.lognormal(0.0, 0.3, size=(1, n))
    return Trace(speed * rng.lognormal(0.0, 0.5, size=(rows, n)), source=f"synthetic {rows}x{n}")


def tasks(n: int) -> dict:
    trace = synthetic_trace(n)
    made = {}

    def optimal():
        made["x"] = design(LAW, n, L).blocks

    return {
        "design optimal (law)": optimal,
        "design jensen": lambda: design(LAW, n, L, method="jensen"),
        "design inverse": lambda: design(LAW, n, L, method="inverse"),
        "design optimal (trace)": lambda: design(trace, n, L),
        "evaluate": lambda: evaluate(LAW, n, made["x"] if "x" in made else design(LAW, n, L, method="jensen").blocks),
        "compare": lambda: compare(LAW, n, L),
        "compare + bcgc_mm": lambda: compare(LAW, n, L, mm=True),
        "fit (trace)": lambda: fit_trace(trace.samples, source=trace.source),
    }


def timed(fn) -> tuple[float, float]:
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c0, time.perf_counter() - w0


def growth(cells: dict) -> str:
    done = [(n, c) for n, (c, _) in cells.items() if c is not None and c > 0]
    if len(done) < 2:
        return "-"
    (n0, c0), (n1, c1) = done[-2], done[-1]
    return f"{math.log(c1 / c0) / math.log(n1 / n0):.1f}"


def main(argv) -> int:
    only = ""
    if argv[:1] == ["--only"]:
        only, argv = argv[1], argv[2:]
    budget = float(argv[0]) if argv else 60.0
    sizes = tuple(int(v) for v in argv[1:]) or SIZES
    names = [name for name in tasks(sizes[0]) if name.startswith(only)]
    results = {name: {} for name in names}
    for n in sizes:
        for name, fn in tasks(n).items():
            if name not in names:
                continue
            cells = results[name]
            done = [(m, c) for m, (c, _) in cells.items() if c is not None]
            if done:
                m, c = done[-1]
                k = float(growth(cells)) if growth(cells) != "-" else 1.0
                if c * (n / m) ** max(k, 1.0) > budget:
                    cells[n] = (None, None)
                    print(f"N = {n}: {name}: skipped (predicted over {budget:g} s)", flush=True)
                    continue
            cpu, wall = timed(fn)
            cells[n] = (cpu, wall)
            print(f"N = {n}: {name}: {cpu:.2f} s CPU, {wall:.2f} s wall", flush=True)
    print()
    print("| task | " + " | ".join(f"N = {n}" for n in sizes) + " | growth k (time ∝ N^k) |")
    print("|---|" + "---|" * len(sizes) + "---|")
    for name in names:
        cells = results[name]
        shown = [
            "skipped" if cells.get(n, (None,))[0] is None else f"{cells[n][0]:.2f} ({cells[n][1]:.2f})" for n in sizes
        ]
        print(f"| {name} | " + " | ".join(shown) + f" | {growth(cells)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
