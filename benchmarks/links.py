"""Communication-aware design against the communication-oblivious one (issue 10.3). One command:

    python benchmarks/links.py [N] [L]

For B from ∞ down to L/10 per unit of T and λ ∈ {0, 0.05}: E[τ] under the links of the oblivious
design (today's, evaluated under the links) and of the aware design, both on the same evaluation
draws, and the margin (oblivious − aware) / oblivious with its standard error. Shifted exponential
shift 1, rate 1.
"""

from __future__ import annotations

import math
import sys
import time

from bcgc.design import design
from bcgc.stragglers import ShiftedExponential


def main(workers: int = 10, coords: int = 1000):
    law = ShiftedExponential(1.0, 1.0)
    print(f"N={workers}  L={coords}  T ~ shifted-exponential:shift=1,rate=1  (E[τ] in the unit of T)")
    print(
        f"{'B/L':>6} {'λ':>5} {'oblivious E[τ]':>15} {'aware E[τ]':>12} {'margin %':>14} {'kept':>9} {'sent':>5} {'s':>6}"
    )
    for latency in (0.0, 0.05):
        for factor in (math.inf, 100, 30, 10, 3, 1, 0.3, 0.1):
            if math.isinf(factor) and latency > 0:
                factor = 1e300  # λ > 0 with unlimited bandwidth (inf with λ = 0 is free communication)
            t0 = time.perf_counter()
            r = design(law, workers, coords, seed=0, eval_samples=20_000, bandwidth=factor * coords, latency=latency)
            d = r.diagnostics.get("links")
            if d is None:  # free communication: today's design, exact
                print(
                    f"{'inf':>6} {latency:>5g} {r.expected_runtime:>15.5g} {r.expected_runtime:>12.5g} "
                    f"{'0 (same)':>14} {'-':>9} {int((r.blocks > 0).sum()):>5} {time.perf_counter() - t0:>6.1f}"
                )
                continue
            shown = "inf" if factor >= 1e300 else f"{factor:g}"
            print(
                f"{shown:>6} {latency:>5g} {d['oblivious_expected_runtime']:>15.5g} {r.expected_runtime:>12.5g} "
                f"{d['margin_percent']:>7.2f} ± {d['margin_stderr_percent']:<4.2f} {d['kept']:>9} "
                f"{int((r.blocks > 0).sum()):>5} {time.perf_counter() - t0:>6.1f}"
            )


if __name__ == "__main__":
    main(*(int(v) for v in sys.argv[1:3]))
