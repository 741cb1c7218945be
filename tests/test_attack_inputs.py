"""Inputs found by attack (issue 21, 2b and 2): fitting degenerate data, full stragglers in a fit,
quantiles above the answering share, data files a run would overflow on. Each was a traceback, a
wrong number or a silently ignored input before."""

import math

import numpy as np
import pytest

from bcgc._validate import InputError
from bcgc.cli import main
from bcgc.fitting import fit_loads, fit_trace, predicted_quantiles
from bcgc.problems.data import read_file
from bcgc.stragglers import ShiftedExponential, parse_model


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, out, err, fragment):
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and fragment in err
    assert "Traceback" not in err


def csv_file(path, rows):
    path.write_text("\n".join(",".join(repr(float(v)) for v in row) for row in rows) + "\n")
    return str(path)


def test_fit_of_constant_times_is_refused_not_a_zero_division(tmp_path, capsys):
    path = csv_file(tmp_path / "c.csv", np.ones((3, 4)))
    one_line_error(*run(["fit", path], capsys), "2 distinct")
    with pytest.raises(InputError, match="distinct"):
        ShiftedExponential.fit(np.ones(10))


def test_fit_of_constant_times_at_several_loads_is_refused(tmp_path, capsys):
    zero = csv_file(tmp_path / "a.csv", np.full((3, 3), 0.5))
    one = csv_file(tmp_path / "b.csv", [[1.5, 1.6, 1.4], [1.5, 1.55, 1.45], [1.6, 1.5, 1.5]])
    code, out, err = run(["fit", "--loads", "0,1", zero, one, "--fixed", "named"], capsys)
    one_line_error(code, out, err, "distinct")


def test_fit_refuses_a_degenerate_law_on_tied_times():
    """Tied times gave pareto shape 2.7e8 (or a bimodal rate 5e16) at KS distance 0.93."""
    rng = np.random.default_rng(1)
    t = np.full((30, 4), 2.0)
    t[rng.random((30, 4)) < 0.1] += 1e-7
    with pytest.raises(InputError, match="KS distance"):
        fit_trace(t, families=("pareto", "shifted-exponential", "lognormal"))


def test_fit_loads_keeps_workers_that_never_answer():
    zero = np.array([[0.5, 0.5, 0.5], [0.6, 0.5, 0.4], [0.5, 0.55, 0.45]])
    one = np.array([[1.5, 1.5, np.inf], [1.6, 1.5, np.inf], [1.5, 1.55, np.inf]])
    fit = fit_loads([zero, one], [0, 1], families=("shifted-exponential",))  # one family: a quick test
    assert fit.report["full_stragglers"] == pytest.approx(1 / 3)
    assert fit.model.full_prob == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    "spec",
    [
        "shifted-exponential:shift=1,rate=1,full=0.5",
        "affine:a=1;b=shifted-exponential:shift=1,rate=1,full=0.5",
        "heterogeneous:2*exponential:rate=1,full=0.5",
    ],
)
def test_predicted_quantiles_above_the_answering_share_are_infinite(spec):
    q = predicted_quantiles(parse_model(spec), 1.0)
    assert np.all(np.isfinite(q[:49])) and np.all(np.isinf(q[49:]))  # P(T ≤ t) < 0.5 for every t


def test_huge_features_are_refused_not_trained_to_nan(tmp_path, capsys):
    X = np.random.default_rng(0).random((20, 3)) * 1e307
    np.savez(tmp_path / "big.npz", X=X, y=np.arange(20) % 2)
    code, out, err = run(
        ["simulate", "-N", "2", "-m", "exponential:rate=1", "--dataset", str(tmp_path / "big.npz"), "-k", "2"], capsys
    )
    one_line_error(code, out, err, "exceed")


def test_a_csv_dataset_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text("label,a,b\n0,1,2\n1,2,3\n", encoding="utf-8-sig")
    ds = read_file(path)
    assert ds.X.shape == (2, 2) and ds.classes == 2 and math.isfinite(ds.X.sum())


@pytest.mark.parametrize(
    "call",
    [
        lambda: __import__("bcgc.analysis", fromlist=["evaluate"]).evaluate(
            "exponential:rate=1", 4, {"a": 1}
        ),  # was TypeError
        lambda: predicted_quantiles(None, 1.0),  # was AttributeError
        lambda: predicted_quantiles(parse_model("exponential:rate=1"), 1.0, levels=[2.0]),  # was accepted
    ],
)
def test_api_misuse_is_a_value_error(call):
    with pytest.raises(InputError):
        call()
