"""Peers (docs/peers.md): each formula checked by hand, and compare() on common draws."""

import numpy as np
import pytest

from bcgc.peers import common_draws, compare
from bcgc.schemes.ferdinand import ferdinand_blocks, ferdinand_levels
from bcgc.schemes.gc import classic_gc
from bcgc.schemes.tandon import tandon_partial
from bcgc.stragglers import Heterogeneous, ShiftedExponential
from bcgc.timing import ucmmc_runtimes
from bcgc.timing.orderstat import descending

SE = ShiftedExponential(1, 1)


def test_ucmmc_matches_a_direct_loop():
    T = SE.sample(50, 5, seed=0)
    for r in range(1, 6):
        direct = np.array([max(min((j + 1) * row[(k - j) % 5] for j in range(r)) for k in range(5)) for row in T])
        assert np.allclose(ucmmc_runtimes(None, T, [r])[:, 0], direct)


def test_ucmmc_with_r_equal_one_is_uncoded():
    T = SE.sample(50, 4, seed=1)
    assert np.allclose(ucmmc_runtimes(None, T, [1])[:, 0], T.max(axis=1))


def test_classic_gc_and_tandon_formulas():
    Td = descending(np.array([[1.0, 2.0, 3.0, 10.0]]))  # T_(4)=10, T_(3)=3, ...
    assert classic_gc(1).samples(Td)[0] == 2 * 3.0
    alpha = 6.0
    assert tandon_partial(1, alpha).samples(Td)[0] == pytest.approx(2 / 7 * max(6 * 3.0, 10.0))


def test_ferdinand_layers_cover_every_coordinate():
    for n, coords, layers in [(20, 20000, 20000), (20, 20000, 10000), (10, 37, 9), (5, 5, 5)]:
        s = ferdinand_levels(n, coords, layers)
        assert s.size == layers and np.all(np.diff(s) >= 0) and s.min() >= 0 and s.max() <= n - 1
        assert s.sum() == layers * n - coords
        assert ferdinand_blocks(n, coords, layers).sum() == coords
    # r = L forces every layer to level N - 1 (the layered rule): classic GC at N - 1
    assert np.array_equal(ferdinand_blocks(4, 8, 8), [0, 0, 0, 8])
    with pytest.raises(ValueError, match="layers must be in"):
        ferdinand_levels(4, 3, 5)


def test_compare_reports_spec_section_6_findings():
    """docs/peers.md, N = 30: shift 1 → BCGC beats GC* by ~19% but UC-MMC (r = 7) is faster at 7x upload;
    shift 0.1 → BCGC about halves GC*."""
    rows = {r.name: r for r in compare(SE, 30, 3000, samples=20_000)}
    gain = 1 - rows["bcgc"].expected_runtime / rows["gc_best"].expected_runtime
    assert 0.15 < gain < 0.23
    assert rows["ucmmc_best"].parameters["r"] == 7
    assert rows["ucmmc_best"].expected_runtime < rows["bcgc"].expected_runtime
    assert rows["ucmmc_best"].upload_per_worker == 7 * rows["bcgc"].upload_per_worker
    assert rows["oracle"].expected_runtime < rows["bcgc"].expected_runtime
    rows = {r.name: r for r in compare(ShiftedExponential(0.1, 1), 30, 3000, samples=20_000)}
    assert rows["bcgc"].expected_runtime < 0.55 * rows["gc_best"].expected_runtime
    assert not rows["ignore_stragglers"].exact_gradient


def test_compare_uses_monte_carlo_for_non_iid_laws():
    law = Heterogeneous((SE,) * 3 + (ShiftedExponential(3, 1),))
    # BCGC's design is given (it is not what is tested): its row is still evaluated on the draws
    rows = compare(law, 4, 100, deadline=6.0, samples=5000, bcgc_blocks=[40, 60, 0, 0])
    assert all(r.evaluation.method == "monte-carlo" for r in rows)
    assert all(0 <= r.completion_probability <= 1 for r in rows)


@pytest.mark.parametrize(
    "law, n, coords, deadline",
    [
        (ShiftedExponential(shift=40000, rate=2.5e-6), 20, 40000, 501187.0),  # the example
        (ShiftedExponential(shift=1, rate=1), 8, 800, 3.2),
        (__import__("bcgc.stragglers", fromlist=["Pareto"]).Pareto(1, 2.5), 10, 1000, 6.0),
    ],
)
def test_with_a_deadline_every_row_is_tuned_for_the_completion_probability(law, n, coords, deadline):
    """Exhaustive search over each peer's parameter: its chosen value maximises P(τ ≤ t)."""
    from bcgc.analysis import completion_probability_exact

    rows = {r.name: r for r in compare(law, n, coords, deadline=deadline, samples=20_000, seed=4)}
    assert rows["bcgc"].tuned_for == "deadline" and rows["bcgc"].inputs.objective == "deadline"
    for name, family in (("gc_best", classic_gc), ("tandon_partial", lambda s: tandon_partial(s, 6.0))):
        probs = [completion_probability_exact(law, n, family(s), deadline)[0][0] for s in range(n)]
        assert rows[name].tuned_for == "deadline"
        assert rows[name].parameters["level"] == int(np.argmax(probs))
        assert rows[name].completion_probability == pytest.approx(max(probs), rel=1e-12)
    uc = ucmmc_runtimes(None, common_draws(law, n, 20_000, 4)[1], np.arange(1, n + 1))
    assert rows["ucmmc_best"].parameters["r"] == int(np.argmax(np.mean(uc <= deadline, axis=0))) + 1
    # BCGC's deadline design is at least as likely to finish as every single-level design
    assert rows["bcgc"].completion_probability >= rows["gc_best"].completion_probability - 1e-9
