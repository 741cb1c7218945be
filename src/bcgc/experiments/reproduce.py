"""``bcgc reproduce``: the paper's evaluation regenerated, extended, and written as PNG + CSV + index.md.

Every figure has a CSV with every plotted number; ``index.md`` shows the figures with a reading of
each, computed from the numbers (nothing in it is typed by hand). Paper convention (docs/peers.md):
T = shift + Exp(rate) per coordinate-subset unit of work and runtime
max_s T_(N-s) y_s. In bcgc's unit (T per full-subset gradient = L units) that is the shifted
exponential with shift·L and rate/L, and bcgc's runtime max_s T_(N-s) y_s / L is then the paper's
number exactly, so no conversion of the results is needed.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from .. import _validate as V
from .. import plots, streams
from ..analysis import completion_probability_exact, evaluate, runtime_quantiles
from ..design import design
from ..peers import compare
from ..schemes.gc import classic_gc
from ..schemes.tandon import tandon_partial
from ..schemes.uncoded import uncoded
from ..stragglers import ShiftedExponential, shipped_names
from ..timing import ucmmc_runtimes
from ..timing.orderstat import descending
from . import beyond as beyond_figures
from .frontier import find_traces, frontier_panel, frontier_panels, index_lines, write_frontier
from .index import margins_table, write_index
from .output import check_out, commit, staging, write_csv
from .parallel import run_pages
from .settings import FULL, QUICK, Config, reductions
from .traces_page import HEADER as TRACES_HEADER
from .traces_page import index_traces, real_traces, traces_figure

__all__ = ["Config", "QUICK", "FULL", "OUTPUT_FILES", "reproduce", "paper_law", "step_count"]


def paper_law(shift: float, rate: float, coords: int) -> ShiftedExponential:
    """The paper's per-unit law T = shift + Exp(rate), expressed per full-subset gradient (L units)."""
    return ShiftedExponential(shift=shift * coords, rate=rate / coords)


# ---------------------------------------------------------------------------- figures 1-3: E[τ]
PAPER_SCHEMES = (
    "optimal",
    "jensen",
    "inverse",
    "gc_best",
    "tandon_partial",
    "ferdinand_r_L",
    "ferdinand_r_L2",
    "ucmmc_best",
    "oracle",
)


def _paper_point(n, coords, shift, rate, cfg, seed):
    """Every scheme's expected runtime at one point of a sweep (paper convention)."""
    law = paper_law(shift, rate, coords)
    opt = design(law, n, coords, seed=seed, samples=cfg.design_samples, eval_samples=cfg.samples)
    rows = {"optimal": (opt.expected_runtime, opt.expected_runtime_stderr or 0.0, coords)}
    for m in ("jensen", "inverse"):
        r = design(law, n, coords, method=m, seed=seed, eval_samples=cfg.samples)
        rows[m] = (r.expected_runtime, r.expected_runtime_stderr or 0.0, coords)
    for p in compare(
        law, n, coords, samples=cfg.samples, seed=seed, bcgc_blocks=opt.blocks, bcgc_subset_sizes=opt.subset_sizes
    ):
        if p.name in PAPER_SCHEMES:
            rows[p.name] = (
                p.expected_runtime,
                p.expected_runtime_stderr or 0.0,
                0 if p.upload_per_worker is None else p.upload_per_worker,
            )
    return rows


def _paper_points(cfg, seed):
    """:func:`_paper_point` at (N, L, rate), each computed once: the three sweeps cross at the base point
    (N = base_n, L = base_l, rate = rate), which every one of them would otherwise redo with the same seed."""
    done = {}

    def point(n, coords, rate):
        key = (int(n), int(coords), float(rate))
        if key not in done:
            done[key] = _paper_point(n, coords, cfg.shift, rate, cfg, seed)
        return done[key]

    return point


def _sweep(name, xs, point, xlabel, out, cfg, seed, logx=False, progress=None):
    rows = []
    for x in xs:
        res = point(x)
        for scheme in PAPER_SCHEMES:
            if scheme in res:
                rows.append((x, scheme, *res[scheme]))
        if progress:
            progress(f"{name}: x = {x:g}")
    write_csv(out / f"{name}.csv", ["x", "scheme", "expected_runtime", "stderr", "upload_per_worker"], rows)
    plots.save(plots.sweep_figure(rows, PAPER_SCHEMES, xlabel, logx), out / f"{name}.png")
    return rows


# ---------------------------------------------------------------------------- figures 4-5: P(τ ≤ t)
def _deadlines(law, n, coords, cfg, seed, levels):
    """Deadlines at which the A4 design completes with the given probabilities: quantiles of its τ."""
    x = design(law, n, coords, method="jensen", eval_samples=1000).blocks
    return [float(v) for v in runtime_quantiles(law, n, x, levels, seed, samples=cfg.samples)]


def _prob_rows(law, n, coords, t, cfg, seed):
    """P(τ ≤ t) of A6, A7 and the peers (GC, Tandon and UC-MMC at their best parameter for t)."""
    out = {}
    for method in ("stationary", "large-deadline"):
        r = design(
            law,
            n,
            coords,
            objective="deadline",
            deadline=t,
            method=method,
            seed=seed,
            options={"polish": cfg.polish} if method == "stationary" else None,
        )
        out[method] = (r.completion_probability, r.completion_probability_stderr or 0.0)
    probs = [completion_probability_exact(law, n, classic_gc(s), t)[0][0] for s in range(n)]
    out["gc_best"] = (float(max(probs)), 0.0)
    out["uncoded"] = (float(completion_probability_exact(law, n, uncoded(), t)[0][0]), 0.0)
    T = law.sample(cfg.samples, n, streams.rng(seed, streams.COMMON_DRAWS))
    Td = descending(T)
    tandon = np.stack([tandon_partial(s).samples(Td) for s in range(n)], axis=1)
    for name, mat in (("tandon_partial", tandon), ("ucmmc_best", ucmmc_runtimes(None, T, np.arange(1, n + 1)))):
        p = np.mean(mat <= t, axis=0).max()
        out[name] = (float(p), math.sqrt(p * (1 - p) / cfg.samples))
    return out


PROB_SCHEMES = ("stationary", "large-deadline", "gc_best", "tandon_partial", "ucmmc_best", "uncoded")


def _prob_figure(name, xs, rows, xlabel, out):
    write_csv(out / f"{name}.csv", ["x", "scheme", "completion_probability", "stderr", "deadline"], rows)
    plots.save(plots.probability_figure(rows, PROB_SCHEMES, xlabel), out / f"{name}.png")


# ---------------------------------------------------------------------------- figure 8: algorithm cost
COST_METHODS = ("jensen", "inverse", "large-deadline", "subgradient", "saa-lp", "optimal", "stationary")


def _cost(out, cfg, seed, progress=None):
    law = ShiftedExponential(0.05, 1.0)  # the paper's shift·rate = 50·1e-3; ratios are scale-free
    rows = []
    for n in cfg.cost_n_values:
        vals, exact = {}, {}  # exact E[τ] per relaxed design: optimal's is one of its candidates' (the same z)
        t_med = _deadlines(law, n, 10**6, cfg, seed, (0.5,))[0]  # A6 maximises P(τ ≤ median of A4's τ)
        for m in COST_METHODS:
            opts = {"iterations": cfg.subgradient_iterations} if m == "subgradient" else None
            kw = (
                {"objective": "deadline", "deadline": t_med, "options": {"polish": cfg.polish}}
                if m == "stationary"
                else {"options": opts}
            )
            r = design(law, n, 10**6, method=m, seed=seed, samples=cfg.design_samples, eval_samples=1000, **kw)
            key = r.relaxed.tobytes()
            if key not in exact:
                exact[key] = evaluate(law, n, r.relaxed, method="exact").expected_runtime
            vals[m] = (r.solve_seconds, exact[key])
        best = min(v[1] for v in vals.values())
        for m, (sec, e) in vals.items():
            rows.append((n, m, sec, e, e / best))
        if progress:
            progress(f"cost: N = {n}")
    write_csv(out / "cost.csv", ["workers", "method", "solve_seconds", "expected_runtime", "ratio_to_best"], rows)
    plots.save(plots.cost_figure(rows, COST_METHODS), out / "cost.png")
    return rows


# ---------------------------------------------------------------------------- driver
FIGURES = ("e_vs_n", "e_vs_rate", "e_vs_l", "prob_vs_t", "prob_vs_n", "beyond", "design", "cost", "traces", "frontier")
OUTPUT_FILES = tuple(f"{f}.{ext}" for f in FIGURES for ext in ("png", "csv")) + ("trace.csv", "index.md")


def step_count(cfg: Config = QUICK, traces=None) -> int:
    """How many times :func:`reproduce` calls ``progress``: one per point of each sweep, per
    scenario, per N of the cost figure, per real trace and per frontier panel and bandwidth."""
    sweeps = len(cfg.n_values) + len(cfg.rates) + len(cfg.l_values) + len(cfg.prob_levels) + len(cfg.prob_n_values)
    names = shipped_names() if cfg.trace_names is None else cfg.trace_names
    panels = 1 + (len(find_traces(traces)) if cfg.trace_panels else 0)
    return sweeps + 4 + len(cfg.cost_n_values) + len(names) + panels * len(cfg.frontier_factors)


def reproduce(out, cfg: Config = QUICK, seed: int = 0, progress=None, traces=None, jobs: int = 1) -> dict:
    """Run every experiment, write PNG + CSV per figure and ``index.md`` into ``out``; return the margins table.

    ``out`` is checked before any work (ValueError for an empty name, a file, an unwritable place). The run
    is written into a staging folder next to ``out`` and moved in only once complete (``index.md`` last), so
    an interrupted run leaves ``out`` as it was. ``traces``: the folder of the frontier's trace panels
    (default: where a release ships them; a panel whose file is missing is skipped with a note). ``jobs``:
    processes computing the pages (at most one per page; ``bcgc reproduce`` uses one per available
    core): more than 1 spawns processes, so a script calling it needs ``if __name__ == "__main__":``.
    The numbers do not depend on it."""
    jobs = V.integer("jobs", jobs, minimum=1)
    out = check_out(out, OUTPUT_FILES)
    with staging(out) as tmp:
        margins = _run_all(tmp, cfg, seed, progress, traces, jobs)
        commit(tmp, out, OUTPUT_FILES)
    return margins


def _sweeps_page(out, cfg, seed, progress=None) -> dict:
    """Figures 1-3: E[τ] against N, the rate and L (they share their base point, computed once)."""
    n0, l0 = cfg.base_n, cfg.base_l
    point = _paper_points(cfg, seed)
    return {
        "e_vs_n": _sweep(
            "e_vs_n", cfg.n_values, lambda n: point(n, l0, cfg.rate), "workers N", out, cfg, seed, progress=progress
        ),
        "e_vs_rate": _sweep(
            "e_vs_rate",
            cfg.rates,
            lambda r: point(n0, l0, r),
            "rate of the exponential part (per unit of work)",
            out,
            cfg,
            seed,
            logx=True,
            progress=progress,
        ),
        "e_vs_l": _sweep(
            "e_vs_l", cfg.l_values, lambda L: point(n0, L, cfg.rate), "coordinates L", out, cfg, seed, progress=progress
        ),
    }


def _prob_page(out, cfg, seed, progress=None) -> list:
    """Figures 4-5: P(τ ≤ t) against the deadline and against N; the rows against the deadline."""
    n0, l0 = cfg.base_n, cfg.base_l
    law = paper_law(cfg.shift, cfg.rate, l0)
    ts = _deadlines(law, n0, l0, cfg, seed, cfg.prob_levels)
    prob_t = []
    for t in ts:
        for scheme, (p, se) in _prob_rows(law, n0, l0, t, cfg, seed).items():
            prob_t.append((t, scheme, p, se, t))
        if progress:
            progress(f"prob_vs_t: t = {t:.4g}")
    _prob_figure("prob_vs_t", ts, prob_t, f"deadline t (N = {n0}, L = {l0})", out)
    prob_n = []
    for n in cfg.prob_n_values:
        t = _deadlines(law, n, l0, cfg, seed, (0.8,))[0]
        for scheme, (p, se) in _prob_rows(law, n, l0, t, cfg, seed).items():
            prob_n.append((n, scheme, p, se, t))
        if progress:
            progress(f"prob_vs_n: N = {n}")
    _prob_figure("prob_vs_n", cfg.prob_n_values, prob_n, "workers N (t = 80% quantile of A4's runtime)", out)
    return prob_t


def _designs_page(out, cfg, seed, progress=None) -> list:
    return beyond_figures.designs(out, cfg, seed)


def _traces_page(out, cfg, seed, progress=None) -> list:
    rows = real_traces(cfg.trace_names, cfg.trace_samples, cfg.trace_design_samples, seed, progress)
    write_csv(out / "traces.csv", TRACES_HEADER, rows)
    plots.save(traces_figure(rows), out / "traces.png")
    return rows


def _frontier_panel_page(label, law, workers, cfg, seed, progress=None) -> list:
    """One panel of the frontier at every bandwidth (its rows; the parent writes the page)."""
    samples = cfg.frontier_samples or cfg.samples
    factors = cfg.frontier_factors
    return frontier_panel(
        label, law, workers, cfg.frontier_coords, samples, cfg.design_samples, seed, factors, progress
    )


def _run_all(out: Path, cfg: Config, seed: int, progress, traces=None, jobs: int = 1) -> dict:
    """Every page, written into ``out`` (in ``jobs`` processes, the longest first); ``index.md`` last."""
    t0 = time.perf_counter()
    panels, notes = frontier_panels(cfg.frontier_n, traces, cfg.trace_panels, cfg.frontier_trace_workers)
    # the frontier's panels are tasks of their own, the one of most workers first (the Lambda trace's
    # at B = L is the longest task); with --quick the pages took about 28 (that panel), 26, 17, 15,
    # 14 (the shifted exponential's panel), 13, 11, 8 (Alibaba's panel) and 3 s
    panel_tasks = {
        f"frontier {i}": (_frontier_panel_page, (label, law, n, cfg, seed))
        for i, (label, (law, n)) in enumerate(panels.items())
    }
    first, *others = sorted(panel_tasks, key=lambda name: -panel_tasks[name][1][2])  # by workers
    pages = {
        first: panel_tasks[first],
        "sweeps": (_sweeps_page, (out, cfg, seed)),
        "cost": (_cost, (out, cfg, seed)),
        "beyond": (beyond_figures.beyond, (out, cfg, seed)),
        "traces": (_traces_page, (out, cfg, seed)),
        "prob": (_prob_page, (out, cfg, seed)),
        **{name: panel_tasks[name] for name in others},
        "designs": (_designs_page, (out, cfg, seed)),
    }
    got = run_pages(pages, jobs, progress)
    sweeps, prob_t, beyond, designs, cost, trace_rows = (
        got[k] for k in ("sweeps", "prob", "beyond", "designs", "cost", "traces")
    )
    rows = [row for i in range(len(panels)) for row in got[f"frontier {i}"]]
    _, frontier_margins, notes = write_frontier(out, rows, notes)
    margins = margins_table(sweeps)
    write_index(
        out,
        cfg == QUICK,
        cfg.samples,
        cfg.base_n,
        cfg.base_l,
        cfg.shift,
        cfg.rate,
        cfg.prob_levels,
        sweeps,
        prob_t,
        beyond,
        designs,
        cost,
        margins,
        time.perf_counter() - t0,
        extra=index_traces(trace_rows, cfg.trace_samples, cfg.trace_design_samples),
        reduced=reductions(cfg),
    )
    with (out / "index.md").open("a") as fh:  # the frontier's section (experiments/frontier.py)
        fh.write("\n".join(index_lines(frontier_margins, notes)) + "\n")
    return margins
