"""The one registry of schemes (docs/peers.md, "Adding a scheme"): ``compare`` evaluates every
registered scheme in order, ``simulate`` and ``train`` run every runnable one, ``recommend`` ranks
them. A scheme of one's own is one module that calls :func:`register`."""

from __future__ import annotations

from .._validate import InputError
from .base import Scheme

__all__ = ["register", "unregister", "get", "by_label", "schemes", "runnable", "names"]

_REGISTRY: dict[str, Scheme] = {}


def register(scheme: Scheme, before: str | None = None, last: bool = False) -> Scheme:
    """Add ``scheme`` (an instance) under its name; ``before``: the registered name it is listed before
    (default: before the oracle bound, the last row of a comparison without bcgc_mm); ``last``: at the
    end. A name already taken, or an unknown ``before``, is refused."""
    if not isinstance(scheme, Scheme):
        raise InputError(f"scheme must be a bcgc.schemes.Scheme instance, got {scheme!r}")
    if scheme.name in _REGISTRY or any(s.label == scheme.label for s in _REGISTRY.values()):
        raise InputError(f"a scheme named {scheme.name!r} (row {scheme.label!r}) is registered already")
    if before is not None and before not in _REGISTRY:
        raise InputError(f"before must be a registered scheme ({', '.join(_REGISTRY)}), got {before!r}")
    before = "oracle" if before is None and not last and "oracle" in _REGISTRY else before
    items = list(_REGISTRY.items())
    at = [k for k, _ in items].index(before) if before is not None and not last else len(items)
    items.insert(at, (scheme.name, scheme))
    _REGISTRY.clear()
    _REGISTRY.update(items)
    return scheme


def unregister(name: str) -> None:
    """Remove a registered scheme (tests register an example and remove it again)."""
    _REGISTRY.pop(name, None)


def get(name: str) -> Scheme:
    """The scheme registered as ``name``; a clear error naming the choices otherwise."""
    if name not in _REGISTRY:
        raise InputError(f"scheme must be one of {', '.join(_REGISTRY)}, got {name!r}")
    return _REGISTRY[name]


def by_label(label: str) -> Scheme:
    """The scheme whose ``compare`` row is ``label`` (e.g. gc_best → gc)."""
    for s in _REGISTRY.values():
        if s.label == label:
            return s
    raise InputError(f"no registered scheme has the row {label!r}")


def schemes() -> list[Scheme]:
    """Every registered scheme, in ``compare``'s row order."""
    return list(_REGISTRY.values())


def runnable() -> tuple[str, ...]:
    """Names of the schemes the simulator and the runtime can run."""
    return tuple(s.name for s in _REGISTRY.values() if s.runnable)


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)
