"""Input checks for the public boundary (every message names the parameter and its allowed range).

Internal functions trust their inputs; every public entry point calls these once.
"""

from __future__ import annotations

import numbers

import numpy as np


def integer(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an int, or raise ValueError naming ``name`` and the allowed range."""
    rng = _range_text(minimum, maximum)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer {rng}, got {value!r}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an integer {rng}, got {value}")
    return value


def positive(name: str, value, allow_inf: bool = False) -> float:
    """Return ``value`` as a float > 0 (finite unless ``allow_inf``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number > 0, got {value!r}") from None
    if not (v > 0) or (np.isinf(v) and not allow_inf):
        raise ValueError(f"{name} must be a {'' if allow_inf else 'finite '}number > 0, got {value!r}")
    return v


def nonnegative(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}") from None
    if not (v >= 0) or not np.isfinite(v):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def probability(name: str, value, open_right: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a probability in [0, 1{')' if open_right else ']'}, got {value!r}") from None
    if not (0 <= v <= 1) or (open_right and v == 1):
        raise ValueError(f"{name} must be a probability in [0, 1{')' if open_right else ']'}, got {value!r}")
    return v


def blocks(value, workers: int, coords: int | None = None) -> np.ndarray:
    """Validate an integer block vector x (docs/model.md, equation (2)): N non-negative integers summing to L."""
    try:
        x = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"blocks must be {workers} non-negative integers, got {value!r}") from None
    if x.ndim != 1 or x.size != workers:
        raise ValueError(f"blocks must have one entry per level s = 0..{workers - 1} "
                         f"({workers} entries), got {x.size}")
    if not np.all(np.isfinite(x)) or np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError(f"blocks must be non-negative integers, got {value!r}")
    total = int(x.sum())
    if total < 1:
        raise ValueError("blocks must sum to the number of coordinates L >= 1, got 0")
    if coords is not None and total != coords:
        raise ValueError(f"blocks must sum to coords = {coords}, got a sum of {total}")
    return x.astype(np.int64)


def _range_text(minimum, maximum) -> str:
    if minimum is not None and maximum is not None:
        return f"in [{minimum}, {maximum}]"
    if minimum is not None:
        return f">= {minimum}"
    if maximum is not None:
        return f"<= {maximum}"
    return ""


def as_rng(seed) -> np.random.Generator:
    """A numpy Generator from a seed, a Generator, or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None:
        seed = integer("seed", seed, minimum=0)
    return np.random.default_rng(seed)
