"""Laws given by observed times: :class:`Empirical` (pooled i.i.d.) and :class:`Trace` (joint),
the CSV reader :func:`read_trace`, and the data check shared by every fit."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import special

from .. import _validate as V
from .base import TIME_MAX, TIME_MIN, IIDLaw, StragglerModel


@dataclass(frozen=True, repr=False, eq=False)
class Empirical(IIDLaw):
    """i.i.d. draws from a finite list of observed times (e.g. a trace pooled over workers).

    A step CDF: exact order-statistic moments are finite sums, evaluation uses Monte Carlo.
    """

    values: np.ndarray = field(default_factory=lambda: np.ones(1))
    source: str = ""
    exact = False

    def __post_init__(self):
        v = np.sort(np.asarray(self.values, dtype=float).ravel())
        if v.size == 0 or not np.all(v > 0) or np.isnan(v).any():
            raise V.InputError("values must be a non-empty list of times > 0")
        _check_range("values", v)
        object.__setattr__(self, "values", v)
        object.__setattr__(self, "full_prob", float(np.mean(np.isinf(v))))

    def cdf(self, t):
        return np.searchsorted(self.values, np.asarray(t, dtype=float), side="right") / self.values.size

    def sf(self, t):
        return 1.0 - self.cdf(t)

    def ppf(self, q):
        idx = np.ceil(np.asarray(q, dtype=float) * self.values.size).astype(int) - 1
        return self.values[np.clip(idx, 0, self.values.size - 1)]

    def isf(self, q):
        return self.ppf(1.0 - np.asarray(q, dtype=float))

    @property
    def lower(self) -> float:
        return float(self.values[0])

    def _sample(self, rng, iterations, workers):
        return rng.choice(self.values, size=(iterations, workers), replace=True)

    def _moment(self, workers, h):
        support = np.unique(self.values)
        with np.errstate(divide="ignore"):
            hv = h(support)
        k = np.arange(1, workers + 1, dtype=float)[:, None]
        # P(T_(k) ≤ v) = I_{F(v)}(k, N-k+1); differences give the point masses of T_(k).
        cdf_k = special.betainc(k, workers - k + 1, self.cdf(support)[None, :])
        mass = np.diff(np.concatenate([np.zeros((workers, 1)), cdf_k], axis=1), axis=1)
        with np.errstate(invalid="ignore"):
            out = np.where(mass > 0, mass * hv[None, :], 0.0).sum(axis=1)
        return out

    def order_stat_mean(self, workers: int) -> np.ndarray:
        return self._moment(V.integer("workers", workers, minimum=1), lambda v: v)

    def order_stat_inv_mean(self, workers: int) -> np.ndarray:
        return self._moment(V.integer("workers", workers, minimum=1), lambda v: 1.0 / v)

    @property
    def spec(self) -> str:
        return f"empirical:{_source_text(self.source)}" if self.source else f"empirical({self.values.size} values)"


@dataclass(frozen=True, repr=False, eq=False)
class Trace(StragglerModel):
    """Any joint law given as samples: one row per iteration, one column per worker.

    ``sample`` bootstraps whole rows, so correlations between workers in one iteration are kept.
    """

    samples: np.ndarray = field(default_factory=lambda: np.ones((1, 1)))
    source: str = ""

    def __post_init__(self):
        s = np.asarray(self.samples, dtype=float)
        if s.ndim != 2 or s.size == 0:
            raise V.InputError("trace samples must be a 2-D array: one row per iteration, one column per worker")
        if np.isnan(s).any() or (s <= 0).any():
            raise V.InputError("trace times must be numbers > 0 (inf marks a full straggler)")
        _check_range("trace times", s)
        object.__setattr__(self, "samples", s)
        object.__setattr__(self, "workers", s.shape[1])
        object.__setattr__(self, "full_prob", float(np.mean(np.isinf(s))))

    def _sample(self, rng, iterations, workers):
        return self.samples[rng.integers(0, self.samples.shape[0], size=iterations)]

    def pooled(self) -> Empirical:
        """The i.i.d. law of one worker's time, pooling every worker and iteration."""
        return Empirical(self.samples.ravel(), source=self.source)

    @property
    def spec(self) -> str:
        return f"trace:{_source_text(self.source)}" if self.source else f"trace({self.samples.shape[0]}x{self.workers})"


def _source_text(source: str) -> str:
    """The parameter of the text form: ``name=NAME`` for a shipped trace (its source), else ``path=FILE``."""
    return source if source.startswith("name=") else f"path={source}"


def read_trace(path) -> np.ndarray:
    """Read a CSV trace: one row per iteration, one column per worker, times > 0 (``inf`` allowed).

    Lines starting with ``#`` are comments; a UTF-8 byte-order mark is skipped; a first line of
    names only (no cell empty or a number, e.g. ``w0,w1,w2``) is a header and skipped. Anything else
    that is not a time in [TIME_MIN, TIME_MAX] or ``inf`` is an error naming the file and its place.
    """
    if isinstance(path, str) and not path.strip():
        raise V.InputError("trace path is empty: expected the name of a CSV file")
    path = Path(path)
    shown = path.name if path.name.isprintable() else repr(path.name)  # keeps the message one line
    if not path.is_file():
        raise V.InputError(f"trace path {str(path)!r} is not a readable file")
    rows = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = True  # the first line of data may instead be a header of names (w0,w1,...)
            for row in reader:
                if header and _is_header(row):
                    header = False
                    continue
                vals = _trace_row(row, f"trace {shown}", reader.line_num)
                if vals is None:
                    continue
                header = False
                if rows and len(vals) != len(rows[0]):
                    raise V.InputError(
                        f"trace {shown}: line {reader.line_num} has {len(vals)} columns, "
                        f"expected {len(rows[0])} (one per worker)"
                    )
                rows.append(vals)
    except UnicodeDecodeError:
        raise V.InputError(f"trace {shown} is not a text CSV file (it is not UTF-8 text)") from None
    except csv.Error as exc:  # e.g. a cell over csv's field size limit
        raise V.InputError(f"trace {shown}: line {reader.line_num}: not a CSV line of times ({exc})") from None
    except OSError as exc:
        raise V.InputError(f"trace path {str(path)!r} cannot be read: {exc.strerror or exc}") from None
    if not rows:
        raise V.InputError(f"trace {shown} holds no rows of times")
    return np.array(rows)


def _is_header(row: list[str]) -> bool:
    """A header row: every cell a name, none of them empty or a number (``w0``, ``worker 1``)."""
    if not row or row[0].lstrip().startswith("#") or any("\x00" in cell for cell in row):
        return False
    for cell in row:
        text = cell.strip()
        if not text:
            return False
        try:
            float(text)
            return False
        except ValueError:
            pass
    return True


def _trace_row(row: list[str], where: str, line: int) -> list[float] | None:
    """The times of one CSV row; None for a blank or comment line."""
    if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
        return None
    if any("\x00" in cell for cell in row):
        raise V.InputError(f"{where} is not a text CSV file (NUL byte on line {line})")
    return [_time_cell(cell, f"{where}: line {line}, column {col}") for col, cell in enumerate(row, start=1)]


def _time_cell(cell: str, where: str) -> float:
    text = cell.strip()
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not (v > 0):
        hint = "" if v == v else " (only the first line may be a header, of names only; comment lines start with #)"
        raise V.InputError(f"{where}: time must be a number > 0, got {text!r}{hint}")
    # only a spelled-out inf is a full straggler: 1e999 overflowing to inf is a wrong number
    spelled_inf = text.lstrip("+").lower() in ("inf", "infinity")
    if (math.isinf(v) and not spelled_inf) or (math.isfinite(v) and not TIME_MIN <= v <= TIME_MAX):
        raise V.InputError(
            f"{where}: time must be a number in [{TIME_MIN:g}, {TIME_MAX:g}] or inf (a full straggler), got {text!r}"
        )
    return v


def _check_range(what: str, values: np.ndarray) -> None:
    """Finite times outside [TIME_MIN, TIME_MAX] overflow 1/T or T² downstream."""
    finite = values[np.isfinite(values)]
    if finite.size and (finite.min() < TIME_MIN or finite.max() > TIME_MAX):
        raise V.InputError(
            f"{what} must lie in [{TIME_MIN:g}, {TIME_MAX:g}] (inf marks a full straggler), "
            f"got {finite.min():g} .. {finite.max():g}"
        )


def _fit_data(data) -> np.ndarray:
    """Observed times (array or :class:`Trace`) as a flat array of finite times > 0."""
    if isinstance(data, Trace):
        data = data.samples
    d = np.asarray(data, dtype=float).ravel()
    d = d[np.isfinite(d)]  # full stragglers carry no information on the speed of the others
    if d.size < 2 or np.any(d <= 0):
        raise V.InputError("data to fit must hold at least 2 finite times > 0")
    if np.unique(d).size < 2:  # a constant: no density (the shifted exponential's rate would be 1/0)
        raise V.InputError(f"data to fit must hold at least 2 distinct times, got {d.size} times all {d[0]:g}")
    return d
