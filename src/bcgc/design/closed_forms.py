"""The closed forms A4 (``jensen``), A5 (``inverse``) and A7 (``large-deadline``).

All three minimise max_s w_s c_s over the allowed designs with w_s > 0 non-increasing in s, which
equalising every term solves (``_equalize``; docs/algorithms.md, "The closed forms are one min-max
problem"): A4 takes w_s = E[T_(N-s)], A5 w_s = 1 / E[1/T_(N-s)], A7 w_s = 1/(s+1).
"""

from __future__ import annotations

import numpy as np

from .common import _equalize, _order_moments, _Problem


def _m_jensen(p: _Problem):
    """A4: minimise max_s E[T_(N-s)] y_s / L (a lower bound of E[τ] by Jensen); equalise terms."""
    mean = _order_moments(p.model, p.workers, None if p.model.iid else p.td)
    return _equalize(p.levels, mean[p.levels], p.workers), {"nit": 0, "moments": "exact" if p.model.iid else "sampled"}


def _m_inverse(p: _Problem):
    """A5: y_s proportional to E[1/T_(N-s)] (levels where it diverges stay empty)."""
    inv = _order_moments(p.model, p.workers, None if p.model.iid else p.td, inverse=True)
    b = inv[p.levels]
    with np.errstate(divide="ignore"):
        z = _equalize(p.levels, np.where(np.isfinite(b) & (b > 0), 1.0 / b, np.inf), p.workers)
    return z, {"nit": 0, "empty_divergent_levels": [int(s) for s in p.levels[~np.isfinite(b)]]}


def _m_large_deadline(p: _Problem):
    """A7: for a large deadline, 1 - P(τ ≤ t) is dominated by the block with the smallest tail
    exponent (s+1)/c_s (exponential-type tails); maximise the smallest: c_s ∝ s + 1, so that
    x_s = θ/(s+1) for every free level past the first (docs/algorithms.md, "A7: the large-deadline
    solution, derived")."""
    return _equalize(p.levels, 1.0 / (p.levels + 1.0), p.workers), {"nit": 0}
