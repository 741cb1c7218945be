"""The recommendation: of a comparison's rows (:func:`bcgc.peers.compare`), the fastest scheme that
computes the exact gradient, and why (docs/peers.md, ``bcgc recommend``).

Pure: :func:`recommend` ranks the rows it is given and runs nothing. The oracle (a bound, not a
scheme) and ignore-stragglers (an inexact gradient) are set apart, never chosen; a runner-up within
two standard errors of the difference is a tie.

    rows = bcgc.peers.compare(model, workers, coords, bandwidth=2e4, latency=0.01)
    rec = bcgc.recommend.recommend(rows)
    rec.best.name, rec.reason
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._validate import InputError

__all__ = ["NOT_SCHEMES", "TIE_STDERRS", "Recommendation", "check_law", "recommend"]

#: rows that are never recommended: a bound and an inexact scheme
NOT_SCHEMES = ("oracle", "ignore_stragglers")
#: a runner-up at most this many standard errors of the difference slower is a tie
TIE_STDERRS = 2.0


@dataclass(frozen=True)
class Recommendation:
    """``ranking``: the exact schemes, fastest first (equal E[τ]: by name); ``not_ranked``: the other
    rows, in their order; ``tied``: the runner-up is within Monte Carlo error of the best; ``reason``:
    the choice in one sentence."""

    ranking: tuple
    not_ranked: tuple
    tied: bool
    reason: str

    @property
    def best(self):
        return self.ranking[0]

    @property
    def runner_up(self):
        return self.ranking[1] if len(self.ranking) > 1 else None

    @property
    def gap_percent(self) -> float | None:
        """How much slower the runner-up is than the best, in percent (None: a single exact scheme)."""
        second = self.runner_up
        return None if second is None else 100.0 * (second.expected_runtime / self.best.expected_runtime - 1.0)


def check_law(model) -> None:
    """Refuse, before any work, a law under which nothing can be ranked: with full stragglers every
    E[τ] is infinite."""
    if model.full_prob > 0:
        raise InputError(
            "recommend ranks schemes by E[τ], which is infinite with full stragglers (full=P): "
            "use bcgc compare --deadline t to rank them by P(τ ≤ t)"
        )


def _tied(best, other) -> bool:
    """Within TIE_STDERRS standard errors of the difference (either may be exact: stderr 0)."""
    se = math.hypot(best.expected_runtime_stderr or 0.0, other.expected_runtime_stderr or 0.0)
    return other.expected_runtime - best.expected_runtime <= TIE_STDERRS * se


def recommend(rows) -> Recommendation:
    """Rank compared rows (each with ``name``, ``exact_gradient``, ``expected_runtime`` and
    ``expected_runtime_stderr``, as :class:`bcgc.peers.PeerResult`): the exact schemes by E[τ]."""
    rows = tuple(rows)
    exact = sorted(
        (r for r in rows if r.name not in NOT_SCHEMES and r.exact_gradient), key=lambda r: (r.expected_runtime, r.name)
    )
    if not exact:
        raise InputError(
            f"rows must hold at least one exact scheme (not {' or '.join(NOT_SCHEMES)}), got {[r.name for r in rows]}"
        )
    best = exact[0]
    if not math.isfinite(best.expected_runtime):
        raise InputError(f"rows must have a finite E[τ] to rank by, got {best.expected_runtime} for {best.name}")
    ranked = {id(r) for r in exact}
    apart = tuple(r for r in rows if id(r) not in ranked)
    tied = len(exact) > 1 and _tied(best, exact[1])
    rec = Recommendation(ranking=tuple(exact), not_ranked=apart, tied=tied, reason="")
    return Recommendation(rec.ranking, rec.not_ranked, tied, _reason(rec))


def _reason(rec: Recommendation) -> str:
    best, second, n = rec.best, rec.runner_up, len(rec.ranking)
    if second is None:
        return f"{best.name} is the only exact scheme compared"
    text = (
        f"{best.name} has the smallest E[τ] of the {n} exact schemes; the runner-up {second.name} "
        f"takes {rec.gap_percent:.2f}% longer"
    )
    return text + (", within Monte Carlo error: a tie" if rec.tied else "")
