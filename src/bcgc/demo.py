"""``make demo``: a design, a peer comparison, and a short real distributed training run.

1. N = 20 workers, L = 10^4 coordinates, shifted-exponential stragglers (shift 0.1, rate 1: workers
   whose speed varies a lot, the regime where BCGC helps most, docs/peers.md): the design and the
   comparison table, plotted to ``OUT/demo.png``.
2. A measured trace shipped with bcgc (docs/traces.md): the Alibaba PAI job 2 (10 GPU workers, 238
   iterations), BCGC designed and every peer tuned on the first half of the rows, every scheme
   evaluated on the second half (out of sample).
3. The distributed runtime on a local Ray (docs/runtime.md): N = 8 workers train least squares on the best
   available real data set (Fashion-MNIST if installed, else digits) with BCGC, classic GC and
   uncoded, straggling emulated (unit 0.1 s); the summary table and loss against wall-clock time
   in ``OUT/train.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import plots
from .design import design
from .peers import compare
from .peers.holdout import compare_holdout
from .report import render_compare, render_design
from .report_runs import render_train
from .stragglers import ShiftedExponential, shipped_trace


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bcgc.demo")
    ap.add_argument("--out", default="out", help="folder for demo.png")
    a = ap.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    law, n, coords = ShiftedExponential(0.1, 1.0), 20, 10_000
    result = design(law, n, coords)
    print(f"$ bcgc design --workers {n} --coords {coords} --model {law.spec}\n")
    print(render_design(result))
    rows = compare(law, n, coords, samples=50_000, bcgc_blocks=result.blocks, bcgc_subset_sizes=result.subset_sizes)
    print(f"\n$ bcgc compare --workers {n} --coords {coords} --model {law.spec} --samples 50000\n")
    print(render_compare(rows))
    path = out / "demo.png"
    plots.save(plots.demo_figure(result, rows, f"N={n}, L={coords}, T ~ {law.spec}"), path)
    print(f"\nwrote {path}")

    _real_trace()

    from .problems import FASHION_MNIST_DIR, load_dataset, make_problem
    from .runtime.training import train

    name = "fashion-mnist" if (FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").is_file() else "digits"
    data = load_dataset(name, samples=6000 if name == "fashion-mnist" else None)
    problem = make_problem("least-squares", data, 8)
    print(
        f"\n$ bcgc train --workers 8 --model {law.spec} --problem least-squares --dataset {name} "
        "--iterations 12 --unit 0.1\n"
    )
    results = train(problem, law, iterations=12, unit=0.1, seed=0)
    title = f"least-squares on {data.name} (L={problem.L}), N=8, T ~ {law.spec}, --emulate unit=0.1s, Ray"
    print(render_train(results, title))
    plots.save(plots.train_figure(results, title), out / "train.png")
    print(f"\nwrote {out / 'train.png'}")
    return 0


def _real_trace(name: str = "alibaba-pai-job2", coords: int = 1000) -> None:
    """Step 2: compare on a shipped trace, out of sample (holdout 0.5)."""
    law = shipped_trace(name)
    print(
        f"\n$ bcgc compare --workers {law.workers} --coords {coords} --model {law.spec} --holdout 0.5 --samples 20000\n"
    )
    rows, split = compare_holdout(law, law.workers, coords, 0.5, samples=20_000)
    print(split.describe)
    print(render_compare(rows))


if __name__ == "__main__":
    raise SystemExit(main())
