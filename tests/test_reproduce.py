"""bcgc reproduce on a tiny setting: every CSV complete, every PNG opens, index.md shows them all.

Every test here reads the suite's one end-to-end run (``reproduced`` in conftest.py), in this one file so
that the run is made once (the suite runs a file's tests in one process); that run writes through
``bcgc.experiments.output`` (tested directly in tests/test_reproduce_output.py) without touching the previous
run at any step."""

import csv
import re

import numpy as np

from bcgc.experiments.reproduce import OUTPUT_FILES, PAPER_SCHEMES

FIGURES = ("e_vs_n", "e_vs_rate", "e_vs_l", "prob_vs_t", "prob_vs_n", "beyond", "design", "cost", "traces", "frontier")
OUTPUT_EXPECTED = {f"{f}.{ext}" for f in FIGURES for ext in ("png", "csv")} | {"trace.csv", "index.md"}


def test_every_csv_is_complete(reproduced):
    path, cfg = reproduced.path, reproduced.cfg
    for name in ("e_vs_n", "e_vs_rate", "e_vs_l"):
        rows = list(csv.DictReader((path / f"{name}.csv").open()))
        assert list(rows[0]) == ["x", "scheme", "expected_runtime", "stderr", "upload_per_worker"]
        xs = {"e_vs_n": cfg.n_values, "e_vs_rate": cfg.rates, "e_vs_l": cfg.l_values}[name]
        assert len(rows) == len(xs) * len(PAPER_SCHEMES)  # every scheme at every point
        assert {r["scheme"] for r in rows} == set(PAPER_SCHEMES)
    for f in path.glob("*.csv"):
        if f.name == "trace.csv":
            continue
        rows = list(csv.reader(f.open()))
        assert len(rows) > 1 and all(len(r) == len(rows[0]) and all(c != "" for c in r) for r in rows), f.name
        for r in rows[1:]:
            for c in r:
                try:
                    assert np.isfinite(float(c)), f.name
                except ValueError:
                    pass  # a text column (scheme, law, scenario)


def test_every_png_opens_and_index_shows_them(reproduced):
    import matplotlib.image as mpimg

    path = reproduced.path
    pngs = sorted(p.name for p in path.glob("*.png"))
    assert len(pngs) == 10
    for name in pngs:
        img = mpimg.imread(path / name)
        assert img.shape[0] > 100 and img.shape[1] > 100
    index = (path / "index.md").read_text()
    assert set(re.findall(r"\]\(([^)]+\.png)\)", index)) == set(pngs)


def test_optimum_is_never_worse_than_the_closed_forms_or_gc(reproduced):
    margins = reproduced.margins
    assert margins and all(m["optimum_not_worse"] for m in margins)


def test_frontier_reports_every_bandwidth(reproduced):
    path = reproduced.path
    rows = list(csv.DictReader((path / "frontier.csv").open()))
    assert {r["gradient_upload_time"] for r in rows} == {"0", "1", "10"}
    assert {"bcgc", "ucmmc_best", "gc_best", "oracle"} <= {r["scheme"] for r in rows}
    index = (path / "index.md").read_text()
    assert "## The frontier" in index and index.count("| shifted exponential") == 3


def test_frontier_trace_panel_found_or_skipped_with_a_note(tmp_path):
    from bcgc.experiments.frontier import frontier

    rng = np.random.default_rng(0)
    np.savetxt(tmp_path / "alibaba-pai-job1.csv", 1 + rng.exponential(size=(30, 4)), delimiter=",")
    rows, margins, notes = frontier(tmp_path, 3, 20, 500, 50, 0, traces=tmp_path, factors=(1.0,))
    assert {m["panel"] for m in margins} == {"shifted exponential (shift=1, rate=1), N=3", "Alibaba PAI (job 1), N=4"}
    assert len(notes) == 1 and "Lambda" in notes[0] and "not found" in notes[0]


def test_the_real_traces_page_has_every_scheme_on_every_trace_out_of_sample(reproduced):
    path = reproduced.path
    rows = list(csv.DictReader((path / "traces.csv").open()))
    assert {r["trace"] for r in rows} == set(reproduced.cfg.trace_names)
    for name in reproduced.cfg.trace_names:
        sub = {r["scheme"]: r for r in rows if r["trace"] == name}
        assert {"bcgc", "uncoded", "gc_best", "tandon_partial", "ucmmc_best", "oracle"} <= set(sub)
        assert float(sub["bcgc"]["ratio_to_bcgc"]) == 1.0
        assert float(sub["oracle"]["expected_runtime"]) <= float(sub["bcgc"]["expected_runtime"])
        # half of the rows design and tune, the other half evaluate
        assert abs(int(sub["bcgc"]["train_rows"]) - int(sub["bcgc"]["test_rows"])) <= 1
    index = (path / "index.md").read_text()
    assert "## Real traces (out of sample)" in index and all(f"`{n}`" in index for n in reproduced.cfg.trace_names)


def test_complete_run_writes_exactly_the_expected_files(reproduced):
    parent, run = reproduced.parent, reproduced.path
    assert reproduced.margins
    assert {p.name for p in parent.iterdir()} == {"run"}  # no staging folder left beside it
    assert {p.name for p in run.iterdir()} == OUTPUT_EXPECTED | {"notes.txt"}
    assert set(OUTPUT_FILES) == OUTPUT_EXPECTED
    index = (run / "index.md").read_text()
    assert index.startswith("# bcgc reproduce") and "old index" not in index  # the old run was replaced
    assert (run / "e_vs_n.csv").read_text().startswith("x,scheme,")
    assert (run / "notes.txt").read_text() == reproduced.old["notes.txt"]  # a user's file is left alone


def test_the_previous_run_is_untouched_at_every_step_of_a_run(reproduced):
    """So a run stopped at any step leaves it as it was: everything is written into the staging folder."""
    steps = reproduced.steps
    pages = {msg.split(":")[0] for msg, _, _ in steps}
    assert len(steps) > 10 and {"e_vs_n", "prob_vs_t", "cost", "frontier"} <= pages, pages
    for msg, untouched, beside in steps:
        assert untouched, msg
        assert len(beside) == 2 and beside[0].startswith(".run.partial-") and beside[1] == "run", (msg, beside)


def test_step_count_is_the_number_of_progress_calls(reproduced):
    """``bcgc reproduce`` shows "step k of n" with n from ``step_count``: it must count every step."""
    from bcgc.experiments.reproduce import step_count

    assert step_count(reproduced.cfg) == len(reproduced.steps)


def test_the_index_lists_every_setting_that_differs_from_the_full_run(reproduced):
    from bcgc.experiments.settings import reductions

    index = (reproduced.path / "index.md").read_text()
    listed = reductions(reproduced.cfg)
    assert listed and all(r in index for r in listed)
    assert "the frontier's B / L inf, 1, 0.1 (full: inf, 100, 30, 10, 3, 1, 0.3, 0.1)" in listed


def test_quick_keeps_every_point_of_the_paper_sweeps_and_says_what_it_reduces():
    from bcgc.experiments.settings import FULL, QUICK, reductions

    for name in ("n_values", "rates", "l_values", "base_n", "base_l", "prob_levels", "prob_n_values", "beyond_n"):
        assert getattr(QUICK, name) == getattr(FULL, name), name
    assert reductions(FULL) == []
    said = " ".join(reductions(QUICK))
    assert "the cost figure's N 10, 20, 50 (full: 10, 20, 50, 100, 200)" in said
    assert "workers of each frontier trace panel 64 (full: all)" in said


def test_the_pages_computed_in_one_process_write_the_same_files(reproduced, tmp_path):
    """The suite's run computes its pages in two processes; in one, every CSV is the same to the
    last byte (cost.csv but its solve times, which are measured)."""
    from bcgc.experiments.reproduce import reproduce

    reproduce(tmp_path / "serial", reproduced.cfg, seed=0, jobs=1)
    for path in reproduced.path.glob("*.csv"):
        mine, theirs = (tmp_path / "serial" / path.name).read_text(), path.read_text()
        if path.name == "cost.csv":  # workers,method,solve_seconds,expected_runtime,ratio_to_best
            mine, theirs = (
                [line.split(",")[:2] + line.split(",")[3:] for line in t.splitlines()] for t in (mine, theirs)
            )
        assert mine == theirs, path.name
