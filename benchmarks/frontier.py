"""The frontier alone (issue 10.5), with the parameters of ``bcgc reproduce --quick``: N = 20 and
L = 1000 for the shifted exponential, 20 000 common draws, 1000 design draws, seed 0. One command:

    PYTHONPATH=src python benchmarks/frontier.py OUT_FOLDER [TRACES_FOLDER]

writes OUT_FOLDER/frontier.csv, frontier.png, margins.json and prints the index.md section (every
point: the best bcgc-family scheme against the best exact peer).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bcgc.experiments.frontier import frontier, index_lines
from bcgc.experiments.reproduce import QUICK


def main(out: str, traces: str | None = None):
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    _, margins, notes = frontier(
        path,
        QUICK.frontier_n,
        QUICK.frontier_coords,
        QUICK.samples,
        QUICK.design_samples,
        0,
        traces,
        lambda m: print(f"[{time.perf_counter() - t0:6.0f}s] {m}", flush=True),
        QUICK.frontier_factors,
    )
    (path / "margins.json").write_text(json.dumps({"margins": margins, "notes": notes}, indent=1))
    print("\n".join(index_lines(margins, notes)))


if __name__ == "__main__":
    main(*sys.argv[1:3])
