"""The master and the thread engine: what needs no Ray (the suite runs without Ray installed).

Engine-independent behaviour (exact gradients, deaths, worker exceptions) is the conformance suite
in test_engines.py, run against every engine."""

import json
import os
import sys
import threading

import numpy as np
import pytest

from bcgc.policy import DesignPolicy, RedesignImpossible
from bcgc.problems import load_dataset, make_problem
from bcgc.runtime import Arrival, Master, ThreadBackend, WorkerCore, train, worker_views
from bcgc.schemes.blocks import BlockScheme
from bcgc.stragglers import FullStragglers, ShiftedExponential
from bcgc.timing.orderstat import block_runtime

LAW = ShiftedExponential(0.1, 1.0)
N = 6


@pytest.fixture(scope="module")
def problem():
    return make_problem("logistic", load_dataset("digits", samples=600, seed=0), N)


def make_master(problem, backend_cls=ThreadBackend, blocks=None, model=LAW, **kw):
    policy = kw.get("policy") or DesignPolicy(seed=kw.get("seed", 0))
    blocks = policy.blocks(model, N, problem.L) if blocks is None else np.asarray(blocks)
    backend = backend_cls(worker_views(problem, BlockScheme(blocks, N)))
    kw.setdefault("unit", 0.01)
    kw.setdefault("iteration_timeout", 60.0)
    return Master(backend, problem, model, blocks, **kw), backend


class StaleBackend(ThreadBackend):
    """Injects a message tagged with an earlier round before every real one: it must be ignored."""

    def publish(self, iteration, theta, times, scheme, mode, unit, t=None):
        s = int(scheme.levels[0])
        bogus = np.full(scheme.slices[s].stop - scheme.slices[s].start, 1e6)
        for w in range(self.workers):
            self.events.put(Arrival(iteration - 1, s, w, bogus))
        super().publish(iteration, theta, times, scheme, mode, unit, t)


def test_late_messages_from_an_earlier_round_are_never_mixed_in(problem):
    master, _ = make_master(problem, StaleBackend)
    assert master.run(3).summary()["max_gradient_error"] <= 1e-9


def test_all_workers_dead_is_a_clear_error_not_a_hang(problem):
    # the closed-form re-design after each death (the optimal one took ~1 s each, five times, for nothing
    # this test checks)
    master, backend = make_master(problem, policy=DesignPolicy(method="jensen"))
    for w in range(N):
        backend.kill(w)
    with pytest.raises(RuntimeError, match="all 6 workers are dead"):
        master.run(1)


class SilentBackend(ThreadBackend):
    def publish(self, *args, **kw):
        pass


def test_an_iteration_that_cannot_finish_times_out(problem):
    master, _ = make_master(problem, SilentBackend, iteration_timeout=0.3)
    with pytest.raises(RuntimeError, match="timed out"):
        master.run(1)


def test_an_iteration_predicted_to_outlast_the_timeout_is_not_cut_off(problem):
    """A long unit of time makes an iteration take longer than ``iteration_timeout``: predictable from
    the design, so the limit stretches to two attempts' patience instead of failing every iteration."""
    master, _ = make_master(problem, unit=0.5, iteration_timeout=0.3)
    assert master._tau99 * 0.5 > 0.3  # the design's 99th percentile outlasts the given timeout
    assert master.run(1).summary()["max_gradient_error"] <= 1e-9


def test_cancel_stops_a_worker_before_its_remaining_blocks(problem):
    scheme = BlockScheme([20, 20, problem.L - 40, 0, 0, 0], N)
    core = WorkerCore(0, problem.restrict(scheme.subsets_of(0)))
    gen = core.run(7, problem.init(), t_n=1.0, scheme=scheme, mode="emulate", unit=3600.0)
    threading.Timer(0.05, core.cancel, args=(7,)).start()
    assert list(gen) == []  # block 0 was due after an hour: nothing was sent
    gen = core.run(8, problem.init(), 1.0, scheme, "emulate", 0.0)
    assert [lv for lv, *_ in gen] == [0, 1, 2]  # a later iteration is not affected


def test_workers_send_the_messages_the_simulator_decodes(problem):
    """No second encoder: a worker's message, computed from its own subsets block by block, equals
    the simulator's B_F · G for the same block (the data path the decoder is tested on)."""
    scheme = BlockScheme([20, 0, 30, 0, 0, problem.L - 50], N)
    theta = np.random.default_rng(1).normal(size=problem.L)
    G = problem.subset_gradients(theta)
    for w in (0, 3):
        core = WorkerCore(w, problem.restrict(scheme.subsets_of(w)))
        sent = {lv: v for lv, v, *_ in core.run(1, theta, 1.0, scheme, "emulate", 0.0)}
        assert sorted(sent) == [0, 2, 5]
        for lv, vec in sent.items():
            ref = scheme.codes[lv].messages([w], G[:, scheme.slices[lv]])[0]
            assert np.allclose(vec, ref, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("mode", ["emulat", "", None])
def test_an_unknown_emulation_mode_is_refused(problem, mode):
    with pytest.raises(ValueError, match="mode must be one of emulate, slowdown, natural"):
        make_master(problem, mode=mode)
    core = WorkerCore(0, problem)
    with pytest.raises(ValueError, match="mode must be one of"):
        list(core.run(1, problem.init(), 1.0, BlockScheme([problem.L, 0, 0, 0, 0, 0], N), mode, 0.0))


def test_logs_hold_prediction_blocks_and_overhead(problem, tmp_path):
    path = tmp_path / "log.jsonl"
    with open(path, "w") as fh:
        master, _ = make_master(problem, log=fh)
        master.run(2)
    recs = [json.loads(line) for line in path.read_text().splitlines()]
    rec = recs[-1]
    assert rec["event"] == "iteration" and rec["attempts"] == 1
    T = np.array([rec["T"]], dtype=float)  # the logged draw predicts the logged time (unit 0.01 s)
    assert rec["predicted_seconds"] == pytest.approx(float(block_runtime(master.scheme.blocks, T)[0]) * 0.01)
    for s, info in rec["blocks"].items():
        assert len(info["workers"]) == N - int(s)
        assert 0 < info["seconds"] <= rec["measured_seconds"]


def test_redesign_uses_the_users_design_arguments(problem):
    """The master re-designs through the policy built from the user's choices (here: allowed
    levels), not with design()'s defaults."""
    policy = DesignPolicy(allowed_levels=(0, 2, 4), seed=0)
    master, backend = make_master(problem, policy=policy)
    master.run(1)
    backend.kill(1)
    res = master.run(2)
    assert res.redesigns == 1 and res.summary()["max_gradient_error"] <= 1e-9
    used = set(np.flatnonzero(master.scheme.blocks).tolist())
    assert used <= {2, 4} and used  # tolerate 1 and only the allowed levels


def test_a_gc_run_redesigns_as_gc_and_uncoded_stops_saying_why(problem):
    slow_start = ShiftedExponential(1.0, 1.0)  # classic GC's best level here is 0: any death needs a re-design
    master, backend = make_master(problem, policy=DesignPolicy("gc"), model=slow_start)
    assert master.name == "gc" and master.scheme.levels.tolist() == [0]
    master.run(1)
    backend.kill(0)
    res = master.run(2)
    assert res.redesigns == 1 and res.name == "gc" and res.summary()["max_gradient_error"] <= 1e-9
    assert len(master.scheme.levels) == 1 and master.scheme.levels[0] >= 1  # still one level: still GC
    uncoded, backend = make_master(problem, policy=DesignPolicy("uncoded"))
    uncoded.run(1)
    backend.kill(2)
    with pytest.raises(RedesignImpossible, match="uncoded waits for every worker"):
        uncoded.run(1)


def test_train_designs_every_scheme_before_running_any(problem):
    """A scheme that cannot meet the design arguments stops the command before any training."""
    with pytest.raises(ValueError, match="tolerate must be 0 for the uncoded scheme"):
        train(problem, LAW, ("bcgc", "gc", "uncoded"), iterations=1, backend="threads", tolerate=1)


def test_train_ships_the_placement_of_the_code_kind_it_runs(problem):
    res = train(
        problem,
        LAW,
        ("bcgc",),
        iterations=2,
        unit=0.005,
        backend="threads",
        code_kind="gaussian",
        allowed_levels=(0, 1),
    )[0]
    assert res.summary()["max_gradient_error"] <= 1e-9


def test_training_under_full_stragglers_works_with_a_deadline_design(problem):
    """Full stragglers: the design is made for P(τ ≤ t); an attempt with too many of them is not
    decoded within its patience and is retried with a fresh draw, never applied inexactly."""
    law = FullStragglers(ShiftedExponential(1, 1), 0.3)
    res = train(
        problem,
        law,
        ("bcgc",),
        iterations=6,
        unit=0.005,
        backend="threads",
        seed=1,
        objective="deadline",
        deadline=4.0,
        min_patience=0.2,
    )[0]
    s = res.summary()
    assert s["iterations"] == 6 and s["max_gradient_error"] <= 1e-9
    assert s["retries"] >= 1  # with P(full) = 0.3 some draw had too many full stragglers (seeded)
    # the simulator, the runtime's twin, redraws the same iterations the same way
    from bcgc.simulate import simulate

    sim = simulate(problem, law, "bcgc", iterations=6, seed=1, blocks=res.logs[0]["design"])
    assert [r["T"] for r in res.logs] == [[None if not np.isfinite(v) else float(v) for v in row] for row in sim.draws]
    assert sim.retries == s["retries"]


def test_training_under_full_stragglers_without_a_deadline_says_what_to_do(problem):
    law = FullStragglers(ShiftedExponential(1, 1), 0.3)
    with pytest.raises(ValueError, match="deadline"):
        train(problem, law, ("bcgc",), iterations=1, backend="threads")


@pytest.mark.parametrize(
    "mode, schemes, names",
    [
        ("--emulate", ["--scheme", "all"], ["bcgc", "gc", "uncoded", "bcgc_mm", "ucmmc"]),
        ("--slowdown", [], ["bcgc"]),  # the default: bcgc alone
        ("--emulate", ["--scheme", "uncoded,bcgc"], ["uncoded", "bcgc"]),
    ],
)
def test_train_cli_json_contract(capsys, mode, schemes, names):
    from bcgc.cli import main

    model = "shifted-exponential:shift=1,rate=2" if mode == "--slowdown" else "shifted-exponential:shift=0.1,rate=1"
    code = main(
        [
            "train",
            "-N",
            "4",
            "-m",
            model,
            "--dataset",
            "synthetic",
            "--max-samples",
            "400",
            "--iterations",
            "3",
            "--unit",
            "0.01",
            mode,
            "--backend",
            "threads",
            "--samples",
            "200",  # the designs' draws (default 1000): the JSON contract is tested, not the designs
            "--json",
            *schemes,
        ]
    )
    d = json.loads(capsys.readouterr().out)
    assert code == 0 and [s["name"] for s in d["schemes"]] == names
    for s in d["schemes"]:
        assert set(s) >= {
            "name",
            "iterations",
            "median_measured_over_predicted",
            "p90_measured_over_predicted",
            "mean_iteration_seconds",
            "final_loss",
            "max_gradient_error",
            "redesigns",
        }
        assert s["iterations"] == 3 and s["max_gradient_error"] <= 1e-9
    assert np.allclose([s["final_loss"] for s in d["schemes"]], d["schemes"][0]["final_loss"], rtol=1e-9)


def test_train_cli_rejects_both_modes(capsys):
    from bcgc.cli import main

    code = main(["train", "-N", "4", "-m", "shifted-exponential:shift=1,rate=1", "--emulate", "--slowdown"])
    assert code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_train_without_ray_says_how_to_install_it(capsys, monkeypatch):
    """Without Ray, the default backend ends in one clear line (exit 2), before any work."""
    from bcgc.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    code = main(["train", "-N", "4", "-m", "shifted-exponential:shift=1,rate=1", "--iterations", "1"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "pip install" in err and "ray" in err and "--backend threads" in err


def test_train_json_stays_one_object_when_the_engine_prints(capfd, monkeypatch):
    """Ray's driver prints lines such as '(raylet) A worker died' to the process's stdout; the
    CLI routes them to stderr so that --json stays exactly one JSON object."""
    from bcgc.cli import main

    real = ThreadBackend.publish

    def noisy(self, *args, **kw):
        os.write(1, b"(raylet) A worker died or was killed while executing a task\n")
        return real(self, *args, **kw)

    monkeypatch.setattr(ThreadBackend, "publish", noisy)
    code = main(
        [
            "train",
            "-N",
            "4",
            "-m",
            "shifted-exponential:shift=1,rate=1",
            "--dataset",
            "synthetic",
            "--max-samples",
            "200",
            "--iterations",
            "2",
            "--unit",
            "0.005",
            "--backend",
            "threads",
            "--scheme",
            "bcgc",
            "--json",
        ]
    )
    out, err = capfd.readouterr()
    assert code == 0 and json.loads(out)["schemes"][0]["iterations"] == 2
    assert "(raylet)" in err and "(raylet)" not in out


class FrozenWorkerBackend(ThreadBackend):
    """Worker 3 is alive but never answers (a SIGSTOP'd process): no Death event ever comes."""

    def publish(self, iteration, theta, times, scheme, mode, unit, t=None):
        times = np.array(times, dtype=float)
        times[3] = 1e12  # due in 30 000 years: it never sends
        super().publish(iteration, theta, times, scheme, mode, unit, t)


def test_an_unresponsive_worker_is_taken_for_dead_after_two_missed_attempts(problem):
    import io

    log = io.StringIO()
    master, _ = make_master(problem, FrozenWorkerBackend, min_patience=0.2, iteration_timeout=60.0, log=log)
    res = master.run(2)
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    # two missed attempts (the strikes), then a death and a re-design; never the 60 s timeout
    assert [e["event"] for e in events][:4] == ["retry", "retry", "death", "redesign"]
    assert "unresponsive" in events[2]["reason"] and events[2]["worker"] == 3
    assert master.dead == {3} and res.redesigns == 1
    assert res.summary()["max_gradient_error"] <= 1e-9 and len(res.logs) == 2
