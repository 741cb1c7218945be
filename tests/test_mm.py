"""bcgc_mm (bcgc.timing.mm, bcgc.schemes.mm_codec): BCGC and UC-MMC are exact special cases, and every valid set
of arrivals decodes the exact gradient at the time the runtime model says."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bcgc.schemes.mm_codec import MMScheme
from bcgc.stragglers import ShiftedExponential, parse_model
from bcgc.timing import mm, ucmmc_runtimes
from bcgc.timing import runtime as block_runtime_on
from bcgc.timing.general import runtime_samples as timeline_runtime
from bcgc.timing.links import Links
from bcgc.timing.mm import MMBlock, MMDesign
from bcgc.timing.orderstat import block_runtime


def _draws(workers=12, k=300, seed=3):
    T = ShiftedExponential(shift=0.5, rate=1.0).sample(k, workers, np.random.default_rng(seed))
    return np.zeros_like(T), T


def test_bcgc_is_the_all_coded_special_case():
    a, T = _draws()
    x = np.zeros(12, dtype=np.int64)
    x[[0, 2, 5, 11]] = [40, 25, 30, 5]
    assert np.allclose(mm.runtime_samples(mm.from_bcgc(x), a, T), block_runtime(x, T), rtol=1e-12, atol=0)


@pytest.mark.parametrize("r", [1, 2, 5, 12])
def test_ucmmc_is_the_one_multi_block_special_case(r):
    a, T = _draws()
    assert np.allclose(
        mm.runtime_samples(mm.ucmmc(12, 100, r), a, T), ucmmc_runtimes(None, T, [r])[:, 0], rtol=1e-12, atol=0
    )


def test_bcgc_with_fixed_costs_is_the_general_model():
    a, T = _draws(k=200)
    a = a + np.random.default_rng(5).exponential(size=a.shape)  # per-worker fixed costs a_n
    x = np.zeros(12)
    x[[0, 3, 7]] = [50, 30, 20]
    assert np.allclose(mm.runtime_samples(mm.from_bcgc(x), a, T), timeline_runtime(x, a, T), rtol=1e-12)


def test_special_cases_match_the_peers_under_links():
    a, T = _draws(k=200)
    net = Links(bandwidth=50.0, latency=0.05)
    x = np.zeros(12)
    x[[1, 4]] = [60, 40]
    assert np.allclose(mm.runtime_samples(mm.from_bcgc(x), a, T, net), block_runtime_on(x, T, a, net=net))
    assert np.allclose(mm.runtime_samples(mm.ucmmc(12, 100, 3), a, T, net), ucmmc_runtimes(a, T, [3], 100, net)[:, 0])


def test_layered_block_is_the_best_gc_level_per_draw():
    """One layered block of L with r: τ = min_{j<r} (j+1)·T_(N−j), the best level in each draw."""
    a, T = _draws()
    Td = -np.sort(-T, axis=1)
    expect = (Td[:, :4] * np.arange(1.0, 5.0)).min(axis=1)
    got = mm.runtime_samples(MMDesign(12, (MMBlock(100, 4, "layered"),)), a, T)
    assert np.allclose(got, expect, rtol=1e-12)


def test_upload_and_messages_count_each_message():
    d = MMDesign(6, (MMBlock(10, 1), MMBlock(20, 3, "multi"), MMBlock(5, 2, "layered"), MMBlock(7, 4)))
    assert d.upload_per_worker == 10 + 60 + 10 + 7 and d.messages_per_worker == 1 + 3 + 2 + 1
    work, size, _, _ = d.layout()
    L = 42.0
    assert np.allclose(work, [10 / L, 30 / L, 50 / L, 70 / L, 75 / L, 80 / L, 108 / L])
    assert size.tolist() == [10, 20, 20, 20, 5, 5, 7]


@pytest.mark.parametrize(
    "bad, word",
    [
        ((MMBlock(1, 0),), "redundancy"),
        ((MMBlock(1, 2, "x"),), "mode"),
        ((MMBlock(0, 2),), "coords"),
        ((MMBlock(1, 1, "multi"),), "redundancy 1"),
        ((), "at least one"),
    ],
)
def test_invalid_designs_are_refused(bad, word):
    with pytest.raises(ValueError, match=word):
        MMDesign(4, bad)


_block = st.tuples(st.integers(1, 4), st.integers(1, 6), st.sampled_from(mm.MODES))


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 7), st.lists(_block, min_size=1, max_size=3), st.integers(0, 2**32 - 1))
def test_any_arrivals_decode_the_exact_gradient_at_the_modelled_time(workers, spec, seed):
    blocks = tuple(MMBlock(c, min(r, workers), m if min(r, workers) > 1 else "coded") for c, r, m in spec)
    design = MMDesign(workers, blocks)
    scheme = MMScheme(design, seed=seed % 7)
    rng = np.random.default_rng(seed)
    G = rng.normal(size=(workers, scheme.coords))  # ∂f_k of subset k on every coordinate
    M = design.messages_per_worker
    arrival = rng.exponential(size=(workers, M))
    arrival[rng.random((workers, M)) < 0.2] = math.inf  # lost messages
    msgs = [scheme.worker_messages(n, lambda k, c: G[k, c]) for n in range(workers)]
    model_times = mm.decode_times(design, arrival[None])[0]
    if not np.all(np.isfinite(model_times)):
        with pytest.raises(ValueError, match="cannot be decoded"):
            scheme.decode(arrival, msgs)
        return
    g, times = scheme.decode(arrival, msgs)
    assert np.max(np.abs(g - G.sum(axis=0))) <= 1e-9 * max(1.0, np.abs(G).sum())
    assert np.array_equal(times, model_times)


def test_messages_use_only_subsets_computed_before_them():
    design = MMDesign(5, (MMBlock(3, 3, "layered"), MMBlock(2, 4, "multi")))
    scheme = MMScheme(design)
    seen = []
    scheme.worker_messages(2, lambda k, c: seen.append(int(k)) or np.ones(len(c)))
    # layered: level 0 {2}, level 1 {2,3}, level 2 {2,3,4}; multi: 2, 3, 4, 0 one by one
    assert set(seen[:1]) == {2} and set(seen[1:3]) <= {2, 3} and set(seen[3:6]) <= {2, 3, 4}
    assert seen[-4:] == [2, 3, 4, 0]


# ---------------------------------------------------------------------------- design and compare row
from bcgc.design import design  # noqa: E402
from bcgc.design.mm_design import design_mm, mm_samples  # noqa: E402
from bcgc.peers import compare  # noqa: E402

_SMALL = dict(samples=300, eval_samples=4000, max_evals=150)


def test_design_is_never_worse_than_bcgc_or_ucmmc_on_fresh_draws():
    r = design_mm(ShiftedExponential(0.1, 1.0), 8, 80, seed=1, **_SMALL)
    best = min(r.reference.values())
    assert r.expected_runtime <= best + 3 * r.expected_runtime_stderr
    # the joint search finds a mixture strictly better than both peers here (UC-MMC wins over BCGC)
    assert r.chosen == "searched" and r.expected_runtime < 0.97 * best


def test_design_is_reproducible_and_integer():
    law = ShiftedExponential(1.0, 1.0)
    r1, r2 = design_mm(law, 6, 50, seed=3, **_SMALL), design_mm(law, 6, 50, seed=3, **_SMALL)
    assert r1.design == r2.design and r1.expected_runtime == r2.expected_runtime
    assert sum(b.coords for b in r1.design.blocks) == 50 and all(float(b.coords).is_integer() for b in r1.design.blocks)
    MMScheme(r1.design)  # an integer design runs


def test_design_under_a_slow_link_sends_less_and_reports_its_upload_time():
    law, L = ShiftedExponential(0.1, 1.0), 80
    free = design_mm(law, 8, L, seed=1, **_SMALL)
    x = design(law, 8, L, seed=1).blocks  # BCGC's free design as the coded start: keeps the test fast
    slow = design_mm(law, 8, L, bandwidth=L / 10, latency=0.01, seed=1, bcgc_blocks=x, **_SMALL)
    assert slow.upload_per_worker < free.upload_per_worker
    assert slow.expected_runtime <= slow.reference["bcgc"] + 3 * slow.expected_runtime_stderr
    assert slow.upload_time == pytest.approx(0.01 * slow.messages_per_worker + slow.upload_per_worker / (L / 10))


def test_design_arguments_are_checked():
    with pytest.raises(ValueError, match="max_evals"):
        design_mm(ShiftedExponential(1, 1), 4, 10, max_evals=0)
    with pytest.raises(ValueError, match="bandwidth"):
        design_mm(ShiftedExponential(1, 1), 4, 10, bandwidth=-1)
    with pytest.raises(ValueError, match="full stragglers"):
        design_mm(parse_model("shifted-exponential:shift=1,rate=1,full=0.1"), 4, 10)


def test_compare_row_is_opt_in_and_evaluated_on_the_common_draws():
    law = ShiftedExponential(1.0, 1.0)
    rows = {r.name: r for r in compare(law, 5, 40, samples=2000, mm=True)}
    # only the names of the plain rows are asserted on: BCGC's design is given, not made twice
    plain = [r.name for r in compare(law, 5, 40, samples=2000, bcgc_blocks=rows["bcgc"].parameters["blocks"])]
    assert "bcgc_mm" not in plain and set(plain) | {"bcgc_mm"} == set(rows)
    row = rows["bcgc_mm"]
    design = MMDesign(5, tuple(MMBlock(c, r, m) for c, r, m in row.parameters["blocks"]))
    T = law.sample(2000, 5, np.random.default_rng([0, 10]))  # compare's common draws (streams.COMMON_DRAWS)
    assert row.expected_runtime == pytest.approx(mm_samples(design, np.zeros_like(T), T, Links()).mean(), rel=1e-12)
    assert row.upload_per_worker == design.upload_per_worker and row.exact_gradient


def test_cli_compare_shows_bcgc_mm_unless_asked_not_to(capsys):
    import json

    from bcgc.cli import main

    args = [
        "compare",
        "-N",
        "5",
        "-L",
        "40",
        "-m",
        "shifted-exponential:shift=0.1,rate=1",
        "--samples",
        "1000",
        "--json",
    ]
    assert main(args) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["schemes"]}
    assert rows["bcgc_mm"]["upload_per_worker"] >= 40 and rows["bcgc_mm"]["exact_gradient"]
    assert main(args + ["--no-mm"]) == 0
    assert "bcgc_mm" not in {r["name"] for r in json.loads(capsys.readouterr().out)["schemes"]}
