"""The coded all-reduce inside torch.distributed (bcgc.torch.distributed, docs/torch.md): gloo
processes on this machine, a tiny model. The gradient equals plain DDP's (and torch's own
DistributedDataParallel's) for every tolerated straggler pattern, the parameters stay identical, a
hung rank ends the step with an error naming it, and the launchers run (PyTorch is imported once per
process: one group of 3 processes for the coded all-reduce, one of 2 for the launcher)."""

import json
import socket

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install 'bcgc[torch]'")
if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
    pytest.skip("torch.distributed with gloo is not available in this PyTorch build", allow_module_level=True)

import ddp_factory  # noqa: E402  (tests/: the workers torch.multiprocessing.spawn imports)

FACTORY = str(ddp_factory.__file__) + ":mlp"
WORLD = 3


def _spawn(tmp_path_factory, name: str, worker):
    """Run ``worker`` on a group of WORLD gloo processes; the folder their reports are written to."""
    out = tmp_path_factory.mktemp(name)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    torch.multiprocessing.spawn(worker, args=(WORLD, port, str(out)), nprocs=WORLD, join=True)
    return out


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """Each rank's report of one group of 3 gloo processes (ddp_factory.coded_worker)."""
    out = _spawn(tmp_path_factory, "ddp", ddp_factory.coded_worker)
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(WORLD)]


def test_every_tolerated_pattern_gives_the_gradient_of_plain_ddp(ranks):
    for r in ranks:
        assert max(r["errors"]) <= 1e-5, r["errors"]  # against Σ_k ∇f_k (plain DDP), float32
        assert max(r["torch"]) <= 1e-5, r["torch"]  # against torch's DistributedDataParallel


def test_responders_are_the_first_finishers_and_the_same_on_every_rank(ranks):
    responders = ranks[0]["responders"]
    assert all(r["responders"] == responders for r in ranks)  # every rank decoded from the same sets
    for b, F in zip(ddp_factory.patterns(WORLD), responders):
        slow = set(np.flatnonzero(np.isinf(b)).tolist())
        for s, who in F.items():
            assert len(who) == WORLD - int(s) and not slow & set(who)


def test_parameters_stay_identical_after_50_steps(ranks):
    assert all(r["digest"] == ranks[0]["digest"] for r in ranks)  # and check() passed on every rank


def test_a_hung_rank_ends_the_step_with_an_error_naming_it(ranks):
    for r in ranks[:-1]:
        assert r["hang"] is not None and "RankTimeout" in r["hang"] and f"rank(s) [{WORLD - 1}]" in r["hang"], r
        assert r["hang_seconds"] < 8  # stop_timeout 2 s + grace 2 s: an error, not a silent hang
    assert "hang" not in ranks[-1]


def test_train_backend_torch_ddp_runs_coded_and_both_baselines(capsys):
    from bcgc.cli import main

    argv = "train --backend torch-ddp --workers 2 --scheme gc --tolerate 1 --baselines --iterations 3 --unit 0.01"
    code = main([*argv.split(), "--torch", FACTORY, "--model", "shifted-exponential:shift=1,rate=1", "--json"])
    assert code == 0, capsys.readouterr().err
    out = json.loads(capsys.readouterr().out)
    assert out["backend"] == "torch-ddp"
    rows = {s["name"]: s for s in out["schemes"]}
    assert set(rows) == {"gc", "ddp", "deadline"} and all(s["iterations"] == 3 for s in rows.values())
    assert rows["gc"]["max_gradient_error"] <= 1e-5 and rows["ddp"]["max_gradient_error"] <= 1e-5


def test_bad_input_is_one_line_and_exit_2(capsys):
    from bcgc.cli import main
    from bcgc.torch.run import main as run_main

    assert run_main(["--stragglers", "natural"]) == 2
    assert "--torch" in capsys.readouterr().err
    assert main(["train", "--backend", "torch-ddp", "--workers", "2", "--model", "pareto:scale=1,shape=2"]) == 2
    assert "--torch" in capsys.readouterr().err
    argv = ["train", "--backend", "torch-ddp", "--torch", FACTORY, "--workers", "2", "--scheme", "ucmmc"]
    assert main([*argv, "--model", "pareto:scale=1,shape=2"]) == 2
    assert "bcgc, gc, uncoded" in capsys.readouterr().err


@pytest.fixture(scope="module")
def level0(tmp_path_factory):
    """The live ranks' reports of one group of 3 gloo processes on a level-0 design (ddp_factory.level0_worker)."""
    out = _spawn(tmp_path_factory, "level0", ddp_factory.level0_worker)
    return [json.loads((out / f"level0-rank{r}.json").read_text()) for r in range(WORLD - 1)]


def test_level0_fast_path_gives_the_gradient_of_plain_ddp_and_of_the_protocol(level0):
    for r in level0:
        assert all(r["fast"]) and not any(r["protocol"])  # the fast path ran, and the protocol beside it
        assert max(r["errors"]) <= 1e-5, r["errors"]  # both against Σ_k ∇f_k (plain DDP), float32
        assert max(r["torch"]) <= 1e-5, r["torch"]


@pytest.mark.parametrize("case", ["hang", "kill"])
def test_level0_fast_path_names_a_hung_or_killed_rank(level0, case):
    for r in level0:
        assert r[case] is not None and "RankTimeout" in r[case] and f"rank(s) [{WORLD - 1}]" in r[case], r
        assert r[case + "_seconds"] < 8  # stop_timeout 2 s + window 2.5 s: an error, not a silent hang


@pytest.mark.parametrize("per_key", [None, 1])
def test_step_store_positions_closure_and_responders_with_one_or_several_counters(per_key):
    """Three ranks' StepStores on one in-process TCPStore (threads, no process group): the finishes
    of a design of levels 0, 1, 2 in a fixed order give the same positions, closure and responders
    whether the blocks share one packed counter or have one each (the ``done`` count)."""
    import datetime
    import threading

    from bcgc.torch.collective import StepStore

    store = torch.distributed.TCPStore("127.0.0.1", 0, 1, True, timeout=datetime.timedelta(seconds=10))
    steps = [StepStore(store, r, 3, [0, 1, 2], close_timeout=5, stop_timeout=5) for r in range(3)]
    for st in steps:
        st.instance = -1  # one protocol instance, as on 3 processes
        if per_key is not None:
            st.per_key, st.counters, st.eager = per_key, 3, True
        st.begin(0)
    # finishes in this order: (rank, block index); block 2 (level 2) needs 1 finisher, block 1 two
    order = [(2, 0), (1, 0), (0, 0), (1, 1), (2, 1), (1, 2)]
    seen = [steps[r].finish(i) for r, i in order]
    assert seen == [1, 2, 3, 1, 2, 1]
    assert steps[1].closed.is_set()  # rank 1 closed it
    if per_key is None:  # one counter, level 0 first: no watcher; rank 0 learns at its stop (or next add)
        assert not steps[0].closed.wait(0.05)
    else:  # several counters: the watcher tells rank 0
        assert steps[0].closed.wait(5)
    out = [None] * 3

    def stop(r):
        steps[r].stop(finished=r == 1)
        out[r] = steps[r].responders()

    threads = [threading.Thread(target=stop, args=(r,)) for r in range(3)]
    [t.start() for t in threads]
    [t.join(10) for t in threads]
    for F in out:
        assert {s: v.tolist() for s, v in F.items()} == {0: [2, 1, 0], 1: [1, 2], 2: [1]}
