"""``make demo``: a design, a peer comparison, and a short real distributed training run.

1. N = 20 workers, L = 10^4 coordinates, shifted-exponential stragglers (shift 0.1, rate 1: workers
   whose speed varies a lot, the regime where BCGC helps most, SPEC §6): the design and the
   comparison table, plotted to ``OUT/demo.png``.
2. The distributed runtime on a local Ray (SPEC §7): N = 8 workers train least squares on the best
   available real data set (Fashion-MNIST if installed, else digits) with BCGC, classic GC and
   uncoded, straggling emulated (unit 0.1 s); the summary table and loss against wall-clock time
   in ``OUT/train.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from .cli import plot_wall, render_compare, render_design, render_train
from .design import design
from .peers import compare
from .stragglers import ShiftedExponential


def plot(result, rows, path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    s = np.arange(result.blocks.size)
    ax1.bar(s, result.blocks, color="tab:blue")
    ax1.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax1.set_xlabel("level s (stragglers tolerated)")
    ax1.set_ylabel("coordinates in block s  (x_s)")
    ax1.set_title("BCGC design: redundancy per coordinate block")
    shown = [r for r in rows if r.name != "ignore_stragglers"]
    names = [r.name for r in shown]
    vals = [r.expected_runtime for r in shown]
    colors = ["tab:blue" if r.name == "bcgc" else ("tab:gray" if r.name == "oracle" else "tab:orange") for r in shown]
    bars = ax2.barh(names[::-1], vals[::-1], color=colors[::-1])
    for bar, r in zip(bars, shown[::-1]):
        up = "" if r.upload_per_worker is None else f"  upload {r.upload_per_worker // result.blocks.sum()}×L"
        ax2.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {r.expected_runtime:.3g}{up}",
                 va="center", fontsize=8)
    ax2.set_xlabel("expected runtime per iteration (unit of T)")
    ax2.set_title("BCGC against the peers (SPEC §6)")
    ax2.set_xlim(0, max(vals) * 1.45)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bcgc.demo")
    ap.add_argument("--out", default="out", help="folder for demo.png")
    a = ap.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    law, n, coords = ShiftedExponential(0.1, 1.0), 20, 10_000
    result = design(law, n, coords)
    print(f"$ bcgc design --workers {n} --coords {coords} --model {law.spec}\n")
    print(render_design(result, law))
    rows = compare(law, n, coords, samples=50_000, bcgc_blocks=result.blocks)
    print(f"\n$ bcgc compare --workers {n} --coords {coords} --model {law.spec} --samples 50000\n")
    print(render_compare(rows, n, coords, law))
    path = out / "demo.png"
    plot(result, rows, path, f"N={n}, L={coords}, T ~ {law.spec}")
    print(f"\nwrote {path}")

    from .problems import FASHION_MNIST_DIR, load_dataset, make_problem
    from .runtime.train import train
    name = "fashion-mnist" if (FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").is_file() else "digits"
    data = load_dataset(name, samples=6000 if name == "fashion-mnist" else None)
    problem = make_problem("least-squares", data, 8)
    print(f"\n$ bcgc train --workers 8 --model {law.spec} --problem least-squares --dataset {name} "
          "--iterations 12 --unit 0.1\n")
    results = train(problem, law, iterations=12, unit=0.1, seed=0)
    title = f"least-squares on {data.name} (L={problem.L}), N=8, T ~ {law.spec}, --emulate unit=0.1s, Ray"
    print(render_train(results, title))
    plot_wall(results, out / "train.png", title)
    print(f"\nwrote {out / 'train.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
