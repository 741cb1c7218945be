"""The design procedure of every command (bcgc.design.procedure, docs/traces.md "Cross-validated design
on a short trace"): ``bcgc design``, ``compare --holdout``, ``train`` and ``--adapt`` choose BCGC's
procedure by cross-validation on a trace of 2-100 rows, and say which won."""

import io
import json

import numpy as np
import pytest

from bcgc.cli import main
from bcgc.design import design
from bcgc.design.document import load_design
from bcgc.design.procedure import design_procedure
from bcgc.problems import load_dataset, make_problem
from bcgc.runtime import AdaptConfig, train
from bcgc.stragglers import Trace, parse_model, shipped_names, shipped_trace
from bcgc.timing import runtime
from bcgc.timing.orderstat import single_level_blocks

N, L = 8, 240
#: small L: the acceptance below is about the choice of procedure, which L barely moves
SMALL_L = 100


def _outlier_rows():
    """10 rows, one of which has two workers 50x slower (the over-fitting case of docs/traces.md)."""
    T = 1.0 + 0.1 * np.random.default_rng(1).random((10, N))
    T[3, [1, 5]] = 50.0
    return T


def _held_out_margin(blocks, sizes, test):
    """(mean of τ_design - τ_uncoded over the rows of ``test``, its standard error): paired rows."""
    d = runtime(blocks, test, subset_sizes=sizes) - test.max(axis=1)
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size))


@pytest.mark.parametrize("name", shipped_names())
def test_a_design_on_the_first_half_is_never_slower_than_uncoded_on_the_second(name):
    """Issue 21's acceptance: ``bcgc design``'s procedure (the function it calls, with its defaults)
    on the first half of the rows is within two standard errors of uncoded on the second half, or
    faster. Without cross-validation it was not: at Sydney load 0.75 the optimal design of the first
    half was 8.3 ± 3.1 slower than uncoded on the second (docs/traces.md)."""
    T = shipped_trace(name).samples
    k = T.shape[0] // 2
    r = design_procedure(Trace(T[:k]), T.shape[1], SMALL_L, eval_samples=100)  # the evaluation is not used
    gap, se = _held_out_margin(r.blocks, r.subset_sizes, T[k:])
    assert gap <= 2 * se, f"{name}: {r.procedure.label} is {gap:.4g} ± {se:.2g} slower than uncoded"
    assert r.procedure.label.startswith("cross-validated" if k <= 100 else "optimal, not cross-validated")


def test_without_cross_validation_the_short_trace_is_over_fitted():
    """The case the acceptance guards: the plain optimal design over-fits Sydney load 0.75's first half."""
    T = shipped_trace("lambda-sydney-b256-load0.750").samples
    gap, se = _held_out_margin(design(Trace(T[:10]), 256, SMALL_L, eval_samples=100).blocks, None, T[10:])
    assert gap > 2 * se
    r = design_procedure(Trace(T[:10]), 256, SMALL_L, cv=False, eval_samples=100)
    assert r.procedure.label == "optimal, not cross-validated (cross-validation off)"
    assert r.procedure.cross_validation is None


def test_the_procedure_refits_the_winner_and_reports_its_score():
    r = design_procedure(Trace(_outlier_rows()), N, L, samples=200)
    cv = r.procedure.cross_validation
    assert r.procedure.chosen == cv.chosen == "uncoded" and cv.folds == cv.rows == 10
    assert np.array_equal(r.blocks, single_level_blocks(N, L, 0)) and np.array_equal(cv.blocks, r.blocks)
    assert cv.score == cv.scores["uncoded"] < cv.scores["optimal"]
    assert (
        "cross-validated: uncoded (level 0) (CV E[τ]" in r.procedure.summary and "leave-one-out" in r.procedure.summary
    )
    assert r.inputs.allowed_levels == (0,) and r.evaluation.expected_runtime > 0
    # a law that is not a trace: design() exactly, no procedure
    law = parse_model("shifted-exponential:shift=1,rate=1")
    plain, same = design(law, N, L, seed=3), design_procedure(law, N, L, seed=3)
    assert same.procedure is None and np.array_equal(plain.blocks, same.blocks)


def test_tolerance_drops_uncoded_and_keeps_the_level_above_it():
    r = design_procedure(Trace(_outlier_rows()), N, L, tolerate=2, samples=200, folds=3)
    cv = r.procedure.cross_validation
    assert "uncoded" not in cv.scores and r.blocks[:2].sum() == 0
    if cv.chosen == "single level":
        assert cv.level >= 2 and np.array_equal(r.blocks, single_level_blocks(N, L, cv.level))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"folds": 3, "cv": False}, "folds: cross-validation is off"),
        ({"folds": 11}, r"folds must be an integer in \[2, 10\]"),
        ({"folds": 3, "method": "jensen"}, "folds: .*method 'jensen' asked"),
        ({"cv": "yes"}, "cv must be True or False"),
    ],
)
def test_bad_procedure_options_are_refused_by_name(kwargs, match):
    with pytest.raises(ValueError, match=match):
        design_procedure(Trace(_outlier_rows()), N, L, **kwargs)


def test_folds_need_a_trace():
    with pytest.raises(ValueError, match="folds: cross-validation chooses .* on a trace"):
        design_procedure(parse_model("exponential:rate=1"), N, L, folds=3)


def _cli(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def outlier_csv(tmp_path):
    path = tmp_path / "outlier.csv"
    np.savetxt(path, _outlier_rows(), delimiter=",")
    return str(path)


def test_bcgc_design_cross_validates_a_short_trace_and_says_so(outlier_csv, tmp_path, capsys):
    base = ["design", "-N", str(N), "-L", str(L), "-m", f"trace:path={outlier_csv}", "--samples", "200"]
    code, out, err = _cli(base, capsys)
    assert code == 0, err
    assert "procedure: cross-validated: uncoded (level 0); BCGC's design procedure chosen by leave-one-out" in out
    assert "CV E[τ]: uncoded" in out
    code, out, err = _cli(base + ["--json"], capsys)
    doc = json.loads(out)
    assert doc["blocks"] == single_level_blocks(N, L, 0).tolist()
    p = doc["procedure"]
    assert p["chosen"] == "uncoded" and p["label"] == "cross-validated: uncoded (level 0)"
    assert (
        p["cross_validation"]["folds"] == 10
        and p["cross_validation"]["score"] == p["cross_validation"]["scores"]["uncoded"]
    )
    path = tmp_path / "d.json"
    path.write_text(out)
    assert load_design(path).raw["procedure"]["chosen"] == "uncoded"  # the document reads back
    code, out, err = _cli(base + ["--json", "--no-cv"], capsys)
    doc = json.loads(out)
    assert doc["procedure"]["label"] == "optimal, not cross-validated (cross-validation off)"
    assert doc["blocks"] != single_level_blocks(N, L, 0).tolist()  # the over-fitted design, as asked
    code, out, err = _cli(base + ["--json", "--folds", "3"], capsys)
    assert code == 0 and json.loads(out)["procedure"]["cross_validation"]["folds"] == 3


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--folds", "3", "--no-cv"], "folds: cross-validation is off"),
        (["--folds", "1"], "--folds"),
        (["--folds", "3", "--method", "jensen"], "method 'jensen' asked"),
    ],
)
def test_bad_cv_options_on_the_command_line(outlier_csv, extra, fragment, capsys):
    code, out, err = _cli(["design", "-N", str(N), "-L", str(L), "-m", f"trace:path={outlier_csv}", *extra], capsys)
    assert code == 2 and fragment in err and err.count("\n") == 1 and out == "", err


def test_folds_on_a_law_that_is_not_a_trace_exit_2(capsys):
    code, out, err = _cli(["design", "-N", "4", "-L", "40", "-m", "exponential:rate=1", "--folds", "3"], capsys)
    assert code == 2 and "folds: cross-validation chooses" in err and out == "", err


def test_compare_holdout_without_cv(capsys, tmp_path):
    path = tmp_path / "t.csv"
    np.savetxt(path, np.vstack([_outlier_rows(), _outlier_rows()]), delimiter=",")
    args = ["compare", "-N", str(N), "-L", str(L), "-m", f"trace:path={path}", "--samples", "500", "--no-mm"]
    code, out, err = _cli(args + ["--holdout", "0.5", "--no-cv", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    bcgc = next(s for s in d["schemes"] if s["name"] == "bcgc")
    assert bcgc["parameters"]["design"] == "optimal, not cross-validated (cross-validation off)"
    assert d["holdout"]["cross_validation"] is None
    code, out, err = _cli(args + ["--no-cv"], capsys)
    assert code == 2 and "--no-cv needs --holdout" in err, err


@pytest.fixture(scope="module")
def problem():
    return make_problem("least-squares", load_dataset("synthetic", samples=240, seed=0, features=12), N)


def test_train_designs_by_the_procedure_and_says_which_won(problem, outlier_csv):
    res = train(problem, f"trace:path={outlier_csv}", ("bcgc",), iterations=2, backend="threads", unit=0.002)
    assert res[0].summary()["design_procedure"].startswith("cross-validated: uncoded (level 0) (CV E[τ] ")
    assert res[0].logs[0]["design"] == single_level_blocks(N, problem.L, 0).tolist()
    run = {"iterations": 2, "backend": "threads", "unit": 0.002, "samples": 200}
    plain = train(problem, f"trace:path={outlier_csv}", ("bcgc",), cv=False, **run)
    assert plain[0].procedure == "optimal, not cross-validated (cross-validation off)"


def test_adapt_refits_by_the_procedure(problem, tmp_path):
    """--adapt's refit on its window goes through the same procedure: the log says which won."""
    log = io.StringIO()
    train(
        problem,
        None,
        ("bcgc",),
        iterations=5,
        backend="threads",
        unit=0.002,
        log=log,
        stragglers="pareto:scale=1,shape=1.5",
        adapt=AdaptConfig(every=5, window=5, samples=300),
        samples=200,
    )
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    adapt = [e for e in events if e.get("event") == "adapt"]
    assert len(adapt) == 1 and adapt[0]["procedure"].startswith("cross-validated: ")
    assert adapt[0]["cross_validation"]["rows"] == 5 and adapt[0]["cross_validation"]["folds"] == 5
