"""The command line: JSON contracts and every error path (exit code 2, one line, no traceback)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from bcgc.cli import main

SE = "shifted-exponential:shift=1,rate=1"


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_design_json_has_the_promised_keys(capsys):
    code, out, _ = run(["design", "-N", "3", "-L", "1000", "-m", SE, "-t", "3", "--json"], capsys)
    d = json.loads(out)
    assert code == 0
    for key in (
        "workers",
        "coords",
        "model",
        "objective",
        "method",
        "blocks",
        "relaxed",
        "expected_runtime",
        "expected_runtime_stderr",
        "completion_probability",
        "deadline",
        "solve_seconds",
    ):
        assert key in d
    assert sum(d["blocks"]) == 1000 and len(d["blocks"]) == 3 and len(d["relaxed"]) == 3
    assert d["expected_runtime_stderr"] is None  # exact evaluation
    assert abs(d["expected_runtime"] - 2.3183) < 2e-3 and 0 < d["completion_probability"] < 1


def test_design_human_output_has_a_bar_chart(capsys):
    code, out, _ = run(["design", "-N", "4", "-L", "100", "-m", SE], capsys)
    assert code == 0 and "█" in out and "expected runtime" in out


def test_evaluate_json(capsys):
    code, out, _ = run(["evaluate", "-N", "3", "-m", SE, "-x", "1,0,0", "-t", "3", "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["expected_runtime"] == pytest.approx(2.833333, rel=1e-6)
    assert d["expected_runtime_stderr"] is None and 0 < d["completion_probability"] < 1


def test_evaluate_monte_carlo_gives_a_stderr(capsys):
    code, out, _ = run(
        ["evaluate", "-N", "3", "-m", SE, "-x", "1,1,1", "--evaluation", "monte-carlo", "--samples", "1000", "--json"],
        capsys,
    )
    d = json.loads(out)
    assert code == 0 and d["expected_runtime_stderr"] > 0 and d["completion_probability"] is None


def test_compare_json_lists_every_scheme(capsys):
    code, out, _ = run(["compare", "-N", "6", "-L", "60", "-m", SE, "-t", "3", "--samples", "2000", "--json"], capsys)
    d = json.loads(out)
    names = [s["name"] for s in d["schemes"]]
    assert code == 0 and names[0] == "bcgc"
    assert {"uncoded", "gc_best", "tandon_partial", "ucmmc_best", "oracle"} <= set(names)
    for s in d["schemes"]:
        assert set(s) >= {"name", "expected_runtime", "completion_probability", "upload_per_worker", "parameters"}


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["design", "-N", "0", "-L", "5", "-m", SE], "--workers must be an integer in [1, 100000]"),
        (["design", "-N", "two", "-L", "5", "-m", SE], "--workers must be an integer"),
        (["design", "-N", "3", "-L", "0", "-m", SE], "--coords must be an integer in [1, 9007199254740992]"),
        (["design", "-N", "3", "-L", "5", "-m", SE, "--tolerate", "3"], "tolerate must be an integer in [0, 2]"),
        (
            ["design", "-N", "3", "-L", "5", "-m", SE, "--allowed-levels", "0,7"],
            "allowed_levels entry must be an integer in [0, 2]",
        ),
        (["design", "-N", "3", "-L", "5", "-m", SE, "-t", "0"], "--deadline must be a finite number > 0"),
        (["design", "-N", "3", "-L", "5", "-m", SE, "-t", "-2"], "--deadline must be a finite number > 0"),
        (["design", "-N", "3", "-L", "5", "-m", SE, "--objective", "deadline"], "deadline is required"),
        (["design", "-N", "3", "-L", "5", "-m", "shifted-exponential:shift=1"], "missing parameter 'rate'"),
        (["design", "-N", "3", "-L", "5", "-m", "nonsense"], "malformed"),
        (["design", "-N", "3", "-L", "5", "-m", "zipf:a=2"], "unknown law 'zipf'"),
        (["design", "-N", "3", "-L", "5", "-m", SE, "--method", "magic"], "invalid choice: 'magic'"),
        (["evaluate", "-N", "3", "-L", "5", "-m", SE, "-x", "1,1,1"], "blocks must sum to coords = 5, got a sum of 3"),
        (["evaluate", "-N", "3", "-m", SE, "-x", "1,1"], "blocks must have one entry per level"),
        (["evaluate", "-N", "3", "-m", SE, "-x", "1,-1,1"], "blocks must be non-negative integers"),
        (["evaluate", "-N", "3", "-m", SE, "-x", "a,b,c"], "--blocks must be comma-separated integers"),
        (["design", "-N", "3", "-m", SE], "--coords is required"),
        (["design", "-N", "3", "-L", "5"], "required: --model"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, args, fragment):
    code, out, err = run(args, capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and fragment in err and "Traceback" not in err


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("1,2,3\n2,-1,3\n", "time must be a number > 0, got '-1'"),
        ("1,2,3\n2,slow,3\n", "time must be a number > 0, got 'slow'"),
    ],
)
def test_bad_trace_exits_2(tmp_path, capsys, content, fragment):
    path = tmp_path / "trace.csv"
    path.write_text(content)
    code, _, err = run(["design", "-N", "3", "-L", "5", "-m", f"trace:path={path}"], capsys)
    assert code == 2 and fragment in err and err.count("\n") == 1


def test_trace_with_wrong_worker_count_exits_2(tmp_path, capsys):
    path = tmp_path / "trace.csv"
    np.savetxt(path, np.ones((4, 3)) + np.arange(3), delimiter=",")
    code, _, err = run(["design", "-N", "4", "-L", "5", "-m", f"trace:path={path}"], capsys)
    assert code == 2 and "workers must be 3" in err


def test_installed_entry_point_runs_as_a_process():
    proc = subprocess.run(
        [sys.executable, "-m", "bcgc", "design", "-N", "0", "-L", "3", "-m", SE], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_every_option_has_help_with_its_default_or_required():
    """First contact: `bcgc CMD --help` explains every option, says its default, marks required ones."""
    import argparse

    from bcgc._args import HelpFormatter
    from bcgc.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, cmd in sub.choices.items():
        text = cmd.format_help()
        for action in cmd._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"bcgc {name} {action.option_strings}: no help text"
            shown = HelpFormatter("x")._get_help_string(action)
            if action.required:
                assert "(required)" in shown, (name, action.option_strings)
            elif action.default not in (None, False) and not isinstance(action, argparse._StoreConstAction):
                assert "default" in shown, (name, action.option_strings)
        assert "usage: bcgc " + name in text


def test_the_design_document_runs_without_bcgc(capsys):
    """Another framework can use a design: placement, coordinate ranges and code matrices from the
    JSON alone decode the exact gradient from any N - s responders (plain numpy, no bcgc objects)."""
    code, out, _ = run(["design", "-N", "6", "-L", "60", "-m", SE, "--json"], capsys)
    doc = json.loads(out)["scheme"]
    rng = np.random.default_rng(0)
    G = rng.normal(size=(6, 60))  # ∂f_k for every subset k and coordinate
    for s, level in doc["levels"].items():
        s, (a, b) = int(s), level["range"]
        B = np.array(level["B"])
        for w in range(6):  # a worker only combines subsets it stores
            assert set(np.flatnonzero(B[w])) <= set(doc["placement"][w])
        F = np.sort(rng.choice(6, 6 - s, replace=False))
        messages = B[F] @ G[:, a:b]
        coef, *_ = np.linalg.lstsq(B[F].T, np.ones(6), rcond=None)
        assert np.allclose(coef @ messages, G[:, a:b].sum(axis=0), atol=1e-9)
    assert code == 0 and sum(lv["range"][1] - lv["range"][0] for lv in doc["levels"].values()) == 60
