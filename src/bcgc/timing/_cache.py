"""A computed-once value on a frozen dataclass (a tuple of arrays made read-only)."""

from __future__ import annotations


def frozen_cached(obj, name: str, build):
    """``obj.__dict__[name]``, made by ``build()`` on first use; its arrays read-only. Not a field, so
    neither compared nor shown; set with ``object.__setattr__`` since ``obj`` is frozen."""
    cached = obj.__dict__.get(name)
    if cached is None:
        cached = build()
        for arr in cached:
            arr.setflags(write=False)
        object.__setattr__(obj, name, cached)
    return cached
