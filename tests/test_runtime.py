"""The distributed runtime (SPEC §7): the engine-agnostic master on the thread engine, and the Ray
engine with real processes killed by PID. Every run is bounded by the master's iteration timeout."""

import os
import signal
import threading

import numpy as np
import pytest

from bcgc.design import design
from bcgc.problems import load_dataset, make_problem
from bcgc.runtime import Arrival, Master, ThreadBackend, WorkerCore, worker_views
from bcgc.runtime.engine import Plan
from bcgc.scheme import BlockScheme
from bcgc.simulate import simulate
from bcgc.stragglers import ShiftedExponential

LAW = ShiftedExponential(0.1, 1.0)
N = 6


@pytest.fixture(scope="module")
def problem():
    return make_problem("logistic", load_dataset("digits", samples=600, seed=0), N)


def make_master(problem, backend_cls=ThreadBackend, blocks=None, **kw):
    blocks = design(LAW, N, problem.L).blocks if blocks is None else np.asarray(blocks)
    backend = backend_cls(worker_views(problem, BlockScheme(blocks, N)))
    kw.setdefault("unit", 0.01)
    kw.setdefault("iteration_timeout", 60.0)
    return Master(backend, problem, LAW, blocks, **kw), backend


def test_applied_gradient_is_exact_and_trajectory_matches_the_simulator(problem):
    master, _ = make_master(problem, seed=3)
    res = master.run(6)
    assert res.summary()["max_gradient_error"] <= 1e-9
    sim = simulate(problem, LAW, "bcgc", iterations=6, seed=3)
    assert np.allclose(res.column("loss"), sim.losses[1:], rtol=1e-9, atol=0)


class StaleBackend(ThreadBackend):
    """Injects a message tagged with an earlier round before every real one: it must be ignored."""

    def publish(self, iteration, theta, times, plan, mode, unit):
        bogus = np.full(plan.stops[0] - plan.starts[0], 1e6)
        for w in range(self.workers):
            self.events.put(Arrival(iteration - 1, plan.levels[0], w, bogus))
        super().publish(iteration, theta, times, plan, mode, unit)


def test_late_messages_from_an_earlier_round_are_never_mixed_in(problem):
    master, _ = make_master(problem, StaleBackend)
    assert master.run(3).summary()["max_gradient_error"] <= 1e-9


def test_a_dead_worker_the_design_tolerates_does_not_stop_the_run(problem):
    blocks = design(LAW, N, problem.L, tolerate=1).blocks
    master, backend = make_master(problem, blocks=blocks)
    master.run(2)
    backend.kill(4)
    res = master.run(3)
    assert res.redesigns == 0 and len(res.logs) == 5
    assert res.summary()["max_gradient_error"] <= 1e-9 and res.logs[-1]["dead"] == [4]


def test_too_many_dead_workers_force_a_redesign_and_the_run_completes(problem):
    master, backend = make_master(problem)   # the optimal design uses level 0: no worker may die
    master.run(1)
    backend.kill(1)
    backend.kill(3)
    res = master.run(3)
    assert res.redesigns >= 1
    assert np.all(master.scheme.blocks[:2] == 0)          # every block now tolerates 2 dead workers
    assert res.summary()["max_gradient_error"] <= 1e-9 and len(res.logs) == 4


def test_all_workers_dead_is_a_clear_error_not_a_hang(problem):
    master, backend = make_master(problem)
    for w in range(N):
        backend.kill(w)
    with pytest.raises(RuntimeError, match="all 6 workers are dead"):
        master.run(1)


class SilentBackend(ThreadBackend):
    def publish(self, *args):
        pass


def test_an_iteration_that_cannot_finish_times_out(problem):
    master, _ = make_master(problem, SilentBackend, iteration_timeout=0.3)
    with pytest.raises(RuntimeError, match="timed out"):
        master.run(1)


def test_cancel_stops_a_worker_before_its_remaining_blocks(problem):
    scheme = BlockScheme([20, 20, problem.L - 40, 0, 0, 0], N)
    core = WorkerCore(0, problem.restrict(scheme.subsets_of(0)))
    gen = core.run(7, problem.init(), t_n=1.0, plan=Plan.from_scheme(scheme), mode="emulate", unit=3600.0)
    threading.Timer(0.05, core.cancel, args=(7,)).start()
    assert list(gen) == []                     # block 0 was due after an hour: nothing was sent
    gen = core.run(8, problem.init(), 1.0, Plan.from_scheme(scheme), "emulate", 0.0)
    assert [lv for lv, _, _ in gen] == [0, 1, 2]  # a later iteration is not affected


def test_logs_hold_prediction_blocks_and_overhead(problem, tmp_path):
    path = tmp_path / "log.jsonl"
    with open(path, "w") as fh:
        master, _ = make_master(problem, log=fh)
        master.run(2)
    import json
    recs = [json.loads(line) for line in path.read_text().splitlines()]
    rec = recs[-1]
    assert rec["event"] == "iteration" and rec["predicted_seconds"] > 0 and rec["master_overhead_seconds"] >= 0
    for s, info in rec["blocks"].items():
        assert len(info["workers"]) == N - int(s)


# ---------------------------------------------------------------------------- Ray
ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_session():
    ray.init(num_cpus=4, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


def ray_master(problem, blocks=None, **kw):
    from bcgc.runtime.ray_backend import RayBackend
    return make_master(problem, RayBackend, blocks=blocks, **kw)


def test_ray_run_is_exact(problem, ray_session):
    master, backend = ray_master(problem, seed=3)
    try:
        res = master.run(4)
    finally:
        backend.shutdown()
    assert res.summary()["max_gradient_error"] <= 1e-9
    assert np.allclose(res.column("loss"), simulate(problem, LAW, "bcgc", iterations=4, seed=3).losses[1:], rtol=1e-9)


def test_ray_worker_killed_by_pid_mid_iteration_is_tolerated(problem, ray_session):
    blocks = design(LAW, N, problem.L, tolerate=1).blocks
    master, backend = ray_master(problem, blocks=blocks, unit=0.3)
    try:
        master.run(1)
        threading.Timer(0.05, os.kill, args=(backend.pids[2], signal.SIGKILL)).start()  # during iteration 1
        res = master.run(3)
    finally:
        backend.shutdown()
    assert 2 in master.dead and res.redesigns == 0
    assert res.summary()["max_gradient_error"] <= 1e-9 and len(res.logs) == 4


def test_ray_killing_enough_workers_forces_a_redesign(problem, ray_session):
    master, backend = ray_master(problem, unit=0.3)
    try:
        master.run(1)
        for w in (0, 5):
            os.kill(backend.pids[w], signal.SIGKILL)
        res = master.run(3)
    finally:
        backend.shutdown()
    assert master.dead == {0, 5} and res.redesigns >= 1
    assert res.summary()["max_gradient_error"] <= 1e-9 and len(res.logs) == 4


@pytest.mark.parametrize("mode", ["--emulate", "--slowdown"])
def test_train_cli_json_contract(capsys, mode):
    import json
    from bcgc.cli import main
    model = "shifted-exponential:shift=1,rate=2" if mode == "--slowdown" else "shifted-exponential:shift=0.1,rate=1"
    code = main(["train", "-N", "4", "-m", model, "--dataset", "synthetic", "--max-samples", "400",
                 "--iterations", "3", "--unit", "0.01", mode, "--backend", "threads", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert code == 0 and [s["name"] for s in d["schemes"]] == ["bcgc", "gc", "uncoded"]
    for s in d["schemes"]:
        assert set(s) >= {"name", "iterations", "median_measured_over_predicted", "p90_measured_over_predicted",
                          "mean_iteration_seconds", "final_loss", "max_gradient_error", "redesigns"}
        assert s["iterations"] == 3 and s["max_gradient_error"] <= 1e-9 and s["median_measured_over_predicted"] > 0
    assert len({s["final_loss"] for s in d["schemes"]}) == 1 or np.allclose([s["final_loss"] for s in d["schemes"]],
                                                                             d["schemes"][0]["final_loss"], rtol=1e-9)


def test_train_cli_rejects_both_modes(capsys):
    from bcgc.cli import main
    code = main(["train", "-N", "4", "-m", "shifted-exponential:shift=1,rate=1", "--emulate", "--slowdown"])
    assert code == 2 and "not allowed with argument" in capsys.readouterr().err
