"""What the workers of a run experience: ``bcgc train --stragglers`` (docs/runtime.md, stragglers).

Three kinds, each giving worker n in iteration k a fixed cost a_n and a rate b_n in the unit of T
(block s of worker n is ready at (a_n + b_n · W_n(s)) · unit, ``bcgc.timing.general``):

* ``law`` (the default): the straggler law's draws, the simulator's stream
  (``streams.iteration_parts``); a law without a fixed cost has a_n = 0, b_n = T_n;
* ``replay:path=F`` (or ``replay:name=NAME``, a shipped trace) — worker n in iteration k takes
  F[k mod rows, n] divided by the trace's median; ``replay:path=F,fixed=P`` splits each time as a fixed cost a = P · t and a rate
  b = (1 − P) · t (a trace of full-subset times split the way a fixed-cost law splits T(1) = a + b);
  a retry (attempt r) of iteration k takes row (k + r) mod rows;
* ``natural`` — no injected delay: the workers' real computation only (a = b = 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate as V
from .. import streams
from ..stragglers import StragglerModel, Trace, as_law, parse_model
from ..stragglers.empirical import read_trace
from ..stragglers.shipped import shipped_path

__all__ = ["Experience", "parse_experience", "decodable_parts"]

KINDS = ("law", "replay", "natural")


@dataclass(frozen=True, eq=False)
class Experience:
    """What the workers experience (see the module doc). Build with :func:`parse_experience`."""

    kind: str
    law: StragglerModel | None = None
    samples: np.ndarray | None = None  # replay: the trace divided by its median
    fixed: float = 0.0  # replay: the fraction of each time that is a fixed cost
    source: str = ""

    @classmethod
    def of_law(cls, law) -> "Experience":
        return cls("law", law=as_law(law))

    @property
    def workers(self) -> int | None:
        if self.kind == "replay":
            return int(self.samples.shape[1])
        return self.law.workers if self.law is not None else None

    def check_workers(self, workers: int) -> int:
        if self.workers is not None and workers != self.workers:
            raise V.InputError(
                f"workers must be {self.workers} for --stragglers {self.spec!r} (it describes "
                f"{self.workers} workers), got {workers}"
            )
        return workers

    @property
    def has_fixed_cost(self) -> bool:
        if self.kind == "replay":
            return self.fixed > 0
        return self.kind == "law" and self.law.has_fixed_cost

    @property
    def spec(self) -> str:
        if self.kind == "law":
            return self.law.spec
        if self.kind == "natural":
            return "natural"
        return f"replay:path={self.source}" + (f",fixed={self.fixed:g}" if self.fixed else "")

    def patience_law(self) -> StragglerModel | None:
        """The law of T(1) = a + b the workers follow (for how long an attempt may take); None when
        nothing is injected."""
        if self.kind == "law":
            return self.law
        if self.kind == "replay":
            return Trace(self.samples)
        return None

    def parts(self, workers: int, seed: int, iteration: int, attempt: int = 0):
        """(a, b) of iteration ``iteration`` (and retry ``attempt``), each of shape (N,), unit of T."""
        if self.kind == "law":
            return streams.iteration_parts(self.law, workers, seed, iteration, attempt)
        if self.kind == "replay":
            t = self.samples[(iteration + attempt) % self.samples.shape[0]].astype(float)
            # a full straggler (inf) with no fixed share: a = 0 (0 · inf would be NaN), b = inf
            return (self.fixed * t if self.fixed > 0 else np.zeros_like(t)), (1.0 - self.fixed) * t
        return np.zeros(workers), np.zeros(workers)


def parse_experience(text) -> Experience:
    """``natural``, ``replay:path=F[,fixed=P]``, or a straggler law's text (or a law object)."""
    if isinstance(text, Experience):
        return text
    if isinstance(text, StragglerModel):
        return Experience.of_law(text)
    if not isinstance(text, str) or not text.strip():
        raise V.InputError(f"stragglers must be natural, replay:path=FILE.csv or a straggler law, got {text!r}")
    name, _, rest = text.strip().partition(":")
    if name.strip().lower() == "natural" and not rest.strip():
        return Experience("natural")
    if name.strip().lower() != "replay":
        return Experience.of_law(parse_model(text))
    params = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip().lower()
        if not eq or key not in ("path", "name", "fixed") or key in params:
            raise V.InputError(
                f"stragglers {text!r}: replay takes path=FILE.csv or name=NAME (a shipped trace) "
                f"and optionally fixed=P (each once), got {item!r}"
            )
        params[key] = value.strip()
    if ("path" in params) == ("name" in params):
        raise V.InputError(
            f"stragglers {text!r}: replay needs path=FILE.csv (one row per iteration, one column "
            "per worker) or name=NAME (a shipped trace), one of them"
        )
    fixed = _fraction(text, params.get("fixed", "0"))
    path = params["path"] if "path" in params else str(shipped_path(params["name"]))
    F = read_trace(path)
    finite = F[np.isfinite(F)]
    if finite.size == 0:
        raise V.InputError(f"stragglers {text!r}: the trace holds no finite time")
    return Experience("replay", samples=F / float(np.median(finite)), fixed=fixed, source=path)


def _fraction(text: str, value: str) -> float:
    try:
        p = float(value)
    except ValueError:
        p = float("nan")
    if not 0 <= p < 1:
        raise V.InputError(f"stragglers {text!r}: fixed must be a fraction in [0, 1), got {value!r}")
    return p


def decodable_parts(
    experience: Experience,
    workers: int,
    seed: int,
    iteration: int,
    runtime,
    dead=(),
    first_attempt: int = 0,
    max_attempts: int = 1000,
):
    """The first (a, b, attempt) of iteration k whose runtime ``runtime(a, b)`` is finite: a draw
    with more full stragglers than the design tolerates is redrawn (``streams.decodable_times``'s
    rule, the simulator's). Dead workers never answer (b = inf)."""
    (a, b), attempt = streams.first_decodable(
        lambda k: experience.parts(workers, seed, iteration, k),
        runtime,
        dead,
        first_attempt,
        max_attempts,
        f"iteration {iteration}: none of {max_attempts} draws can be decoded (too many workers never answer): "
        "the scheme cannot run under these stragglers",
    )
    return a, b, attempt
