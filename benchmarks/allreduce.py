"""The coded all-reduce (bcgc.torch.distributed) against plain DDP and a compute deadline, on N = 4
and N = 8 gloo processes of this machine → benchmarks/allreduce_results.md (docs/torch.md, "Coded
all-reduce").

The CNN of docs/examples/torch_models.py (Fashion-MNIST, else digits), 8 rows per subset and step,
SGD; BCGC designed in the backprop work order measured by bcgc profile. Stragglers are emulated as the
threads engine does (rank n's block s is done at (a_n + b_n W_n(s)) · unit; the real computation runs
inside that time), so the few real milliseconds of the CNN matter little and 8 processes on 2 cores
can stand for 8 machines. Per step: time measured (barrier → optimizer step) against predicted (the
timeline model, the same draw), the stop latency (closure → the last rank stopped), the gradient's
error against plain DDP's.

    python benchmarks/allreduce.py [--iterations 30] [--unit 0.25] [--quick]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bcgc.stragglers.shipped import shipped_path
from bcgc.torch.factory import problem_from_factory
from bcgc.torch.launch import RunSpec, spawn
from bcgc.torch.profile import profile_costs

HERE = Path(__file__).resolve().parent
FACTORY = str(HERE.parent / "docs" / "examples" / "torch_models.py") + ":cnn"
BATCH = 8
TRACE = "lambda-sydney-b256-load1.000"
NOTE = (
    "**What 2 cores distort.** N processes share 2 cores (and, during these runs, other jobs: the load av"
    "erages below). Emulation keeps the straggling itself exact (a rank sleeps until its block is due), b"
    "ut (1) every rank's real computation runs at once at the start of a step, so N processes take ~N/2 t"
    "imes longer than one would alone, and a design whose ranks compute many subsets (level 7 at N = 8: 8"
    " subsets each) can miss its emulated due times unless the unit is large (the N = 8, shift 0.1 row at"
    " unit 0.25 s against its rerun at unit 1 s below); (2) each store round trip, gloo hop and thread wa"
    "ke-up waits for a core, so the protocol's fixed cost per step (a few store round trips after the clo"
    "sure) is milliseconds here where an idle machine takes tens of microseconds; (3) the stop latency is"
    " measured on one clock (perf_counter is system-wide on one machine), which a real cluster would not "
    "share. Plain DDP pays (1) and (2) too, but fewer round trips."
)


def _cases(tmp: Path, n: int) -> list:
    """(label, stragglers, model, schemes)."""
    trace = tmp / f"trace{n}.csv"
    F = np.loadtxt(shipped_path(TRACE), delimiter=",", comments="#")[:, :n]
    np.savetxt(trace, F, delimiter=",")
    se = "shifted-exponential:shift={},rate=1"
    return [
        ("shifted exponential (shift 1, rate 1)", se.format(1), None, ("bcgc", "ddp", "deadline")),
        ("shifted exponential (shift 0.1, rate 1)", se.format(0.1), None, ("bcgc", "ddp", "deadline")),
        (
            f"replay {TRACE} (first {n} workers)",
            f"replay:path={trace}",
            f"trace:path={trace}",
            ("bcgc", "ddp", "deadline"),
        ),
    ]


def run_group(n, costs, tmp, iterations, unit, only=None):
    cases = [c for c in _cases(tmp, n) if only is None or only in c[0]]
    specs, labels = [], []
    for label, stragglers, model, schemes in cases:
        for scheme in schemes:
            specs.append(
                RunSpec(
                    torch=FACTORY,
                    scheme=scheme,
                    stragglers=stragglers,
                    model=model,
                    costs=costs,
                    iterations=iterations,
                    unit=unit,
                    batch_size=BATCH,
                    lr=0.05,
                    check_every=10,
                )
            )
            labels.append(label)
    before, load0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), os.getloadavg()[0], time.perf_counter()
    results = spawn(specs, n)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    meta = {"wall": time.perf_counter() - t0, "cpu": cpu, "load": (load0, os.getloadavg()[0])}
    return list(zip(labels, results)), meta


def paired_worker(rank, world, port, steps, unit, out):
    """No stragglers, paired: each step runs the coded all-reduce (level 0 by its fast path and by the
    store protocol; level 1, the protocol at a coded design, with real compute only), plain DDP and
    torch's DDP one after the other on the same ranks (each its own copy of the CNN), so the ratios of
    one step see the same load; with ``unit`` > 0 every rank is emulated at T = 1 (equal ranks)."""
    import datetime
    import json

    import torch.distributed as dist

    from bcgc.timing.orderstat import single_level_blocks
    from bcgc.torch.baselines import PlainDataParallel, TorchDDP
    from bcgc.torch.distributed import CodedDataParallel

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world, timeout=datetime.timedelta(seconds=120))
    made = [problem_from_factory(FACTORY, world, seed=0, batch_size=BATCH) for _ in range(5)]
    level0 = single_level_blocks(world, made[0].L, 0)
    wrappers = {
        "coded (level 0, fast path)": CodedDataParallel(made[0], level0),
        "coded (level 0, store protocol)": CodedDataParallel(made[1], level0, fast_path=False),
    }
    if unit == 0:  # level 1 computes 2 subsets per rank: emulated at T = 1 it is 2x by design
        wrappers["coded (level 1, store protocol)"] = CodedDataParallel(
            made[2], single_level_blocks(world, made[2].L, 1)
        )
    wrappers["ddp"] = PlainDataParallel(made[3])
    if unit == 0:
        wrappers["torch-ddp"] = TorchDDP(made[4])
    parts = None if unit == 0 else (np.zeros(world), np.ones(world))
    times, cpu = {k: [] for k in wrappers}, {k: [] for k in wrappers}
    names = list(wrappers)
    for t in range(steps):
        for name in names[t % len(names) :] + names[: t % len(names)]:  # rotated: no wrapper always first
            dist.barrier()
            c0, t0 = time.process_time(), time.perf_counter()
            wrappers[name].backward(t, parts, unit)
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)  # this process's CPU, its threads included
    every = [None] * world
    dist.all_gather_object(every, cpu)
    if rank == 0:
        total = {k: np.sum([e[k] for e in every], axis=0).tolist() for k in cpu}
        Path(out).write_text(json.dumps({"times": times, "cpu": total}))
    dist.destroy_process_group()


def paired(n, steps, unit, tmp) -> dict:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp / f"paired{n}-{unit}.json"
    torch.multiprocessing.spawn(paired_worker, args=(n, port, steps, unit, str(out)), nprocs=n, join=True)
    doc = __import__("json").loads(out.read_text())
    return {k: (np.array(v[2:]), np.array(doc["cpu"][k][2:])) for k, v in doc["times"].items()}


def paired_rerun(a) -> None:
    """``--paired``: the paired no-straggler rows alone, appended to --out with the command, the load
    average and the CPU time of every rank."""
    lines = [
        "",
        f"## Rerun of the paired no-straggler rows: `python benchmarks/allreduce.py {' '.join(sys.argv[1:])}`",
        "",
    ]
    pairs, notes = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        for n in a.workers:
            for unit, label in ((0.0, "real compute only"), (a.unit, "equal emulated ranks (T = 1)")):
                before, load0, t0 = (
                    resource.getrusage(resource.RUSAGE_CHILDREN),
                    os.getloadavg()[0],
                    time.perf_counter(),
                )
                pairs[(n, label)] = paired(n, a.iterations, unit, Path(tmp))
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                notes.append(
                    f"- N = {n}, {label}: {a.iterations} paired steps, {time.perf_counter() - t0:.0f} s wall, {cpu:.0f} s "
                    f"CPU (user+sys, all ranks); load average {load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
                )
    lines += [*paired_table(pairs), "", *notes]
    with open(a.out, "a") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def paired_table(results) -> list:
    out = [
        "| N | no stragglers | scheme | median ms/step | mean ms/step | median of per-step ratio to plain DDP | "
        "median CPU ms/step (all ranks) | its ratio to plain DDP |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (n, label), rows in results.items():
        ddp, ddp_cpu = rows["ddp"]
        for name, (v, c) in rows.items():
            out.append(
                f"| {n} | {label} | {name} | {np.median(v) * 1e3:.1f} | {v.mean() * 1e3:.1f} | "
                f"{np.median(v / ddp):.3f} | {np.median(c) * 1e3:.1f} | {np.median(c / ddp_cpu):.3f} |"
            )
    return out


def _row(n, label, r, ddp_mean):
    logs = r.logs[2:]  # the first steps warm up (allocations, connections)
    meas = np.array([g["measured_seconds"] for g in logs])
    pred = np.array([g["predicted_seconds"] for g in logs])
    ratio = np.median(meas / pred) if np.all(np.isfinite(pred)) else float("nan")
    stop = [g["stop_latency"] for g in logs if "stop_latency" in g]
    every = [v for g in logs for v in g.get("stop_latencies", [])]
    err = np.array([g["gradient_error"] for g in logs])
    levels = sorted({int(s) for g in logs for s in g.get("responders", {})})
    used = [g["rows_used"] for g in logs if "rows_used" in g]
    return (
        f"| {n} | {label} | {r.name}{' ' + str(levels) if levels else ''} | {meas.mean() * 1e3:.1f} | "
        f"{'-' if not np.isfinite(ratio) else f'{pred.mean() * 1e3:.1f}'} | "
        f"{'-' if not np.isfinite(ratio) else f'{ratio:.3f}'} | {meas.mean() / ddp_mean:.3f} | "
        f"{'-' if not stop else f'{np.median(stop) * 1e3:.2f} / {np.median(every) * 1e3:.2f}'} | "
        f"{np.max(err):.1e}{f' (median {np.median(err):.2f}, rows {np.mean(used):.0%})' if used else ''} |"
    )


def table(groups) -> list:
    out = [
        "| N | stragglers | scheme [levels] | measured ms/step | predicted ms/step | median measured/predicted | "
        "time / plain DDP's | stop latency median ms (last rank / every rank) | gradient error vs DDP (max) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n, rows, _ in groups:
        ddp = {label: np.mean([g["measured_seconds"] for g in r.logs[2:]]) for label, r in rows if r.name == "ddp"}
        out += [_row(n, label, r, ddp[label]) for label, r in rows]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--unit", type=float, default=0.25)
    ap.add_argument("--workers", type=int, nargs="+", default=[4, 8])
    ap.add_argument("--quick", action="store_true", help="5 steps, N = 4")
    ap.add_argument("--out", default=str(HERE / "allreduce_results.md"))
    ap.add_argument("--cases", help="run only the straggler cases whose label contains this text, no paired rows")
    ap.add_argument("--append", action="store_true", help="append the table to --out (a rerun of some cases)")
    ap.add_argument("--paired", action="store_true", help="only the paired no-straggler rows, appended to --out")
    a = ap.parse_args(argv)
    if a.quick:
        a.iterations, a.workers = 5, [4]
    torch.set_num_threads(1)
    if a.paired:
        return paired_rerun(a)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        problem = problem_from_factory(FACTORY, 8, seed=0, batch_size=BATCH)
        doc = profile_costs(problem, repeats=5)
        costs = tmp / "costs.json"
        costs.write_text(__import__("json").dumps(doc))
        pairs, groups = {}, []
        for n in a.workers:
            for unit, label in ((0.0, "real compute only"), (a.unit, "equal emulated ranks (T = 1)")):
                if a.cases is None:
                    pairs[(n, label)] = paired(n, a.iterations, unit, tmp)
            print(f"N = {n}: paired done", file=sys.stderr)
            rows, meta = run_group(n, str(costs), tmp, a.iterations, a.unit, a.cases)
            groups.append((n, rows, meta))
            print(f"N = {n}: {meta}", file=sys.stderr)
    write(a, doc, groups, pairs)


def write(a, doc, groups, pairs):
    phi = doc["forward"] / (doc["forward"] + sum(doc["backward"]))
    lines = [
        "# Coded all-reduce inside torch.distributed (benchmarks/allreduce.py)",
        "",
        f"`python benchmarks/allreduce.py --iterations {a.iterations} --unit {a.unit}`: the CNN of "
        f"docs/examples/torch_models.py ({doc['batch_rows']} rows per subset and step, {sum(doc['sizes'])} "
        f"parameters), SGD, on N gloo processes of this 2-core machine, one torch thread each; BCGC designed in "
        f"the backprop work order of `bcgc profile` (forward share φ = {phi:.2f}; a full-subset gradient took "
        f"{(doc['forward'] + sum(doc['backward'])) * 1e3:.1f} ms). Stragglers emulated with unit = {a.unit} s per "
        "full-subset gradient; the first 2 steps are left out of every mean.",
        "",
        NOTE,
        "",
        "## No stragglers: the protocol's cost against plain DDP (paired steps)",
        "",
        "Each step runs the wrappers one after the other on the same ranks (a barrier before each, their order "
        "rotated from step to step), so a step's ratio sees one load. The coded all-reduce runs the level-0 "
        "design (what BCGC's design is with no stragglers) by its fast path (no closure protocol) and by the "
        "store protocol, and, with real compute only, the level-1 design by the protocol (its ranks compute "
        "2 subsets each): the protocol's cost at a coded design.",
        "",
        *paired_table(pairs),
        "",
        "## Emulated stragglers",
        "",
        *table(groups),
        "",
    ]
    for n, _, meta in groups:
        lines.append(
            f"- N = {n}: {meta['wall']:.0f} s wall, {meta['cpu']:.0f} s CPU (user+sys, all ranks) for every row; "
            f"load average {meta['load'][0]:.1f} at the start, {meta['load'][1]:.1f} at the end"
        )
    if a.append:  # a rerun of some cases: its command, table and times under the results so far
        meta = lines[-len(groups) :]
        lines = [
            "",
            f"## Rerun: `python benchmarks/allreduce.py {' '.join(sys.argv[1:])}`",
            "",
            *table(groups),
            "",
            *meta,
        ]
        with open(a.out, "a") as fh:
            fh.write("\n".join(lines) + "\n")
    else:
        Path(a.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
