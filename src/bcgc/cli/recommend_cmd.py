"""``bcgc recommend``: for a law (or a trace) and a network, the fastest exact scheme and its parameters.

It runs ``compare`` under the links (BCGC by the communication-aware design, every peer tuned under
the same links, common draws) and ranks the schemes that compute the exact gradient; the oracle
(a bound, not a scheme) and ignore-stragglers (an inexact gradient) are shown apart, never chosen.
"""

from __future__ import annotations

import math

from .. import _validate as V
from .. import report
from .._args import UsageError, whole
from ..peers import compare
from .options import link_args, link_options, output, workers_and_model

#: rows that are never recommended: a bound and an inexact scheme
NOT_SCHEMES = ("oracle", "ignore_stragglers")


def register(sub):
    r = sub.add_parser("recommend", help="the fastest exact scheme for a law (or trace) and a network")
    workers_and_model(r)
    r.add_argument(
        "--coords",
        "-L",
        required=True,
        type=whole("--coords", 1),
        help="number of coordinates L (>= 1): the size of a gradient message",
    )
    link_options(r)
    r.add_argument(
        "--samples",
        type=whole("--samples", 2, V.MAX_SAMPLES),
        default=20_000,
        help="common Monte Carlo draws on which every scheme is tuned and evaluated",
    )
    r.add_argument(
        "--no-mm",
        action="store_true",
        help="leave out bcgc_mm (its design search takes seconds at N = 20, minutes at N = 256)",
    )
    output(r)


def ranking(rows):
    """The exact schemes, fastest first (ties by name), and the rows set apart."""
    exact = [r for r in rows if r.name not in NOT_SCHEMES and r.exact_gradient]
    exact.sort(key=lambda r: (r.expected_runtime, r.name))
    return exact, [r for r in rows if r not in exact]


def _tied(best, other) -> bool:
    """Within two standard errors of the difference (either may be exact: stderr 0)."""
    se = math.hypot(best.expected_runtime_stderr or 0.0, other.expected_runtime_stderr or 0.0)
    return other.expected_runtime - best.expected_runtime <= 2.0 * se


def run_recommend(a):
    if a.model.full_prob > 0:  # every E[τ] is infinite: there is nothing to rank by
        raise UsageError(
            "recommend ranks schemes by E[τ], which is infinite with full stragglers (full=P): "
            "use bcgc compare --deadline t to rank them by P(τ ≤ t)"
        )
    rows = compare(a.model, a.workers, a.coords, samples=a.samples, seed=a.seed, mm=not a.no_mm, **link_args(a))
    ranked, apart = ranking(rows)
    best = ranked[0]
    if a.json:
        return report.as_json(
            {
                "workers": a.workers,
                "coords": a.coords,
                "model": a.model.spec,
                "links": rows[0].links.as_dict() if rows[0].links else link_args(a),
                "recommended": _entry(best, best),
                "ranking": [_entry(r, best) for r in ranked],
                "not_ranked": [_entry(r, best) for r in apart],
            }
        )
    net = "free communication" if rows[0].links is None else rows[0].links.describe()
    out = [
        f"N={a.workers}  L={a.coords}  model={a.model.spec}  links: {net}",
        f"fastest exact scheme: {best.name} {_params(best)}",
        f"  E[τ] = {report._fmt(best.expected_runtime, best.expected_runtime_stderr)}  upload "
        f"{best.upload_per_worker} values, {report._fmt(best.upload_time, digits=4)} per worker per iteration",
    ]
    if len(ranked) > 1:
        second = ranked[1]
        gap = 100.0 * (second.expected_runtime / best.expected_runtime - 1.0)
        out.append(
            f"  runner-up: {second.name} {_params(second)}  +{gap:.2f}%"
            + ("  (within Monte Carlo error: a tie)" if _tied(best, second) else "")
        )
    out.append("ranking (E[τ], unit of T):")
    out += [
        f"  {i + 1:>2}. {r.name:<16} {report._fmt(r.expected_runtime, r.expected_runtime_stderr):>18}  {_params(r)}"
        for i, r in enumerate(ranked)
    ]
    out += [
        f"  not ranked: {r.name} {report._fmt(r.expected_runtime, r.expected_runtime_stderr)}"
        f" ({'a lower bound' if r.name == 'oracle' else 'inexact gradient'})"
        for r in apart
    ]
    return "\n".join(out)


def _params(r) -> str:
    shown = {k: v for k, v in r.parameters.items() if k != "blocks"}
    if "blocks" in r.parameters and r.name == "bcgc":
        shown["blocks"] = ",".join(str(int(v)) for v in r.parameters["blocks"])
    return "(" + ", ".join(f"{k}={v}" for k, v in shown.items()) + ")" if shown else ""


def _entry(r, best) -> dict:
    return {
        "name": r.name,
        "expected_runtime": r.expected_runtime,
        "expected_runtime_stderr": r.expected_runtime_stderr,
        "evaluation": r.evaluation.method,
        "upload_per_worker": r.upload_per_worker,
        "upload_time": r.upload_time,
        "parameters": r.parameters,
        "exact_gradient": r.exact_gradient,
        "vs_best": r.expected_runtime / best.expected_runtime if best.expected_runtime else None,
    }


COMMANDS = {"recommend": run_recommend}
