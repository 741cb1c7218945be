"""PyTorch models on every engine: the decoded gradient of every scheme is autograd's (float32,
relative 1e-5), also after a killed worker; the backprop work order on the workers; the CLI."""

import json
import os
import signal
import threading

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install 'bcgc[torch]'")

from bcgc.cli import main  # noqa: E402
from bcgc.design import design  # noqa: E402
from bcgc.plots import simulate_figure, train_figure  # noqa: E402
from bcgc.runtime import Master, train, worker_views  # noqa: E402
from bcgc.runtime.engine import ThreadBackend  # noqa: E402
from bcgc.schemes.blocks import BlockScheme  # noqa: E402
from bcgc.simulate import simulate  # noqa: E402
from bcgc.stragglers import parse_model  # noqa: E402
from bcgc.timing.general import equal_shares  # noqa: E402
from bcgc.timing.work import WorkOrder  # noqa: E402
from bcgc.torch import TorchProblem  # noqa: E402
from bcgc.torch.optim import make_optimizer  # noqa: E402

N = 4
LAW = parse_model("shifted-exponential:shift=1,rate=2")
SCHEMES = ["bcgc", "gc", "uncoded", "ucmmc", "bcgc_mm"]


def problem(seed=0, dropout=False):
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    X, y = torch.randn(64, 5, generator=g), torch.randint(0, 3, (64,), generator=g)
    layers = [torch.nn.Linear(5, 12), torch.nn.Tanh()] + ([torch.nn.Dropout(0.3)] if dropout else [])
    net = torch.nn.Sequential(*layers, torch.nn.Linear(12, 3))
    return TorchProblem(net, torch.nn.CrossEntropyLoss(), X, y, N, batch_size=8, test=(X, y))


def test_every_scheme_decodes_autograds_gradient_on_threads_and_follows_one_trajectory():
    p = problem(dropout=True)
    runs = train(
        p, LAW, SCHEMES, iterations=3, unit=0.005, backend="threads", optimizer=lambda: make_optimizer(p, "adam", 0.01)
    )
    for r in runs:
        assert r.summary()["max_gradient_error"] <= 1e-5, r.name
        assert all("test_accuracy" in rec["metrics"] for rec in r.logs)
    # exact schemes, the same batches and masks: the same parameters after the same steps
    for r in runs[1:]:
        assert np.allclose(r.theta, runs[0].theta, rtol=0, atol=1e-5), r.name
    sim = simulate(p, LAW, "bcgc", iterations=3, optimizer=make_optimizer(p, "adam", 0.01))
    assert np.allclose(sim.theta, runs[0].theta, rtol=0, atol=1e-5)
    # the figure of train --plot and simulate --plot: loss, and beside it the test accuracy per scheme
    for fig in (train_figure(runs, "t"), simulate_figure([sim], "s")):
        loss, acc = fig.axes
        assert acc.get_ylabel() == "test accuracy" and len(acc.lines) == len(loss.lines)


def test_a_killed_ray_worker_the_design_tolerates_leaves_the_gradient_exact(ray_session):
    from bcgc.runtime.ray_backend import RayBackend

    p = problem()
    blocks = design(LAW, N, p.L, tolerate=1).blocks
    backend = RayBackend(worker_views(p, BlockScheme(blocks, N)))
    try:
        master = Master(backend, p, LAW, blocks, unit=0.2, iteration_timeout=60.0)
        master.run(1)
        threading.Timer(0.05, os.kill, args=(backend.pids[2], signal.SIGKILL)).start()
        res = master.run(3)
    finally:
        backend.shutdown()
    assert 2 in master.dead and len(res.logs) == 4
    assert res.summary()["max_gradient_error"] <= 1e-5


def test_backprop_workers_compute_tails_and_decode_exactly():
    """The paper's multi-level design run subset-major: every block still decodes exactly, and the
    emulated times are formula (B)'s."""
    p = problem()
    order = WorkOrder.backprop(forward=0.3)
    blocks = design(LAW, N, p.L).blocks
    assert np.count_nonzero(blocks) > 1
    calls = []
    tail = p.tail_gradient
    p.tail_gradient = lambda th, k, lo: calls.append((k, lo)) or tail(th, k, lo)
    views = worker_views(p, BlockScheme(blocks, N))
    for v in views:
        v.tail_gradient = p.tail_gradient
        v.forward = None  # the coordinate-major path (forward + partial_given) must not run
    backend = ThreadBackend(views)
    try:
        from bcgc.policy import DesignPolicy

        master = Master(backend, p, LAW, blocks, unit=0.01, policy=DesignPolicy("bcgc", work_order=order))
        res = master.run(2)
    finally:
        backend.shutdown()
    assert res.summary()["max_gradient_error"] <= 1e-5
    assert master.plan.order == order
    assert np.array_equal(
        master.plan.work, order.work(blocks, equal_shares(N))
    )  # the emulated ready times: formula (B)
    levels = np.flatnonzero(blocks)
    # one tail per subset a worker needs, from the start of the lowest block that needs it
    starts = {int(s): int(np.sum(blocks[:s])) for s in levels}
    assert calls and len(calls) <= 2 * N * (levels[-1] + 1)
    assert all(lo in starts.values() for _, lo in calls)


def test_train_and_simulate_take_a_torch_factory_on_the_command_line(tmp_path, capsys):
    file = tmp_path / "model.py"
    file.write_text(
        "import torch\n"
        "def factory(seed=0):\n"
        "    torch.manual_seed(seed)\n"
        "    X, y = torch.randn(40, 3), torch.randint(0, 2, (40,))\n"
        "    return {'module': torch.nn.Linear(3, 2), 'loss': torch.nn.CrossEntropyLoss(), 'train': (X, y),\n"
        "            'test': (X, y), 'batch_size': 4}\n"
    )
    save = tmp_path / "net.pt"
    args = ["--torch", f"{file}:factory", "-N", "4", "--model", "shifted-exponential:shift=1,rate=2", "-k", "3"]
    assert (
        main(
            [
                "train",
                *args,
                "--backend",
                "threads",
                "--unit",
                "0.005",
                "--optimizer",
                "sgd",
                "--momentum",
                "0.9",
                "--save",
                str(save),
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["setting"]["problem"] == "torch" if "setting" in out else True
    state = torch.load(save)
    assert set(state) == {"weight", "bias"}
    assert main(["simulate", *args, "--scheme", "bcgc", "--json"]) == 0
    capsys.readouterr()
    assert main(["train", *args, "--backend", "threads", "--dataset", "synthetic"]) == 2
    assert "--torch brings its own model" in capsys.readouterr().err
