"""``bcgc train --adapt K``: learn the stragglers during the run and re-design (docs/runtime.md, adapt).

The run starts from the design for ``--model`` when given, else for the PRIOR law (an i.i.d.
shifted exponential with shift 1 and rate 1: a moderate spread, coefficient of variation 1/2, a
law fitted to nothing; its design spreads the coordinates over many levels, so every worker
delivers several blocks and its fixed cost and rate are identified from the first iterations).

Each iteration the master hands the adapter its observations (``observe``). Per worker and
iteration the adapter keeps T̂_n = a_n + b_n, the time for one unit of work (one full subset):
from the fitted line when it is identified; from a single block t at work W with a_n set to the
worker's median fixed cost in the window (0 if none), T̂ = a + (t − a) / W; and for a worker
cancelled before work W' at time c, the bound T_n > c / max(W', 1) (valid for any a_n ≥ 0),
raised to the worker's median T̂ in the window when that is larger. Every K iterations the law is
refitted as the trace of the window's rows (the last ``window`` iterations: a joint law that keeps
persistent per-worker differences, ``bcgc.stragglers.Trace``) and the policy designs for it by
the design procedure of every command (``bcgc.design.procedure``): uncoded, one level or optimal,
chosen by cross-validation over the window's rows (a window of ~10 rows is what over-fits), with
unequal subsets only where the window shows persistent differences between workers.

The new design is applied when the predicted gain outweighs the cost of moving data:
(E[τ_old] − E[τ_new]) · H > S / B and E[τ_new] < (1 − min_gain) · E[τ_old], both expectations on
the same draws of the fitted law (``bcgc.analysis.evaluate``), H = min(window, iterations left),
S the bytes of the subsets some worker must newly hold (a worker keeps what it has: a design
needing fewer subsets ships nothing), B the shipping bandwidth: ``bandwidth`` bytes/s until a
shipment is measured, then the last measured one.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from .. import streams
from .._validate import InputError
from ..schemes.blocks import BlockScheme
from ..stragglers import Trace, parse_model
from ..timing import runtime
from .engine import Death
from .holdings import sizes_list

__all__ = ["AdaptConfig", "Adapter", "PRIOR", "adapt_step"]

#: the law the first design assumes when --adapt runs without --model (see the module doc)
PRIOR = "shifted-exponential:shift=1,rate=1"


@dataclass(frozen=True)
class AdaptConfig:
    """``every``: refit every K iterations; ``window``: iterations the fit looks back on;
    ``bandwidth``: bytes/s assumed for shipping data until one shipment is measured;
    ``min_gain``: the relative gain below which a re-design is not worth its noise."""

    every: int = 5
    window: int = 20
    bandwidth: float = 1e8
    min_gain: float = 0.03
    samples: int = 4000

    def __post_init__(self):
        for name, low in (("every", 1), ("window", 2), ("samples", 10)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise InputError(f"adapt {name} must be an integer >= {low}, got {v!r}")
        if not 0 < self.bandwidth < float("inf"):
            raise InputError(f"adapt bandwidth must be a number of bytes per second > 0, got {self.bandwidth!r}")
        if not 0 <= self.min_gain < 1:
            raise InputError(f"adapt min_gain must be a fraction in [0, 1), got {self.min_gain!r}")

    @staticmethod
    def prior():
        return parse_model(PRIOR)


class Adapter:
    """The sliding window of per-worker measurements and the re-design decision."""

    def __init__(self, config: AdaptConfig, workers: int, seed: int = 0):
        self.config, self.N, self.seed = config, workers, seed
        self.rows: deque = deque(maxlen=config.window)  # (T̂, lower bound, a) per iteration, seconds
        self.bandwidth = config.bandwidth
        self.law = None  # the last refitted law (seconds), once there is one

    def record(self, obs, a, b, dead=()) -> None:
        """One iteration's observations and per-worker fitted (a, b) (NaN: not identified)."""
        est, low = a + b, np.zeros(self.N)
        fixed = self._window_fixed()
        o = np.asarray(obs, dtype=float).reshape(-1, 4)
        for n in np.flatnonzero(np.isnan(est)):
            done, cens = o[(o[:, 0] == n) & (o[:, 3] == 0)], o[(o[:, 0] == n) & (o[:, 3] == 1)]
            if len(done):
                W, t = done[-1, 1], done[-1, 2]
                f = min(fixed[n], t) if np.isfinite(fixed[n]) else 0.0
                est[n] = f + (t - f) / W
            if len(cens):
                low[n] = cens[-1, 2] / max(cens[-1, 1], 1.0)
        est[list(dead)] = np.inf
        self.rows.append((est, low, np.asarray(a, dtype=float)))

    def _window_fixed(self) -> np.ndarray:
        if not self.rows:
            return np.full(self.N, np.nan)
        A = np.array([r[2] for r in self.rows])
        with np.errstate(all="ignore"):
            return np.array([np.median(c[np.isfinite(c)]) if np.isfinite(c).any() else np.nan for c in A.T])

    def due(self, iteration: int) -> bool:
        return (iteration + 1) % self.config.every == 0 and len(self.rows) >= 2

    def fitted_law(self):
        """The trace of the window's T̂ rows, censored entries imputed (module doc), in seconds.
        Hook: a design that takes fixed costs would get FixedCost laws of the window's (a, b)."""
        est = np.array([r[0] for r in self.rows])
        low = np.array([r[1] for r in self.rows])
        with np.errstate(all="ignore"):
            typical = np.array([np.median(c[np.isfinite(c)]) if np.isfinite(c).any() else 0.0 for c in est.T])
        rows = np.where(np.isnan(est), np.maximum(low, typical[None, :]), est)
        rows = np.where(np.isnan(est), rows, np.maximum(rows, low))
        return Trace(np.maximum(rows, 1e-9))

    def decide(self, law, old, new, missing_bytes: int, horizon: int) -> dict:
        """Predicted E[τ] of both designs ((blocks, subset sizes or None) each) on the same draws of
        ``law`` (common random numbers, ``bcgc.timing.runtime``), the shipping cost,
        the verdict (module doc). Seconds throughout."""
        a, b = law.sample_parts(self.config.samples, self.N, streams.rng(self.seed, streams.EVALUATION))
        ev = [float(np.mean(runtime(x, b, a, d))) for x, d in (old, new)]
        gain = (ev[0] - ev[1]) * horizon
        cost = missing_bytes / self.bandwidth
        apply = bool(gain > cost and ev[1] < (1 - self.config.min_gain) * ev[0])
        return {
            "predicted_seconds_old": ev[0],
            "predicted_seconds_new": ev[1],
            "horizon": horizon,
            "predicted_gain_seconds": gain,
            "shipping_bytes": int(missing_bytes),
            "shipping_seconds_estimate": cost,
            "bandwidth": self.bandwidth,
            "applied": apply,
        }

    def measured_shipment(self, nbytes: int, seconds: float) -> None:
        if nbytes > 0 and seconds > 0:
            self.bandwidth = nbytes / seconds


def adapt_step(master, iteration: int) -> dict:
    """Refit, re-design the blocks and the data allocation, decide, ship what changed and log it all
    (event ``adapt``): the data a worker must newly hold are the subsets of the new placement whose
    rows it does not hold yet (:class:`.holdings.Holdings`)."""
    ad, data = master.adapter, master.data
    t0 = time.perf_counter()
    law = ad.fitted_law()
    old = (master.scheme.blocks, data.sizes)
    # the design procedure of every command: cross-validated on the window's rows, unequal subsets
    # only for differences the window shows to persist (bcgc.design.procedure)
    blocks, sizes, procedure = master.policy.planned(law, master.N, master.scheme.coords, dead=len(master.dead))
    scheme = BlockScheme(blocks, master.N, kind=master.code_kind, seed=master.seed, subset_sizes=sizes)
    new = (scheme.blocks, scheme.subset_sizes)
    planned = master.iterations_planned or iteration + 1 + ad.config.window
    rec = {
        "event": "adapt",
        "scheme": master.name,
        "iteration": iteration,
        "window": len(ad.rows),
        "old_blocks": old[0].tolist(),
        "new_blocks": new[0].tolist(),
        "old_subset_sizes": sizes_list(old[1]),
        "new_subset_sizes": sizes_list(new[1]),
        **_procedure_fields(procedure),
    }
    ad.law = master.model = law  # re-designs after deaths assume it too
    if np.array_equal(new[0], old[0]) and sizes_list(new[1]) == sizes_list(old[1]):
        rec.update(applied=False, reason="same design")
    else:
        missing = data.missing(scheme, new[1], master.dead)
        nbytes = sum(data.nbytes(k, new[1]) for ks in missing.values() for k in ks)
        rec.update(ad.decide(law, old, new, nbytes, min(ad.config.window, planned - iteration - 1)))
        rec["shipped_subsets"] = {str(w): ks for w, ks in missing.items() if ks} if rec["applied"] else {}
    if rec.get("applied"):
        master._set_design(*new)
        shipped, seconds, found_dead = master._ship()
        ad.measured_shipment(shipped, seconds)
        rec["shipping_seconds"] = seconds
        master.result.redesigns += 1
        for w in found_dead:
            master._on_death(Death(w, "load failed"), iteration)
    else:
        master._set_patience()  # the patience follows the refitted law
    rec["seconds"] = time.perf_counter() - t0
    master._emit(rec)
    return rec


def _procedure_fields(procedure) -> dict:
    """How the refit's design was chosen (``bcgc.design.procedure.Procedure``), for the log."""
    if procedure is None:  # a peer's re-design (gc, uncoded)
        return {}
    p = procedure.persistence
    cv = procedure.cross_validation
    return {
        "procedure": procedure.label,
        "cross_validation": None if cv is None else cv.as_json(),
        "workers_differ": None if p is None else {"p_value": p["p_value"], "differ": p["differ"]},
    }
