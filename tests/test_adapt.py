"""The runtime meets reality (docs/runtime.md): what workers experience (law, replay, natural),
time stamps turned into observations and per-worker (a, b) fits, and --adapt. Thread engine only:
the conformance suite (test_engines.py) runs the engine-dependent part on Ray too."""

import io
import json

import numpy as np
import pytest

from bcgc import streams
from bcgc.cli import main
from bcgc.problems import load_dataset, make_problem
from bcgc.runtime import AdaptConfig, Master, ThreadBackend, WorkerCore, parse_experience, train, worker_views
from bcgc.runtime.adapt import Adapter
from bcgc.runtime.observe import fit_parts, observations
from bcgc.schemes.blocks import BlockScheme
from bcgc.stragglers import parse_model
from bcgc.timing.general import cumulative_work, runtime_samples

N = 6


@pytest.fixture(scope="module")
def problem():
    return make_problem("least-squares", load_dataset("synthetic", samples=240, seed=0, features=12), N)


@pytest.fixture()
def persistent(tmp_path):
    """A trace whose workers differ persistently: worker n takes about 1 + n/5."""
    rng = np.random.default_rng(0)
    F = (1 + np.arange(N) / 5) * (1 + 0.05 * rng.random((30, N)))
    path = tmp_path / "persistent.csv"
    np.savetxt(path, F, delimiter=",", header="synthetic: worker n is 1 + n/5 times slower")
    return str(path), F


def test_replay_takes_row_k_mod_rows_over_the_median_and_splits_a_fixed_cost(persistent):
    path, F = persistent
    exp = parse_experience(f"replay:path={path},fixed=0.25")
    a, b = exp.parts(N, seed=0, iteration=31)
    t = F[31 % 30] / np.median(F)
    assert np.allclose(a, 0.25 * t) and np.allclose(b, 0.75 * t) and exp.has_fixed_cost
    a, b = parse_experience(f"replay:path={path}").parts(N, 0, 2, attempt=1)  # a retry takes the next row
    assert np.allclose(a, 0) and np.allclose(b, F[3] / np.median(F))


def test_replay_takes_a_shipped_trace_by_name():
    from bcgc.stragglers import read_trace, shipped_path

    F = read_trace(shipped_path("alibaba-pai-job2"))
    a, b = parse_experience("replay:name=alibaba-pai-job2").parts(10, seed=0, iteration=3)
    assert np.all(a == 0) and np.allclose(b, F[3] / np.median(F))


def test_a_law_experience_draws_the_simulators_stream():
    law = parse_model("affine:a=0.5;b=exponential:rate=2")
    a, b = parse_experience(law).parts(N, seed=4, iteration=7)
    assert np.allclose(a, 0.5) and np.allclose(a + b, streams.iteration_times(law, N, 4, 7))
    plain = parse_model("pareto:scale=1,shape=3")
    a, b = parse_experience(plain).parts(N, 4, 7)
    assert np.all(a == 0) and np.array_equal(b, streams.iteration_times(plain, N, 4, 7))


@pytest.mark.parametrize(
    "text, match",
    [
        ("replay:fixed=0.1", "needs path"),
        ("replay:path=x.csv,fixed=1", "fixed must"),
        ("replay:path=x.csv,speed=2", "replay takes"),
        ("", "stragglers must"),
        ("natural:x=1", "unknown law"),
        ("replay:path=x.csv,name=alibaba-pai-job2", "one of them"),
        ("replay:name=no-such-trace", "not a shipped trace"),
    ],
)
def test_bad_stragglers_are_refused_naming_the_parameter(text, match):
    with pytest.raises(ValueError, match=match):
        parse_experience(text)


def test_observations_and_fits_recover_fixed_cost_and_rate_exactly():
    """Block stamps on the line a + b · W_n(s) give back (a, b); a worker cancelled after one block
    is censored at its next block; one whose line the censored point violates is corrected."""
    scheme = BlockScheme([10, 6, 4, 0, 0, 0], N)
    W = cumulative_work(scheme.blocks)
    a, b = np.linspace(0.1, 0.6, N), np.linspace(1.0, 2.0, N)
    stamps = [(n, s, a[n] + b[n] * W[n, s], a[n] + b[n] * W[n, s] + 0.01) for n in range(N - 1) for s in (0, 1, 2)]
    stamps += [(N - 1, 0, a[-1] + b[-1] * W[-1, 0], a[-1] + b[-1] * W[-1, 0] + 0.01)]
    obs = observations(scheme, stamps, cancel_seconds=3.0, live=range(N))
    assert [o for o in obs if o[3] == 1] == [[N - 1, W[N - 1, 1], pytest.approx(2.99), 1]]
    est_a, est_b = fit_parts(obs, N)
    assert np.allclose(est_a[:-1], a[:-1]) and np.allclose(est_b[:-1], b[:-1])
    assert np.isnan(est_a[-1])  # one block and a bound: not identified
    bad = [[0, 0.5, 1.0, 0], [0, 1.0, 1.5, 0], [0, 2.0, 4.0, 1]]  # the line says 2.5 at W = 2, the bound 4
    fa, fb = fit_parts(bad, 1)
    assert fa[0] + fb[0] * 2.0 > 2.5


def test_the_adapter_imputes_censored_workers_no_faster_than_their_bound():
    ad = Adapter(AdaptConfig(every=1, window=3), 3)
    obs = [[0, 0.5, 0.5, 0], [0, 1.0, 1.0, 0], [1, 0.5, 0.6, 0], [1, 1.0, 1.2, 0], [2, 0.5, 5.0, 1]]
    a, b = fit_parts(obs, 3)
    ad.record(obs, a, b)
    ad.record(obs, a, b)
    rows = ad.fitted_law().samples
    assert np.allclose(rows[:, :2], [1.0, 1.2]) and np.all(rows[:, 2] >= 5.0)


def test_worker_extend_adds_subsets_without_dropping_any(problem):
    core = WorkerCore(0, problem.restrict([0, 1]))
    core.extend(problem.restrict([4]))
    assert sorted(core.problem.gram) == [0, 1, 4] and core.problem.X is None  # least squares ships Gram matrices
    assert np.array_equal(core.problem.gram[4], problem.gram[4])


def test_the_log_holds_observations_fits_and_the_timeline_prediction(problem):
    law = parse_model("affine:a=0.5;b=shifted-exponential:shift=1,rate=2")
    log = io.StringIO()
    train(problem, law, ("bcgc",), iterations=3, unit=0.005, backend="threads", log=log)
    recs = [json.loads(line) for line in log.getvalue().splitlines()]
    blocks = np.array(recs[-1]["design"])
    W = cumulative_work(blocks)
    for rec in recs:
        inj = rec["injected"]
        a, b = np.array(inj["a"]), np.array(inj["b"])
        assert np.allclose(a, 0.5) and rec["T"] == pytest.approx(list(a + b))
        assert rec["predicted_seconds"] == pytest.approx(runtime_samples(blocks, a[None], b[None])[0] * 0.005)
        assert rec["gradient_error"] <= 1e-9 and len(rec["estimated"]["a"]) == N
        for n, work, seconds, censored in rec["observations"]:
            assert censored in (0, 1) and seconds >= 0
            assert censored or any(work == pytest.approx(W[n, s]) for s in np.flatnonzero(blocks))


def test_natural_injects_nothing_and_predicts_from_the_fitted_parts(problem):
    log = io.StringIO()
    res = train(
        problem, "exponential:rate=1", ("bcgc",), iterations=2, backend="threads", stragglers="natural", log=log
    )[0]
    recs = [json.loads(line) for line in log.getvalue().splitlines()]
    assert all("injected" not in r for r in recs) and res.summary()["max_gradient_error"] <= 1e-9
    assert all(np.isfinite(r["predicted_seconds"]) for r in recs)


def test_adapt_learns_a_persistent_trace_and_logs_each_redesign(problem, persistent):
    path, _ = persistent
    log = io.StringIO()
    res = train(
        problem,
        None,
        ("bcgc",),
        iterations=8,
        unit=0.004,
        backend="threads",
        log=log,
        stragglers=f"replay:path={path}",
        adapt=AdaptConfig(every=3, window=4, samples=500),
    )[0]
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    adapts = [e for e in events if e["event"] == "adapt"]
    assert [e["iteration"] for e in adapts] == [2, 5]
    assert res.summary()["max_gradient_error"] <= 1e-9
    for e in adapts:
        assert e["new_blocks"] and "applied" in e
        if e["new_blocks"] != e["old_blocks"]:
            assert {"predicted_gain_seconds", "shipping_seconds_estimate", "predicted_seconds_new"} <= set(e)


def test_adapt_ships_only_the_missing_subsets(problem):
    """Designed for nearly deterministic times (uncoded: each worker holds one subset), the workers
    meet heavy stragglers: the re-design needs more subsets, and only those travel."""
    shipped = []

    class Recording(ThreadBackend):
        def extend(self, worker, view):
            shipped.append((worker, set(self.cores[worker].problem.gram), set(view.gram)))
            return super().extend(worker, view)

    calm = parse_model("shifted-exponential:shift=1,rate=1000")
    blocks = np.array([problem.L, 0, 0, 0, 0, 0])
    backend = Recording(worker_views(problem, BlockScheme(blocks, N)))
    log = io.StringIO()
    master = Master(
        backend,
        problem,
        calm,
        blocks,
        unit=0.004,
        log=log,
        stragglers="exponential:rate=1",
        adapt=AdaptConfig(every=4, window=4, samples=500, bandwidth=1e12),
        iteration_timeout=60,
    )
    res = master.run(8)
    applied = [e for e in map(json.loads, log.getvalue().splitlines()) if e["event"] == "adapt" and e["applied"]]
    assert applied and shipped and res.summary()["max_gradient_error"] <= 1e-9
    assert applied[0]["shipped_subsets"] and applied[0]["shipping_bytes"] > 0
    for w, held, sent in shipped:
        assert sent and not sent & held  # nothing a worker holds is shipped again
    for w, core in enumerate(backend.cores):
        assert set(master.scheme.subsets_of(w).tolist()) <= set(core.problem.gram) == set(master.data.held[w])


def test_cli_requires_a_design_law_for_replay_unless_adapt(capsys, persistent):
    path, _ = persistent
    base = ["train", "-N", str(N), "--backend", "threads", "--dataset", "synthetic", "--max-samples", "120"]
    assert main(base + ["--stragglers", f"replay:path={path}"]) == 2
    assert "--model (the law the design assumes) is required" in capsys.readouterr().err
    assert main(base + ["-m", "exponential:rate=1", "--window", "5"]) == 2
    assert "--window applies to --adapt only" in capsys.readouterr().err
    assert (
        main(
            base
            + [
                "--stragglers",
                f"replay:path={path}",
                "--adapt",
                "2",
                "--window",
                "3",
                "--iterations",
                "3",
                "--unit",
                "0.002",
                "--scheme",
                "bcgc",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["adapt"] == 2 and out["model"] is None and out["schemes"][0]["max_gradient_error"] <= 1e-9
