"""The design document: the JSON object ``bcgc design --json`` prints, read back (docs/traces.md,
"A design is a document").

A design made once (on one law, one trace, one machine) is then evaluated, compared, simulated and
trained elsewhere with ``--design FILE``. :func:`load_design` checks everything a user of the blocks
relies on — N, L, x_s ≥ 0 with Σ_s x_s = L (equation (2), docs/model.md) and, when present, the
subset sizes d_0..d_{N-1} (fractions ≥ 0 summing to 1; absent or null = equal subsets 1/N) and the
work order (``work_order``, ``bcgc.timing.work.WorkOrder.as_dict``; absent or null = the paper's,
docs/model.md "The backprop work order") — and says what is wrong, naming the file and the key.
Other keys of the document are kept as they are.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import _validate as V
from ..stragglers import parse_model
from ..timing.links import FREE, Links
from ..timing.links import links as make_links
from ..timing.work import WorkOrder

__all__ = ["DesignDocument", "load_design", "REQUIRED_KEYS"]

#: keys every design document must hold (``bcgc design --json`` writes them all)
REQUIRED_KEYS = ("workers", "coords", "blocks", "model")

#: subset sizes summing to 1 within this are a partition of the data (they are rounded fractions)
SUBSET_SUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class DesignDocument:
    """A design read from its JSON document. ``subset_sizes`` is None for equal subsets (1/N each);
    ``model`` is the text of the law the design was made for; ``work_order`` the order it was made
    for (None: the paper's); ``raw`` holds the whole document."""

    path: str
    workers: int
    coords: int
    blocks: np.ndarray
    model: str
    subset_sizes: np.ndarray | None = None
    objective: str | None = None
    deadline: float | None = None
    method: str | None = None
    raw: dict = field(default_factory=dict, repr=False)
    work_order: WorkOrder | None = None
    #: the upload links the design was made for (``bcgc.timing.links.Links``; free when absent)
    links: Links = FREE

    def law(self):
        """The law the design was made for, parsed from ``model`` (a trace path is read relative to
        the current folder, as on the command line)."""
        return parse_model(self.model)

    def check_workers(self, workers: int, option: str = "--workers") -> None:
        if workers != self.workers:
            raise V.InputError(
                f"{option} {workers} does not match the design document {self.path!r}, made for {self.workers} workers"
            )

    def check_coords(self, coords: int | None, what: str = "--coords") -> int:
        """The document's L, after checking that ``coords`` (when given) agrees with it."""
        if coords is not None and coords != self.coords:
            raise V.InputError(
                f"{what} is {coords}, but the design document {self.path!r} was made for L = {self.coords} coordinates"
            )
        return self.coords


def load_design(path) -> DesignDocument:
    """Read and check a design document (module doc); ValueError naming the file and the key."""
    shown = str(path)
    p = Path(path)
    if not p.exists():
        raise V.InputError(f"design document {shown!r} does not exist")
    if not p.is_file():
        raise V.InputError(f"design document {shown!r} is not a file")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise V.InputError(f"design document {shown!r} is not text (not UTF-8)") from None
    except json.JSONDecodeError as exc:
        raise V.InputError(
            f"design document {shown!r} is not JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno} (write it with bcgc design ... --json)"
        ) from None
    except OSError as exc:
        raise V.InputError(f"design document {shown!r} cannot be read: {exc.strerror or exc}") from None
    except ValueError:  # an integer of more than 4300 digits: JSON, but past Python's int limit
        raise V.InputError(f"design document {shown!r} holds a number too long to read (over 4300 digits)") from None
    except RecursionError:  # [[[[...]]]]: JSON, but nested deeper than Python's decoder goes
        raise V.InputError(f"design document {shown!r} is nested too deeply to be a design document") from None
    return parse_design(doc, shown)


def parse_design(doc, shown: str = "<document>") -> DesignDocument:
    """Check a design document already read as JSON (a dict); ``shown`` names it in messages."""
    if not isinstance(doc, dict):
        raise V.InputError(f"design document {shown!r} must be a JSON object, got {type(doc).__name__}")
    missing = [k for k in REQUIRED_KEYS if k not in doc]
    if missing:
        raise V.InputError(
            f"design document {shown!r} lacks the key(s) {', '.join(missing)} (required: {', '.join(REQUIRED_KEYS)})"
        )
    where = f"design document {shown!r}"
    workers = _whole(doc["workers"], f"{where}: workers", V.MAX_WORKERS)
    coords = _whole(doc["coords"], f"{where}: coords", V.MAX_COORDS)
    try:
        blocks = V.blocks(doc["blocks"], workers)
    except ValueError as exc:
        raise V.InputError(f"{where}: {exc}") from None
    if int(blocks.sum()) != coords:
        raise V.InputError(f"{where}: blocks sum to {int(blocks.sum())}, but coords is {coords} (Σ_s x_s = L)")
    if not isinstance(doc["model"], str) or not doc["model"].strip():
        raise V.InputError(f"{where}: model must be the text of a law, got {doc['model']!r}")
    deadline = doc.get("deadline")
    return DesignDocument(
        shown,
        workers,
        coords,
        blocks,
        doc["model"],
        _subset_sizes(doc.get("subset_sizes"), workers, where),
        doc.get("objective"),
        deadline if isinstance(deadline, (int, float)) else None,
        doc.get("method"),
        doc,
        _work_order(doc.get("work_order"), where),
        _links(doc.get("links"), where),
    )


def _links(value, where: str) -> Links:
    """The document's links, checked as the options are (``bcgc.timing.links.links``): absent or
    null = free; an object with bandwidth (null = inf), latency (null = 0) and ingress (null = none)."""
    if value is None:
        return FREE
    extra = set(value) - {"bandwidth", "latency", "ingress"} if isinstance(value, dict) else set()
    if not isinstance(value, dict) or extra:
        raise V.InputError(f"{where}: links must be an object with bandwidth, latency and ingress, got {value!r}"[:300])
    bandwidth = value.get("bandwidth")
    try:
        return make_links(
            math.inf if bandwidth is None else bandwidth,
            0.0 if value.get("latency") is None else value["latency"],
            value.get("ingress"),
        )
    except (V.InputError, TypeError) as exc:
        raise V.InputError(f"{where}: links: {exc}"[:300]) from None


def _whole(value, what: str, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= maximum:
        raise V.InputError(f"{what} must be an integer in [1, {maximum}], got {value!r}")
    return int(value)


def _work_order(value, where: str) -> WorkOrder | None:
    """None (the paper's order) or the backprop order the document names."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise V.InputError(f"{where}: work_order must be an object with kind, forward, ..., got {value!r}"[:300])
    try:
        order = WorkOrder.from_dict(value)
    except V.InputError as exc:
        raise V.InputError(f"{where}: work_order: {exc}") from None
    return None if order.is_paper else order


def _subset_sizes(value, workers: int, where: str) -> np.ndarray | None:
    """None (equal subsets) or N fractions ≥ 0 summing to 1."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != workers:
        raise V.InputError(
            f"{where}: subset_sizes must be a list of {workers} fractions (one per subset), got {value!r}"[:300]
        )
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0 for v in value):
        raise V.InputError(f"{where}: subset_sizes must be fractions >= 0, got {value!r}"[:300])
    d = np.asarray(value, dtype=float)
    if abs(d.sum() - 1.0) > SUBSET_SUM_TOLERANCE:
        raise V.InputError(f"{where}: subset_sizes must sum to 1 (fractions of the data), got {d.sum():.9g}")
    return d / d.sum()  # rounded fractions, renormalised: every later check (to 1e-9) then holds
