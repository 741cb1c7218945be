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
