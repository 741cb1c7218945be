"""Files and options found by attack (issue 21, 2b): an output that is also an input, two outputs on
one file, two runs on one log, an interrupted run's log, a document's links, deeply nested JSON,
svmlight files too large, options that were silently ignored."""

import json
import os

import numpy as np
import pytest

from bcgc._args import LazyFile
from bcgc.cli import main
from bcgc.design.document import load_design
from bcgc.timing.links import links

SE = "exponential:rate=1"


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def refused(args, capsys, fragment):
    code, out, err = run(args, capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and fragment in err, err


@pytest.fixture
def doc(tmp_path, capsys):
    code, out, _ = run(["design", "-N", "4", "-L", "40", "-m", SE, "--json"], capsys)
    assert code == 0
    path = tmp_path / "d.json"
    path.write_text(out)
    return path


def test_an_output_on_an_input_is_refused_and_the_input_kept(doc, tmp_path, capsys):
    before = doc.read_bytes()
    refused(
        ["evaluate", "--design", str(doc), "--json"] * 0
        + ["simulate", "-N", "4", "-m", SE, "--design", str(doc), "--plot", str(doc), "-k", "2"],
        capsys,
        "also the input --design",
    )
    refused(
        ["train", "-N", "4", "-m", SE, "--design", str(doc), "--log", str(doc), "-k", "2", "--backend", "threads"],
        capsys,
        "also the input --design",
    )
    assert doc.read_bytes() == before
    trace = tmp_path / "t.csv"
    trace.write_text("1,2\n2,1\n")
    refused(
        ["train", "-N", "2", "-m", f"trace:path={trace}", "--log", str(trace), "-k", "2", "--backend", "threads"],
        capsys,
        "also the input --model",
    )
    refused(
        [
            "train",
            "-N",
            "2",
            "-m",
            SE,
            "--stragglers",
            f"replay:path={trace}",
            "--log",
            str(trace),
            "-k",
            "2",
            "--backend",
            "threads",
        ],
        capsys,
        "also the input --stragglers",
    )
    data = tmp_path / "my.csv"
    data.write_text("label,a\n0,1\n1,2\n0,3\n1,4\n")
    refused(
        ["simulate", "-N", "2", "-m", SE, "--dataset", str(data), "--plot", str(data), "-k", "2"],
        capsys,
        "also the input --dataset",
    )
    assert trace.read_text() == "1,2\n2,1\n" and data.read_text().startswith("label,a")


def test_two_outputs_on_one_file_are_refused(tmp_path, capsys):
    x = str(tmp_path / "x")
    refused(
        ["train", "-N", "2", "-m", SE, "--log", x, "--plot", x, "-k", "2", "--backend", "threads"], capsys, "same file"
    )
    assert not os.path.exists(x)


def test_two_writers_of_one_log_never_interleave(tmp_path):
    path = tmp_path / "log.jsonl"
    with LazyFile(path) as one, LazyFile(path) as two:
        for i in range(200):
            one.write(json.dumps({"run": 1, "i": i}) + "\n")
            two.write(json.dumps({"run": 2, "i": i, "pad": "x" * 50}) + "\n")
    text = path.read_text()
    assert "\x00" not in text
    runs = {json.loads(line)["run"] for line in text.splitlines()}
    assert len(runs) == 1 and len(text.splitlines()) == 200  # one whole run's log, the last to finish
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []


def test_an_interrupted_writer_leaves_the_old_log(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text("OLD\n")
    with pytest.raises(KeyboardInterrupt), LazyFile(path) as log:
        log.write("partial\n")
        raise KeyboardInterrupt
    assert path.read_text() == "OLD\n" and (tmp_path / "log.jsonl.partial").read_text() == "partial\n"


@pytest.mark.parametrize(
    "links_value, fragment",
    [
        ({"bandwidth": 1e-300, "latency": 0, "ingress": None}, "bandwidth must be a number in [1e-09"),
        ({"bandwidth": True, "latency": 0}, "bandwidth must be a number"),
        ("fast", "links must be an object"),
        ({"bandwidth": [1], "latency": 0}, "bandwidth"),
        ({"bandwidth": 100, "latency": 1e300}, "latency must be a number in [0, 1e+09]"),
        ({"bandwidth": 100, "speed": 3}, "links must be an object"),
    ],
)
def test_a_documents_links_are_checked_as_the_options_are(doc, capsys, links_value, fragment):
    d = json.loads(doc.read_text())
    doc.write_text(json.dumps({**d, "links": links_value}))
    refused(["evaluate", "--design", str(doc)], capsys, fragment)


def test_the_core_refuses_links_the_options_refuse():
    for kwargs in ({"bandwidth": 1e-300}, {"latency": 1e300}, {"ingress": 1e-300}, {"bandwidth": True}):
        with pytest.raises(ValueError):
            links(**kwargs)


def test_train_and_simulate_take_a_documents_links(doc, capsys):
    d = json.loads(doc.read_text())
    doc.write_text(
        json.dumps({**d, "coords": 650, "blocks": [0, 0, 0, 650], "links": {"bandwidth": 100, "latency": 0.01}})
    )
    assert load_design(doc).links.bandwidth == 100
    refused(
        ["simulate", "-N", "4", "-m", SE, "--design", str(doc), "-k", "2", "--scheme", "bcgc"],
        capsys,
        "simulate does not model uploads",
    )
    train = ["train", "-N", "4", "-m", SE, "--design", str(doc), "-k", "2", "--scheme", "bcgc", "--backend", "threads"]
    refused([*train, "--bandwidth", "50"], capsys, "drop them to use the document's")
    code, out, _ = run([*train, "--json"], capsys)
    assert code == 0 and json.loads(out)["bandwidth"] == 100 and json.loads(out)["latency"] == 0.01


def test_deeply_nested_json_is_refused(tmp_path, capsys):
    deep = "[" * 100_000 + "]" * 100_000
    (tmp_path / "d.json").write_text(deep)
    (tmp_path / "l.jsonl").write_text(deep + "\n")
    refused(["evaluate", "--design", str(tmp_path / "d.json")], capsys, "nested too deeply")
    refused(["fit", "--log", str(tmp_path / "l.jsonl")], capsys, "not JSON")


def test_a_log_that_is_not_utf8(tmp_path, capsys):
    (tmp_path / "b.jsonl").write_bytes(b"\xff\xfe{}\n")
    refused(["fit", "--log", str(tmp_path / "b.jsonl")], capsys, "not UTF-8")


@pytest.mark.parametrize("index, fragment", [("20000000000", "not a readable svmlight"), ("3000000", "Gram")])
def test_svmlight_indices_too_large(tmp_path, capsys, index, fragment):
    path = tmp_path / "x.svm"
    path.write_text(f"1 1:1 {index}:2\n0 1:2 3:1\n")
    refused(["simulate", "-N", "2", "-m", SE, "--dataset", str(path), "-k", "2"], capsys, fragment)


def test_options_that_were_silently_ignored(doc, tmp_path, capsys):
    base = ["train", "-N", "2", "-m", SE, "-k", "2", "--backend", "threads"]
    refused(base + ["--stragglers", "natural", "--slowdown"], capsys, "does not apply to --stragglers natural")
    refused(base + ["--cpus-per-worker", "1"], capsys, "applies to --backend ray only")
    d = json.loads(doc.read_text())
    doc.write_text(json.dumps({**d, "coords": 650, "blocks": [0, 0, 0, 650], "subset_sizes": [0.4, 0.4, 0.1, 0.1]}))
    refused(
        ["simulate", "-N", "4", "-m", SE, "--design", str(doc), "--equal-subsets", "-k", "2", "--scheme", "bcgc"],
        capsys,
        "--equal-subsets",
    )


def test_fit_takes_a_trace_by_its_model_text(tmp_path, capsys):
    path = tmp_path / "t.csv"
    rows = np.random.default_rng(0).lognormal(0, 0.2, (20, 3))
    path.write_text("\n".join(",".join(f"{v:.6g}" for v in r) for r in rows) + "\n")
    code, out, _ = run(["fit", f"trace:path={path}", "--json"], capsys)
    assert code == 0 and json.loads(out)["rows"] == 20
    from bcgc.cli.fit_cmd import _paths

    assert _paths([f"empirical:path={path}", "x.csv"]) == [str(path), "x.csv"]


def test_link_design_with_a_huge_upload_time():
    """L = 1e8 at B = 1e-9 was a HiGHS 'Model error' (coefficients 1e17 beside 1)."""
    from bcgc.design import design

    r = design(SE, 4, 10**8, bandwidth=1e-9, samples=200)
    assert int(np.sum(r.blocks)) == 10**8


def test_ctrl_c_while_the_command_starts_is_one_line(monkeypatch, capsys):
    """Importing the commands takes a second or more; Ctrl-C then printed a traceback of the imports."""
    import builtins

    real = builtins.__import__

    def interrupted(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 1 and name == "app" and (globals or {}).get("__name__") == "bcgc.cli":
            raise KeyboardInterrupt
        return real(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", interrupted)
    code, out, err = run(["design", "-N", "3", "-L", "5", "-m", SE], capsys)
    assert code == 2 and err.strip() == "bcgc: interrupted"


@pytest.mark.parametrize(
    "line",
    [
        '{"observations": [[0, 1, -1, 0]]}',
        '{"observations": [[0, 1, NaN, 0], [1, 1, 1.2, 0]]}',
        '{"observations": [[0, 1, Infinity, 0], [1, 1, 1.2, 0]]}',
        '{"observations": [[0, true, 1.0, 0], [1, 1, 1.2, 0]]}',
    ],
)
def test_a_log_with_a_bad_observation_is_bad_input_not_a_bug(tmp_path, capsys, line):
    """Found by the section-2 attack: a plain ValueError, reported as an internal error."""
    (tmp_path / "l.jsonl").write_text(line + "\n")
    refused(["fit", "--log", str(tmp_path / "l.jsonl")], capsys, "an observation must be")


def test_a_replayed_full_straggler_is_no_nan(tmp_path):
    """Found by the section-2 attack: replay of a trace with inf, no fixed share: 0 · inf = NaN (a
    RuntimeWarning on stderr of train --adapt)."""
    import warnings

    from bcgc.runtime import parse_experience

    path = tmp_path / "inf.csv"
    path.write_text("1,2,inf,1\n1.2,1.1,inf,0.9\n")
    exp = parse_experience(f"replay:path={path}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a, b = exp.parts(4, 0, 0)
    assert not np.isnan(a).any() and not np.isnan(b).any() and np.isinf(b[2])
