"""Errors: bad input is one line and exit code 2; anything else is a bug, shown as one (a traceback,
a line saying so, exit code 1). Ranges are declared once (bcgc._validate.Interval/Options) and said
the same way by the API and the command line. And bcgc.recommend ranks rows it is given."""

import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from bcgc import _validate as V
from bcgc._args import UsageError, number
from bcgc.cli import BUG, main
from bcgc.design import design
from bcgc.recommend import Recommendation, check_law, recommend
from bcgc.stragglers import ShiftedExponential, parse_model

SE = "shifted-exponential:shift=1,rate=1"


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------------- exit codes
@pytest.mark.parametrize(
    "args, fragment",
    [
        (["design", "-N", "0", "-L", "5", "-m", SE], "--workers must be an integer in [1, 100000], got 0"),
        (["design", "-N", "3", "-L", "5", "-m", SE, "--objective", "deadline"], "deadline is required"),  # the core's
        (["evaluate", "-N", "3", "-m", SE, "-x", "1,-1,1"], "blocks must be non-negative integers"),
    ],
)
def test_an_input_error_is_one_line_and_exit_2(capsys, args, fragment):
    code, out, err = run(args, capsys)
    assert code == 2 and out == "" and err.startswith("bcgc: error: ")
    assert err.count("\n") == 1 and fragment in err and "Traceback" not in err and "bug" not in err


def _broadcast(*args, **kwargs):
    return np.ones(3) + np.ones(4)  # numpy: "operands could not be broadcast together"


def _index(*args, **kwargs):
    return np.arange(3)[5]


def _internal(*args, **kwargs):
    raise RuntimeError("an impossible state")


@pytest.mark.parametrize(
    "bug, kind",
    [(_broadcast, "ValueError: operands could not be broadcast"), (_index, "IndexError"), (_internal, "RuntimeError")],
)
def test_an_internal_bug_shows_its_traceback_and_says_it_is_a_bug(monkeypatch, capsys, bug, kind):
    monkeypatch.setattr("bcgc.cli.design_run.design_procedure", bug)
    code, out, err = run(["design", "-N", "3", "-L", "5", "-m", SE], capsys)
    lines = err.strip().splitlines()
    assert code == 1 and out == ""
    assert lines[0] == "Traceback (most recent call last):" and kind in err and "_errors.py" in err
    assert lines[-1] == BUG and "bug in bcgc" in BUG and "report it" in BUG
    assert "bcgc: error:" not in err  # never disguised as bad input


def test_a_numpy_value_error_is_not_an_input_error():
    with pytest.raises(ValueError) as info:
        _broadcast()
    assert not isinstance(info.value, V.InputError)


def test_a_run_failure_is_one_line_and_exit_1_not_a_bug(monkeypatch, capsys):
    def gave_up(*args, **kwargs):
        raise V.RunFailed("HiGHS failed on the SAA linear program: numerical difficulties")

    monkeypatch.setattr("bcgc.cli.design_run.design_procedure", gave_up)
    code, out, err = run(["design", "-N", "3", "-L", "5", "-m", SE], capsys)
    assert code == 1 and err == "bcgc: failed: HiGHS failed on the SAA linear program: numerical difficulties\n"


def test_floating_point_warnings_are_not_switched_off_for_the_whole_command(monkeypatch, capsys):
    def overflow(*args, **kwargs):
        np.exp(np.array([1000.0]))  # a RuntimeWarning the command must not silence
        raise V.InputError("stop here")

    monkeypatch.setattr("bcgc.cli.design_run.design_procedure", overflow)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert run(["design", "-N", "3", "-L", "5", "-m", SE], capsys)[0] == 2
    assert any(issubclass(w.category, RuntimeWarning) and "overflow" in str(w.message) for w in seen)


@pytest.mark.parametrize(
    "args",
    [
        ["evaluate", "-N", "4", "-m", SE + ",full=0.2", "--blocks", "0,5,0,1", "--deadline", "3"],
        ["compare", "-N", "4", "-L", "20", "-m", SE + ",full=0.2", "--deadline", "3", "--samples", "500"],
    ],
)
def test_full_stragglers_raise_no_floating_point_warning(capsys, args):
    """T = inf is legitimate with full stragglers: the core handles its arithmetic where it happens."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        code, out, err = run(args, capsys)
    assert code == 0 and err == ""


def test_a_deadline_design_on_a_trace_with_full_stragglers_has_a_finite_gradient(tmp_path, capsys):
    """The smoothed tail's gradient took 0 · inf = nan for a row that never completes (a warning, and
    a nan gradient for the optimiser); its limit is 0."""
    trace = tmp_path / "inf.csv"
    trace.write_text("1,inf,2\n3,1,inf\n2,2,2\n")
    args = ["design", "-N", "3", "-L", "12", "-m", f"trace:path={trace}", "--objective", "deadline", "--deadline", "3"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        code, out, err = run(args, capsys)
    assert code == 0 and err == "" and "P(τ ≤ 3)" in out


# ---------------------------------------------------------------------------- declarative constraints
@pytest.mark.parametrize(
    "constraint, value, message",
    [
        (V.Interval(int, 1, 5), 9, "workers must be an integer in [1, 5], got 9"),
        (V.Interval(int, 1, 5), 2.5, "workers must be an integer in [1, 5], got 2.5"),
        (V.Interval(int, 1, 5), True, "workers must be an integer in [1, 5], got True"),
        (V.Interval(int, 0, None), -1, "workers must be an integer >= 0, got -1"),
        (V.Interval(int, None, 3), 10**400, "workers must be an integer <= 3, got an integer of 401 digits"),
        (V.Interval(float, 0, None, closed="neither"), 0.0, "workers must be a finite number > 0, got 0.0"),
        (V.Interval(float, 0, None, closed="neither"), math.inf, "workers must be a finite number > 0, got inf"),
        (V.Interval(float, 0, math.inf, closed="right"), math.nan, "workers must be a number in (0, inf], got nan"),
        (V.Interval(float, 0, 1, closed="left", noun="probability"), 1, "workers must be a probability in [0, 1)"),
        (V.Interval(float, 0, 1), "0.5", "workers must be a number in [0, 1], got '0.5'"),
        (V.Options("exact", "monte-carlo"), "magic", "workers must be one of exact, monte-carlo, got 'magic'"),
        (V.Options("exact", "monte-carlo"), ["exact"], "workers must be one of exact, monte-carlo, got ['exact']"),
        (V.Options("exact", "monte-carlo"), np.array(["exact", "x"]), "workers must be one of exact, monte-carlo"),
    ],
)
def test_constraints_name_the_parameter_and_the_range(constraint, value, message):
    with pytest.raises(V.InputError) as info:
        constraint.check("workers", value)
    assert str(info.value).startswith(message) and isinstance(info.value, ValueError)
    assert value not in constraint


@pytest.mark.parametrize(
    "constraint, value, expected",
    [
        (V.Interval(int, 1, 5), 5, 5),
        (V.Interval(int, 1, 5), 3.0, 3),
        (V.Interval(int, 1, 5), np.int64(1), 1),
        (V.Interval(float, 0, math.inf, closed="right"), math.inf, math.inf),
        (V.Interval(float, 0, 1, closed="neither"), np.float32(0.5), 0.5),
        (V.Options("exact", "monte-carlo"), "exact", "exact"),
    ],
)
def test_constraints_return_what_they_accept(constraint, value, expected):
    got = constraint.check("x", value)
    assert got == expected and type(got) is type(expected) and value in constraint


def test_constraints_describe_themselves():
    assert V.WORKERS.describe() == f"an integer in [1, {V.MAX_WORKERS}]"
    assert V.POSITIVE.describe() == "a finite number > 0"
    assert V.Interval(float, -1, 1, closed="neither").describe() == "a number in (-1, 1)"
    assert V.Options("a", "b").describe() == "one of a, b"
    with pytest.raises(TypeError):
        V.Interval(int, 5, 1)


def test_the_command_line_and_the_api_state_the_same_range_for_workers(capsys):
    with pytest.raises(V.InputError) as api:
        design(ShiftedExponential(1, 1), 0, 10)
    code, _, err = run(["design", "-N", "0", "-L", "10", "-m", SE], capsys)
    rng = V.WORKERS.describe()
    assert code == 2 and f"workers must be {rng}, got 0" in str(api.value) and f"--workers must be {rng}, got 0" in err


def test_the_command_line_and_the_api_state_the_same_range_for_coords(capsys):
    with pytest.raises(V.InputError) as api:
        design(ShiftedExponential(1, 1), 3, 2**60)
    code, _, err = run(["design", "-N", "3", "-L", str(2**60), "-m", SE], capsys)
    assert code == 2 and f"coords must be {V.COORDS.describe()}" in str(api.value)
    assert f"--coords must be {V.COORDS.describe()}" in err


def test_an_option_type_uses_the_constraint_and_keeps_the_text_as_typed():
    conv = number("--alpha", V.Interval(float, 0, 1, closed="neither"))
    assert conv("0.25") == 0.25
    for text in ("1", "nan", "x", "1_0"):
        with pytest.raises(UsageError, match="--alpha must be"):
            conv(text)
    with pytest.raises(UsageError) as info:
        conv("1.50")
    assert str(info.value) == "--alpha must be a number in (0, 1), got '1.50'"


def test_validators_raise_input_errors():
    for call in (
        lambda: V.positive("deadline", -1),
        lambda: V.nonnegative("latency", True),
        lambda: V.probability("full", 1, open_right=True),
        lambda: V.blocks([1, 2], 3),
        lambda: parse_model("zipf:a=2"),  # converted by the codemod
    ):
        with pytest.raises(V.InputError):
            call()


# ---------------------------------------------------------------------------- recommend
def row(name, runtime, stderr=0.0, exact=True):
    return SimpleNamespace(name=name, expected_runtime=runtime, expected_runtime_stderr=stderr, exact_gradient=exact)


def test_recommend_ranks_the_exact_schemes_and_sets_the_rest_apart():
    rows = [
        row("uncoded", 3.0),
        row("oracle", 0.5),  # a bound: fastest, never chosen
        row("gc", 2.0, 0.01),
        row("ignore_stragglers", 0.9, exact=False),
        row("bcgc", 1.5, 0.01),
        row("tandon_partial", 1.0, exact=False),
        row("ucmmc", 2.0),
    ]
    rec = recommend(rows)
    assert isinstance(rec, Recommendation)
    assert [r.name for r in rec.ranking] == ["bcgc", "gc", "ucmmc", "uncoded"]  # equal E[τ]: by name
    assert [r.name for r in rec.not_ranked] == ["oracle", "ignore_stragglers", "tandon_partial"]
    assert rec.best is rows[4] and rec.runner_up is rows[2] and not rec.tied
    assert rec.gap_percent == pytest.approx(100 / 3)
    assert rec.reason == "bcgc has the smallest E[τ] of the 4 exact schemes; the runner-up gc takes 33.33% longer"
    with pytest.raises(AttributeError):
        rec.tied = True  # frozen


def test_recommend_calls_a_runner_up_within_two_standard_errors_a_tie():
    rec = recommend([row("gc", 1.02, 0.01), row("bcgc", 1.0, 0.01)])
    assert rec.best.name == "bcgc" and rec.tied and rec.reason.endswith("within Monte Carlo error: a tie")
    rec = recommend([row("gc", 1.03, 0.01), row("bcgc", 1.0, 0.01)])  # 3 % > 2·√2·1 %
    assert not rec.tied
    rec = recommend([row("bcgc", 1.0)])
    assert rec.runner_up is None and rec.gap_percent is None and rec.reason == "bcgc is the only exact scheme compared"


def test_recommend_refuses_what_it_cannot_rank():
    with pytest.raises(V.InputError, match="at least one exact scheme"):
        recommend([row("oracle", 1.0), row("ignore_stragglers", 1.0, exact=False)])
    with pytest.raises(V.InputError, match="finite E"):
        recommend([row("bcgc", math.inf)])
    with pytest.raises(V.InputError, match="infinite with full stragglers"):
        check_law(parse_model(SE + ",full=0.1"))
    check_law(parse_model(SE))
