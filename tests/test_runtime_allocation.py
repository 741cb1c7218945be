"""Unequal data subsets on the runtime (docs/runtime.md, "Data on the workers"): a design's
allocation reaches the workers (the problem's rows split by the sizes), survives deaths (the data
stay where they are, the blocks are re-designed for them), and --adapt moves it, shipping only the
subsets whose rows a worker does not hold. Thread engine (the conformance suite runs Ray)."""

import io
import json

import numpy as np
import pytest

from bcgc.design import design
from bcgc.policy import DesignPolicy
from bcgc.problems import load_dataset, make_problem, split_rows
from bcgc.runtime import AdaptConfig, Master, ThreadBackend, train, worker_views
from bcgc.runtime.holdings import Holdings
from bcgc.schemes.blocks import BlockScheme
from bcgc.stragglers import parse_model
from bcgc.timing.general import cyclic_shares, runtime_samples

N = 6
#: two workers three times slower than the others, persistently
SLOW2 = parse_model("heterogeneous:4*shifted-exponential:shift=1,rate=5;2*shifted-exponential:shift=3,rate=5")


@pytest.fixture(scope="module")
def problem():
    return make_problem("least-squares", load_dataset("synthetic", samples=300, seed=0, features=10), N)


def _events(log, kind):
    return [r for r in map(json.loads, log.getvalue().splitlines()) if r["event"] == kind]


def test_a_run_holds_its_designs_allocation_and_predicts_with_it(problem):
    log = io.StringIO()
    res = train(problem, SLOW2, schemes=("bcgc",), iterations=4, backend="threads", unit=0.005, log=log, seed=1)[0]
    its = _events(log, "iteration")
    d = np.asarray(its[0]["subset_sizes"])
    assert d[4:].max() < d[:4].min()  # the slow workers' subsets are the small ones
    assert res.summary()["max_gradient_error"] <= 1e-9
    for r in its:  # the prediction is the timeline model with the allocation's shares
        a, b = np.asarray(r["injected"]["a"]), np.asarray(r["injected"]["b"])
        tau = runtime_samples(np.asarray(r["design"]), a[None], b[None], cyclic_shares(d))[0]
        assert r["predicted_seconds"] == pytest.approx(tau * 0.005)
        equal = runtime_samples(np.asarray(r["design"]), a[None], b[None])[0]
        assert not np.isclose(tau, equal)


def test_workers_hold_the_rows_the_sizes_give(problem):
    d = np.array([0.3, 0.1, 0.2, 0.1, 0.2, 0.1])
    scheme = BlockScheme([40, 30, 0, 0, 0, 0], N, subset_sizes=d)
    views = worker_views(problem, scheme)
    rows = [len(p) for p in split_rows(problem.n, N, d)]
    split = problem.with_subset_sizes(d)
    for w, view in enumerate(views):
        assert sorted(view.gram) == sorted(scheme.subsets_of(w).tolist())
        for k in view.gram:
            assert np.array_equal(view.gram[k], split.gram[k])
    assert rows == [90, 30, 60, 30, 60, 30]


def test_a_death_keeps_the_allocation_and_redesigns_the_blocks_for_it(problem):
    d = np.array([0.25, 0.25, 0.2, 0.2, 0.05, 0.05])
    blocks = design(SLOW2, N, problem.L, subset_sizes=d, samples=300).blocks
    backend = ThreadBackend(worker_views(problem, BlockScheme(blocks, N, subset_sizes=d)))
    log = io.StringIO()
    master = Master(
        backend,
        problem,
        SLOW2,
        blocks,
        unit=0.005,
        log=log,
        subset_sizes=d,
        policy=DesignPolicy(samples=300),
        iteration_timeout=60,
    )
    master.run(1)
    held = {w: dict(master.data.held[w]) for w in range(N)}
    backend.kill(2)
    res = master.run(3)
    (ev,) = _events(log, "redesign")
    assert np.allclose(ev["subset_sizes"], d) and ev["tolerate"] == 1
    assert all(int(s) >= 1 for s in np.flatnonzero(ev["new_blocks"]))
    assert res.summary()["max_gradient_error"] <= 1e-9
    for w in range(N):  # a worker only gained subsets: the rows of the ones it held did not move
        assert held[w].items() <= master.data.held[w].items()


def test_a_death_with_equal_subsets_keeps_them_equal(problem):
    """The policy allocates for workers that differ, but a re-design after deaths keeps the data where
    they are: equal subsets stay equal, and the blocks are the equal-subset design's."""
    policy = DesignPolicy(samples=300)
    blocks = policy.blocks(SLOW2, N, problem.L, subset_sizes=np.full(N, 1 / N))
    backend = ThreadBackend(worker_views(problem, BlockScheme(blocks, N)))
    master = Master(backend, problem, SLOW2, blocks, unit=0.005, policy=policy, iteration_timeout=60)
    master.run(1)
    backend.kill(1)
    res = master.run(2)
    assert res.redesigns == 1 and master.data.sizes is None and master.scheme.subset_sizes is None
    expected = design(SLOW2, N, problem.L, tolerate=1, samples=300, allocate=False).blocks
    assert np.array_equal(master.scheme.blocks, expected)
    assert res.summary()["max_gradient_error"] <= 1e-9


def test_unequal_subsets_are_refused_where_deaths_could_not_keep_them(problem):
    d = [0.3, 0.1, 0.2, 0.1, 0.2, 0.1]
    blocks = np.array([problem.L, 0, 0, 0, 0, 0])
    for kw, match in (({"bandwidth": 1e6}, "free links only"), ({"method": "jensen"}, "method must be one of")):
        with pytest.raises(ValueError, match=match):
            train(
                problem, SLOW2, schemes=("bcgc",), iterations=1, backend="threads", designs={"bcgc": (blocks, d)}, **kw
            )
    with pytest.raises(ValueError, match="designs must map a scheme name to"):
        train(problem, SLOW2, schemes=("bcgc",), iterations=1, backend="threads", designs={"bcgc": blocks})


def test_changed_sizes_make_only_moved_subsets_missing(problem):
    d = np.array([0.3, 0.1, 0.2, 0.1, 0.2, 0.1])
    scheme = BlockScheme([40, 30, 0, 0, 0, 0], N, subset_sizes=d)
    data = Holdings(problem, N, d)
    data.mark_loaded(scheme)
    assert all(not ks for ks in data.missing(scheme, d).values())
    wider = BlockScheme([0, 40, 30, 0, 0, 0], N, subset_sizes=d)
    assert all(len(ks) == 1 for ks in data.missing(wider, d).values())  # one more subset each
    e = np.array([0.3, 0.1, 0.2, 0.1, 0.1, 0.2])  # subsets 0-3 keep their rows, 4 and 5 move
    moved = data.missing(BlockScheme([40, 30, 0, 0, 0, 0], N, subset_sizes=e), e)
    assert {k for ks in moved.values() for k in ks} == {4, 5}


def test_sizes_that_come_back_ship_the_rows_again(problem):
    """d → e → d: a worker that received e's version of a subset must get d's back (it holds one
    version of each subset); afterwards every worker holds exactly the data of d's split."""
    d, e = np.array([0.3, 0.1, 0.2, 0.1, 0.2, 0.1]), np.array([0.3, 0.1, 0.2, 0.1, 0.1, 0.2])
    blocks = [40, 30, 0, 0, 0, 0]
    first = BlockScheme(blocks, N, subset_sizes=d)
    backend = ThreadBackend(worker_views(problem, first))
    data = Holdings(problem, N, d)
    data.mark_loaded(first)
    for sizes, moved in ((e, {4, 5}), (d, {4, 5})):
        data.set_sizes(sizes)
        scheme = BlockScheme(blocks, N, subset_sizes=sizes)
        assert {k for ks in data.missing(scheme, sizes).values() for k in ks} == moved
        assert data.ship(backend, scheme)[0] > 0
    split = problem.with_subset_sizes(d)
    for w, core in enumerate(backend.cores):
        for k in first.subsets_of(w).tolist():
            assert np.array_equal(core.problem.gram[k], split.gram[k])


def test_adapt_moves_the_data_to_persistent_differences(problem, tmp_path):
    """Replayed workers 4 and 5 take three times longer, always: the refit sees it (Kruskal-Wallis),
    re-designs blocks AND sizes, ships the subsets whose rows moved; every gradient exact."""
    F = np.where(np.arange(N) >= 4, 3.0, 1.0) * (1 + 0.05 * np.random.default_rng(0).random((40, N)))
    path = tmp_path / "slow2.csv"
    np.savetxt(path, F, delimiter=",", header="synthetic: workers 4 and 5 three times slower")
    log = io.StringIO()
    res = train(
        problem,
        None,
        schemes=("bcgc",),
        iterations=12,
        backend="threads",
        unit=0.01,
        log=log,
        seed=0,
        stragglers=f"replay:path={path}",
        adapt=AdaptConfig(every=5, window=5, samples=500, bandwidth=1e12),
        samples=300,
    )[0]
    applied = [e for e in _events(log, "adapt") if e["applied"]]
    assert applied and applied[0]["workers_differ"]["differ"]
    d = np.asarray(applied[0]["new_subset_sizes"])
    assert applied[0]["old_subset_sizes"] is None and d[4:].mean() < d[:4].mean() / 2
    assert applied[0]["shipped_subsets"] and applied[0]["shipping_bytes"] > 0
    assert applied[0]["predicted_seconds_new"] < applied[0]["predicted_seconds_old"]
    assert res.summary()["max_gradient_error"] <= 1e-9
    last = _events(log, "iteration")[-1]  # the run goes on with the last applied allocation
    assert np.allclose(last["subset_sizes"], applied[-1]["new_subset_sizes"])


def test_adapt_keeps_equal_subsets_unless_the_window_shows_persistent_differences(problem, monkeypatch):
    """The gate: with the test saying "no persistent differences", even workers that do differ
    (SLOW2's emulated draws) keep equal subsets; with i.i.d. workers the test does not reject."""
    import bcgc.design.crossval as C
    import bcgc.design.procedure as P

    real = P.persistence_test  # the gate lives in the design procedure (inside the folds too)
    for module in (P, C):
        monkeypatch.setattr(module, "persistence_test", lambda rows: {**real(rows), "differ": False})
    log = io.StringIO()
    train(
        problem,
        None,
        schemes=("bcgc",),
        iterations=10,
        backend="threads",
        unit=0.004,
        log=log,
        seed=0,
        stragglers=SLOW2,
        adapt=AdaptConfig(every=5, window=5, samples=500, bandwidth=1e12),
        samples=300,
    )
    events = _events(log, "adapt")
    assert len(events) == 2 and all(e["new_subset_sizes"] is None for e in events)
    assert real(SLOW2.sample(5, N, seed=0))["differ"]  # the gate was needed: the test would have said yes
    assert not real(parse_model("exponential:rate=1").sample(20, N, seed=0))["differ"]


def test_equal_subsets_flag_keeps_the_data_equal(tmp_path, capsys):
    from bcgc.cli import main

    # L = 100, not 1000: the flag's effect, not the design, is tested (its solve costs less at small L)
    assert main(["design", "-N", "10", "-L", "100", "-m", "trace:name=alibaba-pai-job2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["subset_sizes"] is not None
    assert (
        main(["design", "-N", "10", "-L", "100", "-m", "trace:name=alibaba-pai-job2", "--json", "--equal-subsets"]) == 0
    )
    assert json.loads(capsys.readouterr().out).get("subset_sizes") is None
    for flag, unequal in (([], True), (["--equal-subsets"], False)):
        log = tmp_path / f"run{len(flag)}.jsonl"
        assert (
            main(
                [
                    "train",
                    "-N",
                    "6",
                    "-m",
                    SLOW2.spec,
                    "--scheme",
                    "bcgc",
                    "-k",
                    "2",
                    "--backend",
                    "threads",
                    "--unit",
                    "0.005",
                    "--samples",
                    "300",
                    "--log",
                    str(log),
                    "--json",
                    *flag,
                ]
            )
            == 0
        )
        its = [r for r in map(json.loads, log.read_text().splitlines()) if r["event"] == "iteration"]
        assert ("subset_sizes" in its[0]) == unequal
