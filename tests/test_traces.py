"""Real traces in the product (shipped files named without a path), the design document read back
(--design), and the out-of-sample comparison (compare --holdout): docs/traces.md."""

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from bcgc.cli import main
from bcgc.design.document import load_design
from bcgc.peers import compare
from bcgc.peers.holdout import compare_holdout, split_trace
from bcgc.stragglers import Trace, parse_model, read_trace, shipped_names, shipped_path, shipped_trace
from bcgc.timing.orderstat import OrderStatMax, descending

ROOT = Path(__file__).resolve().parents[1]
SE = "shifted-exponential:shift=1,rate=1"
#: workers x rows of every shipped trace, as its README says
SHAPES = {
    "alibaba-pai-job1": (10, 300),
    "alibaba-pai-job2": (10, 238),
    "bytedance-se-dp32": (32, 43),
    "lambda-canada-b2048-load0.000": (256, 30),
    "lambda-canada-b2048-load1.000": (256, 30),
    **{f"lambda-sydney-b256-load{x}": (256, 20) for x in ("0.000", "0.250", "0.500", "0.750", "1.000")},
}


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


# -- shipped traces -------------------------------------------------------------------------------
def test_every_shipped_trace_parses_with_its_provenance():
    assert set(shipped_names()) == set(SHAPES)
    for name, (workers, rows) in SHAPES.items():
        path = shipped_path(name)
        assert path.read_text().startswith("# ")  # provenance kept
        samples = read_trace(path)
        assert samples.shape == (rows, workers) and np.all(samples > 0) and np.all(np.isfinite(samples))
        law = parse_model(f"trace:name={name}")
        assert isinstance(law, Trace) and law.spec == f"trace:name={name}"
        assert parse_model(law.spec).samples.shape == (rows, workers)  # the text form round-trips
    readme = (shipped_path("alibaba-pai-job2").parent / "README.md").read_text()
    assert all(word in readme for word in ("CC BY 4.0", "Apache-2.0", "Sequential-Gradient-Coding-2"))


def test_the_traces_ship_as_package_data():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["bcgc"]
    assert "data/traces/*.csv" in data and "data/traces/README.md" in data


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("trace:name=nope", "expected one of alibaba-pai-job1, alibaba-pai-job2"),
        ("trace:name=", "trace name is empty"),
        ("trace:path=alibaba-pai-job2.csv", "named without a path: name=alibaba-pai-job2"),
        ("trace:name=a,path=b", "path=FILE.csv or name=NAME"),
    ],
)
def test_a_bad_trace_name_is_refused_with_the_shipped_names(text, fragment, capsys):
    with pytest.raises(ValueError) as exc:
        parse_model(text)
    assert fragment in str(exc.value)
    code, _, err = run(["design", "-N", "10", "-L", "10", "-m", text], capsys)
    assert code == 2 and fragment in err and err.count("\n") == 1


def test_empirical_takes_a_shipped_name_too():
    law = parse_model("empirical:name=bytedance-se-dp32.csv")
    assert law.spec == "empirical:name=bytedance-se-dp32" and law.values.size == 32 * 43


# -- the design document --------------------------------------------------------------------------
@pytest.fixture
def document(tmp_path, capsys):
    path = tmp_path / "design.json"
    code, out, _ = run(["design", "-N", "6", "-L", "120", "-m", SE, "--json"], capsys)
    assert code == 0
    path.write_text(out)
    return path


def test_design_round_trip_evaluates_like_the_blocks(document, capsys):
    doc = load_design(document)
    assert doc.workers == 6 and doc.coords == 120 and doc.model == SE and doc.subset_sizes is None
    _, by_doc, _ = run(["evaluate", "-N", "6", "-m", SE, "--design", str(document), "--json"], capsys)
    blocks = ",".join(map(str, doc.blocks))
    _, by_blocks, _ = run(["evaluate", "-N", "6", "-m", SE, "-x", blocks, "--json"], capsys)
    a, b = json.loads(by_doc), json.loads(by_blocks)
    assert a["expected_runtime"] == b["expected_runtime"] == json.loads(document.read_text())["expected_runtime"]
    assert a["blocks"] == doc.blocks.tolist()


def test_compare_design_pins_the_bcgc_row(tmp_path, capsys):
    doc = {"workers": 6, "coords": 60, "model": SE, "blocks": [60, 0, 0, 0, 0, 0]}  # uncoded, on purpose
    path = tmp_path / "uncoded.json"
    path.write_text(json.dumps(doc))
    code, out, _ = run(["compare", "-N", "6", "-m", SE, "--design", str(path), "--samples", "2000", "--json"], capsys)
    rows = {r["name"]: r for r in json.loads(out)["schemes"]}
    assert code == 0 and rows["bcgc"]["parameters"]["blocks"] == doc["blocks"] and rows["bcgc"]["tuned_for"] == "given"
    assert rows["bcgc"]["expected_runtime"] == pytest.approx(rows["uncoded"]["expected_runtime"], rel=1e-12)


def test_simulate_and_train_run_the_documents_blocks(tmp_path, capsys):
    doc = {"workers": 4, "coords": 650, "model": SE, "blocks": [600, 0, 50, 0]}  # least squares on digits: L = 650
    path = tmp_path / "d.json"
    path.write_text(json.dumps(doc))
    code, out, _ = run(
        ["simulate", "-N", "4", "-m", SE, "--design", str(path), "--scheme", "bcgc", "-k", "2", "--json"], capsys
    )
    assert code == 0 and json.loads(out)["schemes"][0]["parameters"]["blocks"] == doc["blocks"]
    log = tmp_path / "run.jsonl"
    code, out, _ = run(
        [
            "train",
            "-N",
            "4",
            "-m",
            SE,
            "--design",
            str(path),
            "--scheme",
            "bcgc",
            "-k",
            "2",
            "--backend",
            "threads",
            "--unit",
            "0.005",
            "--log",
            str(log),
            "--json",
        ],
        capsys,
    )
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert code == 0 and all(r["design"] == doc["blocks"] for r in records if r.get("event") == "iteration")


BAD_DOCUMENTS = [
    (None, "does not exist"),
    ("not json {", "is not JSON"),
    ("[1, 2]", "must be a JSON object"),
    ({"workers": 6, "coords": 60, "model": SE}, "lacks the key(s) blocks"),
    ({"workers": 6, "coords": 60, "model": SE, "blocks": [50, 0, 0, 0, 0, 0]}, "blocks sum to 50, but coords is 60"),
    ({"workers": 6, "coords": 60, "model": SE, "blocks": [60, 0, 0]}, "blocks must have one entry per level"),
    ({"workers": 6, "coords": 60, "model": SE, "blocks": [61, -1, 0, 0, 0, 0]}, "non-negative"),
    ({"workers": 0, "coords": 60, "model": SE, "blocks": []}, "workers must be an integer in [1,"),
    (
        {"workers": 6, "coords": 60, "model": SE, "blocks": [60, 0, 0, 0, 0, 0], "subset_sizes": [0.5, 0.5]},
        "subset_sizes must be a list of 6 fractions",
    ),
    (
        {"workers": 6, "coords": 60, "model": SE, "blocks": [60, 0, 0, 0, 0, 0], "subset_sizes": [0.2] * 6},
        "subset_sizes must sum to 1",
    ),
    ({"workers": 5, "coords": 60, "model": SE, "blocks": [60, 0, 0, 0, 0]}, "--workers 6 does not match"),
]


@pytest.mark.parametrize("content, fragment", BAD_DOCUMENTS)
def test_bad_design_documents_are_refused_by_name(tmp_path, capsys, content, fragment):
    path = tmp_path / "doc.json"
    if content is not None:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    code, _, err = run(["evaluate", "-N", "6", "-m", SE, "--design", str(path)], capsys)
    assert code == 2 and fragment in err and err.count("\n") == 1, err


def test_a_document_with_unequal_subsets_is_evaluated_with_them(tmp_path, capsys):
    path = tmp_path / "doc.json"
    sizes = [0.5, 0.1, 0.1, 0.1, 0.1, 0.1]
    path.write_text(
        json.dumps({"workers": 6, "coords": 60, "model": SE, "blocks": [0, 60, 0, 0, 0, 0], "subset_sizes": sizes})
    )
    code, out, _ = run(["evaluate", "-N", "6", "-m", SE, "--design", str(path), "--samples", "2000", "--json"], capsys)
    code_eq, out_eq, _ = run(
        ["evaluate", "-N", "6", "-L", "60", "-m", SE, "--blocks", "0,60,0,0,0,0", "--samples", "2000", "--json"], capsys
    )
    assert code == code_eq == 0  # the big subset slows down the workers that hold it
    assert json.loads(out)["expected_runtime"] > 1.1 * json.loads(out_eq)["expected_runtime"]


def test_train_runs_a_document_with_unequal_subsets(tmp_path, capsys):
    """The allocation of a design document reaches the workers: the data split by its sizes, every
    gradient exact, the sizes in the log (docs/runtime.md, "Data on the workers")."""
    path, log = tmp_path / "doc.json", tmp_path / "run.jsonl"
    sizes = [0.3, 0.1, 0.2, 0.1, 0.2, 0.1]
    path.write_text(
        json.dumps({"workers": 6, "coords": 650, "model": SE, "blocks": [600, 50, 0, 0, 0, 0], "subset_sizes": sizes})
    )
    code, out, err = run(
        [
            "train",
            "-N",
            "6",
            "-m",
            SE,
            "--design",
            str(path),
            "--scheme",
            "bcgc",
            "-k",
            "3",
            "--backend",
            "threads",
            "--unit",
            "0.01",
            "--log",
            str(log),
        ],
        capsys,
    )
    assert code == 0, err
    assert "bcgc: unequal data subsets at the end, d = [0.300, 0.100, 0.200," in out
    its = [r for r in map(json.loads, log.read_text().splitlines()) if r["event"] == "iteration"]
    assert len(its) == 3 and all(r["design"] == [600, 50, 0, 0, 0, 0] for r in its)
    assert all(np.allclose(r["subset_sizes"], sizes) for r in its)
    assert max(r["gradient_error"] for r in its) <= 1e-9


def test_design_coords_must_agree_with_coords(document, capsys):
    code, _, err = run(["compare", "-N", "6", "-L", "100", "-m", SE, "--design", str(document)], capsys)
    assert code == 2 and "--coords is 100, but the design document" in err
    code, _, err = run(["evaluate", "-N", "6", "-m", SE, "--design", str(document), "-x", "1,0,0,0,0,0"], capsys)
    assert code == 2 and "not allowed with argument --design" in err


# -- out of sample ---------------------------------------------------------------------------------
def _two_regimes(tmp_path, rows=40, workers=6):
    """A trace whose second half differs radically: worker 0 is 20x slower there, never before."""
    rng = np.random.default_rng(1)
    T = 1.0 + rng.exponential(0.2, size=(rows, workers))
    T[rows // 2 :, 0] *= 20.0
    path = tmp_path / "regimes.csv"
    np.savetxt(path, T, delimiter=",", header="two regimes")
    return path, T


def test_holdout_evaluates_on_the_held_out_rows_only(tmp_path):
    path, T = _two_regimes(tmp_path)
    law = parse_model(f"trace:path={path}")
    # 2 folds: the cross-validated choice is not what this test checks (tests/test_crossval.py), only
    # that whichever design it gives is evaluated on the held-out rows
    rows, split = compare_holdout(law, 6, 60, 0.5, samples=2000, folds=2)
    assert np.array_equal(split.train.samples, T[:20]) and np.array_equal(split.test, T[20:])
    r = {x.name: x for x in rows}
    assert r["uncoded"].expected_runtime == pytest.approx(T[20:].max(axis=1).mean(), rel=1e-12)
    assert r["oracle"].expected_runtime == pytest.approx((6 / (1 / T[20:]).sum(axis=1)).mean(), rel=1e-12)
    x, sizes = np.array(r["bcgc"].parameters["blocks"]), r["bcgc"].parameters.get("subset_sizes")
    if sizes is None:
        bcgc = OrderStatMax.from_blocks(x).samples(descending(T[20:])).mean()
    else:  # the design chose an allocation on the first half: the general model on the held-out rows
        from bcgc.timing import runtime

        bcgc = runtime(x, T[20:], np.zeros_like(T[20:]), sizes).mean()
    assert r["bcgc"].expected_runtime == pytest.approx(bcgc, rel=1e-12)
    # designed on the calm first half, BCGC does not protect against the slow worker of the second:
    inside = {x.name: x for x in compare(law, 6, 60, samples=2000)}
    assert r["bcgc"].expected_runtime > 1.5 * inside["bcgc"].expected_runtime
    assert r["bcgc"].evaluation.method == "held-out rows" and r["bcgc"].inputs.model is law


def test_compare_holdout_on_the_command_line_says_so(capsys):
    code, out, _ = run(
        [
            "compare",
            "-N",
            "10",
            "-L",
            "1000",
            "-m",
            "trace:name=alibaba-pai-job2",
            "--holdout",
            "0.5",
            "--samples",
            "2000",
        ],
        capsys,
    )
    assert code == 0 and out.startswith("out of sample: designed and tuned on rows 1-119")
    code, out, _ = run(
        [
            "compare",
            "-N",
            "10",
            "-L",
            "1000",
            "-m",
            "trace:name=alibaba-pai-job2",
            "--holdout",
            "0.25",
            "--samples",
            "2000",
            "--json",
        ],
        capsys,
    )
    d = json.loads(out)
    assert d["holdout"] == {"fraction": 0.25, "train_rows": [1, 178], "test_rows": [179, 238], "cross_validation": None}
    bcgc = next(s for s in d["schemes"] if s["name"] == "bcgc")  # 178 design rows: no cross-validation by default
    assert bcgc["parameters"]["design"] == "optimal, not cross-validated (178 design rows > 100)"


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--holdout", "0"], "--holdout must be a fraction in (0, 1)"),
        (["--holdout", "1"], "--holdout must be a fraction in (0, 1)"),
        (["--holdout", "nan"], "--holdout must be a fraction in (0, 1)"),
        (["--holdout", "half"], "--holdout must be a fraction in (0, 1)"),
        (["--holdout", "0.5", "-m", SE], "holdout needs a trace law"),
        (["--holdout", "0.001"], "leaves 238 row(s) to design on and 0 to evaluate on"),
    ],
)
def test_bad_holdout_values_are_refused_by_name(args, fragment, capsys):
    base = ["compare", "-N", "10", "-L", "100", "--samples", "100"]
    if "-m" not in args:
        base += ["-m", "trace:name=alibaba-pai-job2"]
    code, _, err = run(base + args, capsys)
    assert code == 2 and fragment in err and err.count("\n") == 1, err


def test_split_trace_refuses_non_fractions():
    law = shipped_trace("alibaba-pai-job1")
    for bad in (True, "0.5", 1.0, -0.1, np.nan):
        with pytest.raises(ValueError, match="holdout must be a fraction in"):
            split_trace(law, bad)


def test_the_demo_has_a_real_trace_step(capsys):
    from bcgc.demo import _real_trace

    _real_trace()
    out = capsys.readouterr().out
    assert "--model trace:name=alibaba-pai-job2 --holdout 0.5" in out and "out of sample" in out and "oracle" in out


def test_the_document_names_its_law(tmp_path, capsys):
    code, out, _ = run(["design", "-N", "10", "-L", "50", "-m", "trace:name=alibaba-pai-job1", "--json"], capsys)
    path = tmp_path / "d.json"
    path.write_text(out)
    doc = load_design(path)
    assert code == 0 and doc.model == "trace:name=alibaba-pai-job1"
    assert np.array_equal(doc.law().samples, shipped_trace("alibaba-pai-job1").samples)


def test_a_document_made_under_links_is_evaluated_under_them(tmp_path, capsys):
    path = tmp_path / "links.json"
    law = "pareto:scale=1,shape=2.5"
    # 300 draws (not 1000) for the links LP: the test is about the document, not the design's quality
    made = ["design", "-N", "6", "-L", "200", "-m", law, "--bandwidth", "50", "--latency", "0.1", "--samples", "300"]
    code, out, _ = run([*made, "--json"], capsys)
    assert code == 0
    path.write_text(out)
    code, out, _ = run(
        ["evaluate", "--design", str(path), "-N", "6", "-m", law, "--samples", "20000", "--json"], capsys
    )
    ev = json.loads(out)
    assert code == 0 and ev["links"]["bandwidth"] == 50
    assert ev["expected_runtime"] == pytest.approx(json.loads(path.read_text())["expected_runtime"], rel=0.02)
    code, _, err = run(["evaluate", "--design", str(path), "-N", "6", "-m", law, "--bandwidth", "10"], capsys)
    assert code == 2 and "was made for the links" in err


def test_a_document_with_rounded_sizes_is_renormalised(tmp_path, capsys):
    """Sizes summing to 1 within the document's tolerance (1e-6) are renormalised, so evaluate (which
    checks to 1e-9) takes them; further off they are refused naming the key."""
    path = tmp_path / "doc.json"
    for sizes, ok in (([0.5, 0.1, 0.1, 0.1, 0.1, 0.1000005], True), ([0.5, 0.1, 0.1, 0.1, 0.1, 0.11], False)):
        path.write_text(
            json.dumps({"workers": 6, "coords": 60, "model": SE, "blocks": [0, 60, 0, 0, 0, 0], "subset_sizes": sizes})
        )
        code, out, err = run(
            ["evaluate", "-N", "6", "-m", SE, "--design", str(path), "--samples", "500", "--json"], capsys
        )
        assert (code == 0) == ok and (ok or "subset_sizes must sum to 1" in err)


def test_evaluate_and_compare_take_n_and_the_law_from_the_document(document, capsys):
    code, out, _ = run(["evaluate", "--design", str(document), "--samples", "2000", "--json"], capsys)
    code_full, out_full, _ = run(
        ["evaluate", "-N", "6", "-m", SE, "--design", str(document), "--samples", "2000", "--json"], capsys
    )
    assert code == code_full == 0 and json.loads(out) == json.loads(out_full)
    code, out, _ = run(["compare", "--design", str(document), "--samples", "2000", "--no-mm", "--json"], capsys)
    assert code == 0 and json.loads(out)["schemes"][0]["name"] == "bcgc"
    code, _, err = run(["evaluate", "-x", "120,0,0,0,0,0", "-m", SE], capsys)
    assert code == 2 and "--workers is required for evaluate (or --design FILE" in err
    code, _, err = run(["compare", "-N", "6", "-L", "120"], capsys)
    assert code == 2 and "--model is required for compare" in err


def test_output_cut_short_by_the_reader_is_not_an_error(monkeypatch):
    """`bcgc ... | head`: a closed pipe ends the command quietly (exit 0), never with a traceback."""
    import sys

    class Closed:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["evaluate", "-N", "4", "-L", "8", "-m", SE, "-x", "8,0,0,0"]) == 0
