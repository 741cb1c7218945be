"""The real distributed runtime (SPEC §7): an engine-agnostic master over a small engine interface,
with a thread engine (tests, single process) and a Ray engine (local or cluster)."""

from .engine import Arrival, Backend, Death, Plan, ThreadBackend, WorkerCore
from .master import Master, TrainResult
from .train import train, worker_views


__all__ = ["Arrival", "Backend", "Death", "Plan", "ThreadBackend", "WorkerCore", "Master", "TrainResult",
           "train", "worker_views"]
