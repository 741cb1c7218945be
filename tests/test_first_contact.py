"""A new user's first contact (issue 21, section 3): each defect found, as a test that fails before
its fix. ``train`` reports a user's label mapping; a trace CSV may start with a header of names;
``--stragglers natural`` says what its prediction is; ``simulate --json`` gives the loss trajectory;
``recommend``'s upload line has units; the figures index and ``demo.png`` say only what they show."""

import json

import numpy as np
import pytest
from sklearn.datasets import load_digits

from bcgc import plots
from bcgc.cli import main
from bcgc.stragglers import read_trace

LAW = "shifted-exponential:shift=0.1,rate=1"


def _cli(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def pm_file(tmp_path):
    """Digits 0 and 1 with labels -1/+1: mapped to classes 0/1, which must be said."""
    d = load_digits()
    keep = d.target < 2
    path = tmp_path / "pm.npz"
    np.savez(path, X=d.data[keep][:120] / 16.0, y=2 * d.target[keep][:120] - 1)
    return str(path)


TRAIN = ["train", "-N", "4", "-m", LAW, "--backend", "threads", "--iterations", "2", "--unit", "0.001"]
TRAIN += ["--scheme", "bcgc"]


def test_train_reports_the_label_mapping_in_the_header_and_the_json(pm_file, capsys):
    code, out, err = _cli(TRAIN + ["--problem", "logistic", "--dataset", pm_file], capsys)
    assert code == 0, err
    header = out.splitlines()[0]
    assert "[labels mapped to classes in sorted order: -1→0, 1→1]" in header
    code, out, err = _cli(TRAIN + ["--problem", "logistic", "--dataset", pm_file, "--json"], capsys)
    assert code == 0 and "-1→0, 1→1" in json.loads(out)["dataset_note"]


def test_a_trace_csv_may_start_with_a_header_of_names(tmp_path, capsys):
    path = tmp_path / "named.csv"
    path.write_text("# measured\nw0,w1,w2,w3\n1,2,3,4\n2,3,4,5\n1.5,2,2,3\n")
    assert read_trace(path).tolist() == [[1, 2, 3, 4], [2, 3, 4, 5], [1.5, 2, 2, 3]]
    code, out, err = _cli(["design", "-N", "4", "-L", "40", "-m", f"trace:path={path}", "--json"], capsys)
    assert code == 0 and json.loads(out)["procedure"]["cross_validation"]["rows"] == 3, err


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("w0,1,2\n1,2,3\n", "line 1, column 1: time must be a number > 0, got 'w0' (only the first line may be"),
        ("w0,w1,w2\n1,2,3\nw0,w1,w2\n", "line 3, column 1: time must be a number > 0, got 'w0' (only the first"),
        ("w0,,w2\n1,2,3\n", "line 1, column 1: time must be a number > 0, got 'w0'"),
        ("w0,w1,w2\n", "holds no rows of times"),
    ],
)
def test_a_header_is_names_only_and_only_the_first_line(tmp_path, text, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError) as exc:
        read_trace(path)
    assert fragment in str(exc.value)


def test_natural_stragglers_say_what_the_prediction_is(capsys):
    args = ["train", "-N", "4", "-m", LAW, "--stragglers", "natural", "--backend", "threads", "--iterations", "2"]
    code, out, err = _cli(args + ["--scheme", "bcgc"], capsys)
    assert code == 0, err
    assert "stragglers natural (no injected delay), backend=threads" in out and "--natural" not in out
    assert "a reconstruction of the workers' computation, not a forecast" in out
    assert "meas/pred is what that fit leaves out" in out


def test_simulate_json_gives_the_loss_trajectory(capsys):
    args = ["simulate", "-N", "4", "-m", LAW, "--iterations", "5", "--scheme", "bcgc", "--json"]
    code, out, err = _cli(args, capsys)
    assert code == 0, err
    for s in json.loads(out)["schemes"]:
        assert len(s["losses"]) == len(s["times"]) == 6 and s["times"][0] == 0
        assert s["losses"][-1] == s["final_loss"] and s["times"][-1] == s["virtual_time"]
        assert np.all(np.diff(s["times"]) > 0)


def test_recommend_upload_line_has_units(capsys):
    args = ["recommend", "-N", "4", "-L", "40", "-m", LAW, "--samples", "1000", "--bandwidth", "10"]
    code, out, err = _cli(args + ["--latency", "0.01", "--no-mm"], capsys)
    assert code == 0, err
    line = next(line for line in out.splitlines() if "upload" in line)
    assert "(unit of T)  upload " in line and "values (coordinates of the gradient) per worker per iteration" in line
    assert "its link busy" in line and "(unit of T) per iteration" in line


def test_a_range_of_equal_ends_is_said_once():
    from bcgc.experiments.index import _span

    assert _span([29.51, 29.49, 29.5]) == "29.5%"
    assert _span([17.5, 47.1]) == "17.5% to 47.1%"


def test_demo_figure_axis_stops_at_the_slowest_bar():
    from bcgc.design import design
    from bcgc.peers import compare
    from bcgc.stragglers import parse_model

    law = parse_model(LAW)
    r = design(law, 6, 600, eval_samples=2000)
    rows = compare(law, 6, 600, samples=2000, bcgc_blocks=r.blocks, mm=False)
    ax = plots.demo_figure(r, rows, "t").axes[1]
    slowest = max(x.expected_runtime for x in rows if x.name != "ignore_stragglers")
    assert max(ax.get_xticks()) <= slowest * 1.0001
    assert ax.spines["bottom"].get_bounds() == pytest.approx((0, slowest))
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
