"""The link options of compare/design/evaluate and ``bcgc recommend`` on the command line."""

import json

import pytest

from bcgc.cli import main

SE = "shifted-exponential:shift=1,rate=1"


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "option,value,message",
    [
        ("--bandwidth", "0", "--bandwidth must be a number in [1e-09, inf]"),
        ("--bandwidth", "-3", "--bandwidth must be a number in [1e-09, inf]"),
        ("--bandwidth", "fast", "--bandwidth must be a number"),
        ("--latency", "-1", "--latency must be a number in [0, 1e+09]"),
        ("--latency", "inf", "--latency must be a number in [0, 1e+09]"),
        ("--latency", "nan", "--latency must be a number"),
        ("--ingress", "0", "--ingress must be a number"),
        ("--ingress", "inf", "--ingress must be a number"),
        ("--bandwidth", "1_000", "ASCII digits only"),
    ],
)
@pytest.mark.parametrize("command", ["compare", "design", "evaluate", "recommend"])
def test_link_options_out_of_range_exit_2(command, option, value, message, capsys):
    extra = ["-x", "1,1,1"] if command == "evaluate" else ["-L", "3"]
    code, out, err = run([command, "-N", "3", "-m", SE, *extra, option, value], capsys)
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1


def test_compare_shows_upload_time_in_every_row(capsys):
    code, out, _ = run(
        [
            "compare",
            "-N",
            "4",
            "-L",
            "40",
            "-m",
            SE,
            "--samples",
            "500",
            "--bandwidth",
            "20",
            "--latency",
            "0.1",
            "--json",
        ],
        capsys,
    )
    doc = json.loads(out)
    assert code == 0 and doc["links"] == {"bandwidth": 20.0, "latency": 0.1, "ingress": None}
    times = {r["name"]: r["upload_time"] for r in doc["schemes"]}
    assert times["uncoded"] == pytest.approx(0.1 + 2.0) and times["oracle"] is None
    r = next(r for r in doc["schemes"] if r["name"] == "ucmmc_best")
    assert times["ucmmc_best"] == pytest.approx(r["parameters"]["r"] * 2.1)
    code, out, _ = run(["compare", "-N", "4", "-L", "40", "-m", SE, "--samples", "500"], capsys)
    assert "upload time" in out and "links: free communication" in out


def test_compare_refuses_a_deadline_under_links(capsys):
    code, _, err = run(["compare", "-N", "3", "-L", "3", "-m", SE, "-t", "3", "--bandwidth", "5"], capsys)
    assert code == 2 and "deadline under links is not supported" in err


def test_evaluate_under_links_is_slower_and_says_so(capsys):
    code, out, _ = run(["evaluate", "-N", "3", "-m", SE, "-x", "2,1,1", "--samples", "2000", "--json"], capsys)
    free = json.loads(out)["expected_runtime"]
    code, out, _ = run(
        ["evaluate", "-N", "3", "-m", SE, "-x", "2,1,1", "--samples", "2000", "--bandwidth", "2", "--json"], capsys
    )
    doc = json.loads(out)
    assert code == 0 and doc["expected_runtime"] > free and doc["links"]["bandwidth"] == 2.0
    code, _, err = run(
        ["evaluate", "-N", "3", "-m", SE, "-x", "2,1,1", "--evaluation", "exact", "--bandwidth", "2"], capsys
    )
    assert code == 2 and "not available under links" in err


def test_recommend_names_the_fastest_exact_scheme(capsys):
    args = ["recommend", "-N", "4", "-L", "40", "-m", SE, "--samples", "1000"]
    code, out, _ = run(args + ["--bandwidth", "10", "--json"], capsys)
    doc = json.loads(out)
    ranking = doc["ranking"]
    assert code == 0 and doc["recommended"]["name"] == ranking[0]["name"]
    assert [r["expected_runtime"] for r in ranking] == sorted(r["expected_runtime"] for r in ranking)
    assert {r["name"] for r in doc["not_ranked"]} == {"oracle", "ignore_stragglers"}
    assert all(r["exact_gradient"] for r in ranking)
    code, out, _ = run(args, capsys)
    assert code == 0 and out.startswith("N=4  L=40") and "fastest exact scheme:" in out and "runner-up" in out


def test_recommend_needs_coords(capsys):
    code, _, err = run(["recommend", "-N", "4", "-m", SE], capsys)
    assert code == 2 and "--coords" in err
