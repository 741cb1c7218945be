"""The names of the design objectives and methods (``bcgc.design.core`` maps each method to its
solver): a light module, so that the command line lists them without importing the solvers."""

__all__ = ["OBJECTIVES", "METHOD_NAMES"]

#: what a design optimises: "runtime" (minimise E[τ]) or "deadline" (maximise P(τ ≤ t))
OBJECTIVES = ("runtime", "deadline")

#: every method of ``design(method=...)``, in the order the command line lists them
METHOD_NAMES = ("jensen", "inverse", "subgradient", "saa-lp", "stationary", "large-deadline", "optimal", "brute-force")
