"""The pages of ``bcgc reproduce`` in parallel processes, their progress relayed to the caller.

Each page computes from its own seeded streams, so a page gives the same numbers in any process and
in any order: ``jobs`` changes the time a run takes, never what it writes (tests/test_reproduce.py).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time

_PROGRESS, _RESULT, _ERROR = "progress", "result", "error"
_BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def available_cores() -> int:
    """The cores this process may run on (its affinity, which a container or ``taskset`` narrows)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def run_pages(pages: dict, jobs: int, progress=None) -> dict:
    """{name: fn(*args, progress=...)} for ``pages`` = {name: (fn, args)}, in ``jobs`` processes.

    Pages are started in the order given (longest first keeps the processes busy to the end). The
    workers are spawned (no fork of a process with threads) and share the cores' BLAS threads.
    ``progress`` is called here, in this process, with each page's messages as they come. A page's
    error, a worker that dies (killed, out of memory) or an interruption here (Ctrl-C, an error of
    ``progress``) stops every worker before it is raised, so nothing is written after the caller's
    staging folder is removed; a worker whose parent is gone stops at its next step."""
    if jobs <= 1 or len(pages) <= 1:
        return {name: fn(*args, progress=progress) for name, (fn, args) in pages.items()}
    jobs = min(jobs, len(pages))
    ctx = mp.get_context("spawn")
    tasks, events = ctx.SimpleQueue(), ctx.SimpleQueue()  # put() writes before returning: nothing in flight
    for name, (fn, args) in pages.items():
        tasks.put((name, fn, args))
    workers = [ctx.Process(target=_worker, args=(tasks, events, os.getpid()), daemon=True) for _ in range(jobs)]
    for _ in workers:
        tasks.put(None)
    results: dict = {}
    try:
        _start(workers, blas_threads=max(1, available_cores() // jobs))
        while len(results) < len(pages):
            if events.empty():
                _check_alive(workers)
                time.sleep(0.05)
                continue
            kind, name, value = events.get()
            if kind == _ERROR:
                raise value
            if kind == _RESULT:
                results[name] = value
            elif progress:
                progress(value)
    finally:
        for w in workers:
            if w.is_alive():
                w.terminate()
            w.join()
    return {name: results[name] for name in pages}


def _start(workers, blas_threads: int) -> None:
    """Start the workers with BLAS limited to their share of the cores: through the environment,
    which a spawned process inherits and BLAS reads when it loads (after that, only threadpoolctl
    could change it, and only in a library already loaded)."""
    saved = {v: os.environ.get(v) for v in _BLAS_VARIABLES}
    os.environ.update(dict.fromkeys(_BLAS_VARIABLES, str(blas_threads)))
    try:
        for w in workers:
            w.start()
    finally:
        for v, value in saved.items():
            if value is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = value


def _check_alive(workers) -> None:
    """A worker that ended with a non-zero code without reporting an error was killed."""
    for w in workers:
        if w.exitcode not in (None, 0):
            raise RuntimeError(f"a reproduce worker process died (exit code {w.exitcode}): out of memory, or killed")


def _worker(tasks, events, parent: int) -> None:
    # Ctrl-C reaches every process of the terminal's group: the parent stops the workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def progress(msg):
        if os.getppid() != parent:  # the parent is gone (SIGTERM, killed): stop, nobody reads the pages
            os._exit(1)
        events.put((_PROGRESS, None, msg))

    for name, fn, args in iter(tasks.get, None):
        try:
            events.put((_RESULT, name, fn(*args, progress=progress)))
        except BaseException as exc:  # reported to the parent, which raises it
            events.put((_ERROR, name, _picklable(exc)))
            return


def _picklable(exc: BaseException) -> BaseException:
    import pickle

    try:
        pickle.dumps(exc)
        return exc
    except Exception:  # one that cannot cross processes is described instead
        return RuntimeError(f"{type(exc).__name__}: {exc}")
