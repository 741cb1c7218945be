"""The Problem protocol: docs/problems.md's user-defined problem runs, as written there, on the
simulator, the thread engine and Ray, with exact gradients."""

import re
from pathlib import Path

import numpy as np
import pytest

from bcgc.problems import Problem, load_dataset, make_problem
from bcgc.stragglers import ShiftedExponential

DOC = Path(__file__).resolve().parents[1] / "docs" / "problems.md"


def doc_namespace():
    """Execute the page's Python blocks in order; return their names (the class, problem, runs)."""
    ns: dict = {}
    for block in re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S):
        exec(compile(block, str(DOC), "exec"), ns)
    return ns


def test_the_documented_problem_trains_exactly_in_the_simulator_and_on_threads():
    ns = doc_namespace()
    virtual, real = ns["virtual"], ns["real"]
    assert virtual.max_gradient_error <= 1e-9 and real.summary()["max_gradient_error"] <= 1e-9
    assert virtual.losses[-1] < 0.5 * virtual.losses[0]  # it learns
    assert np.allclose(real.column("loss"), virtual.losses[1:], rtol=1e-9)


def test_the_documented_problem_runs_on_ray(ray_session):
    from bcgc.runtime import train

    ns: dict = {}
    exec(compile(re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)[0], str(DOC), "exec"), ns)
    rng = np.random.default_rng(0)
    A = rng.normal(size=(300, 20))
    problem = ns["LinearRegression"](A, A @ rng.normal(size=20), workers=4)  # pickled by value to Ray
    res = train(problem, ShiftedExponential(0.1, 1.0), ("bcgc",), iterations=3, unit=0.01, backend="ray", seed=2)[0]
    assert res.summary()["max_gradient_error"] <= 1e-9 and len(res.logs) == 3


def test_a_problem_must_implement_the_protocol():
    class Incomplete(Problem):
        def init(self):
            return np.zeros(1)

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()


def test_shipped_problems_follow_the_protocol():
    data = load_dataset("digits", samples=200, seed=0)
    for name in ("least-squares", "logistic", "softmax"):
        p = make_problem(name, data, 4)
        assert isinstance(p, Problem)
        theta = np.random.default_rng(0).normal(size=p.L) * 0.01
        coords = np.arange(3, 17)
        view = p.restrict([1, 2])
        state = view.forward(theta, 2)
        assert np.allclose(view.partial_given(state, theta, 2, coords), p.subset_gradient(theta, 2)[coords])


@pytest.mark.parametrize("name", ["least-squares", "logistic", "softmax"])
@pytest.mark.parametrize("sizes", [None, [0.1, 0.2, 0.3, 0.4]])
def test_a_block_of_many_subsets_at_once_is_each_subsets_partials(name, sizes):
    """``partials_given`` (one batched product per block, what a runtime worker runs) equals one
    ``partial_given`` per subset, on the whole problem and on a view, as the round's forwards grow
    (a view's stacks follow its data; unequal subsets take one call per subset)."""
    p = make_problem(name, load_dataset("digits", samples=200, seed=0), 4, subset_sizes=sizes)
    theta = np.random.default_rng(1).normal(size=p.L) * 0.1
    blocks = [np.arange(0, 5), np.arange(7, p.L // 2), np.arange(p.L - 3, p.L), np.arange(13, 14)]
    for problem, order in ((p, [2, 0, 3]), (p.restrict([1, 3, 2]), [3, 1, 2])):
        states = {}
        for i, k in enumerate(order):
            states[k] = problem.forward(theta, k)  # the round forwards one more subset
            for coords in blocks:
                ks = order[: i + 1][::-1]
                got = problem.partials_given(states, theta, ks, coords)
                want = np.stack([problem.partial_given(states[j], theta, j, coords) for j in ks])
                assert got.shape == want.shape
                assert np.allclose(got, want, rtol=1e-12, atol=1e-15)
                assert np.allclose(got, np.stack([p.subset_gradient(theta, j)[coords] for j in ks]), rtol=1e-9)


def test_a_subclass_with_its_own_partials_is_not_batched():
    """A subclass that overrides ``partial_given`` gets one call of it per subset (its own code)."""

    class Doubled(type(make_problem("softmax", load_dataset("digits", samples=100, seed=0), 4))):
        def partial_given(self, state, theta, k, coords):
            return 2 * super().partial_given(state, theta, k, coords)

    p = Doubled(load_dataset("digits", samples=100, seed=0), 4)
    theta = np.random.default_rng(0).normal(size=p.L) * 0.1
    states = {k: p.forward(theta, k) for k in (0, 1)}
    coords = np.arange(10, 30)
    got = p.partials_given(states, theta, [0, 1], coords)
    assert np.allclose(got, 2 * np.stack([p.subset_gradient(theta, k)[coords] for k in (0, 1)]))
