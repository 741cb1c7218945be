"""The "real traces" page of ``bcgc reproduce``: every scheme on every trace shipped with bcgc, out of
sample (docs/traces.md). For each trace the BCGC design and every peer's parameter come from the first
half of its rows only, and every scheme is evaluated on the other half (:mod:`bcgc.peers.holdout`)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..peers.holdout import compare_holdout
from ..plots import LABELS, SCHEME_STYLE
from ..stragglers import shipped_names, shipped_trace

__all__ = ["TRACE_COORDS", "TRACE_HOLDOUT", "real_traces", "traces_figure", "index_traces", "HEADER"]

#: coordinates L of every trace's design (the ratios barely depend on it)
TRACE_COORDS = 10_000
#: the held-out share of every trace's rows
TRACE_HOLDOUT = 0.5
#: columns of traces.csv
HEADER = [
    "trace",
    "workers",
    "train_rows",
    "test_rows",
    "scheme",
    "expected_runtime",
    "stderr",
    "ratio_to_bcgc",
    "upload_per_worker_in_L",
    "parameters",
]


def real_traces(names, samples: int, design_samples: int, seed: int, progress=None) -> list[tuple]:
    """One row per (trace, scheme), in HEADER's order: Ê[τ] on the held-out rows and its standard error.

    ``names``: shipped traces (None: all); ``samples``: draws of the training rows to tune the peers;
    ``design_samples``: draws for BCGC's sample-average design on the training rows."""
    rows = []
    for name in shipped_names() if names is None else names:
        law = shipped_trace(name)  # BCGC cross-validated on the design rows, as in `compare --holdout`
        results, split = compare_holdout(
            law, law.workers, TRACE_COORDS, TRACE_HOLDOUT, samples=samples, seed=seed, design_samples=design_samples
        )
        base = next(r.expected_runtime for r in results if r.name == "bcgc")
        k_train, k_test = split.train.samples.shape[0], split.test.shape[0]
        for r in results:
            params = ";".join(f"{k}={v}" for k, v in r.parameters.items() if k != "blocks") or "-"
            rows.append(
                (
                    name,
                    law.workers,
                    k_train,
                    k_test,
                    r.name,
                    r.expected_runtime,
                    r.expected_runtime_stderr or 0.0,
                    r.expected_runtime / base,
                    0 if r.upload_per_worker is None else r.upload_per_worker // TRACE_COORDS,
                    params,
                )
            )
        if progress:
            progress(f"real traces: {name}")
    return rows


#: ratios to BCGC above this are drawn at the edge, their value written next to the bar
_XMAX = 2.0


def traces_figure(rows) -> Figure:
    """E[τ] / E[τ of BCGC] of every scheme, one panel per trace (held-out rows)."""
    traces = list(dict.fromkeys(r[0] for r in rows))
    cols = min(5, len(traces))
    nrows = -(-len(traces) // cols)
    fig = Figure(figsize=(3.3 * cols, 3.2 * nrows))
    axes = np.atleast_1d(fig.subplots(nrows, cols, squeeze=False)).ravel()
    for ax, name in zip(axes, traces):
        sub = [r for r in rows if r[0] == name][::-1]
        vals = [r[7] for r in sub]
        colors = [SCHEME_STYLE.get(r[4], ("gray",))[0] for r in sub]
        ax.barh([LABELS.get(r[4], r[4]) for r in sub], np.minimum(vals, _XMAX), color=colors)
        for i, (r, v) in enumerate(zip(sub, vals)):
            ax.text(min(v, _XMAX), i, f" {v:.2f}" + (f" ({r[8]}×L)" if r[8] > 1 else ""), va="center", fontsize=6)
        ax.axvline(1.0, color="k", lw=0.5)
        ax.set_xlim(0, _XMAX * 1.3)
        ax.set_title(f"{name} (N={sub[0][1]})", fontsize=7)
        ax.tick_params(labelsize=6)
        ax.set_xlabel("E[τ] / E[τ of BCGC], held-out rows", fontsize=6)
    for ax in axes[len(traces) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def index_traces(rows, samples: int, design_samples: int) -> list[str]:
    """The section of index.md: per trace, BCGC against every equal-upload peer and the oracle."""
    lines = [
        "## Real traces (out of sample)",
        "",
        "![real traces](traces.png)",
        "",
        f"Every trace shipped with bcgc (docs/traces.md), L = {TRACE_COORDS}: BCGC is designed "
        f"on the training rows (each once when there are at most {design_samples}, else {design_samples} draws of them; "
        "its procedure — uncoded, one level or optimal — chosen by cross-validation over those rows when they "
        f"are at most 100) and every peer tuned ({samples} draws) on the first "
        f"{1 - TRACE_HOLDOUT:g} of the trace's rows; every number is the mean over the held-out rows "
        "(`traces.csv`, with its standard error). Ratios are E[τ] / E[τ of BCGC]: above 1 BCGC is faster.",
        "",
    ]
    for name in dict.fromkeys(r[0] for r in rows):
        sub = {r[4]: r for r in rows if r[0] == name}
        equal = [r for k, r in sub.items() if k not in ("bcgc", "oracle") and r[8] == 1]
        best = min(equal, key=lambda r: r[5])
        slower = [r[4] for r in equal if r[5] < sub["bcgc"][5]]
        verdict = (
            "BCGC is never slower than an equal-upload peer"
            if not slower
            else f"BCGC is SLOWER than {', '.join(slower)} (by {(1 / best[7] - 1) * 100:.2f}% against "
            f"{best[4]}, standard error of BCGC's mean {sub['bcgc'][6] / sub['bcgc'][5] * 100:.0f}%)"
        )
        others = [r for r in sub.values() if r[8] > 1 and r[5] < sub["bcgc"][5]]
        extra = "".join(f"; {r[4]} ({r[8]}× the upload) is faster, ratio {r[7]:.3f}" for r in others)
        how = next((p[len("design=") :] for p in sub["bcgc"][9].split(";") if p.startswith("design=")), "given")
        lines.append(
            f"- `{name}` (N = {sub['bcgc'][1]}, rows {sub['bcgc'][2]} + {sub['bcgc'][3]} held out): "
            f"E[τ] of BCGC {sub['bcgc'][5]:.4g} ± {sub['bcgc'][6]:.2g} (design: {how}); {verdict}; closest equal-upload "
            f"peer {best[4]} at {best[7]:.3f}; the oracle bound is {1 / sub['oracle'][7]:.2f}× faster "
            f"than BCGC{extra}."
        )
    return lines + [""]
