"""The evaluation methods and the exact path's bound (used by ``.evaluation``): a light module, so
that the command line lists them without importing the evaluation."""

__all__ = ["EVALUATION_METHODS", "EXACT_MAX_WORKERS"]

#: Above this many workers "auto" evaluation uses Monte Carlo: the exact walk costs O(N^3) per
#: probability and E[τ] needs ~100-300 of them (see benchmarks/ for measured times).
EXACT_MAX_WORKERS = 200

EVALUATION_METHODS = ("auto", "exact", "monte-carlo")
