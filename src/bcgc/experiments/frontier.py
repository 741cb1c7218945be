"""The frontier figure of ``bcgc reproduce``: expected runtime against upload bandwidth for every scheme
(docs/figures.md, "The frontier"), on a named law and on measured traces.

Bandwidths run from ∞ (free communication, today's model) down to L/10 coordinates per unit of T,
i.e. uploading a whole gradient takes 10 units. Trace times are divided by their median, so that a
unit of T is the median worker time in every panel and the bandwidths mean the same everywhere.
At each bandwidth BCGC is the communication-aware design and every peer is tuned under the same
links (``compare(..., bandwidth=B)``); the table compares the best bcgc-family scheme with the best
exact peer.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .. import plots
from ..design import design
from ..peers import compare
from ..stragglers import ShiftedExponential, Trace
from ..stragglers.empirical import read_trace
from ..stragglers.shipped import shipped_path

__all__ = [
    "FRONTIER_SCHEMES",
    "BCGC_FAMILY",
    "PEERS",
    "TRACE_FILES",
    "bandwidths",
    "find_traces",
    "frontier",
    "frontier_panel",
    "frontier_margins",
]

#: schemes drawn; the bcgc family (BCGC and bcgc_mm, docs/model.md) against the exact peers
FRONTIER_SCHEMES = ("bcgc", "bcgc_mm", "uncoded", "gc_best", "tandon_partial", "ferdinand_r_L2", "ucmmc_best", "oracle")
BCGC_FAMILY = ("bcgc", "bcgc_mm")
PEERS = ("uncoded", "gc_best", "tandon_partial", "ferdinand_r_L", "ferdinand_r_L2", "ucmmc_best")

#: the trace panels: label -> file name (looked for in the folders of :func:`find_traces`)
TRACE_FILES = {
    "AWS Lambda (Sydney, load 1)": "lambda-sydney-b256-load1.000.csv",
    "Alibaba PAI (job 1)": "alibaba-pai-job1.csv",
}

#: bandwidth as a multiple of L per unit of T (inf first)
BANDWIDTH_FACTORS = (math.inf, 100.0, 30.0, 10.0, 3.0, 1.0, 0.3, 0.1)


def bandwidths(coords: int, factors=BANDWIDTH_FACTORS) -> list[float]:
    """B = factor · L coordinates per unit of T, from ∞ down to L/10."""
    return [f * coords for f in factors]


def find_traces(folder=None) -> dict:
    """label -> path of each trace panel: the shipped traces (``bcgc.stragglers.shipped``), or those
    found in ``folder`` when given (missing panels are left out; the index says so)."""
    if folder is None:
        return {label: shipped_path(name) for label, name in TRACE_FILES.items()}
    found = {}
    for label, name in TRACE_FILES.items():
        if (Path(folder) / name).is_file():
            found[label] = Path(folder) / name
    return found


def _trace_law(path, workers: int | None = None) -> Trace:
    """The trace divided by its median; only its first ``workers`` columns when given (a quick run:
    bcgc_mm's design search on 256 workers takes minutes per bandwidth)."""
    samples = read_trace(path)
    if workers is not None:
        samples = samples[:, :workers]
    return Trace(samples / np.median(samples[np.isfinite(samples)]), source=str(path))


def frontier_panel(
    label, law, workers, coords, samples, design_samples, seed, factors=BANDWIDTH_FACTORS, progress=None
) -> list[tuple]:
    """Rows (panel, bandwidth factor, scheme, E[τ], stderr, upload time, parameter) at each bandwidth."""
    rows = []
    for f, B in zip(factors, bandwidths(coords, factors)):
        made = design(law, workers, coords, seed=seed, samples=design_samples, eval_samples=samples, bandwidth=B)
        # with free links BCGC may hold unequal subsets (workers that differ); under links they stay equal
        for r in compare(
            law,
            workers,
            coords,
            samples=samples,
            seed=seed,
            bcgc_blocks=made.blocks,
            bandwidth=B,
            mm=True,
            bcgc_subset_sizes=made.subset_sizes,
        ):
            if r.name in FRONTIER_SCHEMES or r.name in PEERS:
                param = {k: v for k, v in r.parameters.items() if k != "blocks"}
                rows.append(
                    (
                        label,
                        f,
                        r.name,
                        r.expected_runtime,
                        r.expected_runtime_stderr or 0.0,
                        r.upload_time if r.upload_time is not None else math.nan,
                        ";".join(f"{k}={v}" for k, v in param.items()),
                    )
                )
        if progress:
            progress(f"frontier: {label}, B = {f:g} L")
    return rows


def frontier_margins(rows) -> list[dict]:
    """At each (panel, bandwidth): the best bcgc-family scheme against the best exact peer."""
    out = []
    for key in dict.fromkeys((r[0], r[1]) for r in rows):
        pt = {r[2]: r for r in rows if (r[0], r[1]) == key}
        fam = min((pt[n] for n in BCGC_FAMILY if n in pt), key=lambda r: r[3])
        peer = min((pt[n] for n in PEERS if n in pt), key=lambda r: r[3])
        out.append(
            {
                "panel": key[0],
                "factor": key[1],
                "best_bcgc": fam[2],
                "bcgc_runtime": fam[3],
                "best_peer": peer[2],
                "peer_runtime": peer[3],
                "peer_parameter": peer[6],
                "bcgc_over_peer_percent": 100.0 * (fam[3] / peer[3] - 1.0),
                "stderr_percent": 100.0 * math.hypot(fam[4], peer[4]) / peer[3],
            }
        )
    return out


def frontier(
    out: Path,
    named_workers: int,
    coords: int,
    samples: int,
    design_samples: int,
    seed: int,
    traces=None,
    progress=None,
    factors=BANDWIDTH_FACTORS,
    trace_panels: bool = True,
    trace_workers: int | None = None,
):
    """Every panel, ``frontier.csv``, ``frontier.png``; returns (rows, margins, notes).
    ``trace_workers``: keep only that many first workers (columns) of each trace panel."""
    panels, notes = frontier_panels(named_workers, traces, trace_panels, trace_workers)
    rows = []
    for label, (law, n) in panels.items():
        rows += frontier_panel(label, law, n, coords, samples, design_samples, seed, factors, progress)
    return write_frontier(out, rows, notes)


def frontier_panels(named_workers: int, traces=None, trace_panels: bool = True, trace_workers: int | None = None):
    """({label: (law, workers)}, notes): the shifted exponential's panel and each trace panel found
    (a note for each one not found)."""
    panels = {
        f"shifted exponential (shift=1, rate=1), N={named_workers}": (ShiftedExponential(1.0, 1.0), named_workers)
    }
    found = find_traces(traces) if trace_panels else {}
    notes = [
        f"trace panel '{label}' skipped: {name} not found (give a folder with --traces)"
        for label, name in TRACE_FILES.items()
        if label not in found and trace_panels
    ]
    for label, path in found.items():
        law = _trace_law(path, trace_workers)
        whole = read_trace(path).shape[1]
        shown = f"N={law.workers}" if law.workers == whole else f"its first {law.workers} of {whole} workers"
        panels[f"{label}, {shown}"] = (law, law.workers)
    return panels, notes


def write_frontier(out: Path, rows: list, notes: list):
    """``frontier.csv`` and ``frontier.png`` from the panels' rows; returns (rows, margins, notes)."""
    with (out / "frontier.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        # L/B: the time one whole gradient takes to upload (0: free communication, B = ∞)
        w.writerow(
            ["panel", "gradient_upload_time", "scheme", "expected_runtime", "stderr", "upload_time", "parameter"]
        )
        w.writerows(
            [
                [
                    r[0],
                    f"{1.0 / r[1]:g}",
                    r[2],
                    f"{r[3]:.10g}",
                    f"{r[4]:.3g}",
                    "-" if math.isnan(r[5]) else f"{r[5]:.6g}",
                    r[6] or "-",
                ]
                for r in rows
            ]
        )
    plots.save(frontier_figure(rows), out / "frontier.png")
    return rows, frontier_margins(rows), notes


def frontier_figure(rows) -> Figure:
    """One panel per law: E[τ] against B/L (log scale, ∞ drawn at the right edge)."""
    labels = list(dict.fromkeys(r[0] for r in rows))
    fig = Figure(figsize=(5.2 * len(labels) + 2.0, 4.2))
    finite = sorted({r[1] for r in rows if math.isfinite(r[1])})
    at_inf = finite[-1] * 10 if finite else 1.0
    for i, label in enumerate(labels):
        ax = fig.add_subplot(1, len(labels), i + 1)
        for scheme in FRONTIER_SCHEMES:
            pts = sorted(
                (r[1] if math.isfinite(r[1]) else at_inf, r[3]) for r in rows if r[0] == label and r[2] == scheme
            )
            if pts:
                colour, marker, style = plots.SCHEME_STYLE.get(scheme, ("gray", "o", "-"))
                ax.plot(
                    *zip(*pts), color=colour, marker=marker, linestyle=style, label=plots.LABELS.get(scheme, scheme)
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("upload bandwidth B / L per unit of T (right edge: ∞)")
        ax.set_ylabel("E[τ] (unit of T)")
        ax.set_title(label, fontsize=9)
    plots._legend_outside(ax)
    return fig


def index_lines(margins, notes) -> list[str]:
    """The frontier section of index.md: every point, the best bcgc-family scheme against the best peer."""
    lines = [
        "## The frontier: runtime against upload bandwidth",
        "",
        "![frontier](frontier.png)",
        "",
        "B in coordinates per unit of T as a multiple of L (uploading one gradient takes L/B units); "
        "trace times divided by their median. BCGC is designed under each B; peers are tuned under it. "
        "`+` means BCGC is slower than the best exact peer.",
        "",
        "| panel | B / L | best bcgc | E[τ] | best peer | E[τ] | bcgc vs peer |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in margins:
        lines.append(
            f"| {m['panel']} | {m['factor']:g} | {m['best_bcgc']} | {m['bcgc_runtime']:.4g} | "
            f"{m['best_peer']} ({m['peer_parameter'] or '-'}) | {m['peer_runtime']:.4g} | "
            f"{m['bcgc_over_peer_percent']:+.1f}% ± {m['stderr_percent']:.1f}% |"
        )
    worse = [m for m in margins if m["bcgc_over_peer_percent"] > 2.0]
    lines += [
        "",
        f"BCGC is within 2% of the best peer or better at {len(margins) - len(worse)} of {len(margins)} "
        "points"
        + (
            f"; it loses at {len(worse)} (worst {max(m['bcgc_over_peer_percent'] for m in worse):+.1f}% "
            f"against {max(worse, key=lambda m: m['bcgc_over_peer_percent'])['best_peer']})"
            if worse
            else ""
        )
        + ".",
    ]
    return lines + [f"Note: {n}." for n in notes] + [""]
