"""The order in which a worker computes its gradient, and the work W_n(s) it has done when block s is
ready (docs/model.md, "The backprop work order"). The one place these formulas live.

* ``paper`` (coordinate-major, the default): block s is computed over its s + 1 subsets, every
  coordinate at the same cost: W_n(s) = Σ_{j≤s} z_j w_n(j), z = x / L, w_n(j) the data worker n holds
  for level j in units of a subset (``bcgc.timing.general.cyclic_shares``; j + 1 for equal subsets).
* ``backprop`` (subset-major, a neural network): θ's coordinates start with the block of the highest
  level and descend, so the high levels are the output-side tensors. Subset j (j = 0..s_max) costs a
  forward pass φ plus a backward pass down to the deepest block of level ≥ j, i.e. over the first
  C_j = Σ_{i≥j} z_i of θ; block s is complete after subset s:

      W_n(s) = Σ_{j≤s} u_n(j) · [φ + B(C_j)],     u_n(j) = w_n(j) − w_n(j−1),

  B(t) the backward cost of θ's first fraction t (piecewise linear over the tensors; uniform:
  B(t) = (1 − φ) t). Units: one full-subset gradient = φ + B(1) = 1.

Single-level designs have the same W under both orders; only multi-level designs differ.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from .._validate import InputError

__all__ = ["WorkOrder", "KINDS", "PAPER", "as_order"]

#: the work orders: coordinate-major (the paper's) and subset-major (a network's backward pass)
KINDS = ("paper", "backprop")


#: what ``bcgc profile`` records beside the costs, for the reader: the design ignores them
_INFORMATIONAL = {"unit", "batch_rows", "device", "threads", "repeats", "note"}


@dataclass(frozen=True)
class WorkOrder:
    """How a worker orders its work (module docstring). ``forward``: φ ∈ [0, 1), the forward share of
    one full-subset gradient; ``tensor_sizes``/``tensor_costs``: the backward profile, output side
    first, costs normalised to sum to 1 − φ; None: uniform over the coordinates."""

    kind: str = "paper"
    forward: float = 0.0
    tensor_sizes: tuple | None = None
    tensor_costs: tuple | None = None
    names: tuple | None = None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def paper(cls) -> WorkOrder:
        """The paper's coordinate-major order (today's model)."""
        return cls()

    @classmethod
    def backprop(cls, forward: float = 0.0, tensor_sizes=None, tensor_costs=None, names=None) -> WorkOrder:
        """The subset-major order with forward share φ = ``forward`` ∈ [0, 1) and an optional backward
        profile: ``tensor_sizes`` (coordinates per tensor, output side first) and ``tensor_costs`` (relative
        backward costs, rescaled to sum to 1 − φ; None with sizes: proportional to the sizes)."""
        phi = _number("forward", forward, "a number in [0, 1)")
        if not 0.0 <= phi < 1.0:
            raise InputError(f"forward must be a number in [0, 1) (the forward share of a gradient), got {forward!r}")
        if tensor_sizes is None:
            if tensor_costs is not None:
                raise InputError("tensor_costs need tensor_sizes (coordinates per tensor, output side first)")
            return cls("backprop", phi)
        sizes = _numbers("tensor_sizes", tensor_sizes, "positive integers", positive=True)
        if any(v != int(v) for v in sizes):
            raise InputError(f"tensor_sizes must be positive integers, got {tensor_sizes!r}")
        costs = sizes if tensor_costs is None else _numbers("tensor_costs", tensor_costs, "numbers >= 0")
        if len(costs) != len(sizes):
            raise InputError(f"tensor_costs must have one entry per tensor ({len(sizes)}), got {len(costs)}")
        if sum(costs) <= 0:
            raise InputError("tensor_costs must have a positive sum (the backward pass costs something)")
        if names is not None and (len(names) != len(sizes) or not all(isinstance(v, str) for v in names)):
            raise InputError(f"names must be {len(sizes)} strings (one per tensor), got {names!r}")
        scale = (1.0 - phi) / sum(costs)
        return cls(
            "backprop",
            phi,
            tuple(int(v) for v in sizes),
            tuple(c * scale for c in costs),
            None if names is None else tuple(names),
        )

    @classmethod
    def from_costs(cls, doc) -> WorkOrder:
        """The backprop order of a cost document: a dict, or the path of a JSON file, with
        ``forward`` (seconds per subset), ``backward`` (seconds per tensor, output side first), ``sizes``
        (coordinates per tensor), optional ``names`` and ``version`` (1). Seconds are normalised to
        the unit: φ = forward / (forward + Σ backward)."""
        if not isinstance(doc, dict):
            doc = _read_json(doc)
        if doc.get("version", 1) != 1:
            raise InputError(f"cost document: version must be 1, got {doc.get('version')!r}")
        for key in ("forward", "backward", "sizes"):
            if key not in doc:
                raise InputError(f"cost document: key {key!r} is missing (forward, backward, sizes are required)")
        unknown = sorted(set(doc) - {"forward", "backward", "sizes", "names", "version"} - _INFORMATIONAL)
        if unknown:
            raise InputError(
                f"cost document: unknown keys {unknown}; allowed: forward, backward, sizes, names, version "
                f"(and, as information only, {', '.join(sorted(_INFORMATIONAL))})"
            )
        forward = _number("forward", doc["forward"], "seconds >= 0 per subset")
        backward = _numbers("backward", doc["backward"], "seconds >= 0 per tensor")
        if forward < 0:
            raise InputError(f"forward must be seconds >= 0 per subset, got {doc['forward']!r}")
        if sum(backward) <= 0:
            raise InputError("backward must be seconds >= 0 per tensor with a positive sum")
        phi = forward / (forward + sum(backward))
        return cls.backprop(phi, doc["sizes"], backward, doc.get("names"))

    # ------------------------------------------------------------------ description
    @property
    def is_paper(self) -> bool:
        return self.kind == "paper"

    def describe(self) -> str:
        if self.is_paper:
            return "paper order (coordinate-major)"
        profile = "uniform backward" if self.tensor_sizes is None else f"{len(self.tensor_sizes)} tensors"
        return f"backprop order (subset-major, forward share {self.forward:g}, {profile})"

    def as_dict(self) -> dict:
        out = {"kind": self.kind, "forward": self.forward}
        if self.tensor_sizes is not None:
            out.update(tensor_sizes=list(self.tensor_sizes), tensor_costs=list(self.tensor_costs))
            if self.names is not None:
                out["names"] = list(self.names)
        return out

    @classmethod
    def from_dict(cls, d: dict | None) -> WorkOrder:
        """The order :meth:`as_dict` wrote (None: the paper's)."""
        if d is None or d.get("kind", "paper") == "paper":
            return cls.paper()
        if d.get("kind") != "backprop":
            raise InputError(f"work_order kind must be one of {', '.join(KINDS)}, got {d.get('kind')!r}")
        return cls.backprop(d.get("forward", 0.0), d.get("tensor_sizes"), d.get("tensor_costs"), d.get("names"))

    # ------------------------------------------------------------------ the formulas
    def remaining(self, t) -> np.ndarray:
        """Backward cost of θ beyond its first fraction t: (1 − φ) − B(t); exactly 0 at t = 1."""
        t = np.asarray(t, dtype=float)
        if self.tensor_sizes is None:
            return (1.0 - self.forward) * (1.0 - t)
        edges, tail = self._profile()
        return np.interp(t, edges, tail)

    def density(self, t) -> np.ndarray:
        """dB/dt at θ's fraction t (the segment starting at t; the last one at t = 1)."""
        t = np.asarray(t, dtype=float)
        if self.tensor_sizes is None:
            return np.full(t.shape, 1.0 - self.forward)
        edges = self._profile()[0]
        sizes = np.asarray(self.tensor_sizes, dtype=float)
        dens = np.asarray(self.tensor_costs) / (sizes / sizes.sum())
        return dens[np.clip(np.searchsorted(edges, t, side="right") - 1, 0, sizes.size - 1)]

    def _profile(self):
        sizes = np.asarray(self.tensor_sizes, dtype=float)
        edges = np.concatenate([[0.0], np.cumsum(sizes) / sizes.sum()])
        edges[-1] = 1.0
        tail = np.concatenate([np.cumsum(np.asarray(self.tensor_costs)[::-1])[::-1], [0.0]])
        return edges, tail

    def _per_subset(self, z):
        """p_j = φ + B(C_j) for the subsets a worker computes (C_j > 0), 0 for the others."""
        tail = np.cumsum(z[::-1])[::-1]  # C_j = Σ_{i≥j} z_i, exactly 1 where every block lies above
        active = np.cumsum((z > 0)[::-1])[::-1] > 0
        return np.where(active, 1.0 - self.remaining(np.minimum(tail, 1.0)), 0.0), tail, active

    def work(self, x, shares) -> np.ndarray:
        """W_n(s) for every level s, shape (N, S); ``shares`` w (N, N) (units of a full subset)."""
        x = np.asarray(x, dtype=float)
        w = np.asarray(shares, dtype=float)
        z = x / x.sum()
        if self.is_paper:
            return np.cumsum(w * z, axis=1)
        p = self._per_subset(z)[0]
        # Abel summation of Σ_{j≤s} (w_j − w_{j−1}) p_j: exactly w_s · p_s when p is constant (one level)
        step = w * (p - np.append(p[1:], 0.0))
        before = np.concatenate([np.zeros((w.shape[0], 1)), np.cumsum(step, axis=1)[:, :-1]], axis=1)
        return w * p + before

    def gradient(self, x, shares) -> np.ndarray:
        """∂W_n(s)/∂z_i, shape (N, S, S) (z = x / L; a one-sided derivative at tensor boundaries)."""
        x = np.asarray(x, dtype=float)
        w = np.asarray(shares, dtype=float)
        n = w.shape[0]
        i, s = np.arange(n)[None, :], np.arange(n)[:, None]
        if self.is_paper:
            return w[:, None, :] * (i <= s)[None, :, :]
        _, tail, active = self._per_subset(x / x.sum())
        u = np.diff(w, axis=1, prepend=0.0)
        q = np.cumsum(u * np.where(active, self.density(np.minimum(tail, 1.0)), 0.0), axis=1)
        return q[:, np.minimum(i, s)]


#: the default order
PAPER = WorkOrder()


def as_order(order) -> WorkOrder:
    """``order`` as a :class:`WorkOrder` (None: the paper's); anything else is refused."""
    if order is None:
        return PAPER
    if not isinstance(order, WorkOrder):
        raise InputError(f"work_order must be a bcgc.timing.work.WorkOrder or None, got {order!r}")
    return order


def _number(name, value, allowed) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{name} must be {allowed}, got {value!r}")
    if not math.isfinite(float(value)):
        raise InputError(f"{name} must be {allowed}, got {value!r}")
    return float(value)


def _numbers(name, values, allowed, positive=False) -> list:
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__len__") or len(values) == 0:
        raise InputError(f"{name} must be a non-empty list of {allowed}, got {values!r}")
    out = [_number(name, v, allowed) for v in values]
    if any(v < 0 or (positive and v == 0) for v in out):
        raise InputError(f"{name} must be a non-empty list of {allowed}, got {values!r}")
    return out


def _read_json(path) -> dict:
    try:
        with open(path) as fh:
            doc = json.load(fh)
    except OSError as exc:
        raise InputError(f"costs: cannot read the cost document {path!r}: {exc.strerror}") from None
    except (ValueError, TypeError) as exc:  # UnicodeDecodeError too
        raise InputError(f"costs: {path!r} is not a JSON cost document: {' '.join(str(exc).split())[:200]}") from None
    except RecursionError:
        raise InputError(f"costs: {path!r} is nested too deeply to be a cost document") from None
    if not isinstance(doc, dict):
        raise InputError(f"costs: {path!r} must hold a JSON object with forward, backward, sizes")
    return doc
