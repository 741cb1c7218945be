"""A worker runs one round at a time, and the problem is told the iteration (docs/runtime.md).

A stateful problem (a PyTorch module whose parameters are set per round) must never see a round
start while the previous one is still computing a block: the runtime lets a cancelled round finish
or abandon its block before the next round starts on that worker, on every engine."""

import threading
import time

import numpy as np
import pytest

from bcgc.design import design
from bcgc.problems import load_dataset, make_problem
from bcgc.runtime import Master, ThreadBackend, WorkerCore, worker_views
from bcgc.schemes.blocks import BlockScheme
from bcgc.stragglers import ShiftedExponential

LAW = ShiftedExponential(0.1, 1.0)
N = 4


@pytest.fixture(scope="module")
def problem():
    return make_problem("logistic", load_dataset("digits", samples=400, seed=0), N)


def stateful_views(views, delay):
    """Views that record each round (``set_iteration``) and every computation entering and leaving;
    a computation that sees another one inside, or a new round begun while it ran, raises (a
    Failure on every engine: the run stops with a WorkerError)."""

    class OneRoundAtATime(type(views[0])):  # defined here: pickled by value for Ray
        def set_iteration(self, t):
            if self.inside:
                raise AssertionError(f"round for iteration {t} began while a computation was inside")
            self.rounds += 1
            self.seen.append(t)

        def _inside(self, compute):
            self.inside += 1
            at = (self.rounds, self.seen[-1] if self.seen else None)
            if self.inside > 1:
                raise AssertionError("two computations at once")
            time.sleep(delay)
            out = compute()
            if (self.rounds, self.seen[-1] if self.seen else None) != at:
                raise AssertionError(f"a new round began while round {at} was computing")
            self.inside -= 1
            return out

        def forward(self, theta, k):
            return self._inside(lambda: super(OneRoundAtATime, self).forward(theta, k))

        def partial_given(self, state, theta, k, coords):
            return self._inside(lambda: super(OneRoundAtATime, self).partial_given(state, theta, k, coords))

    out = []
    for v in views:
        s = object.__new__(OneRoundAtATime)
        s.__dict__.update(v.__dict__, inside=0, rounds=0, seen=[])
        out.append(s)
    return out


def _engine(kind, views):
    if kind == "threads":
        return ThreadBackend(views)
    from bcgc.runtime.ray_backend import RayBackend

    return RayBackend(views)


@pytest.fixture(params=["threads", "ray"])
def kind(request):
    if request.param == "ray":
        request.getfixturevalue("ray_session")
    return request.param


def test_a_worker_never_runs_two_rounds_at_once(kind, problem):
    """Stragglers are still inside a block when the master cancels their round and publishes the
    next one: that round waits for the block to end (a stateful problem would mix rounds)."""
    blocks = design(LAW, N, problem.L).blocks
    views = stateful_views(worker_views(problem, BlockScheme(blocks, N)), delay=0.01)
    backend = _engine(kind, views)
    try:
        master = Master(backend, problem, LAW, blocks, unit=0.005, iteration_timeout=60.0)
        res = master.run(8)
    finally:
        backend.shutdown()
    assert len(res.logs) == 8 and res.summary()["max_gradient_error"] <= 1e-9
    if kind == "threads":  # each worker was told each iteration in order, once per round
        for core in backend.cores:
            assert core.problem.seen == sorted(core.problem.seen) and set(core.problem.seen) <= set(range(8))
            # a straggler's abandoned block may still be inside when the run returns: it leaves alone
            deadline = time.monotonic() + 10
            while core.problem.inside and time.monotonic() < deadline:
                time.sleep(0.01)
            assert core.problem.inside == 0


def test_the_next_round_waits_for_the_block_being_computed(problem):
    """A direct look at one worker: round 2 is published while round 1 is inside a slow block; it
    starts computing only after that block ends, and round 1 sends nothing after its cancel."""
    scheme = BlockScheme([problem.L, 0, 0, 0], N)
    core = WorkerCore(0, stateful_views([problem.restrict(scheme.subsets_of(0))], delay=0.2)[0])
    first = core.run(1, problem.init(), 1.0, scheme, "emulate", 0.0, t=5)
    done = []
    worker = threading.Thread(target=lambda: done.append(list(first)))
    worker.start()
    time.sleep(0.05)  # round 1 is inside its first computation (0.2 s)
    core.cancel(1)
    second = list(core.run(2, problem.init(), 1.0, scheme, "emulate", 0.0, t=6))
    worker.join()
    assert [lv for lv, *_ in second] == [0] and core.problem.seen == [5, 6]
    assert done == [[]]  # round 1 abandoned its block: nothing sent after the cancel
    assert np.isfinite(second[0][3])
