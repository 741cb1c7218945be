"""The real distributed runtime (docs/runtime.md): an engine-agnostic master over a small engine
interface, with a thread engine (tests, single process) and a Ray engine (local or cluster)."""

from .adapt import PRIOR, AdaptConfig
from .engine import MODES, Arrival, Backend, Death, Failure, ThreadBackend, WorkerCore
from .experience import Experience, parse_experience
from .master import Master, TrainResult, WorkerError
from .train import BACKENDS, train, worker_views

__all__ = [
    "AdaptConfig",
    "PRIOR",
    "Experience",
    "parse_experience",
    "Arrival",
    "Backend",
    "Death",
    "Failure",
    "MODES",
    "BACKENDS",
    "ThreadBackend",
    "WorkerCore",
    "Master",
    "TrainResult",
    "WorkerError",
    "train",
    "worker_views",
]
