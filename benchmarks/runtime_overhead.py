"""The runtime workers' CPU per block beyond the model's own arithmetic (issue 20), on threads.

    PYTHONPATH=src python benchmarks/runtime_overhead.py [N ...]   (default: 8 32 64 256)

For each N: softmax on the synthetic set with L = 260 (64 features, 4 classes, 10 samples per worker,
as ``benchmarks/runtime.py`` section 2), the BCGC design for a shifted exponential law (shift 0.1,
rate 1; optimal up to N = 64; above, Jensen's closed form on the levels s with s + 1 dividing N,
whose fractional codes are built at once, where building a cyclic code per level takes minutes). One iteration = the thread engine
(``ThreadBackend``) publishes θ with a plan to every worker, with no injected straggling (emulate,
unit 0), and the main thread takes every arrival. The workers' CPU is the sum over the worker
threads of their CPU time over their round (``time.thread_time``): computing, encoding, sending
(the queue); the process CPU (``time.process_time``) adds the main thread's (starting the threads,
taking the arrivals).

The model's own arithmetic: every worker computes, once, the full gradient of each subset it holds
(``problem.subset_gradient``: one forward and one backward pass per subset), which is at least the
arithmetic of its coded blocks (those need the partial derivatives of the same subsets on only part
of the coordinates). Overhead = workers' CPU − that, divided by the blocks sent (N × non-empty
levels). The target is ≤ 0.1 ms per block, flat in N. Each is measured 7 times, in turns, after a
warm-up iteration: the table gives the minima (other jobs on a shared machine only ever add CPU
time) and, in the last column, the medians.
"""

from __future__ import annotations

import sys
import threading
import time

import numpy as np

from bcgc.design import design
from bcgc.problems import load_dataset, make_problem
from bcgc.runtime import Arrival, ThreadBackend, worker_views
from bcgc.schemes.blocks import BlockScheme
from bcgc.schemes.plan import Plan
from bcgc.stragglers import ShiftedExponential

LAW = ShiftedExponential(0.1, 1.0)


def _setup(n):
    problem = make_problem("softmax", load_dataset("synthetic", features=64, samples=10 * n, seed=0), n)
    if n <= 64:
        blocks = design(LAW, n, problem.L, seed=0).blocks
    else:  # building a real-valued cyclic code per level takes minutes at N = 256 (SVD probes, bcgc.codes):
        # levels s with s + 1 dividing N have the fractional (group) code, built at once
        levels = [s for s in range(n) if n % (s + 1) == 0]
        blocks = design(LAW, n, problem.L, method="jensen", allowed_levels=levels, seed=0).blocks
    scheme = BlockScheme(blocks, n)
    return problem, scheme, worker_views(problem, scheme)


class _TimedThreads(ThreadBackend):
    """The thread engine, adding up each worker thread's CPU (``time.thread_time``) over its round."""

    spent = 0.0

    def _serve(self, *args):
        t0 = time.thread_time()
        try:
            super()._serve(*args)
        finally:
            spent = time.thread_time() - t0
            with self._lock:
                self.spent += spent


def _engine_iteration(be, i, plan, theta):
    """(the workers' CPU seconds, the process's) of one iteration on the thread engine: publish,
    then every arrival (the process's adds the main thread: thread starts, the queue)."""
    expected = plan.workers * plan.levels.size
    be.spent, t0 = 0.0, time.process_time()
    be.publish(i, theta, np.column_stack([np.zeros(plan.workers), np.ones(plan.workers)]), plan, "emulate", 0.0)
    for _ in range(expected):
        event = be.next_event(timeout=60.0)
        if not isinstance(event, Arrival):
            raise RuntimeError(f"unexpected event {event!r}")
    process = time.process_time() - t0
    while threading.active_count() > 1:  # the last worker threads add their time as they end
        time.sleep(0.001)
    return be.spent, process


def _arithmetic(views, held, theta):
    """CPU seconds of every worker's full subset gradients (one call per held subset)."""
    t0 = time.process_time()
    for view, ks in zip(views, held):
        for k in ks:
            view.subset_gradient(theta, k)
    return time.process_time() - t0


def measure(n, repeats=7):
    """The workers' CPU, the process's and the arithmetic per iteration, interleaved (so that all
    see the same load on a shared machine); the minimum over ``repeats`` (other jobs only ever add
    CPU time) and the median."""
    problem, scheme, views = _setup(n)
    theta = np.random.default_rng(0).normal(size=problem.L) * 0.01
    held = [scheme.subsets_of(w).tolist() for w in range(n)]
    be, plan = _TimedThreads(views), Plan(scheme)  # what the master publishes: a plan, (a_n, b_n)
    _engine_iteration(be, 0, plan, theta)  # warm-up: codes' rows, the problems' stacks
    runs = []
    for i in range(1, repeats + 1):
        runs.append((*_engine_iteration(be, i, plan, theta), _arithmetic(views, held, theta)))
    blocks = n * scheme.levels.size
    out = {"N": n, "levels": int(scheme.levels.size), "blocks": blocks}
    for name, pick in (("min", np.min), ("median", np.median)):
        workers, process, arithmetic = (float(pick(c)) for c in zip(*runs))
        out[name] = (workers * 1e3, process * 1e3, arithmetic * 1e3, (workers - arithmetic) / blocks * 1e6)
    return out


def main(sizes):
    print(
        "| N | non-empty levels | blocks sent per iteration | workers' CPU per iteration, ms | process CPU, ms | "
        "model's arithmetic, ms | workers' overhead per block sent, µs | the same, medians |"
    )
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for n in sizes:
        r = measure(n)
        rows.append(r)
        (w, p, a, o), (wm, _, am, om) = r["min"], r["median"]
        print(
            f"| {r['N']} | {r['levels']} | {r['blocks']} | {w:.1f} | {p:.1f} | {a:.1f} | {o:.1f} | "
            f"{wm:.1f} − {am:.1f}: {om:.1f} |",
            flush=True,
        )
    if len(rows) > 1:
        a, b = rows[0]["min"][3], rows[-1]["min"][3]
        growth = np.log(b / a) / np.log(rows[-1]["N"] / rows[0]["N"]) if a > 0 and b > 0 else float("nan")
        print(f"\nOverhead per block (minima) grows as N^{growth:.2f} from N = {rows[0]['N']} to N = {rows[-1]['N']}.")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [8, 32, 64, 256])
