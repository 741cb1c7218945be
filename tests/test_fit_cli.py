"""``bcgc fit`` on the command line: the model text it prints is a valid --model, --predict gives
99 increasing percentiles, bad input ends with exit code 2 and one line naming the problem."""

import json

import numpy as np
import pytest

from bcgc.cli import main
from bcgc.stragglers import parse_model
from test_fitting import synthetic_log


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def write_trace(path, samples):
    path.write_text(
        "# synthetic trace, seeded: bcgc tests\n"
        + "\n".join(",".join(f"{v:.6g}" for v in row) for row in samples)
        + "\n"
    )
    return str(path)


@pytest.fixture
def het_trace(tmp_path):
    law = parse_model("heterogeneous:3*lognormal:mu=0,sigma=0.1;1*lognormal:mu=0.5,sigma=0.1")
    return write_trace(tmp_path / "het.csv", law.sample(40, 4, seed=3))


def test_fit_one_trace_prints_a_model_that_design_accepts(het_trace, capsys):
    code, out, _ = run(["fit", het_trace, "--json", "--predict", "1"], capsys)
    d = json.loads(out)
    assert code == 0 and d["kind"] == "trace" and d["persistence"]["test"] == "kruskal-wallis"
    assert d["persistence"]["differ"] and d["model"].startswith("heterogeneous:")
    assert 0 <= d["ks"] < 0.2
    q = d["predicted_quantiles"]
    assert len(q) == 99 and all(b > a for a, b in zip(q, q[1:]))
    assert parse_model(d["model"]).workers == 4
    code, out, _ = run(["design", "-N", "4", "-L", "100", "-m", d["model"], "--samples", "200", "--json"], capsys)
    assert code == 0 and sum(json.loads(out)["blocks"]) == 100


def test_fit_text_output_ends_with_the_model_line(het_trace, capsys):
    code, out, _ = run(["fit", het_trace], capsys)
    assert code == 0 and "Kruskal-Wallis" in out and "KS distance" in out
    assert out.strip().splitlines()[-1].startswith("--model heterogeneous:")


def test_fit_loads_and_predict(tmp_path, capsys):
    a = parse_model("shifted-exponential:shift=1,rate=5")
    law = parse_model("affine:a=shifted-exponential:shift=1,rate=5;b=lognormal:mu=-1,sigma=0.3")
    zero = write_trace(tmp_path / "l0.csv", a.sample(20, 10, seed=1))
    one = write_trace(tmp_path / "l1.csv", law.sample(20, 10, seed=2))
    code, out, _ = run(["fit", "--loads", "0,1", zero, one, "--predict", "0.5", "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["kind"] == "loads" and len(d["files"]) == 2
    assert d["model"].startswith(f"affine:a=empirical:path={zero};b=")
    model = parse_model(d["model"])
    assert model.rate.spec == d["model"].split(";b=")[1]
    q = d["predicted_quantiles"]
    assert len(q) == 99 and all(y > x for x, y in zip(q, q[1:])) and 1 < q[0] < q[-1] < 3


def test_fit_log(tmp_path, capsys):
    path = synthetic_log(tmp_path / "run.jsonl", iterations=60)
    code, out, _ = run(["fit", "--log", str(path), "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["kind"] == "log" and d["censored"] > 0
    assert parse_model(d["model"]).spec == d["model"]


@pytest.mark.parametrize(
    "args, words",
    [
        (["fit"], "give a trace file"),
        (["fit", "nope.csv"], "not a readable file"),
        (["fit", "A", "B"], "need --loads"),
        (["fit", "--loads", "0,x", "A", "B"], "--loads must be"),
        (["fit", "--loads", "0", "A", "B"], "one load per file"),
        (["fit", "--alpha", "2", "A"], "--alpha must be"),
        (["fit", "--predict", "-1", "A"], "--predict must be"),
        (["fit", "--log", "run.jsonl", "A"], "--log takes no trace"),
        (["fit", "--log", "missing.jsonl"], "not a readable file"),
    ],
)
def test_bad_input_is_refused_by_name(args, words, capsys):
    code, out, err = run(args, capsys)
    assert code == 2 and out == "" and words in err and len(err.strip().splitlines()) == 1


def test_loads_without_zero_is_refused(tmp_path, capsys):
    one = write_trace(tmp_path / "a.csv", np.full((3, 2), 2.0))
    two = write_trace(tmp_path / "b.csv", np.full((3, 2), 3.0))
    code, _, err = run(["fit", "--loads", "0.5,1", one, two], capsys)
    assert code == 2 and "loads must include 0" in err


def test_a_shipped_trace_is_fitted_by_its_name(capsys):
    from bcgc.cli import main

    assert main(["fit", "trace:name=bytedance-se-dp32", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert parse_model(out["model"]).sample(2, 32, seed=0).shape == (2, 32)
