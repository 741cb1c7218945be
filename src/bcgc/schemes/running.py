"""Which registered schemes the simulator and the runtime run, in the order runs list them, and
which of them a run's design arguments allow (re-exported by ``bcgc.policy``; a light module: the
command line's parsers list them without importing the design engine)."""

from __future__ import annotations

from .registry import runnable

__all__ = ["MM_SCHEMES", "runtime_schemes", "allowed_schemes"]

#: the schemes whose design is a bcgc.timing.mm.MMDesign (the runtime objective only)
MM_SCHEMES = ("bcgc_mm", "ucmmc")


#: the order runs list the built-in schemes in; a scheme of one's own follows them
_RUN_ORDER = ("bcgc", "gc", "uncoded", "bcgc_mm", "ucmmc")


def runtime_schemes() -> tuple[str, ...]:
    """Every scheme the simulator and the runtime run: the registry's runnable ones."""
    names = runnable()
    return tuple(sorted(names, key=lambda n: _RUN_ORDER.index(n) if n in _RUN_ORDER else len(_RUN_ORDER)))


def allowed_schemes(objective="runtime", method="optimal", allowed_levels=None, tolerate=0, adapt=False, **_):
    """The runnable schemes the design arguments allow ("all" in ``train`` and ``simulate``): bcgc_mm
    and UC-MMC need the runtime objective and the optimal method (and no --adapt), bcgc_mm no tolerance."""
    names = runtime_schemes()
    if adapt or objective != "runtime" or method != "optimal" or allowed_levels is not None:
        return tuple(n for n in names if n not in MM_SCHEMES)
    return tuple(n for n in names if not (n == "bcgc_mm" and tolerate))
