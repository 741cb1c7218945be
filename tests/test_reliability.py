"""Reliability defects found by attack (issue "never a wrong number, never lost data, never a
hang"): each reproduction command of the issue, as a test. Exact-evaluation defects are in
test_extremes.py, model-text defects in test_input_laws.py, reproduce's outputs in
test_reproduce_output.py."""

import json
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

from bcgc.cli import main
from bcgc.design import design
from bcgc.peers import compare
from bcgc.problems import load_dataset, make_problem
from bcgc.schemes.blocks import BlockScheme
from bcgc.stragglers import ShiftedExponential

SE = "shifted-exponential:shift=1,rate=1"


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_exit_2(code, out, err):
    return code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err


# ---------------------------------------------------------------------------- 4. huge L
@pytest.mark.parametrize(
    "args, fragment",
    [
        (
            ["design", "-N", "5", "-L", "1000000000000000000", "-m", SE],
            "coords must be an integer in [1, 9007199254740992]",
        ),
        (
            ["design", "-N", "5", "-L", "9223372036854775807", "-m", SE],
            "coords must be an integer in [1, 9007199254740992]",
        ),
        (["design", "-N", "5", "-L", "1" + "0" * 400, "-m", SE], "an integer of 401 digits"),
        (["evaluate", "-N", "3", "-m", SE, "--blocks", "9007199254740993,0,0"], "<= 2^53"),
        (["evaluate", "-N", "3", "-m", SE, "--blocks", "4503599627370496,4503599627370496,1"], "at most 2^53"),
        (["evaluate", "-N", "3", "-m", SE, "--blocks", "1" + "0" * 400 + ",0,0"], "an integer of 401 digits"),
        (["evaluate", "-N", "4", "-m", SE, "--blocks", "1,,2,3"], "empty entry"),
    ],
)
def test_counts_that_cannot_be_represented_exactly_are_refused(capsys, args, fragment):
    code, out, err = run(args, capsys)
    assert one_line_exit_2(code, out, err) and fragment in err and "-9223372036854775808" not in err


def test_blocks_just_below_2_to_the_53_keep_every_unit(capsys):
    big = 2**53 - 2
    code, out, _ = run(["evaluate", "-N", "3", "-m", SE, "--blocks", f"{big},1,1", "--json"], capsys)
    assert code == 0 and json.loads(out)["blocks"] == [big, 1, 1] and json.loads(out)["coords"] == 2**53
    # one unit more: the float sum would round 2^53 + 1 down to 2^53 and lose it; refused instead
    code, out, err = run(["evaluate", "-N", "3", "-m", SE, "--blocks", f"{big + 1},1,1", "--json"], capsys)
    assert one_line_exit_2(code, out, err) and "at most 2^53" in err


def test_design_refuses_coords_it_cannot_count():
    with pytest.raises(ValueError, match=r"coords must be an integer in \[1, 9007199254740992\]"):
        design(ShiftedExponential(1, 1), 5, 10**20)


# ---------------------------------------------------------------------------- 5. the log survives refused input
def test_a_refused_train_never_empties_an_existing_log(tmp_path, capsys):
    log = tmp_path / "run.jsonl"
    log.write_text("precious\n")
    code, _, err = run(
        ["train", "-N", "4", "-m", SE + ",full=0.2", "--backend", "threads", "--log", str(log)], capsys
    )  # full stragglers without a deadline: refused
    assert code == 2 and "deadline" in err and log.read_text() == "precious\n"
    fresh = tmp_path / "new.jsonl"
    run(["train", "-N", "4", "-m", SE, "--backend", "threads", "--tolerate", "9", "--log", str(fresh)], capsys)
    assert not fresh.exists()


# ---------------------------------------------------------------------------- 12. outputs checked first
@pytest.mark.parametrize("flag", ["--plot", "--log"])
def test_unwritable_outputs_are_refused_before_the_run(tmp_path, capsys, flag):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    for target in (tmp_path / "missing" / "out.png", tmp_path, a_file / "sub.png", "/dev/full"):
        args = ["train", "-N", "4", "-m", SE, "--backend", "threads", "--iterations", "50", flag, str(target)]
        code, out, err = run(args, capsys)
        assert one_line_exit_2(code, out, err) and flag in err, (target, err)
    code, out, err = run(["simulate", "-N", "4", "-m", SE, "--plot", str(tmp_path / "nowhere" / "x.png")], capsys)
    assert one_line_exit_2(code, out, err)


def test_the_plot_is_written_where_the_message_says(tmp_path, capsys):
    target = tmp_path / "adir"
    code, out, _ = run(
        ["simulate", "-N", "4", "-m", SE, "--iterations", "2", "--scheme", "uncoded", "--plot", str(target)], capsys
    )
    assert code == 0 and f"wrote {target}" in out and target.is_file()
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------- 8. unreachable cluster
def test_an_unreachable_ray_address_is_refused_within_seconds(capsys):
    pytest.importorskip("ray")
    code, out, err = run(["train", "-N", "4", "-m", SE, "--address", "127.0.0.1:1", "--iterations", "1"], capsys)
    assert one_line_exit_2(code, out, err) and "no Ray cluster answers" in err


# ---------------------------------------------------------------------------- 9. full stragglers, every scheme
def test_uncoded_and_bcgc_treat_a_full_straggler_law_alike():
    from bcgc.runtime import train

    problem = make_problem("least-squares", load_dataset("digits", samples=300, seed=0), 4)
    from bcgc.stragglers import FullStragglers

    law = FullStragglers(ShiftedExponential(1, 1), 0.2)
    res = train(
        problem,
        law,
        ("bcgc", "uncoded"),
        iterations=4,
        unit=0.002,
        backend="threads",
        seed=3,
        objective="deadline",
        deadline=5.0,
    )
    for r in res:
        assert len(r.logs) == 4 and r.summary()["max_gradient_error"] <= 1e-9
    assert res[1].summary()["retries"] >= res[0].summary()["retries"]  # uncoded needs all 4 workers


# ---------------------------------------------------------------------------- 10. huge N
@pytest.mark.parametrize(
    "args, fragment",
    [
        (["design", "-N", "10000000000", "-L", "100", "-m", SE], "workers must be an integer in [1, 100000]"),
        (
            ["design", "-N", "50", "-L", "100", "-m", SE, "--samples", "10000000000", "--method", "saa-lp"],
            "--samples must be an integer in [10, 1000000000]",
        ),
        (["design", "-N", "50", "-L", "100", "-m", SE, "--samples", "900000000", "--method", "saa-lp"], "GiB"),
        (["compare", "-N", "5000", "-L", "100", "-m", SE, "--samples", "10000000"], "GiB"),
    ],
)
def test_work_past_what_memory_allows_is_refused(capsys, args, fragment):
    code, out, err = run(args, capsys)
    assert one_line_exit_2(code, out, err) and fragment in err


def test_a_huge_design_evaluates_on_a_bounded_budget():
    r = design(ShiftedExponential(1, 1), 20_000, 10**6, method="jensen")
    assert r.inputs.eval_samples == 2_000 and r.evaluation.method == "monte-carlo"


# ---------------------------------------------------------------------------- 11. Ctrl-C
def test_ctrl_c_is_one_line(capsys, monkeypatch):
    import bcgc.cli as cli
    import bcgc.cli.design_run  # noqa: F401  (the runner main imports when design runs)

    def interrupted(a):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.design_run, "run_design", interrupted)
    code, out, err = run(["design", "-N", "3", "-L", "5", "-m", SE], capsys)
    assert one_line_exit_2(code, out, err) and "interrupted" in err


# ---------------------------------------------------------------------------- 14. messages
@pytest.mark.parametrize(
    "args, forbidden, required",
    [
        (["design", "-N", "3", "-L", "5", "-m", SE, "--frob"], "bcgc: error: bcgc", "unrecognized arguments"),
        (["simulate", "-N", "4", "-m", SE + ",full=0.3"], "Traceback", "--objective deadline --deadline T"),
        (
            ["train", "-N", "4", "-m", SE + ",full=0.3", "--backend", "threads"],
            "Traceback",
            "--objective deadline --deadline T",
        ),
        (
            ["evaluate", "-N", "3", "-m", "heterogeneous:3*" + SE, "--blocks", "1,1,1", "--evaluation", "exact"],
            "method='monte-carlo'",
            "--evaluation monte-carlo",
        ),
    ],
)
def test_messages_name_the_flags_of_the_command_line(capsys, args, forbidden, required):
    code, out, err = run(args, capsys)
    assert one_line_exit_2(code, out, err) and forbidden not in err and required in err


def test_no_numpy_warning_reaches_the_user(capsys):
    # in this process (a subprocess spent ~2 s of CPU importing): every warning is recorded, none
    # filtered or shown once only, and nothing may reach stderr
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["evaluate", "-N", "5", "-m", "weibull:scale=1,shape=800", "--blocks", "20,20,20,20,20"])
    err = capsys.readouterr().err
    assert code == 0 and err == "" and not caught, (err, [str(w.message) for w in caught])


# ---------------------------------------------------------------------------- 15. API misuse
def test_design_takes_a_law_or_its_text_and_refuses_anything_else():
    assert design(SE, 3, 10).blocks.sum() == 10
    for bad in (None, 3, ["x"]):
        with pytest.raises(ValueError, match="model must be a straggler law"):
            design(bad, 3, 10)


@pytest.mark.parametrize(
    "kw, fragment",
    [
        ({"alpha": 0}, "alpha"),
        ({"alpha": float("nan")}, "alpha"),
        ({"method": "bogus"}, "evaluation method must be one of"),
    ],
)
def test_compare_refuses_bad_options(kw, fragment):
    with pytest.raises(ValueError, match=fragment):
        compare(ShiftedExponential(1, 1), 4, 40, samples=200, **kw)


def test_decoding_refuses_fractional_indices_and_unknown_levels():
    scheme = BlockScheme([3, 0, 2, 1], 4)
    with pytest.raises(ValueError, match="responders must be worker indices"):
        scheme.decode(2, [0.5, 1.7], np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"level must be one of the non-empty levels \[0, 2, 3\]"):
        scheme.decode(5, [0], np.ones((1, 2)))


def test_a_master_refuses_blocks_that_do_not_cover_the_coordinates():
    from bcgc.runtime import Master, ThreadBackend

    problem = make_problem("least-squares", load_dataset("digits", samples=200, seed=0), 4)
    with pytest.raises(ValueError, match=f"blocks must sum to coords = {problem.L}"):
        Master(ThreadBackend([problem] * 4), problem, ShiftedExponential(1, 1), [1, 2, 3, 4])


def test_an_infinite_mean_is_null_in_json_with_its_reason(capsys):
    code, out, _ = run(
        ["compare", "-N", "5", "-L", "100", "-m", "pareto:scale=1,shape=0.8", "--samples", "2000", "--json"], capsys
    )
    d = json.loads(out)
    uncoded = next(s for s in d["schemes"] if s["name"] == "uncoded")
    assert code == 0 and uncoded["expected_runtime"] is None and "infinite" in uncoded["note"]
    assert all(s["expected_runtime"] is None or s["expected_runtime"] > 0 for s in d["schemes"])
    assert not math.isnan(d["schemes"][0]["expected_runtime"] or 0.0)


# ---------------------------------------------------------------------------- the second attack's findings
@pytest.mark.parametrize(
    "args, fragment",
    [
        (
            ["train", "-N", "4", "-m", SE, "--backend", "threads", "--unit", "1e300"],
            "--unit must be a number in (0, 3600]",
        ),
        (
            ["train", "-N", "4", "-m", SE, "--backend", "threads", "--unit", "1e6"],
            "--unit must be a number in (0, 3600]",
        ),
        (["train", "-N", "4", "-m", SE, "--backend", "threads", "--features", "100000000000"], "--features"),
        (
            ["train", "-N", "4", "-m", SE, "--backend", "threads", "--scheme", "bcgc", "--tolerate", "4"],
            "tolerate must be an integer in [0, 3]",
        ),
        (
            ["train", "-N", "4", "-m", SE, "--backend", "threads", "--tolerate", "4"],
            "tolerate must be an integer in [0, 3]",
        ),
        (["train", "-N", "4", "-m", SE, "--backend", "threads", "--address", "127.0.0.1:6379"], "--address applies"),
        (
            ["train", "-N", "4", "-m", SE, "--backend", "threads", "--dataset", "digits", "--features", "5"],
            "--features applies",
        ),
        (["train", "-N", "4", "-m", SE, "--backend", "threads", "--log", "/proc/version"], "--log"),
        (
            ["design", "-N", "4", "-L", "12", "-m", SE, "--objective", "deadline", "-t", "3", "--method", "saa-lp"],
            "minimises E",
        ),
        (["evaluate", "-N", "3", "-x", "5,3,2", "-m", SE, "-t", "1_0"], "ASCII digits only"),
        (["evaluate", "-N", "３", "-x", "5,3,2", "-m", SE], "ASCII digits only"),
        (
            [
                "evaluate",
                "-N",
                "3",
                "-x",
                "5,3,2",
                "-m",
                SE,
                "--evaluation",
                "monte-carlo",
                "--samples",
                "100000000000",
            ],
            "--samples must be an integer in [2, 1000000000]",
        ),
        (
            ["simulate", "-N", "4", "-m", SE, "--iterations", "100000000000"],
            "--iterations must be an integer in [1, 1000000]",
        ),
    ],
)
def test_second_attack_inputs_are_refused_in_one_line(capsys, args, fragment):
    code, out, err = run(args, capsys)
    assert one_line_exit_2(code, out, err) and fragment in err, err


def test_a_tiny_full_straggler_probability_still_makes_the_mean_infinite(capsys):
    code, out, _ = run(
        ["evaluate", "-N", "3", "-x", "5,3,2", "-m", "exponential:rate=1,full=1e-300", "-t", "3", "--json"], capsys
    )
    d = json.loads(out)
    assert code == 0 and d["expected_runtime"] is None and "full stragglers" in d["note"]


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: design(SE, 3, 10, objective="deadline", deadline=True), "deadline must be a finite number > 0"),
        (lambda: design(SE, 3, 10, objective="deadline", deadline="3"), "deadline must be a finite number > 0"),
        (lambda: design(SE, 3, 10, allowed_levels=5), "allowed_levels must be a list"),
        (lambda: __import__("bcgc.analysis", fromlist=["x"]).evaluate(SE, 3, [True, False, True]), "blocks must be"),
        (lambda: __import__("bcgc.analysis", fromlist=["x"]).evaluate(SE, 3, "5,3,2"), "blocks must be"),
        (lambda: BlockScheme([5, 3, 2], 3).subsets_of(-1), "worker must be an integer in [0, 2]"),
        (lambda: BlockScheme([5, 3, 2], 3).subsets_of(True), "worker must be an integer"),
        (lambda: BlockScheme([5, 3, 2], 3).ready_time(5, 1.0), "level must be one of"),
        (lambda: BlockScheme([5, 3, 2], 3).ready_time(1, float("nan")), "t_n must be a time"),
    ],
)
def test_api_misuse_found_by_the_second_attack(call, fragment):
    with pytest.raises(ValueError) as info:
        call()
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "kw, fragment",
    [
        ({"unit": 0}, "unit"),
        ({"unit": float("nan")}, "unit"),
        ({"unit": "0.01"}, "unit"),
        ({"iterations": 2.5}, "iterations"),
        ({"schemes": "bcgc"}, "schemes must be a list"),
        ({"log": "/tmp/x.jsonl"}, "log must be a file object"),
    ],
)
def test_train_validates_its_arguments(kw, fragment):
    from bcgc.runtime import train

    problem = make_problem("least-squares", load_dataset("digits", samples=200, seed=0), 4)
    args = {"schemes": ("bcgc",), "iterations": 1, "unit": 0.01, "backend": "threads", **kw}
    with pytest.raises(ValueError, match=fragment):
        train(problem, ShiftedExponential(1, 1), **args)


def test_sigterm_during_reproduce_leaves_no_partial_folder(tmp_path):
    import signal
    import time

    out = tmp_path / "figs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bcgc", "reproduce", "--quick", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while not any(tmp_path.glob(".figs.partial-*")) and proc.poll() is None:
        time.sleep(0.1)  # wait until the run is staging its files
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "interrupted" in err
    assert list(tmp_path.iterdir()) == []  # no partial folder, no half-written output
