"""The general model (bcgc.timing.general) reduces to formula (2) and respects its assumptions."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bcgc.timing.general import cumulative_work, equal_shares, runtime_samples
from bcgc.timing.orderstat import block_runtime


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_no_fixed_cost_and_equal_shares_give_formula_2(workers, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 5, workers)
    x[rng.integers(workers)] += 1
    T = rng.exponential(size=(20, workers)) + 0.1
    assert np.allclose(runtime_samples(x, np.zeros_like(T), T), block_runtime(x, T), rtol=1e-12)


def test_a_fixed_cost_shifts_every_block_when_it_is_common():
    rng = np.random.default_rng(0)
    x, T = np.array([3, 0, 2, 5]), rng.exponential(size=(50, 4))
    assert np.allclose(runtime_samples(x, np.full_like(T, 0.7), T), block_runtime(x, T) + 0.7)


def test_equal_shares_give_the_paper_loads():
    assert np.allclose(cumulative_work([2, 0, 2], equal_shares(3))[0], [2 / 4, 2 / 4, 2 / 4 + 6 / 4])
