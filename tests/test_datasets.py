"""A user's own data (docs/problems.md, your own data): the digits written to .npz, CSV and svmlight
train exactly as the built-in ``digits``; labels are mapped only out loud; every bad file ends in one
line on stderr and exit code 2."""

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file, load_digits

from bcgc.cli import main
from bcgc.problems import Dataset, load_dataset, make_problem
from bcgc.simulate import simulate
from bcgc.stragglers import ShiftedExponential

DOC = Path(__file__).resolve().parents[1] / "docs" / "problems.md"
LAW = "shifted-exponential:shift=0.1,rate=1"
# one scheme: the data, not the schemes, is under test here, and designing every scheme cost ~5 s a run
RUN = ["simulate", "-N", "6", "-m", LAW, "--iterations", "12", "--max-samples", "700", "--seed", "3", "--json"]
RUN += ["--scheme", "bcgc"]


def write_csv(path, X, y, label="label", first=False):
    names = [f"pixel{i}" for i in range(X.shape[1])]
    cols, head = ([y, X], [label, *names]) if first else ([X, y], [*names, label])
    np.savetxt(path, np.column_stack(cols), delimiter=",", fmt="%.17g", comments="", header=",".join(head))
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The bundled digits, scaled as the built-in set (X/16), in each format."""
    folder = tmp_path_factory.mktemp("digits")
    d = load_digits()
    X, y = d.data / 16.0, d.target
    np.savez(folder / "digits.npz", X=X, y=y)
    write_csv(folder / "digits.csv", X, y)
    dump_svmlight_file(X, y, str(folder / "digits.svm"), zero_based=False)
    return {"npz": folder / "digits.npz", "csv": folder / "digits.csv", "svm": folder / "digits.svm"}


def run_json(capsys, args):
    code = main(args)
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)


def fails(capsys, args, *words):
    """Exit 2 with one line on stderr that holds every word."""
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("bcgc: error: ") and err.count("\n") == 1, err
    for word in words:
        assert word in err, err
    return err


# ---------------------------------------------------------------------------- the same training
@pytest.mark.parametrize("problem", ["least-squares", "softmax"])
def test_files_train_exactly_as_the_builtin_digits_on_the_command_line(files, capsys, problem):
    builtin = run_json(capsys, RUN + ["--problem", problem, "--dataset", "digits"])
    for path in files.values():
        mine = run_json(capsys, RUN + ["--problem", problem, "--dataset", str(path)])
        assert mine["coords"] == builtin["coords"] and mine["samples"] == builtin["samples"] == 700
        assert mine["dataset_note"] is None  # labels 0..9 are used as they are: nothing to report
        for a, b in zip(mine["schemes"], builtin["schemes"], strict=True):
            assert a["name"] == b["name"] and a["final_loss"] == pytest.approx(b["final_loss"], rel=1e-9)


@pytest.mark.parametrize("kind", ["npz", "csv", "svm"])
def test_files_give_the_same_loss_trajectory_in_python(files, kind):
    law = ShiftedExponential(0.1, 1.0)
    builtin, mine = load_dataset("digits", samples=500, seed=1), load_dataset(files[kind], samples=500, seed=1)
    assert mine.classes == 10 and mine.X.shape == builtin.X.shape and np.array_equal(mine.y, builtin.y)
    ref = simulate(make_problem("softmax", builtin, 5), law, "bcgc", iterations=15, seed=2)
    got = simulate(make_problem("softmax", mine, 5), law, "bcgc", iterations=15, seed=2)
    np.testing.assert_allclose(got.losses, ref.losses, rtol=1e-9)
    assert got.losses[-1] < 0.8 * got.losses[0]


def test_train_reads_a_file_too(files, capsys):
    args = [
        "train",
        "-N",
        "4",
        "-m",
        LAW,
        "--backend",
        "threads",
        "--scheme",
        "bcgc",
        "--iterations",
        "3",
        "--unit",
        "0.001",
        "--max-samples",
        "300",
        "--json",
        "--dataset",
    ]
    builtin, mine = run_json(capsys, args + ["digits"]), run_json(capsys, args + [str(files["npz"])])
    assert mine["dataset"] == str(files["npz"]) and mine["coords"] == builtin["coords"]
    assert mine["schemes"][0]["final_loss"] == pytest.approx(builtin["schemes"][0]["final_loss"], rel=1e-9)


def test_the_worked_example_in_the_docs_runs_as_written(tmp_path, monkeypatch, capsys):
    section = DOC.read_text().split("### Worked example", 1)[1]
    script = re.search(r"```bash\n(.*?)```", section, flags=re.S).group(1)
    python = re.search(r"<<'EOF'\n(.*?)\nEOF\n", script, flags=re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(python, str(DOC), "exec"), {})
    losses = [
        run_json(capsys, shlex.split(line)[1:])["schemes"][0]["final_loss"]
        for line in script.splitlines()
        if line.startswith("bcgc ")
    ]
    assert len(losses) == 4 and losses == pytest.approx([losses[0]] * 4, rel=1e-9)


# ---------------------------------------------------------------------------- labels
def test_minus_one_plus_one_labels_are_mapped_and_reported(tmp_path, capsys):
    d = load_digits()
    X, y = d.data[d.target < 2] / 16.0, d.target[d.target < 2]
    np.savez(tmp_path / "pm.npz", X=X, y=2 * y - 1)
    np.savez(tmp_path / "01.npz", X=X, y=y)
    args = RUN + ["--problem", "logistic", "--dataset"]
    pm, plain = run_json(capsys, args + [str(tmp_path / "pm.npz")]), run_json(capsys, args + [str(tmp_path / "01.npz")])
    assert "-1→0, 1→1" in pm["dataset_note"] and plain["dataset_note"] is None
    assert pm["schemes"][0]["final_loss"] == pytest.approx(plain["schemes"][0]["final_loss"], rel=1e-9)
    ds = load_dataset(tmp_path / "pm.npz")
    assert ds.classes == 2 and ds.labels == (-1, 1) and set(ds.y) == {0, 1}


def test_csv_names_and_a_label_column_elsewhere(tmp_path):
    rows = ["kind,a,b", "dog,1,2", "cat,3,4", "dog,5,6", "bird,0,1"]
    (tmp_path / "pets.csv").write_text("\n".join(rows) + "\n")
    ds = load_dataset(tmp_path / "pets.csv", label="kind")
    assert ds.labels == ("bird", "cat", "dog") and list(ds.y) == [2, 1, 2, 0]
    assert ds.X.tolist() == [[1, 2], [3, 4], [5, 6], [0, 1]] and "bird→0" in ds.note
    d = load_digits()
    mine = load_dataset(
        write_csv(tmp_path / "first.csv", d.data / 16.0, d.target, label="digit", first=True), label="digit"
    )
    assert np.array_equal(mine.X, d.data / 16.0) and np.array_equal(mine.y, d.target) and mine.note == ""


def test_labels_from_one_are_mapped_not_taken_as_classes(tmp_path):
    ds = Dataset.from_arrays(np.eye(3), np.array([1.0, 2.0, 3.0]))
    assert ds.classes == 3 and list(ds.y) == [0, 1, 2] and "1→0, 2→1, 3→2" in ds.note


def test_builtin_sets_keep_their_logistic_split_but_arrays_need_two_classes():
    digits = load_dataset("digits", samples=200)
    assert make_problem("logistic", digits, 4).t[0].mean() > 0  # label < 5 is positive, as before
    mine = Dataset.from_arrays(digits.X, digits.y, name="mine")
    with pytest.raises(ValueError, match=r"mine: logistic regression needs exactly 2 classes, found 10 \(0, 1"):
        make_problem("logistic", mine, 4)


# ---------------------------------------------------------------------------- errors
def test_a_missing_file_names_the_flag(tmp_path, capsys):
    fails(capsys, RUN + ["--dataset", str(tmp_path / "nope.npz")], "--dataset", "nope.npz", "no such file")
    fails(capsys, RUN + ["--dataset", str(tmp_path)], "--dataset", "not a file")
    with pytest.raises(ValueError, match="no such file"):
        load_dataset(tmp_path / "nope.csv")


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


GOOD_X, GOOD_Y = np.arange(40.0).reshape(20, 2), np.arange(20) % 3


def bad_files(folder):
    """(file, extra arguments, words the message must hold) for every bad file the issue names."""

    def csv(name, text):
        (folder / name).write_text(text)
        return folder / name

    x_nan, x_inf = GOOD_X.copy(), GOOD_X.copy()
    x_nan[4, 1], x_inf[2, 0] = np.nan, np.inf
    return [
        (csv("empty.csv", ""), [], ["empty"]),
        (csv("zero.npz", ""), [], ["empty"]),
        (_npz(folder / "empty.npz"), [], ["arrays X and y", "none"]),
        (csv("empty.svm", ""), [], ["empty"]),
        (csv("nolines.csv", "a,label\n"), [], ["no data rows"]),
        (_npz(folder / "noy.npz", X=GOOD_X), [], ["arrays X and y", "found X"]),
        (_npz(folder / "flat.npz", X=np.arange(20.0), y=GOOD_Y), [], ["2-D", "(20,)"]),
        (_npz(folder / "short.npz", X=GOOD_X, y=GOOD_Y[:-1]), [], ["20 samples", "19 labels"]),
        (_npz(folder / "nan.npz", X=x_nan, y=GOOD_Y), [], ["NaN or infinite", "row 4, column 1"]),
        (_npz(folder / "inf.npz", X=x_inf, y=GOOD_Y), [], ["NaN or infinite", "row 2, column 0"]),
        (_npz(folder / "text.npz", X=GOOD_X.astype(str), y=GOOD_Y), [], ["not real numbers"]),
        (csv("cell.csv", "a,b,label\n1,2,0\n3,x,1\n"), [], ["line 3", "column 'b'", "'x' is not a number"]),
        (csv("nancell.csv", "a,b,label\n1,2,0\n3,inf,1\n"), [], ["NaN or infinite", "line 3, column 'b'"]),
        (csv("ragged.csv", "a,b,label\n1,2,0\n3,1\n"), [], ["line 3 has 2 cells"]),
        (csv("nolabel.csv", "a,b,c\n1,2,0\n"), [], ["no label column 'label'", "--label", "a, b, c"]),
        (csv("other.csv", "a,b,c\n1,2,0\n"), ["--label", "y"], ["no label column 'y'"]),
        (_npz(folder / "ok.npz", X=GOOD_X, y=GOOD_Y), ["--label", "y"], ["--label", "not one"]),
        (csv("half.csv", "a,label\n1,0\n2,0.5\n"), [], ["labels must be classes", "0.5", "line 3"]),
        (_npz(folder / "nanlabel.npz", X=GOOD_X, y=np.where(GOOD_Y == 1, np.nan, GOOD_Y)), [], ["label at row 1"]),
        (csv("blank.csv", "a,label\n1,cat\n2, \n"), [], ["empty label", "line 3"]),
        (
            _npz(folder / "three.npz", X=GOOD_X, y=GOOD_Y),
            ["--problem", "logistic"],
            ["logistic regression needs exactly 2 classes", "found 3 (0, 1, 2)"],
        ),
        (_npz(folder / "few.npz", X=GOOD_X[:4], y=GOOD_Y[:4]), [], ["workers", "4 rows", "got 6"]),
        (_npz(folder / "ok2.npz", X=GOOD_X, y=GOOD_Y), ["--max-samples", "5"], ["workers", "5 rows"]),
        (csv("junk.npz", "not a zip"), [], ["not an .npz archive"]),
        (csv("junk.svm", "a,b\n1,2\n"), [], ["not a readable svmlight/libsvm file"]),
        (csv("data.txt", "1 2\n"), [], ["unknown file type '.txt'"]),
        (_binary(folder / "binary.csv"), [], ["not a readable CSV file"]),
    ]


def _binary(path):
    path.write_bytes(b"\xff\xfe\x00\x81" * 10)
    return path


def test_every_bad_file_is_one_line_and_exit_2(tmp_path, capsys):
    for path, extra, words in bad_files(tmp_path):
        args = ["simulate", "-N", "6", "-m", LAW, "--iterations", "2", "--dataset", str(path), *extra]
        fails(capsys, args, path.name, *words)
    args = ["train", "-N", "6", "-m", LAW, "--backend", "threads", "--iterations", "2"]
    fails(capsys, args + ["--dataset", str(tmp_path / "nan.npz")], "nan.npz", "NaN")
    fails(capsys, RUN + ["--dataset", "digits", "--label", "y"], "--label")
