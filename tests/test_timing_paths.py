"""The fast timing paths give the same floats as the direct ones (issue 20: compare at N = 256).

bcgc_mm under free links is timed block by block (``bcgc.timing.mm.free_runtime_samples``) instead
of through the (K, N, M) message arrivals; UC-MMC's and the multi blocks' running minima stop early
(``bcgc.timing.ucmmc.holder_minima``); a tunable peer's formulas are evaluated all at once
(``OrderStatMax.stacked_samples``). Each is checked here against the direct computation, exactly."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bcgc import schemes
from bcgc.schemes import Context
from bcgc.schemes.gc import classic_gc
from bcgc.schemes.tandon import tandon_partial
from bcgc.timing import descending, mm, ucmmc_runtimes
from bcgc.timing.links import Links
from bcgc.timing.orderstat import OrderStatMax


def _draws(seed, K, N, fixed, stragglers):
    rng = np.random.default_rng(seed)
    b = 0.1 + rng.exponential(size=(K, N)) * rng.uniform(0.1, 3.0)
    if stragglers:
        b[rng.random((K, N)) < 0.05] = np.inf
    a = rng.uniform(0.0, 2.0, size=(K, N)) if fixed else np.zeros((K, N))
    return a, b


def _design(seed, N):
    rng = np.random.default_rng(seed)
    blocks = []
    for _ in range(int(rng.integers(1, 5))):
        r = int(rng.integers(1, N + 1))
        mode = "coded" if r == 1 else str(rng.choice(mm.MODES))
        blocks.append(mm.MMBlock(float(rng.integers(1, 200)), r, mode))
    return mm.MMDesign(N, tuple(blocks))


def _direct(design, a, b):
    """τ through every message's arrival, (K, N, M): the event path."""
    return mm.decode_times(design, mm.message_arrivals(design, a, b)).max(axis=1)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([1, 2, 3, 7, 24]), st.booleans(), st.booleans())
def test_free_mm_timing_is_the_event_path(seed, N, fixed, stragglers):
    a, b = _draws(seed, 60, N, fixed, stragglers)
    design = _design(seed + 1, N)
    want = _direct(design, a, b)
    assert np.array_equal(mm.free_runtime_samples(design, a, b), want)
    if not fixed:
        assert np.array_equal(mm.free_runtime_samples(design, None, b, descending(b)), want)
    cache = {}
    first = mm.runtime_samples(design, a, b, cache=cache)
    assert np.array_equal(first, want) and np.array_equal(mm.runtime_samples(design, a, b, cache=cache), want)
    assert len(cache) == sum(blk.mode == "multi" for blk in design.blocks) - _repeats(design)


def _repeats(design):
    """Multi blocks whose works repeat an earlier one's (they share a cache entry)."""
    work, _, block, _ = design.layout()
    keys = [work[block == i].tobytes() for i, blk in enumerate(design.blocks) if blk.mode == "multi"]
    return len(keys) - len(set(keys))


def test_the_cache_is_bounded():
    a, b = _draws(0, 20, 8, False, False)
    cache = {}
    for z in range(1, mm.CACHE_BLOCKS + 20):
        design = mm.MMDesign(8, (mm.MMBlock(float(z), 1), mm.MMBlock(100.0, 3, "multi")))
        mm.runtime_samples(design, a, b, cache=cache)  # the multi block at new works each time: a miss
    assert len(cache) == mm.CACHE_BLOCKS


def _ucmmc_reference(a, b, rs, coords, net):
    """UC-MMC's τ for each r by the full pass over every position, one rolled copy each."""
    cost = 0.0 if net.free else float(net.message_time(coords))
    out = []
    for r in rs:
        leave = np.full(b.shape, -np.inf)
        best = np.full(b.shape, np.inf)
        for j in range(r):
            ready = a + b * (j + 1.0)
            leave = ready if net.free else np.maximum(ready, leave) + cost
            best = np.minimum(best, np.roll(leave, j, axis=1))
        out.append(best.max(axis=1))
    return np.stack(out, axis=1)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 10_000),
    st.sampled_from([1, 2, 5, 16, 40]),
    st.booleans(),
    st.sampled_from(["tight", "spread", "stragglers"]),
    st.booleans(),
)
def test_ucmmc_one_pass_with_early_stop_is_every_r_in_full(seed, N, fixed, kind, linked):
    a, b = _draws(seed, 50, N, fixed, kind == "stragglers")
    if kind == "tight":  # near-equal workers: the pass stops early
        b = 1.0 + 0.01 * b
    net = Links(1000.0, 0.01) if linked else Links()
    rng = np.random.default_rng(seed)
    rs = rng.permutation(np.concatenate([np.arange(1, N + 1), rng.integers(1, N + 1, size=3)]))  # any order, repeats
    want = _ucmmc_reference(a, b, rs, 50.0, net)
    assert np.array_equal(ucmmc_runtimes(a if fixed else None, b, rs, 50.0, net), want)


@pytest.mark.parametrize("N", [1, 4, 33])
def test_stacked_formulas_are_each_formulas_samples(N):
    rng = np.random.default_rng(N)
    Td = descending(rng.exponential(size=(200, N)))
    Td[rng.random(Td.shape) < 0.03] = np.inf
    formulas = [classic_gc(s) for s in range(N)] + [tandon_partial(s, a) for s in range(N) for a in (1.0, 6.0)]
    formulas += [OrderStatMax.from_blocks(rng.integers(0, 3, N) + (np.arange(N) == 0)) for _ in range(10)]
    stacked = OrderStatMax.stacked_samples(formulas, Td)
    assert np.array_equal(stacked, np.stack([f.samples(Td) for f in formulas], axis=1))


@pytest.mark.parametrize("name", ["gc", "tandon_partial", "ucmmc"])
def test_a_peers_candidates_at_once_are_its_runtime_one_by_one(name):
    a, b = _draws(3, 300, 12, False, False)
    scheme = schemes.get(name)
    ctx = Context(None, 12, 1000, a, b)
    values = scheme.candidates(ctx)
    each = np.stack([scheme.runtime(scheme.params(ctx, v), ctx) for v in values], axis=1)
    assert np.array_equal(scheme.runtimes(ctx, values), each)
