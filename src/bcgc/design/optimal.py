"""``optimal`` for E[τ]: A3's LP, exact on a short trace's own rows; otherwise compared on common
random numbers with A2 and the closed forms A4, A5, the lowest E[τ] kept (docs/algorithms.md,
"A2, A6, R").

HiGHS releases the GIL, and numpy's sampling and sorting mostly do, so the LP and A2 run in two
more threads while this one computes the closed forms and draws the common samples. Each candidate
is computed exactly as alone (its own seeded stream), so the numbers are those of one after the
other, in about half the time on two cores (N = 1000: benchmarks/scale_results.md).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from .closed_forms import _m_inverse, _m_jensen
from .common import _Problem, trace_rows
from .sample_based import _best_of, _common_draws, _m_saa_lp, _m_subgradient


def optimal_runtime(p: _Problem, options: dict, step):
    """(z, diagnostics) of ``optimal`` for the runtime objective; ``options`` go to the LP;
    ``step(label)`` is called as each stage starts (the progress display)."""
    on_rows = trace_rows(p.model, p.n_samples) is not None
    p.td  # drawn here, once, before two threads read it
    step("saa-lp")
    with ThreadPoolExecutor(max_workers=2) as pool:
        lp = pool.submit(_m_saa_lp, p, **options)
        if on_rows:
            z, diag = lp.result()
            if diag.get("converged", False):  # the exact sample objective: nothing to compare
                return z, {**diag, "exact_on_rows": int(p.td.shape[0])}
        step("subgradient")
        subgradient = pool.submit(_m_subgradient, p)
        step("closed forms")
        jensen, inverse = _m_jensen(p)[0], _safe(_m_inverse, p)
        td = _common_draws(p)
        (z, diag), subgradient = lp.result(), subgradient.result()[0]
    step("the best on common draws")
    candidates = {"saa-lp": z, "subgradient": subgradient, "jensen": jensen, "inverse": inverse}
    z, pick = _best_of(candidates, td)
    return z, {**diag, "candidates": pick}


def _safe(fn, p):
    """The design of ``fn`` or None where its closed form does not exist."""
    try:
        return fn(p)[0]
    except ValueError:
        return None
