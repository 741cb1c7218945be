"""The runtime under emulated links and with the MM schemes (bcgc_mm, UC-MMC): thread engine only
(the Ray engine runs the same through the conformance suite, test_engines.py)."""

import io
import json
import math
import time

import numpy as np
import pytest

from bcgc.policy import DesignPolicy, RedesignImpossible
from bcgc.problems import load_dataset, make_problem
from bcgc.runtime import AdaptConfig, Master, ThreadBackend, WorkerCore, worker_views
from bcgc.schemes.blocks import BlockScheme
from bcgc.schemes.mm_codec import MMScheme
from bcgc.schemes.plan import Plan, make_scheme
from bcgc.stragglers import ShiftedExponential
from bcgc.timing import mm
from bcgc.timing.links import block_runtime_samples, departures, links
from bcgc.timing.mm import MMBlock, MMDesign

LAW = ShiftedExponential(0.1, 1.0)
N = 6


@pytest.fixture(scope="module")
def problem():
    return make_problem("logistic", load_dataset("digits", samples=600, seed=0), N)


def mixed(L):
    """One block of every mode: coded r=2, multi r=3, layered r=3, coded r=1."""
    return MMDesign(
        N, (MMBlock(20, 2, "coded"), MMBlock(15, 3, "multi"), MMBlock(15, 3, "layered"), MMBlock(L - 50, 1, "coded"))
    )


def test_a_worker_uploads_in_order_after_the_links_departure_times(problem):
    """Each message leaves no earlier than bcgc.timing.links.departures of the measured ready times (the
    sleep never ends early), in sending order, and its stamp is its ready time."""
    net = links(bandwidth=40.0, latency=0.5)
    plan = Plan(BlockScheme([20, 20, problem.L - 40, 0, 0, 0], N), net)
    core = WorkerCore(0, problem.restrict(plan.subsets_of(0)))
    unit, start = 0.02, time.perf_counter()
    sent = []
    for key, vec, _, stamp in core.run(1, problem.init(), 1.0, plan, "emulate", unit):
        sent.append((key, vec.size, stamp, time.perf_counter() - start))
    assert [k for k, *_ in sent] == [0, 1, 2]
    ready = np.array([s[2] for s in sent]) / unit
    leave = departures(ready[None, None, :], [s[1] for s in sent], net)[0, 0]
    assert np.all(np.array([s[3] for s in sent]) >= leave * unit - 1e-3)  # the earlier perf_counter
    assert np.all(ready >= plan.ready(0, 0.0, 1.0) - 1e-9)  # ready no earlier than R_n


@pytest.mark.parametrize("which", ["block", "ucmmc", "mixed"])
def test_predictions_are_the_core_link_model_and_gradients_exact(problem, which):
    net = links(bandwidth=problem.L / 0.5, latency=0.1)
    design = {
        "block": np.array([30, 0, problem.L - 30, 0, 0, 0]),
        "ucmmc": mm.ucmmc(N, problem.L, 3),
        "mixed": mixed(problem.L),
    }[which]
    scheme = make_scheme(design, N)
    log = io.StringIO()
    master = Master(
        ThreadBackend(worker_views(problem, scheme)),
        problem,
        LAW,
        design,
        unit=0.01,
        seed=2,
        links=net,
        log=log,
        policy=DesignPolicy("bcgc_mm" if which != "block" else "bcgc", links=net),
    )
    res = master.run(3)
    assert res.summary()["max_gradient_error"] <= 1e-9
    for rec in res.logs:
        a, b = np.array(rec["injected"]["a"])[None], np.array(rec["injected"]["b"])[None]
        tau = mm.runtime_samples(design, a, b, net) if which != "block" else block_runtime_samples(design, a, b, net)
        assert rec["predicted_seconds"] == pytest.approx(float(tau[0]) * 0.01, rel=1e-12)
        assert rec["observations"] and all(o[3] in (0, 1) for o in rec["observations"])
    assert json.loads(log.getvalue().splitlines()[0])["design"] == master.plan.design


def test_the_mm_decoder_completes_exactly_when_the_model_says_and_decodes_exactly(problem):
    design = mixed(problem.L)
    plan = Plan(MMScheme(design))
    theta = np.random.default_rng(0).normal(size=problem.L)
    exact = problem.gradient(theta)
    msgs = {
        n: plan.scheme.worker_messages(n, lambda k, c: problem.partial_given(problem.forward(theta, k), theta, k, c))
        for n in range(N)
    }
    rng = np.random.default_rng(1)
    order = [(n, m) for n in range(N) for m in range(plan.levels.size)]
    rng.shuffle(order)
    dec, arrival = plan.decoder(), np.full((N, plan.levels.size), np.inf)
    for t, (n, m) in enumerate(order):
        arrival[n, m] = t
        dec.add(n, m, msgs[n][m], float(t))
        done = bool(np.all(np.isfinite(mm.decode_times(design, arrival[None])[0])))
        assert dec.complete == done
        if done:
            break
    g = dec.gradient()
    assert np.linalg.norm(g - exact) <= 1e-9 * np.linalg.norm(exact)


def test_mm_schemes_tolerate_r_minus_one_dead_and_policies_refuse_what_they_cannot(problem):
    assert Plan(MMScheme(mm.ucmmc(N, problem.L, 3))).tolerates(2)
    assert not Plan(MMScheme(mm.ucmmc(N, problem.L, 3))).tolerates(3)
    assert not Plan(MMScheme(mixed(problem.L))).tolerates(1)  # its r = 1 block
    uc = DesignPolicy("ucmmc", tolerate=2, samples=200).blocks(LAW, N, problem.L)
    assert isinstance(uc, MMDesign) and uc.blocks[0].redundancy >= 3 and uc.blocks[0].mode == "multi"
    with pytest.raises(ValueError, match="tolerate must be 0 for the bcgc_mm"):
        DesignPolicy("bcgc_mm", tolerate=1).blocks(LAW, N, problem.L)
    with pytest.raises(RedesignImpossible, match="bcgc_mm designs do not tolerate"):
        DesignPolicy("bcgc_mm", samples=50).blocks(LAW, N, problem.L, dead=1)
    with pytest.raises(ValueError, match="adapt re-designs block schemes only"):
        design = mm.ucmmc(N, problem.L, 2)
        Master(
            ThreadBackend(worker_views(problem, MMScheme(design))),
            problem,
            LAW,
            design,
            policy=DesignPolicy("ucmmc"),
            adapt=AdaptConfig(every=2, window=2),
        )


def test_a_dead_worker_under_ucmmc_redesigns_with_more_redundancy(problem):
    design = mm.ucmmc(N, problem.L, 1)  # r = 1 tolerates no dead worker
    backend = ThreadBackend(worker_views(problem, MMScheme(design)))
    master = Master(
        backend,
        problem,
        LAW,
        design,
        policy=DesignPolicy("ucmmc", samples=200),
        unit=0.005,
        iteration_timeout=60.0,
        links=links(bandwidth=math.inf, latency=0.2),
    )
    backend.kill(2)
    res = master.run(2)
    assert res.redesigns == 1 and master.plan.scheme.design.blocks[0].redundancy >= 2
    assert res.summary()["max_gradient_error"] <= 1e-9


def test_train_cli_takes_links_and_refuses_an_ingress(capsys):
    from bcgc.cli import main

    args = [
        "train",
        "-N",
        "4",
        "-m",
        "shifted-exponential:shift=0.1,rate=1",
        "--dataset",
        "synthetic",
        "--max-samples",
        "300",
        "--iterations",
        "2",
        "--unit",
        "0.01",
        "--backend",
        "threads",
    ]
    assert main(args + ["--scheme", "ucmmc", "--bandwidth", "100", "--latency", "0.1", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["schemes"][0]["name"] == "ucmmc" and d["schemes"][0]["max_gradient_error"] <= 1e-9
    assert main(args + ["--ingress", "10"]) == 2
    assert "--ingress is not emulated" in capsys.readouterr().err
