"""The names the runtime's options take (the engines, how straggling is produced): a light module,
so that the command line lists them without importing the runtime."""

__all__ = ["BACKENDS", "MODES"]

#: the engines a run can use
BACKENDS = ("ray", "threads")

#: how straggling is produced on a worker (``bcgc.runtime.engine``)
MODES = ("emulate", "slowdown", "natural")
