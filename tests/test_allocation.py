"""Heterogeneous workers exploited: the design chooses the data allocation (unequal subset sizes,
cyclic placement) with the blocks; decoding stays exact; the simulator follows the allocation
(docs/model.md, "Unequal subsets"; docs/algorithms.md, "Fixed costs and unequal subsets")."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bcgc import report
from bcgc.analysis import evaluate
from bcgc.design import allocation, design
from bcgc.peers import compare
from bcgc.problems import load_dataset, make_problem, split_rows, with_subset_sizes
from bcgc.schemes.blocks import BlockScheme
from bcgc.simulate import simulate
from bcgc.stragglers import Heterogeneous, ShiftedExponential, Trace
from bcgc.timing import runtime
from bcgc.timing.general import cyclic_shares, equal_shares

SE = ShiftedExponential(1.0, 1.0)
SLOW = ShiftedExponential(3.0, 1 / 3)
MIXED = Heterogeneous((SE,) * 4 + (SLOW,) * 2)  # 4 fast, 2 three times slower


@pytest.fixture(scope="module")
def data():
    return load_dataset("synthetic", samples=300, seed=0, features=5)


def test_cyclic_shares_hold_the_window_of_subsets():
    d = np.array([0.4, 0.1, 0.2, 0.3])
    w = cyclic_shares(d)
    assert np.allclose(w[1], 4 * np.cumsum([0.1, 0.2, 0.3, 0.4]))
    assert np.allclose(cyclic_shares(np.full(5, 0.2)), equal_shares(5))


def _without_allocation(monkeypatch, *args, **kw):
    with monkeypatch.context() as m:  # today's design: the allocation machinery never entered
        m.setattr(allocation, "applies", lambda *a: False)
        return design(*args, **kw)


@pytest.mark.parametrize("law", [SE, Heterogeneous((SE,) * 5)], ids=["iid", "identical-heterogeneous"])
def test_identical_workers_get_todays_design_exactly(monkeypatch, law):
    r = design(law, 5, 1000, samples=300)
    today = _without_allocation(monkeypatch, law, 5, 1000, samples=300)
    assert r.subset_sizes is None and np.array_equal(r.blocks, today.blocks)
    assert np.array_equal(r.relaxed, today.relaxed) and r.evaluation == today.evaluation


def test_a_trace_of_identical_workers_keeps_equal_subsets(monkeypatch):
    rng = np.random.default_rng(4)
    law = Trace(np.repeat(1 + rng.exponential(size=(200, 1)), 5, axis=1) * (1 + 0.01 * rng.random((200, 5))))
    r = design(law, 5, 1000, samples=300)
    assert r.subset_sizes is None
    assert np.array_equal(r.blocks, _without_allocation(monkeypatch, law, 5, 1000, samples=300).blocks)


def test_slow_workers_hold_less_data_and_the_design_is_faster():
    # eval_samples: the designs' own Monte Carlo evaluations are not asserted on (T below is)
    r = design(MIXED, 6, 600, samples=300, seed=1, eval_samples=2000)
    d = r.subset_sizes
    assert d is not None and d.sum() == pytest.approx(1) and d[4:].max() < d[:4].min()
    assert r.diagnostics["allocation"]["kept"]
    T = MIXED.sample(20_000, 6, seed=5)
    equal = design(MIXED, 6, 600, samples=300, seed=1, method="saa-lp", eval_samples=2000).blocks
    assert runtime(r.blocks, T, 0 * T, d).mean() < 0.85 * runtime(equal, T, 0 * T).mean()
    doc = report.design_json(r)
    assert np.allclose(doc["subset_sizes"], d) and "subset_sizes" not in report.design_json(design(SE, 3, 10))
    rows = {row.name: row for row in compare(MIXED, 6, 600, samples=5000, bcgc_blocks=r.blocks, bcgc_subset_sizes=d)}
    assert "subset_sizes" in rows["bcgc"].parameters
    assert rows["bcgc"].expected_runtime < min(rows[k].expected_runtime for k in ("uncoded", "gc_best"))


def test_rows_are_split_by_the_subset_sizes(data):
    parts = split_rows(300, 4, [0.5, 0.25, 0.25, 0.0])
    assert [p.size for p in parts] == [150, 75, 75, 0] and np.array_equal(np.concatenate(parts), np.arange(300))
    assert all(np.array_equal(p, q) for p, q in zip(split_rows(10, 3), np.array_split(np.arange(10), 3)))
    base = make_problem("softmax", data, 4)
    split = with_subset_sizes(base, [0.5, 0.25, 0.25, 0.0])
    theta = np.random.default_rng(0).standard_normal(base.L)
    assert np.allclose(split.gradient(theta), base.gradient(theta), atol=1e-12)
    assert split.loss(theta) == pytest.approx(base.loss(theta), rel=1e-12)
    with pytest.raises(ValueError, match="subset_sizes must be 4 numbers"):
        with_subset_sizes(base, [0.5, 0.5, 0.5, -0.5])


@st.composite
def allocated_scheme(draw):
    n = draw(st.integers(2, 7))
    blocks = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n).filter(lambda v: sum(v) > 0))
    weights = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n).filter(lambda v: sum(v) > 0.1))
    return n, np.array(blocks), np.array(weights) / np.sum(weights)


@settings(max_examples=40, deadline=None)
@given(case=allocated_scheme(), seed=st.integers(0, 2**16))
def test_decoding_is_exact_with_unequal_subsets(data, case, seed):
    """Any unequal subset sizes (some empty), any arrival order per block: the decoded gradient is
    the full gradient, since every code recovers the sum of the subset gradients."""
    n, blocks, d = case
    rng = np.random.default_rng(seed)
    problem = make_problem("least-squares", data, n, subset_sizes=d)
    L = problem.L
    x = np.round(blocks / blocks.sum() * L).astype(int)
    x[np.argmax(x)] += L - x.sum()
    scheme = BlockScheme(x, n, seed=seed % 7, subset_sizes=d)
    theta = rng.standard_normal(L)
    ready = scheme.ready_times(rng.exponential(size=n), 1 + rng.exponential(size=n))
    g, times, _ = scheme.coded_gradient_at(problem.subset_gradients(theta), ready)
    exact = problem.gradient(theta)
    assert np.max(np.abs(g - exact)) <= 1e-9 * max(1.0, np.max(np.abs(exact)))


def test_group_placement_cannot_hold_unequal_subsets():
    with pytest.raises(ValueError, match="fractional"):
        BlockScheme([2, 2, 0, 0], 4, kind="fractional", subset_sizes=[0.4, 0.2, 0.2, 0.2])
    assert BlockScheme([2, 2, 0, 0], 4, subset_sizes=[0.4, 0.2, 0.2, 0.2]).codes[1].kind != "fractional"


def test_the_simulation_follows_the_allocation(data):
    problem = make_problem("least-squares", data, 6)
    r = design(MIXED, 6, problem.L, samples=300, seed=1)
    sim = simulate(problem, MIXED, "bcgc", iterations=40, blocks=r.blocks, subset_sizes=r.subset_sizes)
    assert sim.parameters["subset_sizes"] == pytest.approx(r.subset_sizes.tolist())
    assert np.max(np.abs(sim.iteration_times - sim.predicted_times)) <= 1e-12 and sim.max_gradient_error <= 1e-9
    assert np.allclose(sim.predicted_times, runtime(r.blocks, sim.draws, sim.fixed_costs, r.subset_sizes))
    equal = simulate(problem, MIXED, "bcgc", iterations=40, blocks=r.blocks)
    assert np.allclose(equal.losses, sim.losses) and sim.virtual_time < equal.virtual_time
    with pytest.raises(ValueError, match="exact evaluation needs formula"):
        evaluate(SE, 6, r.blocks, method="exact", subset_sizes=r.subset_sizes)


def test_the_command_line_shows_and_takes_subset_sizes(capsys):
    from bcgc.cli import main

    law = "heterogeneous:3*shifted-exponential:shift=1,rate=1;1*shifted-exponential:shift=3,rate=0.3"
    assert main(["design", "-N", "4", "-L", "40", "-m", law, "--samples", "200", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["subset_sizes"]) == 4 and doc["subset_sizes"][3] < min(doc["subset_sizes"][:3])
    assert (
        main(
            [
                "evaluate",
                "-N",
                "4",
                "-m",
                law,
                "-x",
                ",".join(map(str, doc["blocks"])),
                "--json",
                "--subset-sizes",
                ",".join(map(str, doc["subset_sizes"])),
                "--samples",
                "2000",
            ]
        )
        == 0
    )
    ev = json.loads(capsys.readouterr().out)
    assert ev["expected_runtime"] == pytest.approx(doc["expected_runtime"], rel=0.05)
    assert main(["evaluate", "-N", "4", "-m", law, "-x", "1,0,0,0", "--subset-sizes", "0.5,0.5"]) == 2
    assert "--subset-sizes must have 4 entries" in capsys.readouterr().err


def test_the_allocation_travels_with_the_blocks_into_compare():
    """Blocks designed for unequal subsets, shown with those subsets (compare's bcgc_subset_sizes):
    the row agrees with the design's own evaluation; shown with equal subsets they are slower."""
    from bcgc.design import design
    from bcgc.peers import compare
    from bcgc.stragglers import Heterogeneous, ShiftedExponential

    law = Heterogeneous((ShiftedExponential(1, 1),) * 6 + (ShiftedExponential(3, 1),) * 2)
    r = design(law, 8, 800, samples=300, eval_samples=20_000)
    assert r.subset_sizes is not None
    rows = {
        p.name: p for p in compare(law, 8, 800, samples=20_000, bcgc_blocks=r.blocks, bcgc_subset_sizes=r.subset_sizes)
    }
    equal = {p.name: p for p in compare(law, 8, 800, samples=20_000, bcgc_blocks=r.blocks)}
    se = rows["bcgc"].expected_runtime_stderr + r.expected_runtime_stderr
    assert abs(rows["bcgc"].expected_runtime - r.expected_runtime) < 4 * se
    assert rows["bcgc"].expected_runtime < equal["bcgc"].expected_runtime - 4 * se
