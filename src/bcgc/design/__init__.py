"""Design of the block sizes x: one entry point, many methods (in the manner of scipy.optimize).

``design(model, workers, coords, objective="runtime"|"deadline", method=...)`` returns a
:class:`DesignResult`. Every method works on the normalised relaxation z = x / L (z ≥ 0, Σ z = 1),
so L never enters a complexity; the integer blocks come from rounding R.

Methods (docs/algorithms.md, "Which method when"):

* ``optimal`` — the default. Runtime: the sample-average LP (A3) solved to optimality by
  constraint generation, compared on common random numbers with A2 (whose 96 000 fresh draws beat
  the LP's 1000 by ~0.1% when T is very variable) and the closed forms; the best is kept. On a
  trace of at most ``samples`` rows the LP works on the rows themselves, the law's exact sample
  objective, and is kept without that comparison. Deadline: ``stationary`` (A6).
* ``subgradient`` (A2), ``saa-lp`` (A3), ``jensen`` (A4), ``inverse`` (A5), ``stationary`` (A6),
  ``large-deadline`` (A7), ``brute-force`` (A1: exact enumeration of integer block vectors).

Constraints: ``tolerate=f`` forces x_s = 0 for s < f; ``allowed_levels`` restricts the non-empty
blocks to a set of levels.

Beyond formula (2) (``allocation``, ``general``; docs/algorithms.md, "Fixed costs and unequal
subsets"): a law with a fixed cost is designed by local search on the exact sample objective of the
general model (``optimal``, ``subgradient``, ``brute-force``; the other methods refuse it), and for
workers that differ ``optimal`` also chooses the subset sizes (``DesignResult.subset_sizes``).

Modules: ``result`` (DesignResult), ``common`` (problem context, z ↔ c, worst block),
``closed_forms`` (A4, A5, A7), ``sample_based`` (A2, A3, the pick of ``optimal``), ``deadline``
(A6), ``integer`` (R, A1).
"""

from .._lazy import lazy
from .names import METHOD_NAMES, OBJECTIVES

__all__ = [
    "design",
    "DesignResult",
    "DesignInputs",
    "METHODS",
    "METHOD_NAMES",
    "OBJECTIVES",
    "round_blocks",
    "brute_force_blocks",
    "allowed_level_set",
]

_LAZY = {name: ".core" for name in __all__ if name not in ("METHOD_NAMES", "OBJECTIVES")}


__getattr__, __dir__ = lazy(__name__, _LAZY, globals(), __all__)
