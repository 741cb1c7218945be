"""Inputs found by the fresh attack of issue 21 (attack2): an integer past Python's 4300-digit limit
in a design document or a training log was an internal error (exit 1, traceback), and a tiny load
in ``fit --loads`` leaked a page of RuntimeWarnings onto stderr before its one-line refusal; a
``--log`` was written with mode 0600 whatever the umask (a replaced 0644 file became 0600)."""

import json
import warnings

from bcgc.cli import main


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, out, err, fragment):
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and fragment in err
    assert "Traceback" not in err and "internal error" not in err


def test_design_document_with_a_5001_digit_integer_is_refused(tmp_path, capsys):
    code, out, _ = run(["design", "-N", "4", "-L", "40", "-m", "exponential:rate=1", "--json"], capsys)
    assert code == 0
    text = json.dumps(json.loads(out)).replace('"seed": 0', '"seed": 1' + "0" * 5000)
    doc = tmp_path / "d.json"
    doc.write_text(text)
    one_line_error(*run(["evaluate", "--design", str(doc)], capsys), "too long")


def test_training_log_with_a_5001_digit_integer_is_refused(tmp_path, capsys):
    log = tmp_path / "run.jsonl"
    log.write_text('{"observations": [[0, 1, 1' + "0" * 5000 + ", 0], [1, 1, 1.2, 0]]}\n")
    one_line_error(*run(["fit", "--log", str(log)], capsys), "not JSON")


def test_fit_loads_with_a_tiny_load_warns_nothing(tmp_path, capsys):
    a = tmp_path / "a.csv"
    b = tmp_path / "b.csv"
    a.write_text("0.5,0.6,0.55\n0.52,0.58,0.5\n0.51,0.57,0.54\n")
    b.write_text("1.5,1.6,1.55\n1.52,1.58,1.5\n1.51,1.57,1.54\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, out, err = run(["fit", "--loads", "0,1e-300", str(a), str(b)], capsys)
    assert [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)] == []
    one_line_error(code, out, err, "no family for b")


def test_train_log_gets_an_ordinary_files_mode_not_0600(tmp_path, capsys):
    import os
    import stat

    log = tmp_path / "run.jsonl"
    old = os.umask(0o022)
    try:
        code, _, _ = run(
            ["train", "-N", "2", "-m", "exponential:rate=1", "-k", "2", "--backend", "threads"]
            + ["--scheme", "bcgc", "--log", str(log)],
            capsys,
        )
    finally:
        os.umask(old)
    assert code == 0
    assert stat.S_IMODE(log.stat().st_mode) == 0o644
