"""Figures, drawn with matplotlib's object-oriented ``Figure`` API (no pyplot state, no global
backend switch: library code must not change a user's matplotlib set-up).

Each function takes result objects or plain rows and returns a ``Figure``; :func:`save` writes it
atomically (a temporary file renamed into place, so an interruption never leaves a truncated PNG).
"""

from __future__ import annotations

import os
import tempfile
import textwrap
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = [
    "save",
    "loss_curves",
    "train_figure",
    "simulate_figure",
    "demo_figure",
    "sweep_figure",
    "probability_figure",
    "beyond_figure",
    "designs_figure",
    "cost_figure",
    "SCHEME_STYLE",
]

#: colour, marker and line style of each scheme, the same in every figure
SCHEME_STYLE = {
    "optimal": ("tab:blue", "o", "-"),
    "bcgc": ("tab:blue", "o", "-"),
    "jensen": ("tab:cyan", "s", "--"),
    "inverse": ("tab:purple", "^", "--"),
    "gc_best": ("tab:orange", "v", "-"),
    "tandon_partial": ("tab:red", "D", "-"),
    "ferdinand_r_L": ("tab:brown", "x", ":"),
    "ferdinand_r_L2": ("tab:olive", "+", ":"),
    "ucmmc_best": ("tab:green", "*", "-."),
    "oracle": ("black", ".", ":"),
    "stationary": ("tab:blue", "o", "-"),
    "large-deadline": ("tab:cyan", "s", "--"),
    "uncoded": ("tab:gray", "h", "-"),
    "bcgc_mm": ("tab:pink", "P", "-"),
}


#: the name each scheme carries in every figure (BCGC is "BCGC" everywhere, with its design method)
LABELS = {
    "optimal": "BCGC (optimal design)",
    "bcgc": "BCGC",
    "jensen": "BCGC, A4 closed form",
    "inverse": "BCGC, A5 closed form",
    "stationary": "BCGC (A6, stationary point)",
    "large-deadline": "BCGC (A7, large deadline)",
    "gc_best": "classic GC (best level)",
    "tandon_partial": "Tandon partial",
    "ferdinand_r_L": "Ferdinand & Draper, r = L",
    "ferdinand_r_L2": "Ferdinand & Draper, r = L/2",
    "ucmmc_best": "UC-MMC (best r)",
    "oracle": "oracle bound",
    "uncoded": "uncoded",
    "bcgc_mm": "bcgc_mm (BCGC with multi-message blocks)",
}


def _legend_outside(ax, fontsize=8):
    """Legends sit right of the axes, never on the curves."""
    ax.legend(fontsize=fontsize, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


def save(fig: Figure, path, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` (PNG) through a temporary file in the same folder, then rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=path.parent or ".")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, format="png", bbox_inches="tight")  # keeps legends placed outside the axes
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600: give the figure an ordinary file's mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def loss_curves(curves, xlabel: str, title: str, accuracy=()) -> Figure:
    """Training loss (log scale) against time, one line per (label, x, y); beside it the test accuracy
    per (label, x, accuracy) when a problem reports one (``metrics()['test_accuracy']``)."""
    accuracy = [c for c in accuracy if len(c[2])]
    fig = Figure(figsize=(12 if accuracy else 7, 4.5))
    axes = fig.subplots(1, 2) if accuracy else [fig.subplots()]
    ax = axes[0]
    for label, x, y in accuracy:
        axes[1].plot(x, y, label=label, marker=".", markersize=3)
    if accuracy:
        axes[1].set_xlabel(xlabel)
        axes[1].set_ylabel("test accuracy")
    for label, x, y in curves:
        ax.plot(x, y, label=label, marker=".", markersize=3)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("training loss")
    ax.set_yscale("log")
    ax.set_title(textwrap.fill(title, 80), fontsize=9)  # long run descriptions must not be clipped
    ax.legend()
    fig.tight_layout()
    return fig


def train_figure(results, title: str) -> Figure:
    """Loss against measured wall-clock time, one line per scheme (``bcgc train``)."""
    curves, accuracy = [], []
    for r in results:
        t = np.concatenate([[0.0], np.cumsum(r.column("measured_seconds"))])
        curves.append((f"{r.name} ({t[-1]:.2f} s)", t, np.concatenate([[r.initial_loss], r.column("loss")])))
        acc = [rec.get("metrics", {}).get("test_accuracy") for rec in r.logs]
        if acc and None not in acc:
            accuracy.append((r.name, t[1:], np.asarray(acc, dtype=float)))
    return loss_curves(curves, "wall-clock time (s)", title, accuracy)


def simulate_figure(results, title: str) -> Figure:
    """Loss against virtual time, one line per scheme (``bcgc simulate``)."""
    accuracy = [
        (r.name, r.times[1:], np.asarray([m["test_accuracy"] for m in r.metrics], dtype=float))
        for r in results
        if r.metrics and all("test_accuracy" in m for m in r.metrics)
    ]
    return loss_curves(
        [(f"{r.name} ({r.virtual_time:.3g})", r.times, r.losses) for r in results],
        "virtual wall-clock time (unit of T)",
        title,
        accuracy,
    )


def demo_figure(result, rows, title: str) -> Figure:
    """The design's blocks beside the expected runtime of every scheme (``make demo``)."""
    fig = Figure(figsize=(12, 4.5))
    ax1, ax2 = fig.subplots(1, 2)
    s = np.arange(result.blocks.size)
    ax1.bar(s, result.blocks, color="tab:blue")
    ax1.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax1.set_xlabel("level s (stragglers tolerated)")
    ax1.set_ylabel("coordinates in block s  (x_s)")
    ax1.set_title("BCGC design: redundancy per coordinate block")
    shown = [r for r in rows if r.name != "ignore_stragglers"]
    vals = [r.expected_runtime for r in shown]
    colors = ["tab:blue" if r.name == "bcgc" else ("tab:gray" if r.name == "oracle" else "tab:orange") for r in shown]
    bars = ax2.barh([LABELS.get(r.name, r.name) for r in shown][::-1], vals[::-1], color=colors[::-1])
    for bar, r in zip(bars, shown[::-1]):
        up = "" if r.upload_per_worker is None else f"  upload {r.upload_per_worker // result.blocks.sum()}×L"
        ax2.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            f" {r.expected_runtime:.3g}{up}",
            va="center",
            fontsize=8,
        )
    ax2.set_xlabel("expected runtime per iteration (unit of T)")
    ax2.set_title("BCGC against the peers")
    ax2.set_xlim(0, max(vals) * 1.45)  # room for the labels, but the axis stops at the data:
    ticks = [t for t in MaxNLocator(nbins=6).tick_values(0, max(vals)) if 0 <= t <= max(vals) * 1.0001]
    ax2.set_xticks(ticks)
    ax2.spines["bottom"].set_bounds(0, max(vals))
    for side in ("top", "right"):
        ax2.spines[side].set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def sweep_figure(rows, schemes, xlabel: str, logx: bool = False) -> Figure:
    """E[τ] against a swept parameter; rows are (x, scheme, E, stderr, upload) (``reproduce``)."""
    fig = Figure(figsize=(10, 4.8))
    ax = fig.subplots()
    base_upload = {r[0]: r[4] for r in rows if r[1] == "optimal"}
    for scheme in schemes:
        pts = [r for r in rows if r[1] == scheme]
        if not pts:
            continue
        x, y, e = (np.array([r[i] for r in pts]) for i in (0, 2, 3))
        c, m, ls = SCHEME_STYLE[scheme]
        ups = [r[4] / base_upload[r[0]] for r in pts]
        label = LABELS.get(scheme, scheme) + (f", upload {min(ups):g}-{max(ups):g}×L" if scheme == "ucmmc_best" else "")
        ax.errorbar(x, y, yerr=2 * e, color=c, marker=m, linestyle=ls, label=label, capsize=2, markersize=4)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("expected runtime per iteration")
    ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    _legend_outside(ax, 7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def probability_figure(rows, schemes, xlabel: str) -> Figure:
    """P(τ ≤ t) per scheme; rows are (x, scheme, P, stderr, deadline) (``reproduce``)."""
    fig = Figure(figsize=(10, 4.8))
    ax = fig.subplots()
    for scheme in schemes:
        pts = [r for r in rows if r[1] == scheme]
        x, y, e = (np.array([r[i] for r in pts]) for i in (0, 2, 3))
        c, m, ls = SCHEME_STYLE[scheme]
        ax.errorbar(
            x, y, yerr=2 * e, color=c, marker=m, linestyle=ls, label=LABELS.get(scheme, scheme), capsize=2, markersize=4
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("P(τ ≤ t)")
    ax.set_ylim(0, 1.02)
    _legend_outside(ax)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def beyond_figure(rows) -> Figure:
    """E[τ] relative to BCGC per scenario; rows are (scenario, scheme, E, stderr, upload in L)."""
    labels = list(dict.fromkeys(r[0] for r in rows))
    fig = Figure(figsize=(4 * len(labels), 4.2))
    axes = np.atleast_1d(fig.subplots(1, len(labels)))
    for ax, label in zip(axes, labels):
        sub = [r for r in rows if r[0] == label]
        base = next(r[2] for r in sub if r[1] == "bcgc")
        names = [r[1] for r in sub]
        vals = [r[2] / base for r in sub]
        colors = [SCHEME_STYLE.get(nm, ("gray",))[0] for nm in names]
        ax.barh([LABELS.get(nm, nm) for nm in names][::-1], vals[::-1], color=colors[::-1])
        for i, r in enumerate(sub[::-1]):
            ax.text(
                r[2] / base, i, f" {r[2] / base:.2f}" + (f" ({r[4]}×L)" if r[4] > 1 else ""), va="center", fontsize=7
            )
        ax.axvline(1.0, color="k", lw=0.5)
        ax.set_title(label, fontsize=8)
        ax.set_xlabel("E[τ] / E[τ of BCGC]", fontsize=8)
        ax.set_xlim(0, max(vals) * 1.35)
    fig.tight_layout()
    return fig


def designs_figure(rows, workers: int) -> Figure:
    """Fraction of coordinates per level for several laws; rows are (law, level, x_s, fraction)."""
    laws = list(dict.fromkeys(r[0] for r in rows))
    fig = Figure(figsize=(7.5, 4.5))
    ax = fig.subplots()
    width = 0.8 / len(laws)
    for i, label in enumerate(laws):
        fr = [r[3] for r in rows if r[0] == label]
        ax.bar(np.arange(workers) + (i - len(laws) / 2 + 0.5) * width, fr, width=width, label=label)
    ax.set_xlabel("level s (stragglers tolerated by block s)")
    ax.set_ylabel("fraction of coordinates x_s / L")
    ax.set_xticks(range(0, workers, 2))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def cost_figure(rows, methods) -> Figure:
    """Solve time and closed-form gap against N; rows are (N, method, seconds, E, ratio to best)."""
    fig = Figure(figsize=(11, 4.3))
    a1, a2 = fig.subplots(1, 2)
    for m in methods:
        pts = [r for r in rows if r[1] == m]
        n, sec, ratio = (np.array([r[i] for r in pts]) for i in (0, 2, 4))
        a1.loglog(n, np.maximum(sec, 1e-5), marker="o", label=f"method {m}")
        if m in ("jensen", "inverse", "subgradient"):
            a2.plot(n, (ratio - 1) * 100, marker="o", label=f"method {m}")
    a1.set_xlabel("workers N")
    a1.set_ylabel("solve time (s)")
    a1.legend(fontsize=7, loc="upper left")
    a1.grid(alpha=0.3, which="both")
    a2.set_xlabel("workers N")
    a2.set_ylabel("E[τ] above the best design (%)")
    a2.legend(fontsize=8)
    a2.grid(alpha=0.3)
    fig.tight_layout()
    return fig
