"""The real distributed runtime (docs/runtime.md): an engine-agnostic master over a small engine
interface, with a thread engine (tests, single process) and a Ray engine (local or cluster)."""

from .._lazy import lazy
from .names import BACKENDS, MODES

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

#: where each name lives: imported at its first use (PEP 562), so that the command line's parsers,
#: which only need the names (.names), do not import the runtime (and scipy with it)
_LAZY = {
    "PRIOR": ".adapt",
    "AdaptConfig": ".adapt",
    "Arrival": ".engine",
    "Backend": ".engine",
    "Death": ".engine",
    "Failure": ".engine",
    "ThreadBackend": ".engine",
    "WorkerCore": ".engine",
    "Experience": ".experience",
    "parse_experience": ".experience",
    "Master": ".master",
    "TrainResult": ".master",
    "WorkerError": ".master",
    "train": ".training",
    "worker_views": ".training",
}


__getattr__, __dir__ = lazy(__name__, _LAZY, globals(), __all__)
