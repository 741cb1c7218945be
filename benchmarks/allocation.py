"""Acceptance of issue 9 items 3-4 (heterogeneous workers exploited, fixed costs): one table.

    PYTHONPATH=src python benchmarks/allocation.py [--traces DIR]

For each persistent-heterogeneity trace (Alibaba PAI jobs 1 and 2) and a heterogeneous named law
(6 fast + 2 slow workers): the allocation-aware design (``design``, subset sizes chosen) against
today's equal-share design (``design(..., allocate=False)``) and against the oracle, by expected
runtime. For a trace: in sample (designed on all rows, evaluated on every row once) and out of
sample (designed on the first half of the rows, evaluated on the second half). For the named law:
on 200 000 fresh draws. The last rows: a fixed-cost law, the design that knows the fixed cost
against the one designed for b alone (a = 0). L = 100 N.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bcgc.design import design
from bcgc.stragglers import Trace, parse_model, read_trace
from bcgc.timing import oracle_affine_samples, oracle_samples, runtime

HETEROGENEOUS = "heterogeneous:6*shifted-exponential:shift=1,rate=1;2*shifted-exponential:shift=3,rate=0.3"
AFFINE = "affine:a=exponential:rate=0.5;b=shifted-exponential:shift=1,rate=1"


def _on_rows(T, *designs):
    """Mean τ of each (blocks, sizes) on the rows T (each row one iteration), and the oracle's."""
    out = [float(runtime(x, T, 0 * T, d).mean()) for x, d in designs]
    return out + [float(oracle_samples(T).mean())]


def trace_rows(path: Path):
    rows = read_trace(path)
    n = rows.shape[1]
    out = []
    for label, train, test in (
        ("in sample", rows, rows),
        ("holdout 0.5", rows[: len(rows) // 2], rows[len(rows) // 2 :]),
    ):
        law = Trace(train, source=str(path))
        alloc, equal = design(law, n, 100 * n), design(law, n, 100 * n, allocate=False)
        out.append(
            (
                f"{path.stem} ({label})",
                alloc.subset_sizes,
                *_on_rows(test, (alloc.blocks, alloc.subset_sizes), (equal.blocks, None)),
            )
        )
    return out


def law_row(spec: str, samples: int = 200_000):
    law = parse_model(spec)
    n = law.workers
    alloc, equal = design(law, n, 100 * n), design(law, n, 100 * n, allocate=False)
    T = law.sample(samples, n, seed=12345)
    return [(spec, alloc.subset_sizes, *_on_rows(T, (alloc.blocks, alloc.subset_sizes), (equal.blocks, None)))]


def fixed_cost_row(spec: str, n: int = 8, samples: int = 200_000):
    law = parse_model(spec)
    knows, ignores = design(law, n, 100 * n), design(law.rate, n, 100 * n)
    a, b = law.sample_parts(samples, n, seed=12345)
    run = [float(runtime(x, b, a).mean()) for x in (knows.blocks, ignores.blocks)]
    return [(f"{spec} N={n}: knows a / ignores a", None, *run, float(oracle_affine_samples(a, b).mean()))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--traces", default="/work/shared/traces", help="folder of the trace CSV files")
    a = ap.parse_args()
    rows = []
    for name in ("alibaba-pai-job1.csv", "alibaba-pai-job2.csv"):
        rows += trace_rows(Path(a.traces) / name)
    rows += law_row(HETEROGENEOUS) + fixed_cost_row(AFFINE)
    print(f"{'case':<64} {'allocation':>10} {'equal':>10} {'gain':>7} {'oracle':>9} {'vs oracle':>9}")
    for case, sizes, alloc, equal, oracle in rows:
        print(
            f"{case[:64]:<64} {alloc:>10.4g} {equal:>10.4g} {100 * (1 - alloc / equal):>6.2f}% {oracle:>9.4g} "
            f"{alloc / oracle:>8.3f}x"
        )
        if sizes is not None:
            print(f"{'':<4}subset sizes: {', '.join(f'{v:.3f}' for v in sizes)}")


if __name__ == "__main__":
    main()
