"""The oracle lower bound on draws (docs/peers.md, "The oracle bound"): every unit of work computed
once, split so that all workers finish together; under links, also the L values the master must
receive."""

from __future__ import annotations

import numpy as np

from .links import Links

__all__ = ["oracle_samples", "oracle_affine_samples", "oracle_links"]


def oracle_samples(T: np.ndarray) -> np.ndarray:
    """The oracle lower bound N / Σ_n 1/T_n per realisation: every unit of work computed once."""
    with np.errstate(divide="ignore"):
        return T.shape[-1] / np.sum(1.0 / T, axis=-1)


def oracle_affine_samples(fixed, rate) -> np.ndarray:
    """The oracle with a fixed cost, per draw: every unit of work computed once, the N units split
    to finish first, t* = min over splits of max_n (a_n + b_n u_n) with Σ u_n = N, u_n ≥ 0. Worker n
    takes part iff a_n < t*, and t* = (N + Σ_P a_n/b_n) / Σ_P 1/b_n over the participants P; taking
    P among the prefixes of the workers sorted by a, t* is the smallest of these values (each
    prefix's value bounds t* from above, the true P reaches it). a = 0 gives N / Σ_n 1/b_n."""
    a, b = np.atleast_2d(np.asarray(fixed, dtype=float)), np.atleast_2d(np.asarray(rate, dtype=float))
    order = np.argsort(a, axis=1, kind="stable")
    a, b = np.take_along_axis(a, order, 1), np.take_along_axis(b, order, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / b
        num = a.shape[1] + np.cumsum(np.where(inv > 0, a * inv, 0.0), axis=1)
        t = num / np.cumsum(inv, axis=1)
    t = np.where(np.isnan(t), np.inf, t)
    return t.min(axis=1)


def oracle_links(a, b, coords: int, net: Links) -> np.ndarray:
    """The oracle under links: max(compute bound, L / (N·B), L / B_m) + λ, shape (K,)."""
    workers = a.shape[1]
    compute = oracle_affine_samples(a, b) if np.any(a) else oracle_samples(b)  # the fixed cost's best split
    bound = np.maximum(compute, coords / (workers * net.bandwidth))
    if net.ingress is not None:
        bound = np.maximum(bound, coords / net.ingress)
    return bound + net.latency
