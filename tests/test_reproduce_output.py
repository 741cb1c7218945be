"""bcgc reproduce's output folder: checked before any work, written as a whole or not at all."""

import os
import signal
from pathlib import Path

import pytest

import bcgc.experiments.output as output
import bcgc.experiments.reproduce as rep
from bcgc.cli import main
from bcgc.experiments.reproduce import Config, reproduce

TINY = Config(
    samples=2000,
    design_samples=300,
    n_values=(4, 6),
    rates=(1e-3, 1e-2),
    l_values=(200, 400),
    base_n=5,
    base_l=300,
    prob_levels=(0.3, 0.9),
    prob_n_values=(4, 6),
    beyond_n=6,
    cost_n_values=(4, 8),
    subgradient_iterations=200,
    frontier_n=4,
    frontier_coords=40,
    frontier_factors=(float("inf"), 1.0, 0.1),
    trace_panels=False,
    frontier_samples=None,
    trace_names=("alibaba-pai-job2", "bytedance-se-dp32"),
    trace_samples=500,
    trace_design_samples=100,
)
FIGURES = ("e_vs_n", "e_vs_rate", "e_vs_l", "prob_vs_t", "prob_vs_n", "beyond", "design", "cost", "traces", "frontier")
EXPECTED = {f"{f}.{ext}" for f in FIGURES for ext in ("png", "csv")} | {"trace.csv", "index.md"}
OLD_RUN = {"index.md": "old index\n", "e_vs_n.csv": "old,csv\n", "e_vs_n.png": "old png", "notes.txt": "mine\n"}


def _old_run(folder: Path):
    """A marker previous run (plus a file of the user's) in ``folder``."""
    folder.mkdir(parents=True)
    for name, text in OLD_RUN.items():
        (folder / name).write_text(text)


def _snapshot(folder: Path):
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else None


def _interrupt_after(k, exc=KeyboardInterrupt):
    calls = []

    def progress(msg):
        calls.append(msg)
        if len(calls) >= k:
            raise exc(f"stopped after {msg}")

    return progress


@pytest.fixture(scope="module")
def complete(tmp_path_factory):
    parent = tmp_path_factory.mktemp("complete")
    _old_run(parent / "run")
    margins = reproduce(parent / "run", TINY, seed=0)
    return parent, margins


def test_complete_run_writes_exactly_the_expected_files(complete):
    parent, margins = complete
    assert margins
    assert {p.name for p in parent.iterdir()} == {"run"}  # no staging folder left beside it
    assert {p.name for p in (parent / "run").iterdir()} == EXPECTED | {"notes.txt"}
    assert set(rep.OUTPUT_FILES) == EXPECTED
    index = (parent / "run" / "index.md").read_text()
    assert index.startswith("# bcgc reproduce") and "old" not in index  # the old run was replaced
    assert (parent / "run" / "e_vs_n.csv").read_text().startswith("x,scheme,")
    assert (parent / "run" / "notes.txt").read_text() == "mine\n"  # a user's file is left alone


def test_complete_run_into_a_new_folder_creates_it(tmp_path):
    out = tmp_path / "a" / "b" / "run"
    reproduce(str(out), TINY, seed=0)
    assert {p.name for p in out.iterdir()} == EXPECTED
    assert {p.name for p in out.parent.iterdir()} == {"run"}


@pytest.mark.parametrize("steps", [2, 3, 9, 16])  # 16: the last progress call; index.md comes after it
@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_interrupted_run_leaves_the_previous_run_untouched(tmp_path, steps, exc):
    out = tmp_path / "run"
    _old_run(out)
    before = _snapshot(out)
    with pytest.raises(exc):
        reproduce(out, TINY, seed=0, progress=_interrupt_after(steps, exc))
    assert _snapshot(out) == before  # neither new files nor half-written ones
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # the staging folder is gone


def test_interrupted_first_run_creates_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        reproduce(tmp_path / "run", TINY, seed=0, progress=_interrupt_after(2))
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_during_the_move_is_delivered_after_it(tmp_path, monkeypatch):
    """A SIGINT arriving while the files are moved in does not cut the move: all files land, then it raises."""
    real_replace, sent = os.replace, []

    def replace(src, dst):  # os.replace is shared with plots.save: fire on the move into the folder only
        if not sent and Path(dst).parent == out:
            sent.append(dst)
            os.kill(os.getpid(), signal.SIGINT)
        real_replace(src, dst)

    out = tmp_path / "run"
    _old_run(out)
    monkeypatch.setattr(output.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        reproduce(out, TINY, seed=0)
    assert sent and {p.name for p in out.iterdir()} == EXPECTED | {"notes.txt"}
    assert (out / "index.md").read_text().startswith("# bcgc reproduce")
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_incomplete_staging_is_not_moved_in(tmp_path):
    staged, out = tmp_path / "staged", tmp_path / "run"
    staged.mkdir()
    (staged / "index.md").write_text("x")
    with pytest.raises(RuntimeError, match="incomplete"):
        output.commit(staged, out, EXPECTED)
    assert not out.exists()


# ---------------------------------------------------------------------------- refused before any work
@pytest.fixture
def no_work(monkeypatch):
    """Any experiment started fails the test at once (so a late refusal cannot pass)."""

    def design(*a, **k):
        raise AssertionError("work started before out was checked")

    monkeypatch.setattr(rep, "design", design)


def test_empty_out_is_refused(tmp_path, monkeypatch, no_work):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"out must name a folder, got ''"):
        reproduce("", TINY)
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_empty_out(tmp_path, monkeypatch, capsys, no_work):
    monkeypatch.chdir(tmp_path)
    assert main(["reproduce", "--quick", "--out", ""]) == 2
    assert "out must name a folder, got ''" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_out_that_is_a_file_is_refused(tmp_path, no_work):
    f = tmp_path / "results"
    f.write_text("keep me")
    with pytest.raises(ValueError, match="results"):
        reproduce(f, TINY)
    assert f.read_text() == "keep me" and [p.name for p in tmp_path.iterdir()] == ["results"]


def test_out_under_a_file_is_refused(tmp_path, no_work):
    f = tmp_path / "existing_file"
    f.write_text("keep me")
    with pytest.raises(ValueError, match="existing_file"):
        reproduce(f / "sub", TINY)
    assert f.read_text() == "keep me" and [p.name for p in tmp_path.iterdir()] == ["existing_file"]


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc")
def test_unwritable_location_is_refused(no_work):
    with pytest.raises(ValueError, match="/proc/bcgc-test"):
        reproduce("/proc/bcgc-test", TINY)


def test_output_name_taken_by_a_folder_is_refused(tmp_path, no_work):
    (tmp_path / "run" / "index.md").mkdir(parents=True)
    with pytest.raises(ValueError, match="index.md"):
        reproduce(tmp_path / "run", TINY)


def test_the_traces_page_text_has_no_unformatted_field():
    from bcgc.experiments.traces_page import index_traces

    text = "\n".join(index_traces([], 2000, 200))
    assert "{" not in text and "2000 draws" in text and "at most 200" in text
