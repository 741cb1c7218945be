"""``bcgc train``'s outputs besides its table: --save, checkpoints, --metrics-csv, --tensorboard,
progress on a terminal, --startup-timeout, and the default scheme (docs/runtime.md)."""

import csv
import json
import sys
import types

import numpy as np
import pytest

from bcgc.cli import main
from bcgc.runtime.checkpoint import read_checkpoint

BASE = ["train", "-N", "4", "-m", "shifted-exponential:shift=0.1,rate=1", "--backend", "threads"]
SMALL = [*BASE, "--dataset", "synthetic", "--max-samples", "200", "--features", "8", "--unit", "0.005"]


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_save_checkpoint_and_resume(capsys, tmp_path):
    saved, ck = tmp_path / "theta.npy", tmp_path / "run.ckpt"
    args = [*SMALL, "-k", "3", "--json", "--save", str(saved), "--checkpoint", str(ck), "--checkpoint-every", "2"]
    code, out, _ = run(args, capsys)
    d = json.loads(out)
    assert code == 0 and [s["name"] for s in d["schemes"]] == ["bcgc"]  # the default scheme: bcgc alone
    theta = np.load(saved)
    state = read_checkpoint(ck)
    assert theta.shape == (d["coords"],) and state["iteration"] == 3 and np.array_equal(state["theta"], theta)
    code, out, _ = run([*SMALL, "-k", "5", "--json", "--resume", str(ck)], capsys)
    assert code == 0 and json.loads(out)["schemes"][0]["iterations"] == 2  # iterations 3 and 4


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--checkpoint-every", "2"], "--checkpoint-every needs --checkpoint PATH"),
        (["--scheme", "bcgc,gc", "--save", "x.npy"], "--save applies to one scheme"),
        (["--scheme", "all", "--resume", "x"], "--resume applies to one scheme"),
        (["--scheme", "bcgc,nope"], "--scheme must be all or a comma-separated list"),
        (["--scheme", "gc,gc"], "--scheme must be all or a comma-separated list of distinct"),
        (["--resume", "no-such-file"], "resume: no-such-file is not a readable checkpoint"),
        (["--startup-timeout", "5"], "--startup-timeout applies to --backend ray only"),
        (["--startup-timeout", "0"], "--startup-timeout must be a finite number > 0"),
    ],
)
def test_bad_output_options_are_one_line_exit_2(capsys, extra, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run([*SMALL, "-k", "1", *extra], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and out == ""


def test_metrics_csv_has_a_row_per_iteration_and_scheme(capsys, tmp_path):
    path = tmp_path / "m.csv"
    code, _, _ = run([*SMALL, "-k", "2", "--scheme", "bcgc,uncoded", "--metrics-csv", str(path)], capsys)
    rows = list(csv.DictReader(path.open()))
    assert code == 0 and list(rows[0]) == ["iteration", "scheme", "loss", "measured_seconds", "predicted_seconds"]
    assert [(r["iteration"], r["scheme"]) for r in rows] == [
        ("0", "bcgc"),
        ("1", "bcgc"),
        ("0", "uncoded"),
        ("1", "uncoded"),
    ]
    assert all(float(r["loss"]) > 0 and float(r["predicted_seconds"]) > 0 for r in rows)


def test_tensorboard_writes_scalars_or_says_why_not(capsys, tmp_path, monkeypatch):
    calls = []

    class Writer:
        def __init__(self, log_dir):
            calls.append(("dir", log_dir))

        def add_scalar(self, tag, value, step):
            calls.append((tag, step))

        def close(self):
            calls.append("closed")

    board = types.ModuleType("torch.utils.tensorboard")
    board.SummaryWriter = Writer
    for name in ("torch", "torch.utils"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", board)
    code, _, _ = run([*SMALL, "-k", "2", "--tensorboard", str(tmp_path / "tb")], capsys)
    assert code == 0 and calls[0] == ("dir", str(tmp_path / "tb")) and calls[-1] == "closed"
    assert ("bcgc/loss", 1) in calls and ("bcgc/predicted_seconds", 0) in calls
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # not importable
    code, _, err = run([*SMALL, "-k", "1", "--tensorboard", str(tmp_path / "tb")], capsys)
    assert code == 0 and "--tensorboard skipped: torch.utils.tensorboard is not importable" in err


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_progress_on_a_terminal_only_and_never_with_json(capsys, monkeypatch, json_flag):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, _, err = run([*SMALL, "-k", "2", *json_flag], capsys)
    assert code == 0
    assert ("scheme bcgc: iteration 2/2, loss " in err) == (not json_flag)
