"""Exact and Monte Carlo evaluation (docs/algorithms.md) and the public worked example (docs/model.md, worked example)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bcgc.analysis import OrderStatMax, completion_probability_exact, evaluate, expected_runtime_exact
from bcgc.stragglers import Bimodal, Exponential, FullStragglers, LogNormal, Pareto, ShiftedExponential, Weibull
from bcgc.timing import oracle_samples

SE = ShiftedExponential(1, 1)


@pytest.mark.parametrize(
    "blocks, runtime, prob",
    [
        ((1, 0, 0), 2.83333, None),
        ((0, 1, 0), 3.66667, None),
        ((0, 0, 1), 4.00000, None),
        ((0.68217, 0.18605, 0.13178), 2.33093, 0.84273),
        ((0.6761, 0.1454, 0.1785), 2.31824, None),
        ((0.6137, 0.1583, 0.2280), None, 0.86092),
    ],
)
def test_worked_example_of_spec_4_1(blocks, runtime, prob):
    ev = evaluate(SE, 3, blocks, deadline=3.0, method="exact")
    if runtime is not None:
        assert ev.expected_runtime == pytest.approx(runtime, rel=5e-5)  # 4 significant digits
    if prob is not None:
        assert ev.completion_probability == pytest.approx(prob, rel=5e-5)
    assert ev.expected_runtime_stderr is None and ev.method == "exact"


def test_exact_probability_of_single_order_statistic_is_binomial_tail():
    # P(T_(N-s) ≤ u) = P(Bin(N, F(u)) ≥ N - s)
    from scipy import stats

    n, s, u = 7, 2, 1.6
    p = completion_probability_exact(SE, n, OrderStatMax(np.array([1.0]), np.array([s])), u)[0][0]
    assert p == pytest.approx(stats.binom.sf(n - s - 1, n, SE.cdf(u)), rel=1e-12)


def test_complement_stays_accurate_for_tiny_tail_probabilities():
    # uncoded, N = 5: 1 - P(T_(5) ≤ t) = 1 - (1 - e^{-(t-1)})^5 ≈ 5 e^{-(t-1)} for large t
    t = 60.0
    _, q = completion_probability_exact(SE, 5, OrderStatMax(np.array([1.0]), np.array([0])), t)
    assert q[0] == pytest.approx(-np.expm1(5 * np.log1p(-np.exp(-(t - 1)))), rel=1e-9)
    assert 0 < q[0] < 1e-24


NAMED = [
    ShiftedExponential(1, 1),
    ShiftedExponential(0.1, 1),
    Exponential(1.5),
    Pareto(1, 3.5),
    Weibull(1, 1.5),
    LogNormal(0, 0.5),
    Bimodal(1, 1, 4, 0.15),
]


@given(law=st.sampled_from(NAMED), n=st.integers(2, 6), data=st.data())
def test_exact_and_monte_carlo_agree_within_four_standard_errors(law, n, data):
    raw = data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n).filter(lambda v: sum(v) > 0.05))
    x = np.array(raw)
    t = float(np.median(OrderStatMax.from_blocks(x).samples(-np.sort(-law.sample(2000, n, seed=9)))))
    ex = evaluate(law, n, x, deadline=t, method="exact")
    mc = evaluate(law, n, x, deadline=t, method="monte-carlo", samples=40_000, seed=7)
    assert abs(ex.expected_runtime - mc.expected_runtime) <= 4 * mc.expected_runtime_stderr
    assert abs(ex.completion_probability - mc.completion_probability) <= 4 * mc.completion_probability_stderr


def test_full_stragglers_make_expected_runtime_infinite_but_probability_exact():
    law = FullStragglers(SE, 0.1)
    x = np.array([0.5, 0.3, 0.2])
    ev = evaluate(law, 3, x, deadline=4.0, method="exact")
    mc = evaluate(law, 3, x, deadline=4.0, method="monte-carlo", samples=100_000, seed=1)
    assert np.isinf(ev.expected_runtime) and np.isinf(mc.expected_runtime)
    assert abs(ev.completion_probability - mc.completion_probability) <= 4 * mc.completion_probability_stderr


def test_monte_carlo_is_reproducible_and_seed_sensitive():
    a = evaluate(SE, 4, [1, 1, 1, 1], method="monte-carlo", samples=1000, seed=3)
    b = evaluate(SE, 4, [1, 1, 1, 1], method="monte-carlo", samples=1000, seed=3)
    c = evaluate(SE, 4, [1, 1, 1, 1], method="monte-carlo", samples=1000, seed=4)
    assert a == b and a.expected_runtime != c.expected_runtime


def test_oracle_is_below_every_design_per_realisation():
    T = SE.sample(2000, 5, seed=0)
    rt = OrderStatMax.from_blocks(np.array([3.0, 1, 1, 1, 2]))
    assert np.all(oracle_samples(T) <= rt.samples(-np.sort(-T)) + 1e-12)


def test_exact_evaluation_refuses_laws_it_cannot_handle():
    from bcgc.stragglers import Heterogeneous

    with pytest.raises(ValueError, match="exact evaluation needs an i.i.d. named law"):
        evaluate(Heterogeneous((SE, SE)), 2, [1, 1], method="exact")
    with pytest.raises(ValueError, match="blocks must be 3 non-negative"):
        evaluate(SE, 3, [1, -1, 1])


def test_expected_runtime_exact_matches_closed_form_for_classic_gc():
    # E[(s+1) T_(N-s)] = (s+1) E[T_(N-s)]
    n, s = 8, 3
    e = expected_runtime_exact(SE, n, OrderStatMax(np.array([s + 1.0]), np.array([s])))
    assert e == pytest.approx((s + 1) * SE.order_stat_mean(n)[n - s - 1], rel=1e-9)


@pytest.mark.parametrize(
    "law, n, t",
    [
        (SE, 5, 4.0),
        (SE, 5, 40.0),
        (ShiftedExponential(0.1, 1), 12, 1.5),
        (Weibull(1, 1.5), 6, 1.2),
        (Bimodal(1, 1, 5, 0.1), 7, 8.0),
        (LogNormal(0, 0.5), 6, 2.0),
    ],
)
def test_adjoint_gradient_of_the_tail_matches_finite_differences(law, n, t):
    from bcgc.analysis import tail_probability_and_gradient

    x = np.random.default_rng(1).random(n) + 0.05
    x /= x.sum()
    q, g = tail_probability_and_gradient(law, n, x, t)
    h = 1e-6
    fd = np.array(
        [
            (
                completion_probability_exact(law, n, OrderStatMax.from_blocks(x + h * e), t)[1][0]
                - completion_probability_exact(law, n, OrderStatMax.from_blocks(x - h * e), t)[1][0]
            )
            / (2 * h)
            for e in np.eye(n)
        ]
    )
    assert q == pytest.approx(completion_probability_exact(law, n, OrderStatMax.from_blocks(x), t)[1][0], rel=1e-12)
    # at t = 40 the tail is 2e-28 and central differences themselves are only good to ~1e-4
    assert np.max(np.abs(g - fd)) <= (2e-4 if q < 1e-20 else 1e-7) * np.max(np.abs(fd))


def test_exact_expectation_is_remembered_per_law_workers_and_formula():
    """A repeated (law, N, formula) is not integrated again, and no other one takes its value."""
    from bcgc.analysis import expectation

    formula = OrderStatMax.from_blocks(np.array([5.0, 3.0, 0.0, 2.0]))
    first = expectation.expected_runtime_exact(ShiftedExponential(1.0, 1.0), 4, formula)
    key = (ShiftedExponential(1.0, 1.0), 4, formula.levels.tobytes(), formula.coefs.tobytes())
    assert expectation._DONE[key] == first
    expectation._DONE[key] = -1.0  # a remembered value is returned as it is
    assert expectation.expected_runtime_exact(ShiftedExponential(1, 1), 4, formula) == -1.0
    expectation._DONE[key] = first
    others = [
        expectation.expected_runtime_exact(ShiftedExponential(1.0, 2.0), 4, formula),
        expectation.expected_runtime_exact(ShiftedExponential(1.0, 1.0), 5, formula),
        expectation.expected_runtime_exact(
            ShiftedExponential(1.0, 1.0), 4, OrderStatMax.from_blocks(np.array([5.0, 3.0, 2.0, 0.0]))
        ),
    ]
    assert all(v > 0 and v != first for v in others)
