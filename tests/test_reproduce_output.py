"""bcgc reproduce's output folder: checked before any work, written as a whole or not at all.

The writing (staging folder, the move, interruptions at any step, a Ctrl-C during the move) is tested on
``bcgc.experiments.output`` directly, with a fake run of small steps that writes the way ``reproduce`` does.
That ``reproduce`` writes through it is checked on the suite's one end-to-end run (``reproduced`` in
conftest.py: the previous run untouched at every step, then replaced as a whole) and on one real run
interrupted at its first step."""

import os
import signal
from pathlib import Path

import pytest

import bcgc.experiments.output as output
import bcgc.experiments.reproduce as rep
from bcgc.cli import main
from bcgc.experiments.reproduce import QUICK, reproduce

FIGURES = ("e_vs_n", "e_vs_rate", "e_vs_l", "prob_vs_t", "prob_vs_n", "beyond", "design", "cost", "traces", "frontier")
EXPECTED = {f"{f}.{ext}" for f in FIGURES for ext in ("png", "csv")} | {"trace.csv", "index.md"}
OLD_RUN = {"index.md": "old index\n", "e_vs_n.csv": "old,csv\n", "e_vs_n.png": "old png", "notes.txt": "mine\n"}
NEW_INDEX = "# fake run\n"


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


def _fake_reproduce(out, progress=None):
    """``reproduce``'s writing with small fake steps: ``out`` checked, one file staged per step (each step
    reports its progress with its file half written), ``index.md`` last, then the commit."""
    out = output.check_out(out, EXPECTED)
    with output.staging(out) as tmp:
        for name in sorted(EXPECTED - {output.INDEX}):
            with (tmp / name).open("w") as fh:
                fh.write("half of ")
                if progress:
                    progress(name)
                fh.write(f"{name}\n")
        (tmp / output.INDEX).write_text(NEW_INDEX)
        if progress:
            progress(output.INDEX)
        output.commit(tmp, out, EXPECTED)
    return out


FAKE_STEPS = len(EXPECTED)  # one progress call per file; the last one with index.md staged, before the commit


# ---------------------------------------------------------------------------- the end-to-end run
def test_complete_run_writes_exactly_the_expected_files(reproduced):
    parent, run = reproduced.parent, reproduced.path
    assert reproduced.margins
    assert {p.name for p in parent.iterdir()} == {"run"}  # no staging folder left beside it
    assert {p.name for p in run.iterdir()} == EXPECTED | {"notes.txt"}
    assert set(rep.OUTPUT_FILES) == EXPECTED
    index = (run / "index.md").read_text()
    assert index.startswith("# bcgc reproduce") and "old index" not in index  # the old run was replaced
    assert (run / "e_vs_n.csv").read_text().startswith("x,scheme,")
    assert (run / "notes.txt").read_text() == reproduced.old["notes.txt"]  # a user's file is left alone


def test_the_previous_run_is_untouched_at_every_step_of_a_run(reproduced):
    """So a run stopped at any step leaves it as it was: everything is written into the staging folder."""
    steps = reproduced.steps
    assert len(steps) > 10 and steps[0][0].startswith("e_vs_n") and steps[-1][0].startswith("frontier")
    for msg, untouched, beside in steps:
        assert untouched, msg
        assert len(beside) == 2 and beside[0].startswith(".run.partial-") and beside[1] == "run", (msg, beside)


def test_step_count_is_the_number_of_progress_calls(reproduced):
    """``bcgc reproduce`` shows "step k of n" with n from ``step_count``: it must count every step."""
    from bcgc.experiments.reproduce import step_count

    assert step_count(reproduced.cfg) == len(reproduced.steps)


def test_a_real_run_interrupted_at_its_first_step_leaves_the_previous_run(tmp_path, tiny_reproduce):
    out = tmp_path / "run"
    _old_run(out)
    before = _snapshot(out)
    staged = []

    def progress(msg):  # a half-written file in the staging folder, then Ctrl-C
        staged.extend(tmp_path.glob(".run.partial-*"))
        (staged[0] / "e_vs_n.csv").write_text("x,sch")
        raise KeyboardInterrupt(msg)

    with pytest.raises(KeyboardInterrupt):
        reproduce(out, tiny_reproduce, seed=0, progress=progress)
    assert len(staged) == 1 and not staged[0].exists()
    assert _snapshot(out) == before and [p.name for p in tmp_path.iterdir()] == ["run"]


# ---------------------------------------------------------------------------- bcgc.experiments.output
def test_complete_run_replaces_the_previous_one_and_keeps_the_users_files(tmp_path):
    out = tmp_path / "run"
    _old_run(out)
    assert _fake_reproduce(out) == out.resolve()
    assert {p.name for p in out.iterdir()} == EXPECTED | {"notes.txt"}
    assert (out / "index.md").read_text() == NEW_INDEX and (out / "e_vs_n.csv").read_text() == "half of e_vs_n.csv\n"
    assert (out / "notes.txt").read_text() == "mine\n"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_complete_run_into_a_new_folder_creates_it(tmp_path):
    out = tmp_path / "a" / "b" / "run"
    _fake_reproduce(str(out))
    assert {p.name for p in out.iterdir()} == EXPECTED
    assert {p.name for p in out.parent.iterdir()} == {"run"}


@pytest.mark.parametrize("steps", [1, 2, FAKE_STEPS - 1, FAKE_STEPS])  # the last: index.md staged, not moved
@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_interrupted_run_leaves_the_previous_run_untouched(tmp_path, steps, exc):
    out = tmp_path / "run"
    _old_run(out)
    before = _snapshot(out)
    with pytest.raises(exc):
        _fake_reproduce(out, progress=_interrupt_after(steps, exc))
    assert _snapshot(out) == before  # neither new files nor half-written ones
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # the staging folder is gone


def test_interrupted_first_run_creates_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _fake_reproduce(tmp_path / "run", progress=_interrupt_after(2))
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def default_sigint():
    """SIGINT handled as Python sets it up (KeyboardInterrupt), also in a run started with SIGINT ignored
    (a background job of a shell without job control); the previous handler is put back afterwards."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_during_the_move_is_delivered_after_it(tmp_path, monkeypatch, default_sigint):
    """A SIGINT arriving while the files are moved in does not cut the move: all files land, then it raises."""
    real_replace, sent = os.replace, []

    def replace(src, dst):  # fire on the first move into the folder
        if not sent and Path(dst).parent == out:
            sent.append(dst)
            os.kill(os.getpid(), signal.SIGINT)
        real_replace(src, dst)

    out = tmp_path / "run"
    _old_run(out)
    monkeypatch.setattr(output.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        _fake_reproduce(out)
    assert sent and {p.name for p in out.iterdir()} == EXPECTED | {"notes.txt"}
    assert (out / "index.md").read_text() == NEW_INDEX
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
        reproduce("", QUICK)
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
        reproduce(f, QUICK)
    assert f.read_text() == "keep me" and [p.name for p in tmp_path.iterdir()] == ["results"]


def test_out_under_a_file_is_refused(tmp_path, no_work):
    f = tmp_path / "existing_file"
    f.write_text("keep me")
    with pytest.raises(ValueError, match="existing_file"):
        reproduce(f / "sub", QUICK)
    assert f.read_text() == "keep me" and [p.name for p in tmp_path.iterdir()] == ["existing_file"]


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc")
def test_unwritable_location_is_refused(no_work):
    with pytest.raises(ValueError, match="/proc/bcgc-test"):
        reproduce("/proc/bcgc-test", QUICK)


def test_output_name_taken_by_a_folder_is_refused(tmp_path, no_work):
    (tmp_path / "run" / "index.md").mkdir(parents=True)
    with pytest.raises(ValueError, match="index.md"):
        reproduce(tmp_path / "run", QUICK)


def test_the_traces_page_text_has_no_unformatted_field():
    from bcgc.experiments.traces_page import index_traces

    text = "\n".join(index_traces([], 2000, 200))
    assert "{" not in text and "2000 draws" in text and "at most 200" in text
