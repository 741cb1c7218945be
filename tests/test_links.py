"""Upload links (docs/model.md, "Communication: upload links"): the recursion, its limits, the peers
under links with their closed forms, the communication-aware design."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bcgc.analysis.links import evaluate_links
from bcgc.design import design
from bcgc.design.links_design import pair_terms
from bcgc.peers import common_draws as common_parts
from bcgc.peers import compare
from bcgc.schemes.tandon import tandon_blocks, tandon_partial
from bcgc.stragglers import ShiftedExponential
from bcgc.timing import ucmmc_runtimes
from bcgc.timing.general import runtime_samples
from bcgc.timing.links import FREE, Links, arrivals, block_runtime_samples, departures, links, one_message_levels
from bcgc.timing.orderstat import block_runtime, descending
from bcgc.timing.ucmmc import _one_r as _ucmmc_one_r

SE = ShiftedExponential(shift=1.0, rate=1.0)


def test_recursion_by_hand():
    # one worker, messages ready at 0, 1, 5 of sizes 2, 1, 1; B = 1, λ = 0.5:
    # F0 = 0 + 2.5, F1 = max(1, 2.5) + 1.5 = 4, F2 = max(5, 4) + 1.5 = 6.5
    ready = np.array([[[0.0, 1.0, 5.0]]])
    out = departures(ready, np.array([2.0, 1.0, 1.0]), Links(1.0, 0.5))
    assert np.allclose(out, [[[2.5, 4.0, 6.5]]])


def test_fifo_ingress_by_hand():
    # two workers, one message each of size 1, ready at 0 and 0.2, free worker links, ingress 1:
    # the first arrives at 1, the second waits for it and arrives at 2
    out = arrivals(np.array([[[0.2], [0.0]]]), np.array([1.0]), Links(math.inf, 0.0, 1.0))
    assert np.allclose(out[0, :, 0], [2.0, 1.0])


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 7), st.integers(0, 10_000))
def test_free_links_are_formula_2(workers, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 5, size=workers)
    x[rng.integers(workers)] += 1
    T = rng.exponential(size=(50, workers)) + 0.1
    free = block_runtime_samples(x, np.zeros_like(T), T, FREE)
    assert np.allclose(free, block_runtime(x, T), rtol=1e-12, atol=0)
    # and the limit B -> inf, λ -> 0 is continuous
    near = block_runtime_samples(x, np.zeros_like(T), T, Links(1e12, 1e-12))
    assert np.allclose(near, free, rtol=1e-9)


def test_uploads_only_delay():
    rng = np.random.default_rng(1)
    x, T = np.array([5, 3, 0, 2]), rng.exponential(size=(200, 4)) + 1
    free = block_runtime_samples(x, 0 * T, T, FREE)
    slow = block_runtime_samples(x, 0 * T, T, Links(3.0, 0.1))
    slower = block_runtime_samples(x, 0 * T, T, Links(1.0, 0.1))
    assert np.all(slow >= free) and np.all(slower >= slow) and np.any(slower > slow)


def test_links_validation():
    for bad in (
        {"bandwidth": 0},
        {"bandwidth": -1},
        {"latency": -0.1},
        {"latency": math.nan},
        {"latency": True},
        {"ingress": 0},
    ):
        with pytest.raises(ValueError, match=next(iter(bad))):
            links(**bad)
    assert links().free and links(ingress=math.inf).free


def compare_under(model, workers, coords, net, **kw):
    return compare(model, workers, coords, bandwidth=net.bandwidth, latency=net.latency, ingress=net.ingress, **kw)


def test_one_message_schemes_shift_by_lambda_plus_l_over_b():
    a, b = common_parts(SE, 5, 1000, 3)
    net = Links(50.0, 0.3)
    rows = {r.name: r for r in compare_under(SE, 5, 100, net, samples=1000, seed=3, bcgc_blocks=[100, 0, 0, 0, 0])}
    free = {r.name: r for r in compare(SE, 5, 100, samples=1000, seed=3, bcgc_blocks=[100, 0, 0, 0, 0])}
    for name in ("uncoded", "gc_best", "ignore_stragglers"):
        assert rows[name].evaluation.method == "exact"
        assert rows[name].expected_runtime == pytest.approx(free[name].expected_runtime + 0.3 + 2.0, rel=1e-12)
        assert rows[name].upload_time == pytest.approx(2.3)
    # BCGC with one block at level 0 is uncoded: the same τ draw by draw
    assert rows["bcgc"].expected_runtime == pytest.approx(descending(b)[:, 0].mean() + 2.3, rel=1e-12)


def test_closed_forms_hold_within_monte_carlo_error():
    """Rényi: E[T_(N-s)] = shift + (H_N - H_s)/rate; uncoded E[T_(N)] + λ + L/B and classic GC at
    its best level (s+1)·E[T_(N-s)] + λ + L/B against the Monte Carlo of the link recursion."""
    workers, coords, net = 8, 400, Links(100.0, 0.2)
    law = ShiftedExponential(shift=0.5, rate=2.0)
    h = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, workers + 1))])
    means = [(s + 1) * (0.5 + (h[workers] - h[s]) / 2.0) for s in range(workers)]
    best = int(np.argmin(means))
    a, b = common_parts(law, workers, 40_000, 7)
    mc = one_message_levels(a, b, coords, net, lambda s: s + 1.0)
    for s, expected in ((0, means[0]), (best, means[best])):
        tau = mc[:, s]
        se = tau.std(ddof=1) / math.sqrt(tau.size)
        assert abs(tau.mean() - (expected + 0.2 + 4.0)) < 4 * se
    rows = {
        r.name: r
        for r in compare_under(
            law, workers, coords, net, samples=5000, seed=7, bcgc_blocks=[coords] + [0] * (workers - 1)
        )
    }
    assert rows["uncoded"].expected_runtime == pytest.approx(means[0] + 4.2, rel=1e-9)
    assert rows["gc_best"].parameters["level"] == best
    assert rows["gc_best"].expected_runtime == pytest.approx(means[best] + 4.2, rel=1e-9)


def test_compare_with_free_links_is_todays_compare():
    ref = compare(SE, 5, 50, samples=2000, seed=2)
    same = compare(SE, 5, 50, samples=2000, seed=2, bandwidth=math.inf, latency=0.0)
    assert [(r.name, r.expected_runtime, r.parameters) for r in ref] == [
        (r.name, r.expected_runtime, r.parameters) for r in same
    ]
    # the link code itself, run with near-free links (B = 1e15), reproduces every row (to rounding)
    mine = compare_under(SE, 5, 50, Links(1e15, 0.0), samples=2000, seed=2, bcgc_blocks=ref[0].parameters["blocks"])
    checked = 0
    for r, m in zip(ref, mine):
        assert r.name == m.name and r.parameters == m.parameters
        if m.evaluation.method == r.evaluation.method:  # the same method: the same number
            assert m.expected_runtime == pytest.approx(r.expected_runtime, rel=1e-9)
        else:  # an exact row against the link code's Monte Carlo: within 4 standard errors
            se = m.evaluation.expected_runtime_stderr
            assert se is not None and abs(m.expected_runtime - r.expected_runtime) <= 4 * se
        checked += 1
    assert checked == len(ref) >= 6


def test_peer_runtimes_under_free_links_match_their_formulas():
    rng = np.random.default_rng(4)
    T = rng.exponential(size=(300, 6)) + 0.5
    zero = np.zeros_like(T)
    # Tandon's two blocks through the general model (a = 0 given) are its formula
    tandon = np.stack([runtime_samples(tandon_blocks(6, 60, s, 6.0), zero, T) for s in range(6)], axis=1)
    formula = np.stack([tandon_partial(s, 6.0).samples(descending(T)) for s in range(6)], axis=1)
    assert np.allclose(tandon, formula, rtol=1e-12)
    # UC-MMC: the free one-pass form against its definition through the link recursion
    slow = np.stack([_ucmmc_one_r(zero, T, 60, Links(1e300, 0.0), r) for r in range(1, 7)], axis=1)
    assert np.allclose(ucmmc_runtimes(None, T, np.arange(1, 7)), slow, rtol=1e-12)
    net = Links(20.0, 0.1)  # the one-pass UC-MMC equals message-by-message arrivals
    one_pass = ucmmc_runtimes(zero, T, np.arange(1, 7), 60, net)
    direct = np.stack([_ucmmc_one_r(zero, T, 60, net, r) for r in range(1, 7)], axis=1)
    assert np.allclose(one_pass, direct, rtol=1e-12)


def test_lp_terms_are_the_recursion():
    rng = np.random.default_rng(5)
    T = rng.exponential(size=(100, 5)) + 0.2
    z = rng.uniform(0.1, 1.0, size=5)
    z /= z.sum()
    net = Links(40.0, 0.05)
    terms = pair_terms(descending(T), z, 200, net).reshape(100, -1).max(axis=1)
    assert np.allclose(terms, block_runtime_samples(200 * z, 0 * T, T, net), rtol=1e-12)


def test_design_with_free_links_is_todays_design():
    ref = design(SE, 5, 200, seed=1)
    same = design(SE, 5, 200, seed=1, bandwidth=math.inf, latency=0.0)
    assert np.array_equal(ref.blocks, same.blocks) and ref.expected_runtime == same.expected_runtime


@pytest.mark.parametrize("bandwidth,latency,gain", [(2000.0, 0.0, 0.0), (200.0, 0.0, 0.03), (50.0, 0.05, 0.10)])
def test_aware_design_never_worse_than_oblivious(bandwidth, latency, gain):
    """On fresh draws (a seed the design never saw): never worse beyond noise, and on slow links
    faster by the margin the upload time leaves (measured: 4.4 % at B = 200, 14 % at B = 50)."""
    r = design(SE, 5, 200, seed=1, samples=300, eval_samples=4000, bandwidth=bandwidth, latency=latency)
    d = r.diagnostics["links"]
    net = Links(bandwidth, latency)
    aware, oblivious = (evaluate_links(SE, 5, x, net, samples=20000, seed=7) for x in (r.blocks, d["oblivious_blocks"]))
    assert aware.expected_runtime <= (1 - gain) * oblivious.expected_runtime + 3 * aware.expected_runtime_stderr
    assert d["margin_percent"] >= 0.0 and r.inputs.links == net


def test_design_refuses_a_deadline_under_links():
    with pytest.raises(ValueError, match="deadline objective under links"):
        design(SE, 4, 20, objective="deadline", deadline=3.0, bandwidth=10.0)


def test_a_wide_ingress_changes_nothing_and_a_narrow_one_serialises():
    rng = np.random.default_rng(6)
    ready = rng.exponential(size=(50, 4, 3))
    ready = np.cumsum(ready, axis=2)
    sizes = np.array([3.0, 1.0, 2.0])
    per_worker = arrivals(ready, sizes, Links(5.0, 0.1))
    wide = arrivals(ready, sizes, Links(5.0, 0.1, 1e15))
    assert np.allclose(wide, per_worker, rtol=1e-9)
    narrow = arrivals(ready, sizes, Links(5.0, 0.1, 0.5))
    # every message crosses the one link: the last arrival is at least all sizes / B_m after time 0
    assert np.all(narrow >= per_worker - 1e-12)
    assert np.all(narrow.reshape(50, -1).max(axis=1) >= 4 * sizes.sum() / 0.5 - 1e-9)


def test_compare_and_design_with_a_shared_ingress():
    given = dict(samples=1000, seed=1, bandwidth=100.0, bcgc_blocks=[10, 30, 0, 0])  # the design is tested below
    rows = {r.name: r for r in compare(SE, 4, 40, ingress=50.0, **given)}
    free = {r.name: r for r in compare(SE, 4, 40, **given)}
    assert rows["uncoded"].evaluation.method == "monte-carlo"  # no closed form with a shared link
    assert rows["uncoded"].expected_runtime > free["uncoded"].expected_runtime
    assert rows["oracle"].expected_runtime >= 40 / 50.0
    r = design(SE, 4, 40, seed=1, samples=200, eval_samples=2000, bandwidth=100.0, ingress=50.0)
    assert (
        r.diagnostics["links"]["margin_percent"] >= 0
        and "saa-lp-links" not in r.diagnostics["links"]["candidate_sample_means"]
    )


def test_a_fast_link_changes_nothing_under_a_fixed_cost_law():
    """The link path (B = 1e12) against the free path, for a law with a fixed cost: the same draws,
    so the oracle (the best split of a + b·w) and the one-message rows agree to 1e-9."""
    from bcgc.stragglers import parse_model

    law = parse_model("affine:a=1;b=exponential:rate=1")
    blocks = [40, 60] + [0] * 6  # a given design: both paths time the same one
    free = {r.name: r.expected_runtime for r in compare(law, 8, 100, samples=5000, bcgc_blocks=blocks)}
    fast = {r.name: r.expected_runtime for r in compare(law, 8, 100, samples=5000, bcgc_blocks=blocks, bandwidth=1e12)}
    for name in ("oracle", "uncoded", "gc_best", "bcgc"):
        assert fast[name] == pytest.approx(free[name], rel=1e-9), name


def test_a_run_tunes_gc_through_a_shared_ingress_as_compare_does():
    """With a shared ingress higher GC levels pay more (every message queues): the run's level must be
    tuned through the links, like compare's gc_best row (it was the free level, ~2.7x slower here)."""
    from bcgc.policy import DesignPolicy

    law, net = ShiftedExponential(1.0, 4.0), Links(math.inf, 0.0, 100.0)
    row = {r.name: r for r in compare_under(law, 8, 400, net, samples=4000, seed=0, bcgc_blocks=[400] + [0] * 7)}
    blocks = DesignPolicy("gc", links=net, samples=4000).blocks(law, 8, 400)
    level = int(np.flatnonzero(blocks)[0])
    a, b = common_parts(law, 8, 4000, 0)
    tau = {s: one_message_levels(a, b, 400, net, lambda s: s + 1.0)[:, s].mean() for s in (0, level)}
    assert level == row["gc_best"].parameters["level"] != 0 and tau[level] < 0.5 * tau[0]
