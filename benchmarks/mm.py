"""bcgc_mm, the frontier scheme (issue 10.4), against BCGC and the best peer. Two commands:

    python benchmarks/mm.py free [MAX_EVALS]
    python benchmarks/mm.py frontier LAW_OR_TRACE [N] [L] [SAMPLES]

``free``: at B = ∞ on a shifted exponential (N = 20: shift 1 rate 1, shift 0.1 rate 1), a Pareto
(N = 20, scale 1 shape 2) and the AWS Lambda trace (256 workers, times divided by their median;
``lambda:K`` keeps its first K columns):
E[τ] of bcgc_mm, of BCGC's design and of UC-MMC's best r, all three on the same 20 000 evaluation
draws (design_mm's evaluation stream), with the upload per worker in units of L.

``frontier``: for B from ∞ down to L/10 per unit of T, ``compare(..., bandwidth=B, mm=True)``: the
best bcgc-family row (bcgc, bcgc_mm) against the best exact peer at each point.
"""

from __future__ import annotations

import math
import sys
import time

from bcgc.design.mm_design import design_mm
from bcgc.experiments.frontier import BANDWIDTH_FACTORS, BCGC_FAMILY, PEERS, _trace_law
from bcgc.peers import compare
from bcgc.stragglers import Pareto, ShiftedExponential, Trace

LAMBDA = "/work/shared/traces/lambda-sydney-b256-load1.000.csv"


def _law(name):
    if name == "se1":
        return ShiftedExponential(1.0, 1.0), 20
    if name == "se01":
        return ShiftedExponential(0.1, 1.0), 20
    if name == "pareto":
        return Pareto(scale=1.0, shape=2.0), 20
    if name.startswith("lambda"):  # "lambda:64": the first 64 workers (columns) of the trace only
        law = _trace_law(LAMBDA)
        if ":" in name:
            law = Trace(law.samples[:, : int(name.split(":")[1])], source=f"{LAMBDA} (first columns)")
        return law, law.workers
    law = _trace_law(name)
    return law, law.workers


def free(max_evals: int = 3000, names=("se1", "se01", "pareto", "lambda")):
    L = 1000
    print(f"B = ∞, L = {L}; E[τ] in the unit of T on the same 20 000 evaluation draws; upload in units of L")
    for name in names:
        law, n = _law(name)
        t0 = time.perf_counter()
        samples = 1000 if n <= 64 else 300
        r = design_mm(
            law, n, L, samples=samples, seed=0, eval_samples=20_000 if n <= 64 else 4_000, max_evals=max_evals
        )
        uc = r.diagnostics["ucmmc_r"]
        ref = r.reference
        print(
            f"{name:>7} N={n}: bcgc_mm {r.expected_runtime:.4f} ± {r.expected_runtime_stderr:.4f} "
            f"(upload {r.upload_per_worker / L:.2f} L, {r.messages_per_worker} msgs) | BCGC {ref['bcgc']:.4f} "
            f"(1 L) | UC-MMC r={uc} {ref['ucmmc']:.4f} ({uc} L) | bcgc_mm vs best "
            f"{100 * (r.expected_runtime / min(ref.values()) - 1):+.2f}% | chosen {r.chosen} from {r.start} | "
            f"{r.design.describe()} | {time.perf_counter() - t0:.0f} s",
            flush=True,
        )


def frontier(name: str, workers=None, coords: int = 1000, samples: int = 20_000):
    law, n = _law(name)
    n = int(workers or n)
    print(f"{name} N={n} L={coords}, {samples} common draws; best bcgc-family vs best exact peer")
    for f in BANDWIDTH_FACTORS:
        t0 = time.perf_counter()
        rows = {r.name: r for r in compare(law, n, coords, samples=samples, seed=0, bandwidth=f * coords, mm=True)}
        fam = min((rows[k] for k in BCGC_FAMILY if k in rows), key=lambda r: r.expected_runtime)
        peer = min((rows[k] for k in PEERS if k in rows), key=lambda r: r.expected_runtime)
        se = math.hypot(fam.expected_runtime_stderr or 0, peer.expected_runtime_stderr or 0)
        mm = rows["bcgc_mm"]
        print(
            f"B/L={f:>5g}: bcgc {rows['bcgc'].expected_runtime:.4f} bcgc_mm {mm.expected_runtime:.4f} "
            f"(upload {mm.upload_per_worker / coords:.2f} L) | best peer {peer.name} "
            f"{ {k: v for k, v in peer.parameters.items() if k != 'blocks'} } {peer.expected_runtime:.4f} | "
            f"family vs peer {100 * (fam.expected_runtime / peer.expected_runtime - 1):+.2f}% "
            f"± {100 * se / peer.expected_runtime:.2f}% | {mm.parameters['design']} | "
            f"{time.perf_counter() - t0:.0f} s",
            flush=True,
        )


if __name__ == "__main__":
    if sys.argv[1] == "free":
        free(*(int(v) for v in sys.argv[2:3]))
    else:
        frontier(sys.argv[2], *(int(v) for v in sys.argv[3:6]))
