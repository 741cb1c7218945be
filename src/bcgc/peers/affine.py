"""The peers under a law with a fixed cost, T_n(w) = a_n + b_n · w (docs/peers.md, "With a fixed
cost"; docs/model.md, "Peers and the oracle with a fixed cost").

Every order-statistic peer (uncoded, classic GC, Tandon's partial variant, Ferdinand & Draper,
ignore-stragglers) keeps its terms, each term coef · T_(N−m) becoming the time by which N − m
workers have done the work coef (:meth:`bcgc.model.OrderStatMax.affine_samples`); BCGC follows the
general model (:mod:`bcgc.timeline`, with its data allocation); UC-MMC's subset k is first ready at
min_{j<r} a_{k−j} + (j+1) b_{k−j}; the oracle is :func:`bcgc.analysis.oracle_affine_samples`. All are
evaluated by Monte Carlo on one set of draws of (a, b) (common random numbers).
"""

from __future__ import annotations

import numpy as np

from .. import streams
from ..analysis import general_runtime, oracle_affine_samples, summarize
from ..model import OrderStatMax

__all__ = ["affine_rows"]


def affine_rows(inputs, bcgc_blocks, subset_sizes) -> list:
    """(name, Evaluation, upload, parameters, exact gradient) of every scheme on common draws of
    (a, b); ``inputs`` is a :class:`bcgc.peers.CompareInputs`."""
    from .. import peers  # peers calls this module; the peers' runtimes are defined there, once

    n, L, deadline = inputs.workers, inputs.coords, inputs.deadline
    a, b = inputs.model.sample_parts(inputs.samples, n, streams.rng(inputs.seed, streams.COMMON_DRAWS))

    def ev(rt):
        return summarize(rt.affine_samples(a, b) if isinstance(rt, OrderStatMax) else rt, deadline)

    def best(matrix):  # tuned for P(τ ≤ t) when a deadline is given, else for E[τ]
        return peers._pick(matrix, deadline, by_probability=deadline is not None)

    gc = np.stack([peers.classic_gc(s).affine_samples(a, b) for s in range(n)], axis=1)
    gc_s = best(gc)
    tandon = np.stack([peers.tandon_partial(s, inputs.alpha).affine_samples(a, b) for s in range(n)], axis=1)
    tandon_s = best(tandon)
    uc = peers.ucmmc_all_r(b, n, fixed=a)
    uc_r = best(uc) + 1
    params = {"blocks": bcgc_blocks.tolist()}
    if subset_sizes is not None:
        params["subset_sizes"] = np.asarray(subset_sizes).tolist()
    rows = [
        ("bcgc", ev(general_runtime(bcgc_blocks, a, b, subset_sizes)), L, params, True),
        ("uncoded", ev(peers.uncoded()), L, {}, True),
        ("gc_best", ev(gc[:, gc_s]), L, {"level": gc_s}, True),
        ("tandon_partial", ev(tandon[:, tandon_s]), L, {"level": tandon_s, "alpha": inputs.alpha}, True),
    ]
    for name, layers in (("ferdinand_r_L", L), ("ferdinand_r_L2", L // 2)):
        if layers >= 1 and L <= layers * n:
            x = peers.ferdinand_blocks(n, L, layers)
            rows.append((name, ev(general_runtime(x, a, b)), L, {"layers": layers, "blocks": x.tolist()}, True))
    rows.append(("ucmmc_best", ev(uc[:, uc_r - 1]), uc_r * L, {"r": uc_r}, True))
    rows.append(("ignore_stragglers", ev(peers.ignore_stragglers(gc_s)), L, {"level": gc_s}, gc_s == 0))
    rows.append(("oracle", ev(oracle_affine_samples(a, b)), None, {}, True))
    return rows
