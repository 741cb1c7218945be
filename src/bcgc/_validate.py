"""Input checks for the public boundary (every message names the parameter and its allowed range).

Internal functions trust their inputs; every public entry point calls these once. A refused input
raises :class:`InputError` (a ``ValueError``): the command line reports it as one line, exit code 2;
any other exception is a bug in bcgc.

Ranges are declared once, as constraint objects in scikit-learn's style (:class:`Interval`,
:class:`Options`), and shared by the Python API and the command line's option types, so that both
state the same range in the same words.
"""

from __future__ import annotations

import math
import numbers
import os

import numpy as np


class InputError(ValueError):
    """The caller's input is out of range: the message names the parameter and what it allows.

    A ``ValueError``, so that ``except ValueError`` keeps catching it; anything raised that is not an
    ``InputError`` (nor a documented failure such as :class:`RunFailed`) is a bug in bcgc."""


class RunFailed(RuntimeError):
    """A computation could not finish for a reason that is neither bad input nor a bug in bcgc: every
    worker dead, an iteration timed out, a linear-program solver gave up. The message says which."""


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


# ---------------------------------------------------------------------------- declarative constraints
class Constraint:
    """What a parameter allows: ``describe()`` says it in words, ``check(name, value)`` returns the
    value (normalised) or raises :class:`InputError` naming ``name`` and the allowed range."""

    def describe(self) -> str:  # pragma: no cover - every constraint defines it
        raise NotImplementedError

    def message(self, name: str, value) -> str:
        """The refusal of ``value`` for parameter ``name``: the name, the allowed range, the value."""
        return f"{name} must be {self.describe()}, got {_show(value)}"

    def check(self, name: str, value):  # pragma: no cover - every constraint defines it
        raise NotImplementedError

    def __contains__(self, value) -> bool:
        try:
            self.check("value", value)
        except InputError:
            return False
        return True

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.describe()}>"


class Interval(Constraint):
    """Numbers of ``type`` (``int``/``numbers.Integral`` or ``float``/``numbers.Real``) between ``left``
    and ``right`` (None: unbounded on that side), ``closed`` "both", "left", "right" or "neither".

    Reals are finite unless a bound is ±inf and closed on that side (``Interval(float, 0, inf,
    closed="right")``: a number > 0 or inf); NaN is never inside. Integers accept integer-valued
    floats (3.0 is 3); bools and text are refused (True is not 1, "2" is not 2). ``noun`` names the
    kind of number in messages ("probability", "fraction")."""

    CLOSED = ("both", "left", "right", "neither")

    def __init__(self, type, left=None, right=None, *, closed: str = "both", noun: str | None = None):
        if type in (int, numbers.Integral):
            self.type = int
        elif type in (float, numbers.Real):
            self.type = float
        else:
            raise TypeError(f"Interval type must be int or float (numbers.Integral or numbers.Real), got {type!r}")
        if closed not in self.CLOSED:
            raise TypeError(f"Interval closed must be one of {', '.join(self.CLOSED)}, got {closed!r}")
        if left is not None and right is not None and left > right:
            raise TypeError(f"Interval left {left!r} is above right {right!r}")
        self.left, self.right, self.closed = left, right, closed
        self.noun = noun or ("integer" if self.type is int else "number")

    @property
    def _left_closed(self) -> bool:
        return self.closed in ("both", "left")

    @property
    def _right_closed(self) -> bool:
        return self.closed in ("both", "right")

    def _bound(self, v) -> str:
        return str(v) if self.type is int else f"{v:g}"

    def describe(self) -> str:
        article = "an" if self.noun[0] in "aeiou" else "a"
        lo, hi = self.left, self.right
        if lo is not None and hi is not None:
            return (
                f"{article} {self.noun} in {'[' if self._left_closed else '('}{self._bound(lo)}, "
                f"{self._bound(hi)}{']' if self._right_closed else ')'}"
            )
        finite = "" if self.type is int else "finite "
        article = "a" if finite else article
        if lo is not None:
            return f"{article} {finite}{self.noun} {'>=' if self._left_closed else '>'} {self._bound(lo)}"
        if hi is not None:
            return f"{article} {finite}{self.noun} {'<=' if self._right_closed else '<'} {self._bound(hi)}"
        return f"{article} {finite}{self.noun}"

    def _inside(self, v) -> bool:
        lo, hi = self.left, self.right
        if lo is not None and (v < lo or (v == lo and not self._left_closed)):
            return False
        if hi is not None and (v > hi or (v == hi and not self._right_closed)):
            return False
        return True

    def check(self, name: str, value):
        if isinstance(value, (bool, np.bool_, str, bytes)):
            raise InputError(self.message(name, value))
        if self.type is int:
            if not isinstance(value, numbers.Integral):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise InputError(self.message(name, value))
            v = int(value)
            if not self._inside(v):
                raise InputError(self.message(name, v))
            return v
        try:
            v = float(value)
        except (TypeError, ValueError, OverflowError):
            raise InputError(self.message(name, value)) from None
        if math.isnan(v) or (math.isinf(v) and v not in (self.left, self.right)) or not self._inside(v):
            raise InputError(self.message(name, value))
        return v


class Options(Constraint):
    """One of a fixed set of values (scikit-learn's ``StrOptions``), e.g. ``Options("exact", "monte-carlo")``."""

    def __init__(self, *options):
        if not options:
            raise TypeError("Options needs at least one allowed value")
        self.options = tuple(options)

    def describe(self) -> str:
        return "one of " + ", ".join(str(o) for o in self.options)

    def check(self, name: str, value):
        try:
            ok = value in self.options and not isinstance(value, (bool, np.bool_))
        except (TypeError, ValueError):  # a value that compares oddly (an array: no single truth value)
            ok = False
        if not ok:
            raise InputError(self.message(name, value))
        return value


#: the ranges the API and the command line share (``--workers``, ``--coords``)
WORKERS = Interval(int, 1, MAX_WORKERS)
COORDS = Interval(int, 1, MAX_COORDS)
SEED = Interval(int, 0, None)
POSITIVE = Interval(float, 0, None, closed="neither")
POSITIVE_OR_INF = Interval(float, 0, math.inf, closed="right")
NONNEGATIVE = Interval(float, 0, None, closed="left")
PROBABILITY = Interval(float, 0, 1, noun="probability")
PROBABILITY_BELOW_1 = Interval(float, 0, 1, closed="left", noun="probability")
#: train's unit: seconds of emulated work per full-subset gradient
UNIT = Interval(float, 0, MAX_UNIT, closed="right")


def integer(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an int, or raise InputError naming ``name`` and the allowed range."""
    return Interval(int, minimum, maximum).check(name, value)


def coords(value, name: str = "coords") -> int:
    """L, exactly representable: an integer in [1, 2^53]."""
    return COORDS.check(name, value)


def workers(value, name: str = "workers") -> int:
    return WORKERS.check(name, value)


def memory(what: str, values: float, fix: str) -> None:
    """Refuse work whose arrays cannot fit: ``values`` float64 numbers held at once must stay
    under half of this machine's memory. ``fix`` says which parameter to lower."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # no sysconf: assume a small machine
        total = 8 * 2**30
    need = 8.0 * values
    if need > total / 2:
        raise InputError(
            f"{what} needs about {need / 2**30:.3g} GiB of memory at once, more than half of this "
            f"machine's {total / 2**30:.3g} GiB: {fix}"
        )


def positive(name: str, value, allow_inf: bool = False) -> float:
    """Return ``value`` as a float > 0 (finite unless ``allow_inf``); bools and text are refused
    (True is not a deadline of 1)."""
    return (POSITIVE_OR_INF if allow_inf else POSITIVE).check(name, value)


def nonnegative(name: str, value) -> float:
    return NONNEGATIVE.check(name, value)


def probability(name: str, value, open_right: bool = False) -> float:
    return (PROBABILITY_BELOW_1 if open_right else PROBABILITY).check(name, value)


def blocks(value, workers: int, coords: int | None = None) -> np.ndarray:
    """Validate an integer block vector x (docs/model.md, equation (2)): N non-negative integers
    summing to L ≤ 2^53, checked on the exact integers (never through a lossy float)."""
    try:
        arr = np.asarray(value, dtype=object)
    except (TypeError, ValueError):
        raise InputError(f"blocks must be {workers} non-negative integers, got {value!r}") from None
    if arr.ndim != 1:
        raise InputError(f"blocks must be a list of {workers} non-negative integers, got {value!r}")
    items = list(arr)
    if len(items) != workers:
        raise InputError(
            f"blocks must have one entry per level s = 0..{workers - 1} ({workers} entries), got {len(items)}"
        )
    exact = []
    if isinstance(value, (str, bytes)):
        raise InputError(f"blocks must be a list of {workers} non-negative integers, got {value!r}")
    for v in items:
        if isinstance(v, (bool, np.bool_)) or not (
            isinstance(v, numbers.Integral) or (isinstance(v, numbers.Real) and float(v).is_integer())
        ):
            raise InputError(f"blocks must be non-negative integers, got {_show(v)} in {len(items)} entries")
        v = int(v)
        if v < 0 or v > MAX_COORDS:
            raise InputError(f"blocks must be non-negative integers <= 2^53 = {MAX_COORDS}, got {_show(v)}")
        exact.append(v)
    total = sum(exact)
    if total < 1:
        raise InputError("blocks must sum to the number of coordinates L >= 1, got 0")
    if total > MAX_COORDS:
        raise InputError(f"blocks must sum to at most 2^53 = {MAX_COORDS} coordinates, got {_show(total)}")
    if coords is not None and total != coords:
        raise InputError(f"blocks must sum to coords = {coords}, got a sum of {total}")
    return np.array(exact, dtype=np.int64)


def as_rng(seed) -> np.random.Generator:
    """A numpy Generator from a seed, a Generator, or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None:
        seed = integer("seed", seed, minimum=0)
    return np.random.default_rng(seed)
