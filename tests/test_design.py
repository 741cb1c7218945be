"""Design algorithms (docs/algorithms.md): block reduction, agreement of the optimal methods, closed
forms, A7 → A6, constraints, and sample-based designs for non-i.i.d. laws."""

import itertools
import math

import numpy as np
import pytest
from scipy import optimize

from bcgc.analysis import OrderStatMax, evaluate
from bcgc.design import allowed_level_set, brute_force_blocks, design, round_blocks
from bcgc.stragglers import Bimodal, FullStragglers, Heterogeneous, Pareto, ShiftedExponential, Trace, parse_model
from bcgc.timing import runtime
from bcgc.timing.orderstat import coordinate_runtime, descending, levels_to_blocks, normalized_load

SE = ShiftedExponential(1, 1)


def brute_force_coordinates(T: np.ndarray, coords: int):
    """A0, the reference for A1: the coordinate-level vector s ∈ {0..N-1}^L minimising the sample
    mean of τ(s; T), equation (1). Returns (levels, value). N^L candidates: tiny cases only."""
    workers = T.shape[1]
    best, best_val = None, math.inf
    for levels in itertools.product(range(workers), repeat=coords):
        val = float(coordinate_runtime(np.array(levels), T).mean())
        if val < best_val:
            best, best_val = np.array(levels), val
    return best, best_val


LAWS_BY_N = {
    "shifted-exp": lambda n: SE,
    "pareto": lambda n: Pareto(1, 2.5),
    "heterogeneous": lambda n: Heterogeneous((SE,) * (n - 1) + (ShiftedExponential(3, 0.5),)),
}


@pytest.mark.parametrize("law_name", list(LAWS_BY_N))
@pytest.mark.parametrize("n, coords", [(2, 6), (3, 6), (3, 4)])
def test_coordinate_brute_force_equals_block_enumeration(law_name, n, coords):
    """A0 (all s ∈ {0..N-1}^L) = A1 (compositions), on common random numbers
    (docs/model.md, "Block coordinate gradient coding")."""
    T = LAWS_BY_N[law_name](n).sample(300, n, seed=1)
    levels, v0 = brute_force_coordinates(T, coords)
    x, v1, count = brute_force_blocks(descending(T), coords)
    assert v0 == pytest.approx(v1, rel=1e-12)
    # the optimal coordinate levels, sorted, form an optimal block vector
    assert OrderStatMax.from_blocks(levels_to_blocks(levels, n)).samples(descending(T)).mean() == pytest.approx(v1)


def test_coordinate_brute_force_equals_block_enumeration_at_n4_l6():
    T = Bimodal(1, 1, 4, 0.2).sample(200, 4, seed=2)
    _, v0 = brute_force_coordinates(T, 6)
    _, v1, count = brute_force_blocks(descending(T), 6)
    assert count == 84 and v0 == pytest.approx(v1, rel=1e-12)


def test_jensen_reproduces_the_worked_example():
    """A4 on the shifted exponential (1, 1), N = 3: docs/algorithms.md, "The closed forms are one
    min-max problem"."""
    r = design(SE, 3, 100_000, method="jensen")
    assert np.allclose(r.relaxed / 1e5, [0.68217, 0.18605, 0.13178], atol=1e-5)
    assert r.expected_runtime == pytest.approx(2.33093, abs=2e-4)  # integer rounding of L = 1e5


@pytest.mark.parametrize(
    "law, n", [(SE, 5), (ShiftedExponential(0.1, 1), 8), (Pareto(1, 3.0), 6)], ids=["se-1-1", "se-0.1-1", "pareto"]
)
def test_optimal_methods_agree_within_half_a_percent(law, n):
    values = {}
    for method in ("optimal", "saa-lp", "subgradient"):
        r = design(law, n, 10**6, method=method, seed=3)
        values[method] = evaluate(law, n, r.relaxed, method="exact").expected_runtime
    best = min(values.values())
    assert all(v <= best * 1.005 for v in values.values()), values
    # ...and they beat the closed forms (which only bound or approximate the optimum)
    jensen = evaluate(law, n, design(law, n, 10**6, method="jensen").relaxed, method="exact").expected_runtime
    assert best <= jensen * (1 + 1e-9)


def test_relaxed_optimum_matches_the_worked_example():
    r = design(SE, 3, 10**6, method="optimal", samples=4000)
    assert evaluate(SE, 3, r.relaxed, method="exact").expected_runtime == pytest.approx(2.31824, rel=5e-4)


@pytest.mark.parametrize("n, coords", [(3, 6), (4, 5), (3, 9)])
def test_optimal_integer_design_matches_exact_enumeration(n, coords):
    exact = design(SE, n, coords, method="brute-force")
    opt = design(SE, n, coords, method="optimal", seed=1)
    assert exact.evaluation.method == "exact" and opt.evaluation.method == "exact"
    # a match: enumeration is the integer optimum, and the optimal method is within 0.5% of it
    assert exact.expected_runtime <= opt.expected_runtime * (1 + 1e-12)
    assert opt.expected_runtime <= exact.expected_runtime * 1.005
    assert exact.blocks.sum() == coords


def test_large_deadline_solution_is_the_limit_of_the_stationary_point():
    """A7 (closed form) is what A6 tends to as the deadline grows (docs/algorithms.md, A7 section)."""
    n = 5
    a7 = design(SE, n, 10**6, objective="deadline", deadline=10, method="large-deadline").relaxed / 1e6
    assert np.allclose(a7, (1 / np.arange(1, n + 1)) / np.sum(1 / np.arange(1, n + 1)))
    dist = []
    for t in (5, 10, 20, 40, 80, 160):
        z = design(SE, n, 10**6, objective="deadline", deadline=t, method="stationary").relaxed / 1e6
        dist.append(np.abs(z - a7).sum())
    assert all(b < a for a, b in zip(dist, dist[1:])), dist
    assert dist[-1] < 0.02 and dist[0] > 0.1


def test_stationary_point_matches_the_deadline_example():
    """A6 on the shifted exponential (1, 1), N = 3, t = 3: docs/algorithms.md, "A2, A6, R"."""
    r = design(SE, 3, 10**6, objective="deadline", deadline=3.0)
    assert r.completion_probability == pytest.approx(0.86092, abs=2e-5)
    assert np.allclose(r.relaxed / 1e6, [0.6137, 0.1583, 0.2280], atol=2e-3)


@pytest.mark.parametrize("method", ["jensen", "inverse", "large-deadline"])
def test_closed_forms_solve_their_min_max_problem(method):
    """Equalising every term is optimal for min_z max_s w_s c_s (checked against an LP)."""
    n = 6
    law = ShiftedExponential(0.3, 1.0)
    objective = "deadline" if method == "large-deadline" else "runtime"
    z = design(law, n, 10**6, method=method, objective=objective, deadline=5).relaxed / 1e6
    if method == "jensen":
        w = law.order_stat_mean(n)[::-1]
    elif method == "inverse":
        w = 1.0 / law.order_stat_inv_mean(n)[::-1]
    else:
        w = 1.0 / np.arange(1, n + 1)
    # LP over (z, θ): min θ s.t. w_s c_s(z) ≤ θ, Σ z = 1, z ≥ 0 with c = lower-triangular map
    tri = np.tril(np.ones((n, n))) * (np.arange(n) + 1.0)[None, :]
    a_ub = np.hstack([w[:, None] * tri, -np.ones((n, 1))])
    res = optimize.linprog(
        np.r_[np.zeros(n), 1],
        A_ub=a_ub,
        b_ub=np.zeros(n),
        A_eq=np.r_[np.ones(n), 0][None, :],
        b_eq=[1],
        bounds=[(0, None)] * (n + 1),
    )
    assert np.max(w * normalized_load(z)) == pytest.approx(res.fun, rel=1e-9)


def test_tolerate_and_allowed_levels_are_respected():
    r = design(SE, 6, 1000, tolerate=2)
    assert np.all(r.blocks[:2] == 0) and r.blocks.sum() == 1000
    r = design(SE, 6, 1000, allowed_levels=[1, 3, 5])
    assert np.all(r.blocks[[0, 2, 4]] == 0) and r.blocks.sum() == 1000
    # with f = 1 a single dead worker never blocks an iteration
    T = SE.sample(100, 6, seed=0)
    T[:, 0] = np.inf
    assert np.all(np.isfinite(OrderStatMax.from_blocks(design(SE, 6, 1000, tolerate=1).blocks).samples(descending(T))))
    with pytest.raises(ValueError, match="no level is left"):
        allowed_level_set(4, 3, [0, 1])


def test_same_seed_same_design_for_sample_based_methods():
    law = parse_model("bimodal:shift=1,rate=1,factor=4,prob=0.2")
    a = design(law, 6, 5000, method="saa-lp", seed=5)
    b = design(law, 6, 5000, method="saa-lp", seed=5)
    assert np.array_equal(a.blocks, b.blocks) and np.array_equal(a.relaxed, b.relaxed)


def test_heterogeneous_workers_get_a_sample_based_optimum():
    """With equal subsets (saa-lp) the LP's optimum; ``optimal`` also allocates the data and is
    better still (docs/algorithms.md, "Fixed costs and unequal subsets")."""
    law = Heterogeneous((SE,) * 6 + (ShiftedExponential(3, 1 / 3),) * 2)  # a quarter 3x slower
    n, coords = 8, 10_000
    lp = design(law, n, coords, seed=2, method="saa-lp")
    assert lp.diagnostics["converged"] and lp.evaluation.method == "monte-carlo" and lp.subset_sizes is None
    T = law.sample(100_000, n, seed=99)
    td = descending(T)

    def mean(x):
        return OrderStatMax.from_blocks(x).samples(td).mean()

    rivals = [design(law, n, coords, method="jensen").blocks] + [np.eye(n)[s] * coords for s in range(n)]
    assert mean(lp.blocks) <= min(mean(x) for x in rivals)
    opt = design(law, n, coords, seed=2)
    assert opt.subset_sizes is not None and opt.subset_sizes[6:].max() < opt.subset_sizes[:6].min()
    assert runtime(opt.blocks, T, 0 * T, opt.subset_sizes).mean() < 0.9 * mean(lp.blocks)


def test_trace_law_gets_a_sample_based_optimum(tmp_path):
    rng = np.random.default_rng(0)
    common = rng.exponential(1.0, size=(500, 1))  # iterations where everyone is slow: correlated
    times = 1.0 + common + rng.exponential(0.5, size=(500, 5))
    path = tmp_path / "trace.csv"
    np.savetxt(path, times, delimiter=",")
    law = parse_model(f"trace:path={path}")
    assert isinstance(law, Trace)
    opt = design(law, 5, 6, seed=0, samples=500)
    exact = brute_force_blocks(descending(law.samples), 6)  # integer optimum on the whole trace
    value = OrderStatMax.from_blocks(opt.blocks).samples(descending(law.samples)).mean()
    assert value <= exact[1] * 1.005


def test_rounding_keeps_the_sum_and_stays_within_one():
    z = np.array([0.333, 0.333, 0.334, 0.0])
    x = round_blocks(z, 10)
    assert x.sum() == 10 and np.all(np.abs(x - 10 * z) < 1)


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match=r"workers must be an integer in \[1, 100000\]"):
        design(SE, 0, 10)
    with pytest.raises(ValueError, match=r"coords must be an integer in \[1, 9007199254740992\]"):
        design(SE, 3, 0)
    with pytest.raises(ValueError, match="method must be one of"):
        design(SE, 3, 10, method="magic")
    with pytest.raises(ValueError, match="deadline is required"):
        design(SE, 3, 10, objective="deadline")
    with pytest.raises(ValueError, match="undefined with full stragglers"):
        design(FullStragglers(SE, 0.1), 3, 10)
    with pytest.raises(ValueError, match="brute-force' would enumerate"):
        design(SE, 30, 100, method="brute-force")


def test_full_stragglers_design_for_a_deadline():
    law = FullStragglers(SE, 0.05)
    r = design(law, 5, 1000, objective="deadline", deadline=4.0, tolerate=1)
    gc1 = evaluate(law, 5, [0, 1000, 0, 0, 0], deadline=4.0).completion_probability
    assert r.completion_probability >= gc1 - 1e-12


def test_designs_do_not_depend_on_the_unit_of_time():
    """Scaling T by c scales E[τ] by c and leaves every design unchanged (the paper's units are ~1e5)."""
    small, big = ShiftedExponential(0.05, 1.0), ShiftedExponential(0.05 * 2e5, 1.0 / 2e5)
    for method in ("optimal", "saa-lp", "jensen", "subgradient"):
        a = design(small, 6, 1000, method=method, seed=1)
        b = design(big, 6, 1000, method=method, seed=1)
        assert np.allclose(a.relaxed, b.relaxed, rtol=1e-6, atol=1e-6), method
        assert b.expected_runtime == pytest.approx(2e5 * a.expected_runtime, rel=1e-6)


@pytest.mark.parametrize(
    "method, options, fragment",
    [
        ("jensen", {"iterations": 10}, "allowed: none"),
        ("optimal", {"polish": 2}, "allowed: max_rounds, tol, start_rows, band"),  # runtime: options of saa-lp
        ("subgradient", {"batchsize": 8}, "allowed: iterations, batch"),
    ],
)
def test_unknown_design_options_are_refused_not_ignored(method, options, fragment):
    with pytest.raises(ValueError, match=fragment):
        design(SE, 4, 100, method=method, options=options)


def test_success_and_message_tell_the_same_story():
    r = design(SE, 6, 500, seed=2)  # optimal: several candidates
    kept = r.diagnostics["candidates"]["chosen"]
    assert r.success and f"kept {kept}" in r.message
    stuck = design(SE, 6, 500, method="saa-lp", options={"max_rounds": 1, "band": 0.0})
    assert stuck.success == stuck.diagnostics["converged"]
    assert ("before convergence" in stuck.message) == (not stuck.success)
    assert r.inputs.model is SE and r.inputs.coords == 500 and r.evaluation.expected_runtime == r.value


@pytest.mark.parametrize("method", ["jensen", "inverse", "subgradient", "saa-lp"])
def test_a_runtime_method_is_refused_for_the_deadline_objective(method):
    with pytest.raises(ValueError, match=f"method '{method}' minimises E"):
        design(SE, 4, 40, method=method, objective="deadline", deadline=3)


@pytest.mark.parametrize(
    "law",
    [
        FullStragglers(__import__("bcgc.stragglers", fromlist=["E"]).Exponential(1), 0.2),
        Trace(np.array([[1, np.inf, 2], [3, 1, np.inf], [2, 2, 2]], dtype=float)),
    ],
)
def test_the_deadline_design_is_never_worse_than_its_best_start(law):
    """A6 with full stragglers used to keep a polished point worse than its own single-level start
    (P = 0.405 against 0.888 for classic GC at level N-1)."""
    n = law.workers or 4
    r = design(law, n, 12, objective="deadline", deadline=3)
    best = design(law, n, 12, objective="deadline", deadline=3, method="brute-force")
    assert r.value >= best.value - 0.02


@pytest.mark.parametrize(
    "options, fragment",
    [
        ({"start_rows": 0}, "start_rows"),
        ({"start_rows": 2.5}, "start_rows"),
        ({"band": 1.0}, "band"),
        ({"band": -0.1}, "band"),
    ],
)
def test_the_lps_row_generation_options_are_checked(options, fragment):
    """A start of no rows, or a band that drops each sample's worst row, is refused, not run."""
    with pytest.raises(ValueError, match=fragment):
        design(ShiftedExponential(1, 1), 4, 100, method="saa-lp", samples=50, options=options)
