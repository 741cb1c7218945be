"""Remembered values: computed once on a frozen dataclass, or kept in a bounded dict."""

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


def remembered(cache: dict | None, key, limit: int, build):
    """``cache[key]``, made by ``build()`` when absent and kept, the oldest entry dropped once ``cache``
    holds ``limit``; ``build()`` alone when ``cache`` or ``key`` is None."""
    if cache is None or key is None:
        return build()
    if key in cache:
        return cache[key]
    value = build()
    if len(cache) >= limit:
        cache.pop(next(iter(cache)))
    cache[key] = value
    return value
