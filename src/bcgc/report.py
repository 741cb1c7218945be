"""What the command line shows: text tables and JSON objects, built from the result objects.

Every JSON object goes through :func:`as_json` (one converter: numpy types to Python, non-finite
numbers to ``null``, since JSON has no infinity) and the ``*_json`` builders below; every table is a
``render_*`` function. The core never formats, the CLI never computes. Runs (simulate, train,
reproduce) are shown by :mod:`bcgc.report_runs`, ``recommend`` by :mod:`bcgc.report_recommend`.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["json_number", "as_json", "design_json", "scheme_json", "render_design", "evaluation_json"]
__all__ += ["render_evaluation", "compare_json", "render_compare"]


def json_number(v):
    """A float for JSON, or None for missing and non-finite values (JSON has no inf: null, see docs)."""
    return None if v is None or not math.isfinite(v) else float(v)


def as_json(obj):
    """Plain JSON values from numpy scalars/arrays, dicts, lists and floats (inf/nan → null)."""
    if isinstance(obj, dict):
        return {str(k): as_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [as_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        # integers and booleans need no conversion: a placement at N = 1000 has 10⁶ of them
        return obj.tolist() if obj.dtype.kind in "biu" else as_json(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return json_number(float(obj))
    return obj


def _evaluation_fields(ev) -> dict:
    return {
        "expected_runtime": ev.expected_runtime,
        "expected_runtime_stderr": ev.expected_runtime_stderr,
        "completion_probability": ev.completion_probability,
        "completion_probability_stderr": ev.completion_probability_stderr,
        "note": ev.note or None,
    }


def _fmt(v, se=None, digits=5):
    if v is None:
        return "-"
    if not math.isfinite(v):
        return "inf"
    return f"{v:.{digits}g}" + ("" if se is None else f" ± {se:.1g}")


# ---------------------------------------------------------------------------- design / evaluate
#: above this N the code matrices (N × N per level) are left out of the design document
CODES_IN_JSON_MAX_WORKERS = 64


def design_json(r, scheme=None) -> dict:
    """``bcgc design --json``: the design document (blocks, evaluation, inputs, solver report) and,
    with ``scheme``, how to run it anywhere: placement and code matrices (:func:`scheme_json`)."""
    i = r.inputs
    doc = {
        "workers": i.workers,
        "coords": i.coords,
        "model": i.model.spec,
        "objective": i.objective,
        "method": i.method,
        "tolerate": i.tolerate,
        "seed": i.seed,
        "blocks": r.blocks,
        "relaxed": r.relaxed,
        **_evaluation_fields(r.evaluation),
        "deadline": i.deadline,
        "evaluation": r.evaluation.method,
        "solve_seconds": r.solve_seconds,
        "success": r.success,
        "message": r.message,
        "nit": r.nit,
        "diagnostics": r.diagnostics,
        "links": _links_fields(i.links),
    }
    if getattr(r, "subset_sizes", None) is not None:  # absent: equal subsets (docs/model.md, unequal subsets)
        doc["subset_sizes"] = r.subset_sizes
    if getattr(i, "work_order", None) is not None:  # absent: the paper's order (docs/model.md)
        doc["work_order"] = i.work_order.as_dict()
    if getattr(r, "procedure", None) is not None:  # a trace law: how the procedure was chosen (docs/traces.md)
        doc["procedure"] = r.procedure.as_json()
    if scheme is not None:
        doc["scheme"] = scheme_json(scheme)
    return as_json(doc)


def scheme_json(scheme) -> dict:
    """Placement, coordinate ranges and encoding matrices of a BlockScheme, for another framework.

    Worker n stores ``placement[n]``; for block s (coordinates ``ranges[s]``) it sends
    Σ_k B_s[n, k] ∂f_k restricted to those coordinates; the master decodes block s from the first
    N - s messages F as Σ_{n∈F} a_n m_n with aᵀ B_s[F] = 1ᵀ (any solution; bcgc.codes uses least
    squares, or one responder per group for fractional codes)."""
    n = scheme.workers
    levels = {}
    for s in scheme.codes:
        # above the matrices' limit only the kind is written, and the placement: both without
        # building the codes where the construction fixes them (BlockScheme.layout)
        entry = {"range": [scheme.slices[s].start, scheme.slices[s].stop], "kind": scheme.layout(s)[0], "needed": n - s}
        if n <= CODES_IN_JSON_MAX_WORKERS:
            B = np.asarray(scheme.codes[s].B)
            entry["B"] = (
                B.real.tolist() if not np.iscomplexobj(B) else {"real": B.real.tolist(), "imag": B.imag.tolist()}
            )
        levels[str(s)] = entry
    doc = {
        "placement": [scheme.subsets_of(w).tolist() for w in range(n)],
        "levels": levels,
        "decoding": "block s: a with a^T B_s[F] = 1^T over the first N - s responders F; gradient = a^T messages",
    }
    if n > CODES_IN_JSON_MAX_WORKERS:
        doc["note"] = (
            f"code matrices omitted above N = {CODES_IN_JSON_MAX_WORKERS}: rebuild them with "
            "bcgc.codes.make_code(N, s, kind, seed)"
        )
    return doc


def _bar_chart(blocks: np.ndarray, width: int = 40, max_rows: int = 24) -> str:
    """A terminal bar chart of the non-empty blocks (consecutive levels grouped if too many)."""
    nz = np.flatnonzero(blocks)
    groups = np.array_split(nz, min(max_rows, nz.size)) if nz.size else []
    total = blocks.sum()
    rows = [(f"{g[0]}" if g.size == 1 else f"{g[0]}-{g[-1]}", int(blocks[g].sum())) for g in groups]
    top = max(v for _, v in rows)
    lines = []
    for label, v in rows:
        bar = "█" * max(1, round(width * v / top))
        lines.append(f"  s={label:>9} │{bar:<{width}} {v} ({100 * v / total:.1f}%)")
    return "\n".join(lines)


def render_design(r) -> str:
    """The human output of ``bcgc design``: summary lines and a bar chart of the blocks."""
    i = r.inputs
    out = [
        f"BCGC design  N={r.blocks.size}  L={r.blocks.sum()}  model={i.model.spec}",
        f"  objective={i.objective}  method={i.method}  tolerate={i.tolerate}  "
        f"solve={r.solve_seconds:.3g}s  evaluation={r.evaluation.method}",
        f"  expected runtime     {_fmt(r.expected_runtime, r.expected_runtime_stderr)}  (unit of T)",
    ]
    if i.links is not None:
        d = r.diagnostics.get("links", {})
        out.append(
            f"  links: {i.links.describe()}; the communication-oblivious design: "
            f"{_fmt(d.get('oblivious_expected_runtime'))} ({_fmt(d.get('margin_percent'), digits=3)}% slower)"
        )
    if i.deadline is not None:
        out.append(f"  P(τ ≤ {i.deadline:g})         {_fmt(r.completion_probability, r.completion_probability_stderr)}")
    if getattr(i, "work_order", None) is not None:
        out.append(f"  work order: {i.work_order.describe()}")
    if getattr(r, "procedure", None) is not None:
        out.append(f"  procedure: {r.procedure.describe}")
    if not r.success:
        out.append(f"  note: {r.message}")
    if r.evaluation.note:
        out.append(f"  note: {r.evaluation.note}")
    out.append(f"  blocks (coordinates per level s, {np.count_nonzero(r.blocks)} non-empty):")
    out.append(_bar_chart(r.blocks))
    if getattr(r, "subset_sizes", None) is not None:
        out.append(
            "  subset sizes (data fraction of subset k, worker n holds k = n..n+s mod N): "
            + ", ".join(f"{v:.4f}" for v in r.subset_sizes)
        )
    return "\n".join(out)


def evaluation_json(ev, model, blocks) -> dict:
    """``bcgc evaluate --json``."""
    return as_json(
        {
            "workers": len(blocks),
            "coords": int(np.sum(blocks)),
            "model": model.spec,
            "blocks": blocks,
            **_evaluation_fields(ev),
            "deadline": ev.deadline,
            "evaluation": ev.method,
        }
    )


def render_evaluation(ev, model, blocks) -> str:
    out = [
        f"N={len(blocks)}  L={int(np.sum(blocks))}  model={model.spec}  evaluation={ev.method}",
        f"  expected runtime  {_fmt(ev.expected_runtime, ev.expected_runtime_stderr)}",
    ]
    if ev.deadline is not None:
        out.append(f"  P(τ ≤ {ev.deadline:g})      {_fmt(ev.completion_probability, ev.completion_probability_stderr)}")
    if ev.note:
        out.append(f"  note: {ev.note}")
    return "\n".join(out)


# ---------------------------------------------------------------------------- compare
def _peer_json(r) -> dict:
    return {
        "name": r.name,
        **_evaluation_fields(r.evaluation),
        "upload_per_worker": r.upload_per_worker,
        "upload_time": r.upload_time,
        "parameters": r.parameters,
        "tuned_for": r.tuned_for,
        "evaluation": r.evaluation.method,
        "exact_gradient": r.exact_gradient,
    }


def _links_fields(net) -> dict:
    """The network of a result (free communication: bandwidth null = inf, latency 0)."""
    return net.as_dict() if net is not None else {"bandwidth": None, "latency": 0.0, "ingress": None}


def compare_json(rows) -> dict:
    """``bcgc compare --json``: one object per scheme, under the comparison's inputs."""
    i = rows[0].inputs
    return as_json(
        {
            "workers": i.workers,
            "coords": i.coords,
            "model": i.model.spec,
            "deadline": i.deadline,
            "links": _links_fields(rows[0].links),
            "schemes": [_peer_json(r) for r in rows],
        }
    )


_TUNED_TEXT = {"runtime": "E[τ]", "deadline": "P(τ≤t)"}


def render_compare(rows) -> str:
    """The human table of ``bcgc compare``: runtime, ratio to BCGC, P(τ ≤ t) and upload."""
    i = rows[0].inputs
    base = next(r for r in rows if r.name == "bcgc").expected_runtime
    head = (
        f"{'scheme':<18} {'E[τ]':>16} {'vs BCGC':>8} {'P(τ≤t)':>14} {'upload/worker':>14} {'upload time':>11} "
        f"{'tuned for':>9}  parameters"
    )
    net = "free communication" if rows[0].links is None else rows[0].links.describe()
    out = [
        f"N={i.workers}  L={i.coords}  model={i.model.spec}"
        + (f"  deadline={i.deadline:g}" if i.deadline else "")
        + f"  links: {net}",
        head,
        "-" * len(head),
    ]
    for r in rows:
        ratio = r.expected_runtime / base if math.isfinite(base) and math.isfinite(r.expected_runtime) else math.nan
        params = ", ".join(
            f"{k}={v}" if k != "subset_sizes" else f"{k}=" + ",".join(f"{d:.3f}" for d in v)
            for k, v in r.parameters.items()
            if k != "blocks"
        )
        note = "" if r.exact_gradient else "  (inexact gradient)"
        out.append(
            f"{r.name:<18} {_fmt(r.expected_runtime, r.expected_runtime_stderr):>16} "
            f"{'' if math.isnan(ratio) else f'{ratio:.3f}':>8} "
            f"{_fmt(r.completion_probability, r.completion_probability_stderr, 4):>14} "
            f"{'-' if r.upload_per_worker is None else r.upload_per_worker:>14} "
            f"{_fmt(r.upload_time, digits=4):>11} "
            f"{_TUNED_TEXT.get(r.tuned_for, r.tuned_for):>9}  {params}{note}"
        )
    out.append(
        "E[τ] and upload time (λ per message + upload/B, per worker and iteration) in the unit of T; "
        "'±' marks a Monte Carlo standard error, no '±' is exact."
    )
    out += [f"note ({r.name}): {r.evaluation.note}" for r in rows if r.evaluation.note]
    return "\n".join(out)


# ---------------------------------------------------------------------------- recommend
