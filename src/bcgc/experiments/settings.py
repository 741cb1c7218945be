"""How much work each figure of ``bcgc reproduce`` does: :class:`Config`, the ``--quick`` and full
settings, and what a setting reduces against the full run, said in words (docs/figures.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from .frontier import BANDWIDTH_FACTORS

__all__ = ["Config", "QUICK", "FULL", "QUICK_FACTORS", "reductions"]

#: the frontier's bandwidths with ``--quick``: free links and B = L (a gradient's upload takes the median
#: worker time). The points below L are the costliest (bcgc_mm's design search and the link-aware local
#: search each take several times a free point's time), hence only in the full run
QUICK_FACTORS = (math.inf, 1.0)


@dataclass(frozen=True)
class Config:
    """How much work each figure does (the defaults are a base that ``QUICK`` and ``FULL`` adjust)."""

    samples: int = 20_000  # Monte Carlo draws for the peers that need them
    design_samples: int = 1_000  # draws for the sample-average LP
    n_values: tuple = (10, 20, 30, 40, 50)
    rates: tuple = (10**-3.4, 10**-3.2, 10**-3.0, 10**-2.8, 10**-2.6)
    l_values: tuple = (10_000, 20_000, 30_000, 40_000, 50_000)
    base_n: int = 20
    base_l: int = 20_000
    shift: float = 50.0
    rate: float = 1e-3
    prob_levels: tuple = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99)
    prob_n_values: tuple = (10, 20, 30, 40, 50)
    polish: int = 1  # A6 starts refined per deadline
    beyond_n: int = 20
    cost_n_values: tuple = (10, 20, 50, 100)
    subgradient_iterations: int = 3000
    frontier_n: int = 20  # workers of the named-law panel of the frontier
    frontier_coords: int = 1000
    frontier_factors: tuple = BANDWIDTH_FACTORS  # B / L per unit of T, from inf down to 1/10
    trace_panels: bool = True  # frontier panels on the Lambda and PAI traces, where found
    frontier_trace_workers: int | None = 64  # first workers of each trace panel (None: all 256 of Lambda)
    frontier_samples: int | None = 5_000  # common draws per frontier point (None: ``samples``)
    trace_names: tuple | None = None  # shipped traces of the real-traces page (None: every one)
    trace_samples: int = 2_000  # draws of a trace's training rows to tune the peers
    trace_design_samples: int = 200  # draws of the training rows for BCGC's sample-average design


#: ``--quick``: every point of the paper's sweeps and of the probability, beyond and design figures;
#: fewer draws everywhere, the cost figure up to N = 50, the frontier at two bandwidths with its trace
#: panels on their first 64 workers (32 were slower: bcgc_mm's search at B = L took 46 s CPU on 32
#: Lambda workers, 25 s on 64); ``reductions`` says it in words, on the page
QUICK = Config(cost_n_values=(10, 20, 50), frontier_factors=QUICK_FACTORS)
FULL = Config(
    samples=200_000,
    design_samples=4_000,
    polish=4,
    cost_n_values=(10, 20, 50, 100, 200),
    trace_samples=20_000,
    trace_design_samples=1_000,
    frontier_trace_workers=None,
    frontier_samples=None,
)

#: each setting in words, for the page
_WORDS = {
    "samples": "Monte Carlo draws for the peers",
    "design_samples": "draws of the sample-average LP",
    "polish": "A6 starts refined per deadline",
    "cost_n_values": "the cost figure's N",
    "subgradient_iterations": "A2's steps in the cost figure",
    "frontier_factors": "the frontier's B / L",
    "trace_panels": "the frontier's trace panels",
    "frontier_trace_workers": "workers of each frontier trace panel",
    "frontier_samples": "common draws per frontier point",
    "trace_names": "traces of the real-traces page",
    "trace_samples": "draws tuning the peers on a trace",
    "trace_design_samples": "draws of BCGC's design on a trace",
}


def _show(name: str, value) -> str:
    if value is None:
        return {"frontier_trace_workers": "all", "frontier_samples": "as the peers", "trace_names": "all"}.get(
            name, "-"
        )
    if isinstance(value, tuple):
        return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return str(value)


def reductions(cfg: Config, ref: Config = FULL) -> list[str]:
    """Every setting of ``cfg`` that differs from ``ref`` (the full run), e.g. ``the cost figure's N
    10, 20, 50 (full: 10, 20, 50, 100, 200)``; the sweeps' points first, where they differ."""
    out = []
    for f in fields(Config):
        mine, full = getattr(cfg, f.name), getattr(ref, f.name)
        if mine != full:
            out.append(f"{_WORDS.get(f.name, f.name)} {_show(f.name, mine)} (full: {_show(f.name, full)})")
    return out
