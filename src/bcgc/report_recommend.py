"""What ``bcgc recommend`` shows: the ranking of the exact schemes as a table and as JSON (the
builders of :mod:`bcgc.report` for everything else)."""

from __future__ import annotations

from .report import _fmt, _links_fields, as_json

__all__ = ["recommend_json", "render_recommend"]


def _scheme_params(r) -> str:
    shown = {k: v for k, v in r.parameters.items() if k != "blocks"}
    if "blocks" in r.parameters and r.name == "bcgc":
        shown["blocks"] = ",".join(str(int(v)) for v in r.parameters["blocks"])
    return "(" + ", ".join(f"{k}={v}" for k, v in shown.items()) + ")" if shown else ""


def _recommend_entry(r, best) -> dict:
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


def recommend_json(rec) -> dict:
    """``bcgc recommend --json``: a :class:`bcgc.recommend.Recommendation` of compared rows."""
    best, i = rec.best, rec.best.inputs
    return as_json(
        {
            "workers": i.workers,
            "coords": i.coords,
            "model": i.model.spec,
            "links": _links_fields(best.links),
            "recommended": _recommend_entry(best, best),
            "ranking": [_recommend_entry(r, best) for r in rec.ranking],
            "not_ranked": [_recommend_entry(r, best) for r in rec.not_ranked],
        }
    )


def _busy(row) -> str:
    t = row.upload_time  # λ per message + values / B, in the unit of T
    return (
        ""
        if t is None
        else f", its link busy {_fmt(t, digits=4)} (unit of T) per iteration (λ per message + values / B)"
    )


def render_recommend(rec) -> str:
    """The text of ``bcgc recommend``: the fastest exact scheme, the runner-up and the ranking."""
    best, i = rec.best, rec.best.inputs
    net = "free communication" if best.links is None else best.links.describe()
    out = [
        f"N={i.workers}  L={i.coords}  model={i.model.spec}  links: {net}",
        f"fastest exact scheme: {best.name} {_scheme_params(best)}",
        f"  E[τ] = {_fmt(best.expected_runtime, best.expected_runtime_stderr)} (unit of T)  upload "
        f"{best.upload_per_worker} values (coordinates of the gradient) per worker per iteration" + _busy(best),
    ]
    if rec.runner_up is not None:
        out.append(
            f"  runner-up: {rec.runner_up.name} {_scheme_params(rec.runner_up)}  +{rec.gap_percent:.2f}%"
            + ("  (within Monte Carlo error: a tie)" if rec.tied else "")
        )
    out.append("ranking (E[τ], unit of T):")
    out += [
        f"  {k + 1:>2}. {r.name:<16} {_fmt(r.expected_runtime, r.expected_runtime_stderr):>18}  {_scheme_params(r)}"
        for k, r in enumerate(rec.ranking)
    ]
    out += [
        f"  not ranked: {r.name} {_fmt(r.expected_runtime, r.expected_runtime_stderr)}"
        f" ({'a lower bound' if r.name == 'oracle' else 'inexact gradient'})"
        for r in rec.not_ranked
    ]
    return "\n".join(out)


# ---------------------------------------------------------------------------- simulate
