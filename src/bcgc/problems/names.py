"""The names of the shipped problems (``bcgc.problems.models.PROBLEMS`` maps each to its class): a
light module, so that the command line lists them without importing the models."""

__all__ = ["PROBLEM_NAMES"]

PROBLEM_NAMES = ("least-squares", "logistic", "softmax")
