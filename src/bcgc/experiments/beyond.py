"""Figures 6 and 7 of ``bcgc reproduce``, beyond the paper: every peer on laws the paper did not try
(workers that differ, rare long outliers, heavy tails, a correlated trace), and the designs themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import plots, streams
from ..design import design
from ..peers import compare
from ..stragglers import Bimodal, Heterogeneous, Pareto, ShiftedExponential, Trace
from .output import write_csv


# ---------------------------------------------------------------------------- figure 6: beyond the paper
def _scenarios(n, out: Path, seed):
    slow = n // 4
    rng = streams.rng(seed, streams.SCENARIOS)
    common = rng.lognormal(0.0, 0.5, size=(2000, 1))  # a slowdown shared by all workers
    trace = common * (1.0 + rng.exponential(1.0, size=(2000, n)))
    np.savetxt(
        out / "trace.csv",
        trace,
        delimiter=",",
        fmt="%.6g",
        header="synthetic trace: one row per iteration, one column per worker (shared lognormal "
        "slowdown x (1 + Exp(1)))",
    )
    return {
        "heterogeneous (1/4 of workers 3x slower)": Heterogeneous(
            (ShiftedExponential(1, 1),) * (n - slow) + (ShiftedExponential(3, 1 / 3),) * slow
        ),
        "bimodal (10% slowed 5x)": Bimodal(1, 1, 5, 0.1),
        "pareto (shape 2.5)": Pareto(1, 2.5),
        "trace (synthetic, correlated)": Trace(trace, source="trace.csv"),
    }


BEYOND_SCHEMES = ("bcgc", "uncoded", "gc_best", "tandon_partial", "ferdinand_r_L2", "ucmmc_best", "oracle")


def beyond(out, cfg, seed, progress=None):
    n, coords = cfg.beyond_n, 1000
    rows = []
    for label, law in _scenarios(n, out, seed).items():
        opt = design(law, n, coords, seed=seed, samples=cfg.design_samples, eval_samples=cfg.samples)
        for p in compare(
            law, n, coords, samples=cfg.samples, seed=seed, bcgc_blocks=opt.blocks, bcgc_subset_sizes=opt.subset_sizes
        ):  # the allocation chosen for workers that differ
            if p.name in BEYOND_SCHEMES:
                rows.append(
                    (
                        label,
                        p.name,
                        p.expected_runtime,
                        p.expected_runtime_stderr or 0.0,
                        0 if p.upload_per_worker is None else p.upload_per_worker // coords,
                    )
                )
        if progress:
            progress(f"beyond: {label}")
    write_csv(out / "beyond.csv", ["scenario", "scheme", "expected_runtime", "stderr", "upload_per_worker_in_L"], rows)
    plots.save(plots.beyond_figure(rows), out / "beyond.png")
    return rows


# ---------------------------------------------------------------------------- figure 7: the designs
def designs(out, cfg, seed):
    n, coords = cfg.base_n, 10_000
    laws = {
        "shifted-exp shift=1 rate=1": ShiftedExponential(1, 1),
        "shifted-exp shift=0.1 rate=1": ShiftedExponential(0.1, 1),
        "pareto shape=2.5": Pareto(1, 2.5),
        "bimodal 10% x5": Bimodal(1, 1, 5, 0.1),
    }
    rows = []
    for label, law in laws.items():
        x = design(law, n, coords, seed=seed, samples=cfg.design_samples, eval_samples=2000).blocks
        rows.extend((label, s, int(x[s]), x[s] / coords) for s in range(n))
    write_csv(out / "design.csv", ["law", "level", "coordinates", "fraction"], rows)
    plots.save(plots.designs_figure(rows, n), out / "design.png")
    return rows
