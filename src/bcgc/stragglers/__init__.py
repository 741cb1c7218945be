"""Straggler models: the law of T = (T_0..T_{N-1}) (docs/model.md, straggler model).

T_n is the time worker n needs, in one iteration, to compute all L partial derivatives on ONE data
subset. Laws are immutable values modelled on ``scipy.stats`` frozen distributions; every law
answers ``sample(iterations, workers, seed)``, i.i.d. laws also ``cdf, sf, pdf, ppf, isf, mean``
and the order-statistic moments the closed-form designs need.

* :mod:`.base`: :class:`StragglerModel`, :class:`IIDLaw` and the order-statistic numerics;
* :mod:`.named`: the scipy-backed named laws and :data:`REGISTRY` (text name -> class);
* :mod:`.composite`: :class:`FullStragglers` (workers that never answer), :class:`Heterogeneous`;
* :mod:`.fixed_cost`: :class:`FixedCost`, T(w) = a + b · w (a fixed cost per iteration);
* :mod:`.empirical`: observed times, :class:`Empirical`, :class:`Trace`, :func:`read_trace`;
* :mod:`.shipped`: the measured traces shipped with bcgc (``trace:name=alibaba-pai-job2``);
* :mod:`.parse`: the command-line text form :func:`parse_model`, e.g.
  ``shifted-exponential:shift=1,rate=1`` or ``pareto:scale=1,shape=2.5,full=0.01``, and :func:`fit`.
"""

from .base import IIDLaw, StragglerModel
from .bimodal import Bimodal
from .composite import FullStragglers, Heterogeneous
from .empirical import Empirical, Trace, read_trace
from .fixed_cost import FixedCost
from .named import Exponential, LogNormal, Pareto, ShiftedExponential, Weibull
from .parse import as_law, fit, parse_model
from .registry import FAMILIES, REGISTRY
from .shipped import shipped_names, shipped_path, shipped_trace

__all__ = [
    "StragglerModel",
    "IIDLaw",
    "ShiftedExponential",
    "Exponential",
    "Pareto",
    "Weibull",
    "LogNormal",
    "Bimodal",
    "Empirical",
    "FullStragglers",
    "Heterogeneous",
    "Trace",
    "FixedCost",
    "parse_model",
    "as_law",
    "fit",
    "read_trace",
    "FAMILIES",
    "REGISTRY",
    "shipped_names",
    "shipped_path",
    "shipped_trace",
]
