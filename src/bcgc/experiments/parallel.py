"""The pages of ``bcgc reproduce`` in parallel processes, their progress relayed to the caller.

Each page computes from its own seeded streams, so a page gives the same numbers in any process and
in any order: ``jobs`` changes the time a run takes, never what it writes (tests/test_reproduce.py).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time

from threadpoolctl import threadpool_limits

_QUEUE = None  # in a worker process: where its pages' progress messages go


def available_cores() -> int:
    """The cores this process may run on (its affinity, which a container or ``taskset`` narrows)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def run_pages(pages: dict, jobs: int, progress=None) -> dict:
    """{name: fn(*args, progress=...)} for ``pages`` = {name: (fn, args)}, in ``jobs`` processes.

    Pages are started in the order given (longest first keeps the processes busy to the end). The
    workers are spawned (no fork of a process with threads); each gets an equal share of the cores
    for BLAS. ``progress`` is called here, in this process, with each page's messages as they come.
    A page's error, or an interruption here (Ctrl-C, an error of ``progress``), stops every worker
    before it is raised, so nothing is written after the caller's staging folder is removed."""
    if jobs <= 1 or len(pages) <= 1:
        return {name: fn(*args, progress=progress) for name, (fn, args) in pages.items()}
    jobs = min(jobs, len(pages))
    ctx = mp.get_context("spawn")
    messages = ctx.SimpleQueue()  # put() writes to the pipe before returning: none is in flight at the end
    blas = max(1, available_cores() // jobs)
    pool = ctx.Pool(jobs, initializer=_start_worker, initargs=(messages, blas))
    try:
        pending = {name: pool.apply_async(_run_page, (fn, args)) for name, (fn, args) in pages.items()}
        while True:
            finished = all(r.ready() for r in pending.values())
            while not messages.empty():
                msg = messages.get()
                if progress:
                    progress(msg)
            for r in pending.values():
                if r.ready() and not r.successful():
                    r.get()  # raises the page's error here
            if finished:
                break
            time.sleep(0.05)
        results = {name: r.get() for name, r in pending.items()}
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
    return results


def _start_worker(messages, blas_threads: int) -> None:
    global _QUEUE
    _QUEUE = messages
    threadpool_limits(limits=blas_threads, user_api="blas")


def _run_page(fn, args):
    return fn(*args, progress=_QUEUE.put)
