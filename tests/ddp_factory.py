"""A tiny PyTorch model for the coded all-reduce tests (tests/test_torch_ddp.py): ``FILE.py:mlp``."""

import torch


def mlp(seed=0):
    g = torch.Generator().manual_seed(seed)
    X, y = torch.randn(96, 6, generator=g), torch.randint(0, 3, (96,), generator=g)
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    return {
        "module": net,
        "loss": torch.nn.CrossEntropyLoss(),
        "train": (X, y),
        "test": (X[:32], y[:32]),
        "batch_size": 8,
    }


# ---- workers of tests/test_torch_ddp.py (torch.multiprocessing.spawn imports them from here) ----------
import copy  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

INF = float("inf")


def _group(rank, world, port):
    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world, timeout=datetime.timedelta(seconds=60))
    return dist


def _problem(world):
    from bcgc.torch import TorchProblem

    made = mlp(seed=0)
    X, y = made["train"]
    return TorchProblem(made["module"], made["loss"], X, y, world, batch_size=8, seed=0)


def _torch_ddp_gradient(problem, reference, t, rank):
    """torch's own DistributedDataParallel on rank's batch of step t (subset rank): its averaged gradient."""
    problem.set_iteration(t)
    rows = problem._batch(rank)
    xb, yb = problem.X[torch.as_tensor(rows)], problem.y[torch.as_tensor(rows)]
    reference.zero_grad()
    problem.loss_fn(reference(xb), yb).backward()
    return torch.cat([p.grad.reshape(-1) for p in reference.module.parameters()]).double()


def patterns(world):
    """Tolerated patterns of a design with levels 1 and 2 (b: rates in the unit of T): none, each rank
    a full straggler, and each rank slow beside a full straggler (it must then deliver block 1)."""
    out = [np.ones(world)]
    for r in range(world):
        slow = np.ones(world)
        slow[r] = INF
        out.append(slow)
        partial = np.ones(world)  # rank r only helps with the early block, rank r + 1 is gone
        partial[r], partial[(r + 1) % world] = 1.6, INF
        out.append(partial)
    return out


def coded_worker(rank, world, port, outdir):
    """One group of ``world`` ranks: every tolerated pattern (the coded gradient against plain DDP's and
    torch DDP's), 50 SGD steps (identical parameters), then rank world-1 hangs in a step."""
    from torch.nn.parallel import DistributedDataParallel

    from bcgc.torch.distributed import CodedDataParallel

    _group(rank, world, port)
    problem = _problem(world)
    L = problem.L
    blocks = np.zeros(world, dtype=int)
    blocks[1], blocks[2] = L // 3, L - L // 3
    init = copy.deepcopy(problem.module)
    coded = CodedDataParallel(problem, blocks, close_timeout=20, stop_timeout=2)
    reference = DistributedDataParallel(copy.deepcopy(problem.module))
    out = {"errors": [], "torch": [], "responders": []}
    for t, b in enumerate(patterns(world)):
        rec = coded.backward(t, (np.zeros(world), b), unit=0.01)
        g = coded.gradient()
        exact, _ = coded.exact(t)
        ref = _torch_ddp_gradient(problem, reference, t, rank)
        out["errors"].append(float(torch.linalg.norm(g - exact) / torch.linalg.norm(exact)))
        out["torch"].append(float(torch.linalg.norm(g - ref) / torch.linalg.norm(ref)))
        out["responders"].append(rec["responders"])
    problem.module.load_state_dict(init.state_dict())
    opt = torch.optim.SGD(problem.module.parameters(), lr=0.1, momentum=0.9)
    for t in range(50):
        coded.backward(t, (np.zeros(world), np.where(np.arange(world) == t % world, 2.0, 1.0)), unit=0.002)
        opt.step()
    coded.check(49)  # raises when the ranks' parameters differ
    out["digest"] = [float(p.detach().double().sum()) for p in problem.module.parameters()]
    if rank == world - 1:
        time.sleep(9)  # hung: never reaches the next step's stop in time
    else:
        t0 = time.perf_counter()
        try:
            coded.backward(50)
            out["hang"] = None
        except Exception as exc:
            out["hang"] = f"{type(exc).__name__}: {exc}"
            out["hang_seconds"] = time.perf_counter() - t0
    with open(os.path.join(outdir, f"rank{rank}.json"), "w") as fh:
        json.dump(out, fh)
    if rank == 0:
        time.sleep(3)  # rank 0 hosts the store: the other live ranks are still naming the hung one
    os._exit(0)  # the group is broken by the hung rank: leave without its collective teardown


def level0_worker(rank, world, port, outdir):
    """The level-0 design's fast path (no closure protocol): its gradient against plain DDP's, torch
    DDP's and the store protocol's on the same design; identical parameters after SGD steps; then a
    hung rank (world-1 sleeps past the all-reduce's timeout) and a killed one (it exits) are named."""
    from torch.nn.parallel import DistributedDataParallel

    from bcgc.torch.distributed import CodedDataParallel

    dist = _group(rank, world, port)
    problem = _problem(world)
    blocks = np.zeros(world, dtype=int)
    blocks[0] = problem.L
    fast = CodedDataParallel(problem, blocks, stop_timeout=2)
    protocol = CodedDataParallel(problem, blocks, stop_timeout=2, fast_path=False)
    reference = DistributedDataParallel(copy.deepcopy(problem.module))
    out = {"fast": [], "errors": [], "torch": [], "protocol": []}
    for t, parts in enumerate([None, (np.zeros(world), np.ones(world)), (np.zeros(world), 1.0 + np.arange(world))]):
        out["fast"].append(bool(fast.backward(t, parts, unit=0.01).get("fast_path")))
        g = fast.gradient()
        exact, _ = fast.exact(t)
        ref = _torch_ddp_gradient(problem, reference, t, rank)
        out["protocol"].append(bool(protocol.backward(t, parts, unit=0.01).get("fast_path")))
        h = protocol.gradient()
        out["errors"].append(float(torch.linalg.norm(g - exact) / torch.linalg.norm(exact)))
        out["torch"].append(float(torch.linalg.norm(g - ref) / torch.linalg.norm(ref)))
        out["errors"].append(float(torch.linalg.norm(h - exact) / torch.linalg.norm(exact)))
    opt = torch.optim.SGD(problem.module.parameters(), lr=0.1, momentum=0.9)
    for t in range(20):
        fast.backward(t)
        opt.step()
    fast.check(19)  # raises when the ranks' parameters differ
    for case, wrapper in (("hang", fast), ("kill", CodedDataParallel(problem, blocks, stop_timeout=2))):
        wrapper.steps.grace = 0.5  # the window for the live ranks' check-in: stop_timeout + grace
        if rank == world - 1:
            time.sleep(0.5 if case == "kill" else 4)  # hung past the all-reduce's timeout (2 s)
            if case == "kill":
                os._exit(0)  # dead: its connections close
        else:
            t0 = time.perf_counter()
            try:
                wrapper.backward(100)
                out[case] = None
            except Exception as exc:
                out[case] = f"{type(exc).__name__}: {exc}"
                out[case + "_seconds"] = time.perf_counter() - t0
        if case == "hang":
            dist.barrier()  # the default group is whole: only the wrapper's own group failed
    with open(os.path.join(outdir, f"level0-rank{rank}.json"), "w") as fh:
        json.dump(out, fh)
    if rank == 0:
        time.sleep(1)  # rank 0 hosts the store: the other live rank may still be naming the dead one
    os._exit(0)
