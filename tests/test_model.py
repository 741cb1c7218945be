"""Runtime model (docs/model.md): formulas (1) and (2), special cases, the reordering property."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bcgc.timing.orderstat import (
    block_runtime,
    blocks_to_levels,
    coordinate_runtime,
    cumulative_load,
    levels_to_blocks,
    worker_load,
)


def test_cumulative_load_counts_units_of_work():
    assert np.array_equal(cumulative_load([2, 1, 3]), [2, 2 + 2, 2 + 2 + 9])
    assert worker_load([2, 1, 3]) == 13


def test_special_cases_uncoded_and_classic_gc():
    T = np.array([[3.0, 1.0, 2.0, 5.0]])
    assert block_runtime([7, 0, 0, 0], T)[0] == 5.0  # uncoded: T_(N)
    assert block_runtime([0, 0, 7, 0], T)[0] == 3 * 2.0  # GC s=2: (s+1) T_(N-s)


def test_block_runtime_worked_by_hand():
    # x = (1, 1): y = (1, 3), L = 2; T sorted desc (4, 1): max(4·1/2, 1·3/2) = 2
    assert block_runtime([1, 1], np.array([[1.0, 4.0]]))[0] == 2.0


def test_full_straggler_does_not_poison_empty_blocks():
    T = np.array([[np.inf, 1.0, 1.0]])
    assert block_runtime([0, 4, 0], T)[0] == 2.0
    assert np.isinf(block_runtime([4, 0, 0], T)[0])


def test_blocks_and_levels_convert_both_ways():
    x = np.array([3, 0, 2, 1])
    assert np.array_equal(levels_to_blocks(blocks_to_levels(x), 4), x)


@given(n=st.integers(2, 6), data=st.data())
def test_reordering_coordinates_by_level_never_increases_the_runtime(n, data):
    """docs/model.md, equation (2): sorting levels to non-decreasing order is never worse, for every realisation."""
    levels = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=12)))
    T = data.draw(arrays(float, (5, n), elements=st.floats(0.01, 100)))
    unsorted = coordinate_runtime(levels, T)
    sorted_ = coordinate_runtime(np.sort(levels), T)
    assert np.all(sorted_ <= unsorted * (1 + 1e-12))
    # and the sorted coordinate runtime is the block runtime (2)
    assert np.allclose(sorted_, block_runtime(levels_to_blocks(levels, n), T), rtol=1e-12)
