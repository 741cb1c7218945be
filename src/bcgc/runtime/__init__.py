"""The real distributed runtime (SPEC §7): an engine-agnostic master over a small engine interface,
with a thread engine (tests, single process) and a Ray engine (local or cluster)."""

from .engine import Arrival, Backend, Death, Plan, ThreadBackend, WorkerCore
from .master import Master, TrainResult


def worker_views(problem, scheme):  # noqa: D401
    """What each worker stores: the data of the subsets its design needs (SPEC §3.3)."""
    return [problem.restrict(scheme.subsets_of(w)) for w in range(scheme.workers)]


__all__ = ["Arrival", "Backend", "Death", "Plan", "ThreadBackend", "WorkerCore", "Master", "TrainResult",
           "worker_views"]
