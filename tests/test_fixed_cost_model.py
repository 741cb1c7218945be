"""A law with a fixed cost in the runtime model, the design, the peers and the oracle
(docs/model.md, "The general model" and "Peers and the oracle with a fixed cost")."""

import numpy as np
import pytest
from scipy import optimize

from bcgc.analysis import evaluate, general_monte_carlo
from bcgc.design import design
from bcgc.peers import compare
from bcgc.schemes.gc import classic_gc
from bcgc.schemes.tandon import tandon_partial
from bcgc.schemes.uncoded import uncoded
from bcgc.stragglers import Exponential, FixedCost, FullStragglers, ShiftedExponential, parse_model
from bcgc.timing import oracle_affine_samples, oracle_samples, runtime, ucmmc_runtimes

SE = ShiftedExponential(1.0, 1.0)
AFFINE = FixedCost(Exponential(0.5), SE)  # a random start-up cost, mean 2: bigger than the work


def slow_runtime(x, a, b, d=None):
    """τ per draw, computed the slow way: worker by worker, block by block (docs/model.md)."""
    n = b.shape[1]
    d = np.full(n, 1.0 / n) if d is None else np.asarray(d)
    z = np.asarray(x, dtype=float) / np.sum(x)
    out = []
    for k in range(b.shape[0]):
        worst = 0.0
        for s in np.flatnonzero(z):
            work = [sum(z[j] * n * sum(d[(w + i) % n] for i in range(j + 1)) for j in range(s + 1)) for w in range(n)]
            ready = sorted(a[k, w] + b[k, w] * work[w] for w in range(n))
            worst = max(worst, ready[n - s - 1])
        out.append(worst)
    return np.array(out)


def test_the_general_model_is_the_worker_by_worker_timeline():
    rng = np.random.default_rng(3)
    a, b = rng.exponential(size=(30, 5)), 1 + rng.exponential(size=(30, 5))
    x, d = np.array([4, 0, 3, 2, 1]), rng.dirichlet(np.ones(5))
    assert np.allclose(runtime(x, b, a), slow_runtime(x, a, b), rtol=1e-12)
    assert np.allclose(runtime(x, b, a, d), slow_runtime(x, a, b, d), rtol=1e-12)


def test_a_zero_fixed_cost_gives_exactly_todays_numbers():
    """a ≡ 0 keeps formula (2): the same evaluation and comparison, number for number."""
    zero = FixedCost(0.0, SE)
    assert not zero.has_fixed_cost and AFFINE.has_fixed_cost and not SE.has_fixed_cost
    x = [50, 20, 0, 30]
    assert evaluate(zero, 4, x, method="monte-carlo", samples=5000) == evaluate(
        SE, 4, x, method="monte-carlo", samples=5000
    )
    rows = compare(zero, 4, 100, samples=3000, bcgc_blocks=x)
    today = compare(SE, 4, 100, samples=3000, bcgc_blocks=x, method="monte-carlo")
    assert [(r.name, r.expected_runtime) for r in rows] == [(r.name, r.expected_runtime) for r in today]


def test_the_fixed_cost_evaluation_is_monte_carlo_on_the_parts():
    ev = evaluate(AFFINE, 4, [5, 3, 2, 0], samples=4000, seed=1)
    assert ev.method == "monte-carlo" and ev.expected_runtime_stderr > 0
    with pytest.raises(ValueError, match="exact evaluation needs formula"):
        evaluate(AFFINE, 4, [5, 3, 2, 0], method="exact")
    a, b = AFFINE.sample_parts(400, 4, seed=2)
    mc = general_monte_carlo(AFFINE, 4, [5, 3, 2, 0], samples=400, seed=2)
    assert mc.expected_runtime == pytest.approx(slow_runtime([5, 3, 2, 0], a, b).mean(), rel=1e-12)


def test_peers_pay_the_fixed_cost_once_and_the_work_linearly():
    rng = np.random.default_rng(0)
    a, b = rng.exponential(size=(50, 6)), 1 + rng.exponential(size=(50, 6))
    assert np.allclose(uncoded().affine_samples(a, b), (a + b).max(axis=1))
    for s in range(6):
        assert np.allclose(classic_gc(s).affine_samples(a, b), np.sort(a + (s + 1) * b, axis=1)[:, 5 - s])
    t = tandon_partial(2).affine_samples(a, b)
    k = 3 / 8
    assert np.allclose(t, np.maximum(np.sort(a + 6 * k * b, axis=1)[:, 3], (a + k * b).max(axis=1)))
    uc = ucmmc_runtimes(a, b, np.arange(1, 7))
    for r in range(1, 7):  # subset m is first ready at min_j a_{m-j} + (j+1) b_{m-j}
        ready = [np.min([a[:, (m - j) % 6] + (j + 1) * b[:, (m - j) % 6] for j in range(r)], axis=0) for m in range(6)]
        assert np.allclose(uc[:, r - 1], np.max(ready, axis=0))


def test_the_oracle_with_a_fixed_cost_is_the_best_split_of_the_work():
    rng = np.random.default_rng(1)
    a, b = 3 * rng.exponential(size=(20, 7)), 0.5 + rng.exponential(size=(20, 7))
    t = oracle_affine_samples(a, b)
    for k in range(20):  # the root of Σ_n max(0, (t - a_n)/b_n) = N: every unit of work once
        root = optimize.brentq(lambda u: np.maximum(0, (u - a[k]) / b[k]).sum() - 7, 0, 1e4, xtol=1e-13)
        assert t[k] == pytest.approx(root, rel=1e-10)
    assert np.allclose(oracle_affine_samples(0 * b, b), oracle_samples(b), rtol=1e-13)


@pytest.mark.parametrize("method", ["jensen", "inverse", "saa-lp", "large-deadline"])
def test_methods_derived_from_formula_2_refuse_a_fixed_cost(method):
    with pytest.raises(ValueError, match=f"method '{method}' is derived from formula \\(2\\)"):
        design(AFFINE, 4, 100, method=method)


def test_the_fixed_cost_design_beats_the_design_that_ignores_it():
    n, coords = 6, 600
    r = design(AFFINE, n, coords, samples=400, seed=0)
    assert r.evaluation.method == "monte-carlo" and "fixed cost" in r.message
    ignoring = design(SE, n, coords).blocks  # designed as if a were 0

    def run(x):
        return general_monte_carlo(AFFINE, n, x, samples=20_000, seed=9).expected_runtime

    assert run(r.blocks) < run(ignoring) - 0.01
    assert run(r.blocks) < compare(AFFINE, n, coords, samples=20_000, bcgc_blocks=r.blocks)[2].expected_runtime


def test_brute_force_and_deadline_designs_take_a_fixed_cost():
    law = parse_model("affine:a=exponential:rate=1;b=shifted-exponential:shift=1,rate=1")
    x = design(law, 3, 5, method="brute-force", samples=300).blocks
    a, b = law.sample_parts(300, 3, seed=np.random.default_rng([0, 0]))
    best = min(
        slow_runtime(np.array(c), a, b).mean() for c in ([i, j, 5 - i - j] for i in range(6) for j in range(6 - i))
    )
    assert slow_runtime(x, a, b).mean() == pytest.approx(best, rel=1e-12)
    r = design(law, 4, 400, objective="deadline", deadline=6.0, samples=500)
    uncoded_p = evaluate(law, 4, [400, 0, 0, 0], deadline=6.0, samples=20_000).completion_probability
    assert r.completion_probability > uncoded_p


def test_runtime_quantiles_pay_a_constant_fixed_cost_once():
    from bcgc.analysis import runtime_quantiles

    q = runtime_quantiles(FixedCost(1.0, SE), 4, [3, 1, 0, 0], [0.5, 0.99], seed=0)
    assert np.allclose(q, runtime_quantiles(SE, 4, [3, 1, 0, 0], [0.5, 0.99], seed=0) + 1.0, rtol=1e-12)


def test_solver_options_are_refused_under_a_fixed_cost_not_ignored():
    with pytest.raises(ValueError, match="not to the local search"):
        design(AFFINE, 3, 30, method="subgradient", options={"iterations": 10})


def test_has_fixed_cost_is_the_laws_own_answer_in_the_runtime_too():
    """One answer for the design and the runtime: a fixed cost inside a heterogeneous law counts (it
    was folded into the slowdown), and a = 0 is no fixed cost (it was refused in slowdown mode)."""
    from bcgc.runtime import parse_experience

    het = "heterogeneous:2*affine:a=0.5;b=exponential:rate=1;2*exponential:rate=2"
    assert parse_model(het).has_fixed_cost and parse_experience(het).has_fixed_cost
    zero = "affine:a=0;b=exponential:rate=1"
    assert not parse_model(zero).has_fixed_cost and not parse_experience(zero).has_fixed_cost
    assert FullStragglers(AFFINE, 0.1).has_fixed_cost and not FullStragglers(SE, 0.1).has_fixed_cost
