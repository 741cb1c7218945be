"""Fitting straggler laws to measurements (docs/fitting.md): one trace, traces at several loads
(the fixed-cost law), or the censored observations of a training log; and the quantiles of the
time a fitted law predicts at a load."""

from .likelihood import CANDIDATES, choose, loglik, mle
from .loads_fit import fit_loads
from .log_fit import fit_log, read_log
from .predict import LEVELS, predicted_quantiles
from .trace_fit import FitResult, fit_trace, persistence_test

__all__ = [
    "CANDIDATES",
    "choose",
    "loglik",
    "mle",
    "fit_trace",
    "fit_loads",
    "fit_log",
    "read_log",
    "persistence_test",
    "predicted_quantiles",
    "LEVELS",
    "FitResult",
]
