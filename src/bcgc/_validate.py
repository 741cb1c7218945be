"""Input checks for the public boundary (every message names the parameter and its allowed range).

Internal functions trust their inputs; every public entry point calls these once.
"""

from __future__ import annotations

import numbers
import os

import numpy as np

#: coordinates are counted in float64 by the designs (z · L): above 2^53 a count is no longer exact
MAX_COORDS = 2**53
#: workers: far beyond any cluster we model, and small enough for N × N code matrices
MAX_WORKERS = 100_000
#: Monte Carlo draws and gradient steps past these would run for days: refused, not started
MAX_SAMPLES = 10**9
MAX_ITERATIONS = 10**6
#: seconds of emulated work per full-subset gradient (train --unit): an hour is already extreme
MAX_UNIT = 3600.0


def _show(value) -> str:
    """A value for a message: huge integers are abbreviated (a 400-digit number helps nobody)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and abs(int(value)) >= 10**16:
        return (
            f"{float(value):.3e}" if abs(int(value)) < 10**308 else f"an integer of {len(str(abs(int(value))))} digits"
        )
    return repr(value)


def integer(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an int, or raise ValueError naming ``name`` and the allowed range."""
    rng = _range_text(minimum, maximum)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer {rng}, got {_show(value)}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an integer {rng}, got {_show(value)}")
    return value


def coords(value, name: str = "coords") -> int:
    """L, exactly representable: an integer in [1, 2^53]."""
    return integer(name, value, minimum=1, maximum=MAX_COORDS)


def workers(value, name: str = "workers") -> int:
    return integer(name, value, minimum=1, maximum=MAX_WORKERS)


def memory(what: str, values: float, fix: str) -> None:
    """Refuse work whose arrays cannot fit: ``values`` float64 numbers held at once must stay
    under half of this machine's memory. ``fix`` says which parameter to lower."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # no sysconf: assume a small machine
        total = 8 * 2**30
    need = 8.0 * values
    if need > total / 2:
        raise ValueError(
            f"{what} needs about {need / 2**30:.3g} GiB of memory at once, more than half of this "
            f"machine's {total / 2**30:.3g} GiB: {fix}"
        )


def positive(name: str, value, allow_inf: bool = False) -> float:
    """Return ``value`` as a float > 0 (finite unless ``allow_inf``); bools and text are refused
    (True is not a deadline of 1)."""
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise ValueError(f"{name} must be a number > 0, got {value!r}")
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
    """Validate an integer block vector x (docs/model.md, equation (2)): N non-negative integers
    summing to L ≤ 2^53, checked on the exact integers (never through a lossy float)."""
    try:
        arr = np.asarray(value, dtype=object)
    except (TypeError, ValueError):
        raise ValueError(f"blocks must be {workers} non-negative integers, got {value!r}") from None
    if arr.ndim != 1:
        raise ValueError(f"blocks must be a list of {workers} non-negative integers, got {value!r}")
    items = list(arr)
    if len(items) != workers:
        raise ValueError(
            f"blocks must have one entry per level s = 0..{workers - 1} ({workers} entries), got {len(items)}"
        )
    exact = []
    if isinstance(value, (str, bytes)):
        raise ValueError(f"blocks must be a list of {workers} non-negative integers, got {value!r}")
    for v in items:
        if isinstance(v, (bool, np.bool_)) or not (
            isinstance(v, numbers.Integral) or (isinstance(v, numbers.Real) and float(v).is_integer())
        ):
            raise ValueError(f"blocks must be non-negative integers, got {_show(v)} in {len(items)} entries")
        v = int(v)
        if v < 0 or v > MAX_COORDS:
            raise ValueError(f"blocks must be non-negative integers <= 2^53 = {MAX_COORDS}, got {_show(v)}")
        exact.append(v)
    total = sum(exact)
    if total < 1:
        raise ValueError("blocks must sum to the number of coordinates L >= 1, got 0")
    if total > MAX_COORDS:
        raise ValueError(f"blocks must sum to at most 2^53 = {MAX_COORDS} coordinates, got {_show(total)}")
    if coords is not None and total != coords:
        raise ValueError(f"blocks must sum to coords = {coords}, got a sum of {total}")
    return np.array(exact, dtype=np.int64)


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
