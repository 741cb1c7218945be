"""The backprop work order (docs/model.md, "The backprop work order"): the timing core against a
brute-force simulation of the subset-major schedule, the paper's order unchanged, and the design
engine, the evaluation, the comparison and the command line under the order."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bcgc import report, streams, timing
from bcgc._validate import InputError
from bcgc.analysis import evaluate
from bcgc.cli import main
from bcgc.design import design
from bcgc.design import general as G
from bcgc.design.document import parse_design
from bcgc.peers import common_draws, compare
from bcgc.problems import load_dataset, make_problem
from bcgc.simulate import simulate
from bcgc.stragglers import ShiftedExponential
from bcgc.timing.general import cumulative_work, cyclic_shares, equal_shares, runtime_samples
from bcgc.timing.work import WorkOrder


def _brute_work(x, shares, forward, beta):
    """Worker by worker, subset by subset: subset j costs u_n(j) · (φ + Σ of β over θ's first C_j
    coordinates), C_j = Σ_{i≥j} x_i; block j is complete after subset j. ``beta``: per coordinate."""
    n = len(x)
    top = max(np.flatnonzero(x))
    out = np.full((n, n), np.nan)
    for worker in range(n):
        done, held = 0.0, 0.0
        for j in range(top + 1):
            size = shares[worker, j] - held  # the data of the worker's (j+1)-th subset
            held = shares[worker, j]
            deep = int(sum(x[j:]))
            done += size * (forward + sum(beta[:deep]))
            out[worker, j] = done
    return out


def _beta(coords, forward, sizes=None, costs=None):
    if sizes is None:
        return np.full(coords, (1 - forward) / coords)
    costs = np.asarray(costs, float) * (1 - forward) / np.sum(costs)
    return np.concatenate([np.full(n, c / n) for n, c in zip(sizes, costs)])


CASES = [
    (np.array([3, 0, 2, 5]), None, 0.3, None, None),
    (np.array([1, 4, 0, 0, 5]), np.array([0.1, 0.3, 0.2, 0.25, 0.15]), 0.45, None, None),
    (np.array([2, 3, 0, 5]), None, 0.2, [4, 1, 5], [1.0, 3.0, 0.5]),
    (np.array([4, 0, 1, 3, 2]), np.array([0.3, 0.1, 0.2, 0.15, 0.25]), 0.0, [2, 2, 6], [0.2, 1.0, 0.1]),
]


@pytest.mark.parametrize("x, d, forward, sizes, costs", CASES)
def test_backprop_work_matches_the_subset_major_schedule(x, d, forward, sizes, costs):
    shares = equal_shares(x.size) if d is None else cyclic_shares(d)
    order = WorkOrder.backprop(forward, sizes, costs)
    brute = _brute_work(x, shares, forward, _beta(int(x.sum()), forward, sizes, costs))
    used = np.flatnonzero(np.arange(x.size) <= max(np.flatnonzero(x)))
    assert np.allclose(cumulative_work(x, shares, order)[:, used], brute[:, used], rtol=1e-12, atol=1e-14)


def test_uniform_backprop_is_the_closed_form_linear_in_x():
    x, d, phi = np.array([3.0, 1, 0, 4]), np.array([0.4, 0.1, 0.3, 0.2]), 0.35
    w, z = cyclic_shares(d), x / x.sum()
    expect = [
        [phi * w[n, s] + (1 - phi) * sum(z[i] * w[n, min(i, s)] for i in range(4)) for s in range(4)] for n in range(4)
    ]
    assert np.allclose(cumulative_work(x, w, WorkOrder.backprop(phi)), expect, rtol=1e-12)


def test_the_paper_order_is_todays_model_bit_for_bit():
    rng = np.random.default_rng(3)
    x, d = np.array([2, 0, 3, 1, 4]), rng.dirichlet(np.ones(5))
    w = cyclic_shares(d)
    assert np.array_equal(cumulative_work(x, w, WorkOrder.paper()), np.cumsum(w * (x / x.sum()), axis=1))
    assert np.array_equal(cumulative_work(x, w), cumulative_work(x, w, None))
    T = rng.exponential(size=(30, 5))
    assert np.array_equal(timing.runtime(x, T, order=WorkOrder.paper()), timing.runtime(x, T))


@pytest.mark.parametrize("level", [0, 2, 4])
@pytest.mark.parametrize("d", [None, np.array([0.3, 0.1, 0.2, 0.15, 0.25])])
def test_single_level_designs_have_the_same_runtime_under_both_orders(level, d):
    x = np.zeros(5, dtype=int)
    x[level] = 7
    rng = np.random.default_rng(level)
    a, b = rng.exponential(0.2, size=(40, 5)), rng.exponential(size=(40, 5)) + 0.5
    order = WorkOrder.backprop(0.4, [3, 4], [2.0, 1.0])
    assert np.array_equal(timing.runtime(x, b, a, d, order=order), timing.runtime(x, b, a, d))


def test_a_multi_level_design_differs_and_backprop_takes_the_general_path():
    x, T = np.array([3, 0, 4]), np.array([[1.0, 2.0, 3.0]])
    paper, back = timing.runtime(x, T), timing.runtime(x, T, order=WorkOrder.backprop(0.2))
    assert back[0] > paper[0]
    shares = equal_shares(3)
    assert back[0] == runtime_samples(x, np.zeros_like(T), T, shares, WorkOrder.backprop(0.2))[0]


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 7), st.floats(0.0, 0.95), st.booleans(), st.integers(0, 2**32 - 1))
def test_reordering_to_subset_major_never_lowers_the_runtime(workers, forward, unequal, seed):
    """The paper's coordinate-major order is the best order for a given design (uniform backward):
    the subset-major one does every block's work no sooner, on every draw."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, workers)
    x[rng.integers(workers)] += 1
    d = rng.dirichlet(np.ones(workers)) if unequal else None
    a, b = rng.exponential(0.3, size=(10, workers)), rng.exponential(size=(10, workers)) + 0.1
    paper = timing.runtime(x, b, a, d)
    back = timing.runtime(x, b, a, d, order=WorkOrder.backprop(forward))
    assert np.all(back >= paper * (1 - 1e-12))


def test_the_gradient_is_the_derivative_of_the_work():
    x, d = np.array([2.0, 3, 0, 5]), np.array([0.4, 0.1, 0.3, 0.2])
    w = cyclic_shares(d)
    for order in (WorkOrder.paper(), WorkOrder.backprop(0.3), WorkOrder.backprop(0.1, [1, 2, 7], [3.0, 1, 2])):
        z = x / x.sum()
        grad = order.gradient(z, w)
        for i in range(4):
            step = np.zeros(4)
            step[i] = 1e-7
            # W depends on z through x / Σx: differentiate at fixed normalisation (z − step, unnormalised;
            # from below, as C_0 = 1 is the end of θ)
            num = (_raw_work(order, z, w) - _raw_work(order, z - step, w)) / 1e-7
            assert np.allclose(num[:, :3], grad[:, :3, i], atol=1e-5), (order, i)


def _raw_work(order, z, w):
    """W at an unnormalised z (the scale is what the design's subgradient moves)."""
    if order.is_paper:
        return np.cumsum(w * z, axis=1)
    p = np.where(np.cumsum((z > 0)[::-1])[::-1] > 0, 1.0 - order.remaining(np.cumsum(z[::-1])[::-1]), 0.0)
    u = np.diff(w, axis=1, prepend=0.0)
    return np.cumsum(u * p, axis=1)


def test_cost_documents_are_normalised_to_the_unit(tmp_path):
    doc = {"forward": 2.0, "backward": [1.0, 3.0, 4.0], "sizes": [10, 20, 30], "names": ["a", "b", "c"], "version": 1}
    order = WorkOrder.from_costs(doc)
    assert order.forward == pytest.approx(0.2) and sum(order.tensor_costs) == pytest.approx(0.8)
    path = tmp_path / "costs.json"
    path.write_text(json.dumps(doc))
    assert WorkOrder.from_costs(str(path)) == order
    assert WorkOrder.from_dict(order.as_dict()) == order
    assert WorkOrder.from_dict(None) == WorkOrder.paper()


@pytest.mark.parametrize(
    "change, key",
    [
        ({"forward": -1.0}, "forward"),
        ({"forward": "x"}, "forward"),
        ({"backward": [1.0, -2.0, 1.0]}, "backward"),
        ({"backward": [0.0, 0.0, 0.0]}, "backward"),
        ({"sizes": [10, 0, 3]}, "sizes"),
        ({"sizes": [10, 2]}, "tensor_costs"),
        ({"names": ["a"]}, "names"),
        ({"version": 2}, "version"),
        ({"speed": 1}, "speed"),
    ],
)
def test_a_bad_cost_document_is_refused_naming_the_key(change, key):
    doc = {"forward": 2.0, "backward": [1.0, 3.0, 4.0], "sizes": [10, 20, 30], **change}
    with pytest.raises(InputError, match=key):
        WorkOrder.from_costs(doc)


def test_a_missing_key_and_bad_orders_are_named():
    with pytest.raises(InputError, match="'sizes'"):
        WorkOrder.from_costs({"forward": 1.0, "backward": [1.0]})
    with pytest.raises(InputError, match="forward must be a number in \\[0, 1\\)"):
        WorkOrder.backprop(1.0)
    with pytest.raises(InputError, match="work_order"):
        timing.runtime([1, 1], np.ones((1, 2)), order="backprop")


# ----------------------------------------------------------------------------- the lowest level bounds τ
@settings(max_examples=30, deadline=None)
@given(st.integers(2, 6), st.floats(0.0, 0.9), st.booleans(), st.integers(0, 2**32 - 1))
def test_under_backprop_no_design_beats_its_lowest_level_alone(workers, forward, unequal, seed):
    """Block s_min's subsets all run the full backward (every block lies above them), so it is ready
    exactly when the single-level design at s_min would be: τ(x) ≥ τ(s_min alone) on every draw."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, workers)
    x[rng.integers(workers)] += 1
    d = rng.dirichlet(np.ones(workers)) if unequal else None
    order = WorkOrder.backprop(forward, [2, 5, 1], rng.uniform(0.1, 1, 3))
    a, b = rng.exponential(0.3, size=(10, workers)), rng.exponential(size=(10, workers)) + 0.1
    alone = np.zeros(workers)
    alone[np.flatnonzero(x)[0]] = x.sum()
    assert np.all(timing.runtime(x, b, a, d, order=order) >= timing.runtime(alone, b, a, d, order=order) * (1 - 1e-12))


# ----------------------------------------------------------------------------- the design engine
SE = ShiftedExponential(shift=1.0, rate=1.0)


@pytest.fixture(scope="module")
def designs():
    order = WorkOrder.backprop(0.3)
    return order, design(SE, 5, 40), design(SE, 5, 40, work_order=order)


def test_the_backprop_design_beats_the_papers_design_under_backprop(designs):
    order, paper, back = designs
    draws = G.Draws(SE, 5, back.inputs.samples, back.inputs.seed, streams.DESIGN_SAMPLES, order)
    own = G.runtimes(back.blocks.astype(float), None, draws).mean()
    theirs = G.runtimes(paper.blocks.astype(float), None, draws).mean()
    assert np.count_nonzero(paper.blocks) > 1  # the paper's design is multi-level here
    assert own < 0.9 * theirs  # strictly lower (measured: about 30% at N = 8, L = 400)
    assert back.work_order == order and paper.work_order == WorkOrder.paper()
    assert back.evaluation.method == "monte-carlo" and "backprop" in back.message
    ev = evaluate(SE, 5, paper.blocks, work_order=order, samples=20_000)
    assert back.expected_runtime < ev.expected_runtime


def test_the_design_document_records_the_order(designs):
    order, paper, back = designs
    doc = parse_design(report.design_json(back))
    assert doc.work_order == order
    old = report.design_json(paper)
    assert "work_order" not in old and parse_design(old).work_order is None
    with pytest.raises(InputError, match="work_order: forward"):
        parse_design({**report.design_json(back), "work_order": {"kind": "backprop", "forward": 2}})


def test_backprop_designs_refuse_formula_2_methods_and_links():
    with pytest.raises(InputError, match="use one of optimal"):
        design(SE, 4, 20, method="jensen", work_order=WorkOrder.backprop(0.2))
    with pytest.raises(InputError, match="work_order"):
        design(SE, 4, 20, latency=0.1, work_order=WorkOrder.backprop(0.2))


# ----------------------------------------------------------------------------- compare and simulate
def test_compare_times_every_block_scheme_under_the_order():
    order, x = WorkOrder.backprop(0.25), np.array([10, 4, 0, 6, 20])
    rows = {r.name: r for r in compare(SE, 5, 40, samples=3000, bcgc_blocks=x, work_order=order)}
    paper = {r.name: r for r in compare(SE, 5, 40, samples=3000, bcgc_blocks=x)}
    a, b = common_draws(SE, 5, 3000, 0)
    assert rows["bcgc"].expected_runtime == pytest.approx(timing.runtime(x, b, order=order).mean(), rel=1e-12)
    assert rows["bcgc"].expected_runtime > paper["bcgc"].expected_runtime
    assert rows["gc_best"].expected_runtime == paper["gc_best"].expected_runtime  # one level: the same
    assert rows["ucmmc_best"].expected_runtime == paper["ucmmc_best"].expected_runtime  # MM: the same
    assert rows["tandon_partial"].expected_runtime >= paper["tandon_partial"].expected_runtime


def test_simulate_times_blocks_under_the_order():
    problem = make_problem("logistic", load_dataset("digits", samples=300, seed=0), 5)
    x = np.array([20, 0, 10, 0, problem.L - 30])
    back = simulate(problem, SE, "bcgc", iterations=4, blocks=x, work_order=WorkOrder.backprop(0.3))
    paper = simulate(problem, SE, "bcgc", iterations=4, blocks=x)
    assert np.allclose(back.iteration_times, back.predicted_times, rtol=1e-12)
    assert np.all(back.iteration_times > paper.iteration_times)
    assert back.gradient_errors.max() < 1e-9


# ----------------------------------------------------------------------------- the command line
def test_cli_bad_costs_exit_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "costs.json"
    bad.write_text(json.dumps({"forward": 1.0, "backward": [1.0, 2.0], "sizes": [3, -4]}))
    for command in ("design", "evaluate", "compare"):
        extra = ["-x", "4,0,4,0"] if command == "evaluate" else []
        code = main(
            [command, "-N", "4", "-L", "8", "-m", "shifted-exponential:shift=1,rate=1", *extra, "--costs", str(bad)]
        )
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and "sizes" in err, (command, err)


def test_cli_design_then_evaluate_keeps_the_order(tmp_path, capsys):
    costs = tmp_path / "costs.json"
    costs.write_text(json.dumps({"forward": 1.0, "backward": [2.0, 1.0], "sizes": [10, 30]}))
    args = ["design", "-N", "4", "-L", "40", "-m", "shifted-exponential:shift=1,rate=1", "--costs", str(costs)]
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["work_order"]["kind"] == "backprop" and doc["work_order"]["forward"] == pytest.approx(0.25)
    path = tmp_path / "design.json"
    path.write_text(json.dumps(doc))
    assert main(["evaluate", "--design", str(path), "--samples", "2000", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["work_order"]["kind"] == "backprop"
    assert main(["evaluate", "--design", str(path), "--work-order", "paper"]) == 2


def test_a_plan_emulates_the_order_for_block_schemes_only():
    from bcgc.schemes.blocks import BlockScheme
    from bcgc.schemes.plan import Plan

    order, x = WorkOrder.backprop(0.3, [5, 15], [1.0, 1.0]), np.array([6, 0, 4, 10])
    scheme = BlockScheme(x, 4)
    plan = Plan(scheme, order=order)
    assert np.array_equal(plan.work, cumulative_work(x, scheme.shares, order))
    rng = np.random.default_rng(1)
    b = rng.exponential(size=(20, 4)) + 0.2
    assert np.allclose(plan.runtime(np.zeros_like(b), b), timing.runtime(x, b, order=order), rtol=1e-12)
    assert not np.allclose(Plan(scheme).work, plan.work)
