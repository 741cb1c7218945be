"""Bad straggler-model input gives one ValueError naming the parameter (or the file and line) and
its allowed range; laws at the edges of the allowed ranges compute without overflow or NaN."""

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from bcgc.cli import main
from bcgc.stragglers import Empirical, LogNormal, Pareto, ShiftedExponential, Trace, Weibull, parse_model, read_trace

_SCRIPT = Path(sys.executable).with_name("bcgc")
BCGC = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "bcgc"]  # the installed command


def refused(text, *fragments):
    with pytest.raises(ValueError) as info:
        parse_model(text)
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} not in {str(info.value)!r}"
    return str(info.value)


def cli_refuses(text, capsys):
    code = main(["design", "-N", "5", "-L", "100", "--model", text])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("bcgc: error: --model: ")
    assert "Traceback" not in err
    return err


# -- numbers a float cannot carry through the law -----------------------------------------------
OUT_OF_RANGE = [
    ("lognormal:mu=1000,sigma=1", ["mu must be a number in [-115, 115]", "1000"]),
    ("lognormal:mu=-1000,sigma=1", ["mu must be a number in [-115, 115]"]),
    ("lognormal:mu=0,sigma=1e300", ["sigma must be a number in [1e-100, 10]"]),
    ("lognormal:mu=0,sigma=1e-300", ["sigma must be a number in [1e-100, 10]"]),
    ("shifted-exponential:shift=1e308,rate=1e-308", ["shift must be a number in [0, 1e+50]"]),
    ("shifted-exponential:shift=1,rate=1e-308", ["rate must be a number in [1e-50, 1e+50]"]),
    ("shifted-exponential:shift=1,rate=1e308", ["rate must be a number in [1e-50, 1e+50]"]),
    ("exponential:rate=1e-320", ["rate must be a number in [1e-50, 1e+50]"]),
    ("weibull:scale=1e-320,shape=1", ["scale must be a number in [1e-50, 1e+50]"]),
    ("weibull:scale=1e308,shape=1", ["scale must be a number in [1e-50, 1e+50]"]),
    ("weibull:scale=1,shape=1e-300", ["shape must be a number >= 0.1"]),
    ("pareto:scale=1e308,shape=0.5", ["scale must be a number in [1e-50, 1e+50]"]),
    ("pareto:scale=1,shape=0.05", ["shape must be a number >= 0.1"]),
    ("bimodal:shift=1,rate=1,factor=1e308,prob=0.1", ["factor must be a number in [1, 1e+50]"]),
    ("bimodal:shift=1e300,rate=1,factor=2,prob=0.1", ["shift must be a number in [0, 1e+50]"]),
]


@pytest.mark.parametrize("text, fragments", OUT_OF_RANGE)
def test_parameters_a_float_cannot_carry_are_refused_with_their_range(text, fragments, capsys):
    refused(text, *fragments)
    assert fragments[0] in cli_refuses(text, capsys)


BOX = [  # every corner of the allowed ranges
    *[f"shifted-exponential:shift={s},rate={r}" for s in (0, 1, 1e50) for r in (1e-50, 1, 1e50)],
    *[f"weibull:scale={s},shape={k}" for s in (1e-50, 1e50) for k in (0.1, 1, 1e300)],
    *[f"pareto:scale={s},shape={k}" for s in (1e-50, 1e50) for k in (0.1, 1, 2.5, 1e300)],
    *[f"lognormal:mu={m},sigma={s}" for m in (-115, 115) for s in (1e-100, 1, 10)],
    *[f"bimodal:shift={s},rate={r},factor={f},prob=0.1" for s in (0, 1e50) for r in (1e-50, 1e50) for f in (1, 1e50)],
]


@pytest.mark.parametrize("text", BOX)
def test_laws_at_the_edges_of_their_ranges_compute_without_overflow_or_nan(text):
    law = parse_model(text)
    t = np.concatenate([[0.0, np.inf], np.logspace(-300, 300, 61)])
    u = np.array([1e-300, 1e-16, 1e-3, 0.5, 1 - 1e-3, 1 - 1e-16])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning here is a silent inf
        draws = law.sample(2000, 5, seed=1)
        values = [
            law.cdf(t),
            law.sf(t),
            law.pdf(t),
            law.ppf(u),
            law.isf(u),
            law.order_stat_mean(5),
            law.order_stat_inv_mean(5),
        ]
    assert np.all(np.isfinite(draws)) and np.all(draws > 0), "a finite law drew inf (a full straggler) or 0"
    assert not any(np.isnan(v).any() for v in values)
    assert np.all(np.diff(law.cdf(np.sort(draws.ravel()))) >= 0)


@pytest.mark.parametrize(
    "make",
    [
        lambda s: ShiftedExponential(s, 1 / s),
        lambda s: Weibull(s, 1.5),
        lambda s: Pareto(s, 1.2),
        lambda s: LogNormal(np.log(s), 10),
    ],
)
def test_order_statistics_scale_with_the_time_unit_up_to_the_range_ends(make):
    ref_mean, ref_inv = make(1.0).order_stat_mean(5), make(1.0).order_stat_inv_mean(5)
    for s in (1e-49, 1e49):  # exp(mu) spans [1e-50, 1e50] only to within a factor 1.14
        assert np.allclose(make(s).order_stat_mean(5) / s, ref_mean, rtol=1e-10)
        assert np.allclose(make(s).order_stat_inv_mean(5) * s, ref_inv, rtol=1e-10)


def test_the_cli_designs_at_the_edges_of_the_ranges_without_a_warning(capsys):
    # in this process (a subprocess per law spent ~3 s importing): every warning is recorded, none
    # filtered or shown once only, and nothing may reach stderr
    for text in (
        "lognormal:mu=115,sigma=10",
        "weibull:scale=1e-50,shape=1e300",
        "lognormal:mu=-115,sigma=1e-100",
        "exponential:rate=1e50",
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = main(["design", "-N", "5", "-L", "100", "--model", text])
        err = capsys.readouterr().err
        assert code == 0 and err == "" and not caught, (text, err, [str(w.message) for w in caught])


# -- the text form ------------------------------------------------------------------------------
TEXT_CASES = [
    ("shifted-exponential:shift=1,rate=1,rate=2", ["parameter 'rate' is given twice"]),
    ("shifted-exponential:shift=1,rate=1,RATE=2", ["parameter 'rate' is given twice"]),
    ("shifted-exponential:shift=1,rate=1,full=0.1,full=0.2", ["parameter 'full' is given twice"]),
    ("shifted-exponential:shift=1,rate=", ["rate must be a number", "got ''"]),
    ("shifted-exponential:shift=,rate=1", ["shift must be a number", "got ''"]),
    ("   ", ["malformed"]),
    ("", ["malformed"]),
    ("shifted-exponential:shift=1,rate=nan", ["rate must be a finite number > 0", "nan"]),
    ("shifted-exponential:shift=1,rate=inf", ["rate must be a finite number > 0", "inf"]),
    ("shifted-exponential:shift=inf,rate=1", ["shift must be a finite number >= 0", "inf"]),
    ("lognormal:mu=nan,sigma=1", ["mu must be a finite number", "nan"]),
    ("lognormal:mu=0,sigma=inf", ["sigma must be a finite number > 0"]),
    ("weibull:scale=1,shape=nan", ["shape must be a finite number > 0"]),
    ("bimodal:shift=1,rate=1,factor=2,prob=nan", ["prob must be a probability in [0, 1]"]),
    ("shifted-exponential:shift=1,rate=1,full=-0.1", ["full must be a probability in [0, 1)", "-0.1"]),
    ("shifted-exponential:shift=1,rate=1,full=1", ["full must be a probability in [0, 1)"]),
    ("shifted-exponential:shift=1,rate=1,full=nan", ["full must be a probability in [0, 1)"]),
    ("shifted-exponential:shift=1,rate=1,full=inf", ["full must be a probability in [0, 1)"]),
    ("shifted-exponential:shift=1,rate=1,full=", ["full must be a probability in [0, 1)", "got ''"]),
    ("trace:path=", ["path is empty"]),
    ("trace:path=a.csv,path=a.csv", ["parameter 'path' is given twice"]),
    ("heterogeneous:", ["heterogeneous needs parts COUNT*LAW"]),
    ("heterogeneous:0*exponential:rate=1", ["count must be an integer in [1, 100000]", "got 0"]),
    ("heterogeneous:-2*exponential:rate=1", ["count must be an integer in [1, 100000]", "got -2"]),
    ("heterogeneous:2.5*exponential:rate=1", ["count must be an integer in [1, 100000]", "got '2.5'"]),
    ("heterogeneous:*exponential:rate=1", ["count must be an integer in [1, 100000]", "got ''"]),
    ("heterogeneous:99999999999*exponential:rate=1", ["count must be an integer in [1, 100000]", "99999999999"]),
    ("heterogeneous:60000*exponential:rate=1;60000*exponential:rate=2", ["at most 100000 workers", "120000"]),
    ("heterogeneous:2*heterogeneous:1*exponential:rate=1", ["must be an i.i.d. law"]),
    ("heterogeneous:2*heterogeneous:1*exponential:rate=1;1*exponential:rate=1", ["must be an i.i.d. law"]),
]


@pytest.mark.parametrize("text, fragments", TEXT_CASES)
def test_bad_model_text_is_one_value_error_naming_the_parameter(text, fragments, capsys):
    refused(text, *fragments)
    assert fragments[0] in cli_refuses(text, capsys)


def test_a_heterogeneous_law_of_exactly_the_limit_is_built_quickly():
    law = parse_model("heterogeneous:99999*exponential:rate=1;1*exponential:rate=2")
    assert law.workers == 100_000


def test_the_installed_command_reports_a_bad_model_in_one_line():
    proc = subprocess.run(
        [*BCGC, "design", "-N", "5", "-L", "100", "--model", "lognormal:mu=1000,sigma=1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "mu must be a number in" in proc.stderr


# -- trace files --------------------------------------------------------------------------------
TRACES = [
    ("1," + "1" * 140_000 + "\n", ["trace bad.csv: line 1:", "131072"]),
    (bytes(range(256)), ["trace bad.csv is not a text CSV file"]),
    (b"1,2\n3,\x004\n", ["trace bad.csv is not a text CSV file", "line 2"]),
    ("", ["trace bad.csv holds no rows of times"]),
    ("# a comment\n# another\n", ["trace bad.csv holds no rows of times"]),
    ("1,2,3\n4,5\n", ["trace bad.csv: line 2 has 2 columns, expected 3"]),
    ("1,2\n1e999,2\n", ["line 2, column 1: time must be a number in [1e-50, 1e+50] or inf", "'1e999'"]),
    ("1,2\n1e-320,2\n", ["line 2, column 1: time must be a number in [1e-50, 1e+50] or inf", "'1e-320'"]),
    ("1,2\nnan,2\n", ["line 2, column 1: time must be a number > 0, got 'nan'"]),
]


@pytest.mark.parametrize("content, fragments", TRACES)
def test_bad_trace_files_name_the_file_and_line(tmp_path, content, fragments, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    for name in ("trace", "empirical"):
        refused(f"{name}:path={path}", *fragments)
        assert fragments[0] in cli_refuses(f"{name}:path={path}", capsys)


def test_a_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf1,2,3\n4,5,6\n")
    assert np.array_equal(read_trace(path), [[1, 2, 3], [4, 5, 6]])


def test_inf_spelled_out_marks_a_full_straggler(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("1,inf\n2,Infinity\n+inf,3\n")
    assert np.isinf(read_trace(path)).sum() == 3


def test_a_directory_or_unreadable_trace_is_refused(tmp_path, monkeypatch, capsys):
    refused(f"trace:path={tmp_path}", "is not a readable file")
    cli_refuses(f"trace:path={tmp_path}", capsys)
    path = tmp_path / "t.csv"
    path.write_text("1,2\n")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", denied)
    refused(f"trace:path={path}", "trace path", "cannot be read", "Permission denied")


def test_python_laws_of_observed_times_refuse_times_out_of_range():
    with pytest.raises(ValueError, match=r"trace times must lie in \[1e-50, 1e\+50\]"):
        Trace(np.array([[1.0, 1e-320]]))
    with pytest.raises(ValueError, match=r"values must lie in \[1e-50, 1e\+50\]"):
        Empirical(np.array([1.0, 1e60]))
    assert Trace(np.array([[1.0, np.inf]])).full_prob == 0.5
