"""A package's names imported at their first use (PEP 562): the command line's parsers and ``bcgc
--help`` need only the light ``names`` modules, not the solvers behind them (scipy, the runtime)."""

from __future__ import annotations

import importlib


def lazy(package: str, where: dict, namespace: dict, exported) -> tuple:
    """``(__getattr__, __dir__)`` for ``package``: name ``n`` is imported from the submodule ``where[n]``
    (relative to ``package``) when first asked for, then kept in ``namespace`` (the package's globals)."""

    def __getattr__(name):
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name], package), name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted({*namespace, *exported})

    return __getattr__, __dir__
