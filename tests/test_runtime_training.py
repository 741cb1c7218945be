"""What a training run gives its user (docs/runtime.md): a start-up limit for slow workers, the
iteration told to the problem, per-iteration metrics, a pluggable update rule, the trained θ and
checkpoints."""

import pickle

import numpy as np
import pytest

from bcgc._validate import InputError
from bcgc.optim import GradientDescent
from bcgc.problems import load_dataset, make_problem
from bcgc.runtime import train, worker_views
from bcgc.runtime.checkpoint import Checkpoints, read_checkpoint, save_theta
from bcgc.schemes.blocks import BlockScheme
from bcgc.simulate import simulate
from bcgc.stragglers import ShiftedExponential

N = 4
LAW = ShiftedExponential(0.1, 1.0)


@pytest.fixture(scope="module")
def problem():
    return make_problem("logistic", load_dataset("digits", samples=400, seed=0), N)


def test_workers_slow_to_start_are_named_as_such(ray_session, problem):
    from bcgc.runtime.ray_backend import RayBackend

    views = worker_views(problem, BlockScheme([problem.L, 0, 0, 0], N))
    with pytest.raises(InputError, match=r"did not all start within startup_timeout=0\.001 s: they were slow to start"):
        RayBackend(views[:2], startup_timeout=0.001)  # no process starts in a millisecond (two: "all")
    with pytest.raises(InputError, match="startup_timeout must be"):
        RayBackend(views, startup_timeout=0)


def minibatch(problem, fraction=0.5):
    """``problem`` whose gradients use a seeded half of each subset's rows, drawn per subset and
    iteration (``set_iteration``); its metrics report the iteration it was told and θ's norm."""

    class MiniBatch(type(problem)):  # defined here: pickled by value for Ray
        told = None

        def set_iteration(self, t):
            self.told = t

        def forward(self, theta, k):
            r = super().forward(theta, k)
            keep = np.random.default_rng([self.told, k]).random(r.shape[0]) < fraction
            return r * keep

        def metrics(self, theta):
            return {"told": self.told, "norm": float(np.linalg.norm(theta))}

    mb = object.__new__(MiniBatch)
    mb.__dict__.update(problem.__dict__)
    return mb


@pytest.fixture(params=["threads", "ray"])
def backend(request):
    if request.param == "ray":
        request.getfixturevalue("ray_session")
    return request.param


def test_every_worker_and_the_master_are_told_the_iteration(backend, problem):
    """Mini-batches drawn per iteration: the master's exact gradient (at the iteration it was
    told) is what the workers' blocks decode to, and the run is the simulator's twin."""
    mb = minibatch(problem)
    res = train(mb, LAW, ("bcgc",), iterations=4, backend=backend, unit=0.005, seed=2, iteration_timeout=60.0)[0]
    sim = simulate(mb, LAW, "bcgc", iterations=4, seed=2, blocks=res.logs[0]["design"])
    assert res.summary()["max_gradient_error"] <= 1e-9
    assert np.allclose(res.column("loss"), sim.losses[1:], rtol=1e-9, atol=0)
    assert [r["metrics"]["told"] for r in res.logs] == [0, 1, 2, 3] == [m["told"] for m in sim.metrics]
    assert res.summary()["final_metrics"] == res.logs[-1]["metrics"]
    assert res.logs[-1]["metrics"]["norm"] == pytest.approx(np.linalg.norm(res.theta))
    full = simulate(problem, LAW, "bcgc", iterations=4, seed=2, blocks=res.logs[0]["design"])
    assert not np.allclose(full.losses[1:], sim.losses[1:], rtol=1e-6)  # the batches did change the run


class Momentum:
    """Heavy-ball momentum with a state (a stand-in for a PyTorch optimizer's adapter)."""

    def __init__(self, lr, beta=0.9):
        self.lr, self.beta, self.v = lr, beta, None

    def step(self, theta, grad, iteration):
        self.v = grad if self.v is None else self.beta * self.v + grad
        return theta - self.lr * self.v

    def state_dict(self):
        return {"v": None if self.v is None else self.v.copy()}

    def load_state_dict(self, state):
        self.v = state["v"]


def test_gradient_descent_is_the_default_bit_for_bit_and_an_optimizer_is_pluggable(problem):
    base = simulate(problem, LAW, "bcgc", iterations=3, seed=1)
    gd = simulate(problem, LAW, "bcgc", iterations=3, seed=1, optimizer=GradientDescent(problem.step_size))
    assert np.array_equal(base.losses, gd.losses) and np.array_equal(base.theta, gd.theta)
    mom = simulate(problem, LAW, "bcgc", iterations=3, seed=1, optimizer=Momentum(problem.step_size))
    assert mom.losses[1] == base.losses[1] and mom.losses[-1] < base.losses[-1]  # momentum speeds it up
    res = train(problem, LAW, ("bcgc",), iterations=3, backend="threads", unit=0.005, seed=1)[0]
    assert np.allclose(res.theta, base.theta, rtol=1e-9, atol=1e-15)
    assert problem.loss(res.theta) == res.logs[-1]["loss"]
    for bad in (object(), 0.1):
        with pytest.raises(InputError, match="optimizer must have a step"):
            simulate(problem, LAW, "bcgc", iterations=1, optimizer=bad)
    with pytest.raises(InputError, match="step_size must be"):
        GradientDescent(-1.0)


def test_a_resumed_run_continues_the_same_sequence(problem, tmp_path):
    def momentum():  # a factory: every run starts a fresh optimizer
        return Momentum(problem.step_size)

    run = dict(backend="threads", unit=0.005, seed=4, optimizer=momentum, iteration_timeout=60.0)
    whole = train(problem, LAW, ("bcgc",), iterations=4, **run)[0]
    path = tmp_path / "ckpt"
    train(problem, LAW, ("bcgc",), iterations=3, checkpoint=Checkpoints(str(path), 2), **run)
    assert read_checkpoint(path)["iteration"] == 3  # every 2 and after the last
    first = train(problem, LAW, ("bcgc",), iterations=2, checkpoint=Checkpoints(str(path), 2), **run)[0]
    state = read_checkpoint(path)
    assert (
        state["iteration"] == 2 and np.array_equal(state["theta"], first.theta) and state["optimizer"]["v"] is not None
    )
    rest = train(problem, LAW, ("bcgc",), iterations=4, resume=str(path), **run)[0]
    assert rest.first_iteration == 2 and [r["iteration"] for r in rest.logs] == [2, 3]
    assert [r["T"] for r in rest.logs] == [r["T"] for r in whole.logs[2:]]  # the same draws
    assert rest.initial_loss == pytest.approx(whole.logs[1]["loss"], rel=1e-9)
    assert np.allclose(rest.theta, whole.theta, rtol=1e-9, atol=1e-15)  # the momentum came back too


def test_resume_refuses_what_would_not_continue_the_run(problem, tmp_path):
    path = tmp_path / "ckpt"
    run = dict(backend="threads", unit=0.005, seed=4)
    train(problem, LAW, ("bcgc",), iterations=1, checkpoint=Checkpoints(str(path), 1), **run)
    with pytest.raises(InputError, match="checkpoint has seed 4, this run 5"):
        train(problem, LAW, ("bcgc",), iterations=3, resume=str(path), backend="threads", seed=5)
    with pytest.raises(InputError, match="checkpoint has scheme 'bcgc', this run 'gc'"):
        train(problem, LAW, ("gc",), iterations=3, resume=str(path), **run)
    with pytest.raises(InputError, match="more than the checkpoint's 1 done"):
        train(problem, LAW, ("bcgc",), iterations=1, resume=str(path), **run)
    with pytest.raises(InputError, match="apply to one scheme"):
        train(problem, LAW, ("bcgc", "gc"), iterations=3, resume=str(path), **run)
    (tmp_path / "junk").write_bytes(b"not a pickle")
    with pytest.raises(InputError, match="not a readable checkpoint"):
        train(problem, LAW, ("bcgc",), iterations=3, resume=str(tmp_path / "junk"), **run)
    with pytest.raises(InputError, match="optimizer has no load_state_dict"):
        train(
            problem, LAW, ("bcgc",), iterations=3, resume=str(_with_state(path)), optimizer=GradientDescent(0.1), **run
        )


def _with_state(path):
    state = read_checkpoint(path)
    state["optimizer"] = {"v": None}
    path.write_bytes(pickle.dumps(state))
    return path


def test_save_writes_npy_or_calls_the_problems_own_save(problem, tmp_path):
    theta = np.arange(problem.L, dtype=float)
    save_theta(problem, theta, tmp_path / "theta.bin")
    assert np.array_equal(np.load(tmp_path / "theta.bin"), theta)
    saved = []
    own = minibatch(problem)
    type(own).save = lambda self, th, path: saved.append((th.copy(), path))
    save_theta(own, theta, tmp_path / "model.pt")
    assert np.array_equal(saved[0][0], theta) and saved[0][1] == str(tmp_path / "model.pt")
