"""The named laws by their text names (the parser's and the help text's order) and the fittable ones."""

from __future__ import annotations

from .bimodal import Bimodal
from .named import Exponential, LogNormal, Pareto, ShiftedExponential, Weibull, _ScipyLaw

#: text name -> law class, in the order the help text lists them.
REGISTRY: dict[str, type[_ScipyLaw]] = {
    cls.name: cls for cls in (ShiftedExponential, Exponential, Pareto, Weibull, LogNormal, Bimodal)
}
#: the laws :func:`fit` can fit: those whose class defines ``fit`` (maximum likelihood).
FAMILIES: dict[str, type[_ScipyLaw]] = {name: cls for name, cls in REGISTRY.items() if hasattr(cls, "fit")}
