"""Fair peers when workers differ: uncoded and GC on a speed-proportional data split beside BCGC's
allocation (docs/peers.md, "With a fixed cost, and with an allocation")."""

import numpy as np
import pytest

from bcgc.peers import common_draws, compare
from bcgc.schemes.split import speed_split
from bcgc.stragglers import ShiftedExponential, parse_model
from bcgc.timing import runtime

HET = parse_model("heterogeneous:7*shifted-exponential:shift=1,rate=1;1*shifted-exponential:shift=2.5,rate=0.4")


def test_the_split_is_proportional_to_speed_and_gives_a_dead_worker_nothing():
    T = np.array([[1.0, 2.0, 4.0, np.inf], [1.0, 2.0, 4.0, np.inf]])
    d = speed_split(np.zeros_like(T), T)
    assert np.allclose(d, np.array([4.0, 2.0, 1.0, 0.0]) / 7.0)


def test_split_rows_appear_with_an_allocation_and_are_the_general_model_on_the_common_draws():
    rows = {r.name: r for r in compare(HET, 8, 1000, samples=20_000, seed=3)}
    assert rows["bcgc"].parameters.get("subset_sizes") is not None
    split = rows["uncoded_split"]
    a, b = common_draws(HET, 8, 20_000, 3)
    d = speed_split(a, b)
    assert np.allclose(split.parameters["subset_sizes"], d)
    tau = runtime(split.parameters["blocks"], b, None, d)
    assert split.expected_runtime == pytest.approx(tau.mean(), rel=1e-12)
    # the slow worker holds less: the split beats equal subsets; GC on it tunes its level
    assert split.expected_runtime < rows["uncoded"].expected_runtime - 10 * split.expected_runtime_stderr
    assert rows["gc_split"].expected_runtime <= split.expected_runtime + 1e-12
    assert rows["bcgc"].expected_runtime < split.expected_runtime


def test_equal_subsets_keeps_every_row_equal_and_iid_laws_have_no_split_rows():
    rows = {r.name: r for r in compare(HET, 8, 1000, samples=5_000, seed=3, equal_subsets=True)}
    assert "uncoded_split" not in rows and "subset_sizes" not in rows["bcgc"].parameters
    # only the row names are asserted on: BCGC's design is given, not made
    iid = {
        r.name for r in compare(ShiftedExponential(1, 1), 8, 1000, samples=5_000, seed=3, bcgc_blocks=[1000] + [0] * 7)
    }
    assert not {"uncoded_split", "gc_split"} & iid
    with pytest.raises(ValueError, match="equal_subsets"):
        compare(
            HET,
            8,
            1000,
            samples=5_000,
            bcgc_blocks=[1000] + [0] * 7,
            bcgc_subset_sizes=[0.13] * 7 + [0.09],
            equal_subsets=True,
        )
