"""Straggler laws (docs/model.md, straggler laws): sampling, moments, text form, traces, fitting."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bcgc.stragglers import (
    Bimodal,
    Empirical,
    Exponential,
    FullStragglers,
    Heterogeneous,
    IIDLaw,
    LogNormal,
    Pareto,
    ShiftedExponential,
    Weibull,
    fit,
    parse_model,
    read_trace,
)

NAMED = [
    ShiftedExponential(1, 1),
    Exponential(2.0),
    Pareto(1, 3.0),
    Weibull(1, 1.5),
    LogNormal(0, 0.5),
    Bimodal(1, 1, 5, 0.1),
]


@pytest.mark.parametrize("law", NAMED, ids=lambda l: l.spec)
def test_same_seed_same_numbers_and_shape(law):
    a = law.sample(50, 7, seed=3)
    b = law.sample(50, 7, seed=3)
    assert a.shape == (50, 7)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, law.sample(50, 7, seed=4))


def test_shifted_exponential_order_statistics_match_the_worked_example():
    # docs/model.md, worked example: E[T_(3)], E[T_(2)], E[T_(1)] = 2.83333, 1.83333, 1.33333
    assert np.allclose(ShiftedExponential(1, 1).order_stat_mean(3), [4 / 3, 11 / 6, 17 / 6], atol=1e-12)


def test_generic_quadrature_matches_closed_form_order_statistics():
    law = ShiftedExponential(0.5, 2.0)
    for n in (1, 5, 40, 300):
        assert np.allclose(IIDLaw.order_stat_mean(law, n), law.order_stat_mean(n), rtol=1e-9)


@pytest.mark.parametrize("law", NAMED, ids=lambda l: l.spec)
def test_order_statistic_moments_agree_with_monte_carlo(law):
    n = 6
    T = np.sort(law.sample(200_000, n, seed=11), axis=1)
    for exact, draws in ((law.order_stat_mean(n), T), (law.order_stat_inv_mean(n), 1.0 / T)):
        se = draws.std(axis=0) / np.sqrt(draws.shape[0])
        finite = np.isfinite(exact) & (exact < 1e6)
        assert np.all(np.abs(exact[finite] - draws.mean(axis=0)[finite]) <= 5 * se[finite] + 1e-9)


def test_divergent_moments_are_inf_not_a_number():
    # E[1/T_(1)] = ∫ (1/t) f_(1)(t) dt diverges at 0 for an exponential law
    inv = Exponential(1.0).order_stat_inv_mean(4)
    assert np.isinf(inv[0]) and np.all(np.isfinite(inv[1:]))
    assert np.all(np.isinf(FullStragglers(ShiftedExponential(), 0.1).order_stat_mean(3)))


@pytest.mark.parametrize("law", NAMED, ids=lambda l: l.spec)
def test_quantiles_invert_the_cdf(law):
    u = np.array([1e-6, 0.1, 0.5, 0.9, 1 - 1e-9])
    assert np.allclose(law.cdf(law.ppf(u)), u, rtol=1e-7, atol=1e-12)
    assert np.allclose(law.sf(law.isf(u)), u, rtol=1e-7, atol=1e-15)


def test_text_form_round_trips():
    for law in NAMED + [FullStragglers(ShiftedExponential(1, 1), 0.05)]:
        assert parse_model(law.spec).spec == law.spec
    het = parse_model("heterogeneous:6*shifted-exponential:shift=1,rate=1;2*shifted-exponential:shift=3,rate=1")
    assert het.workers == 8 and het.spec.startswith("heterogeneous:6*")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("shifted-exponential", "malformed"),
        ("gamma:shape=1", "unknown law"),
        ("pareto:scale=1", "missing parameter 'shape'"),
        ("pareto:scale=1,shape=2,loc=3", "unknown parameter 'loc'"),
        ("pareto:scale=1,shape=abc", "shape must be a number"),
        ("pareto:scale=-1,shape=2", "scale must be a finite number > 0"),
        ("bimodal:shift=1,rate=1,factor=0.5,prob=0.1", "factor must be a number >= 1"),
        ("shifted-exponential:shift=1,rate=1,full=1", "full must be a probability"),
        ("shifted-exponential:shift=1 rate=1", "expected key=value"),
    ],
)
def test_malformed_model_text_is_refused_with_the_reason(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_model(text)


def test_full_stragglers_never_answer_with_their_probability():
    law = FullStragglers(ShiftedExponential(1, 1), 0.2)
    T = law.sample(100_000, 3, seed=1)
    assert abs(np.mean(np.isinf(T)) - 0.2) < 0.005
    assert law.cdf(np.inf) == pytest.approx(0.8)


def test_trace_bootstraps_whole_rows(tmp_path):
    rows = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])
    path = tmp_path / "t.csv"
    np.savetxt(path, rows, delimiter=",")
    law = parse_model(f"trace:path={path}")
    draws = law.sample(200, 3, seed=0)
    assert all(any(np.array_equal(d, r) for r in rows) for d in draws)
    with pytest.raises(ValueError, match="workers must be 3"):
        law.sample(5, 4)
    pooled = parse_model(f"empirical:path={path}")
    assert pooled.iid and set(np.unique(pooled.sample(500, 4, seed=1))) == set(rows.ravel())


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("1,2,3\n4,-5,6\n", "line 2, column 2: time must be a number > 0, got '-5'"),
        ("1,2,3\n4,abc,6\n", "line 2, column 2: time must be a number > 0, got 'abc'"),
        ("1,2,3\n4,5\n", "line 2 has 2 columns, expected 3"),
        ("# only a comment\n", "holds no rows"),
    ],
)
def test_bad_traces_are_refused_with_their_place(tmp_path, content, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=fragment):
        read_trace(path)


def test_empirical_order_statistics_are_exact_sums():
    law = Empirical(np.array([1.0, 2.0, 4.0]))
    # N = 2: T_(2) = max of two draws from {1,2,4}: P = 1/9, 3/9, 5/9
    assert law.order_stat_mean(2)[1] == pytest.approx((1 * 1 + 2 * 3 + 4 * 5) / 9)


@pytest.mark.parametrize(
    "law",
    [ShiftedExponential(2.0, 0.5), Pareto(1.5, 3.0), Weibull(2.0, 1.7), LogNormal(0.3, 0.4), Exponential(3.0)],
    ids=lambda l: l.spec,
)
def test_fit_recovers_the_parameters(law):
    fitted = fit(law.name, law.sample(20_000, 1, seed=5))
    for name in law._fields:
        assert getattr(fitted, name) == pytest.approx(getattr(law, name), rel=0.05, abs=0.02)


def test_heterogeneous_columns_follow_their_own_laws():
    law = Heterogeneous((ShiftedExponential(1, 1),) * 3 + (ShiftedExponential(10, 1),))
    T = law.sample(20_000, 4, seed=2)
    assert np.all(T[:, 3] >= 10) and np.all(T[:, :3] >= 1) and np.mean(T[:, :3] < 10) > 0.99


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(["lognormal", "pareto", "weibull"]),
    st.floats(0.05, 5.0),
    st.floats(0.1, 5.0),
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=30),
)
def test_own_cdfs_are_scipys_to_the_last_bit(family, p1, p2, ts):
    """LogNormal, Pareto and Weibull compute F without scipy's per-call handling (a fit asks for it
    thousands of times): the same numbers as the scipy family, nan, ±inf and 0-d inputs included."""
    from bcgc.stragglers.named import LogNormal, Pareto, Weibull

    law = {
        "lognormal": LogNormal(mu=p1 - 1.0, sigma=p2),
        "pareto": Pareto(scale=p1, shape=p2 + 0.5),
        "weibull": Weibull(scale=p1, shape=p2),
    }[family]
    t = np.array(ts + [0.0, 1.0, p1, np.inf, -np.inf, np.nan])
    with np.errstate(all="ignore"):
        assert np.array_equal(law.cdf(t), law._dist.cdf(t), equal_nan=True)
        for v in t[:3]:
            mine, theirs = law.cdf(float(v)), law._dist.cdf(float(v))
            assert type(mine) is type(theirs) and (mine == theirs or (np.isnan(mine) and np.isnan(theirs)))


@settings(max_examples=30, deadline=None)
@given(
    st.floats(0.0, 5.0),
    st.floats(0.01, 100.0),
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=30),
)
def test_shifted_exponential_own_methods_are_scipys_to_the_last_bit(shift, rate, qs):
    """ShiftedExponential's ppf, isf, mean and lower do not load scipy.stats (a design never needs
    it, and it takes 0.5 s to import): the same numbers as scipy's expon, bounds and bad q included."""
    law = ShiftedExponential(shift=shift, rate=rate)
    q = np.array(qs + [0.0, 1.0, 0.5, 1e-300, 1 - 1e-16, -0.1, 1.1, np.nan])
    q = np.concatenate([q, np.random.default_rng(0).random(200) ** 30])
    with np.errstate(all="ignore"):
        for name in ("ppf", "isf"):
            assert np.array_equal(getattr(law, name)(q), getattr(law._dist, name)(q), equal_nan=True)
            for v in q[-205:-200]:
                mine, theirs = getattr(law, name)(float(v)), getattr(law._dist, name)(float(v))
                assert type(mine) is type(theirs) and (mine == theirs or (np.isnan(mine) and np.isnan(theirs)))
    assert law.mean() == float(law._dist.mean()) and law.lower == float(law._dist.support()[0])
