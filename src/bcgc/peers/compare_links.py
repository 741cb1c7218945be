"""``compare`` under upload links: every peer and BCGC in the link model (docs/peers.md, "Under upload
links"), on one set of common draws, exact where the formula is closed.

Parameters (GC's level, Tandon's level, UC-MMC's r) are tuned under the links on the common draws;
BCGC is the communication-aware design (``design(..., bandwidth=, latency=)``) unless blocks are given.
Exact rows: with per-worker links and no fixed cost, a one-message scheme (uncoded, classic GC,
ignore-stragglers) has τ = τ_free + λ + L/B in every realisation, so E[τ] = E[τ_free] + λ + L/B and
P(τ ≤ t) = P(τ_free ≤ t − λ − L/B), both exact for i.i.d. named laws (Rényi's order-statistic means
for the shifted exponential, docs/algorithms.md).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import _validate as V
from .. import streams
from ..analysis import evaluate, evaluate_runtime, summarize, use_exact
from ..links import Links, block_runtime_samples
from . import CompareInputs, PeerResult, _pick, classic_gc, ferdinand_blocks, ignore_stragglers, uncoded
from .links import (
    block_samples,
    level_candidates,
    one_message_levels,
    oracle_links,
    tandon_blocks,
    ucmmc_links_all_r,
    ucmmc_r_candidates,
    upload_seconds,
)

__all__ = ["compare_links", "common_parts", "evaluate_links"]


def common_parts(model, workers: int, samples: int, seed: int):
    """The common draws (a, b) of a comparison: the stream of ``compare`` (for a law without a fixed
    cost b is exactly compare's T)."""
    return model.sample_parts(samples, workers, streams.rng(seed, streams.COMMON_DRAWS))


def compare_links(
    model,
    workers: int,
    coords: int,
    net: Links,
    deadline=None,
    samples: int = 100_000,
    seed: int = 0,
    bcgc_blocks=None,
    alpha: float = 6.0,
    method: str = "auto",
    mm: bool = False,
) -> list[PeerResult]:
    """Every scheme under the links ``net``: the rows of :func:`bcgc.peers.compare`, each with its
    upload time. Common draws of (a, b); exact rows as in the module docstring."""
    inputs = CompareInputs.checked(model, workers, coords, deadline, samples, seed, alpha, method)
    model, workers = inputs.model, inputs.workers
    exact = use_exact(model, workers, method)
    V.memory(
        f"comparing on {inputs.samples} common draws of {workers} workers under links",
        8.0 * inputs.samples * workers,
        "lower --samples or --workers",
    )
    given = bcgc_blocks is not None
    if not given:
        if inputs.deadline is not None:
            raise V.InputError(
                "a deadline under links is not supported: the deadline design does not model "
                "uploads; drop the deadline, or give the BCGC blocks"
            )
        from ..design import design  # late import: design sits above the peers

        bcgc_blocks = design(
            model,
            workers,
            inputs.coords,
            seed=inputs.seed,
            bandwidth=net.bandwidth,
            latency=net.latency,
            ingress=net.ingress,
        ).blocks
    bcgc_blocks = V.blocks(bcgc_blocks, workers, inputs.coords)
    a, b = common_parts(model, workers, inputs.samples, inputs.seed)
    closed = exact and net.per_worker and not np.any(a)
    rows = []
    for name, tau, upload, messages, params, exact_grad, closed_form in _rows(inputs, net, bcgc_blocks, a, b):
        if closed and closed_form is not None:
            ev = _shifted_exact(inputs, net, closed_form)
        else:
            ev = summarize(tau, inputs.deadline)
        tuned = "given" if name == "bcgc" and given else (inputs.objective if name in _TUNED else "-")
        rows.append(
            PeerResult(name, ev, upload, params, exact_grad, inputs, tuned, upload_seconds(net, upload, messages), net)
        )
    if mm:  # the frontier scheme under the same links (bcgc.peers.mm)
        from .mm import mm_row

        rows += [r for r in [mm_row(inputs, net, bcgc_blocks, a, b)] if r is not None]
    return rows


#: rows whose parameter is tuned under the links (BCGC: by the communication-aware design)
_TUNED = ("bcgc", "gc_best", "tandon_partial", "ucmmc_best")


def _shifted_exact(inputs: CompareInputs, net: Links, runtime):
    """Exact E[τ] and P(τ ≤ t) of a one-message scheme: the free ones shifted by λ + L/B."""
    shift = float(net.message_time(inputs.coords))
    t = inputs.deadline
    free_t = None if t is None or t <= shift else t - shift
    ev = evaluate_runtime(
        inputs.model,
        inputs.workers,
        runtime,
        free_t,
        inputs.method,
        inputs.samples,
        streams.rng(inputs.seed, streams.EVALUATION),
    )
    prob = ev.completion_probability if free_t is not None else (None if t is None else 0.0)
    prob_se = ev.completion_probability_stderr if free_t is not None else None
    return replace(
        ev,
        expected_runtime=ev.expected_runtime + shift,
        deadline=t,
        completion_probability=prob,
        completion_probability_stderr=prob_se,
    )


def _rows(inputs: CompareInputs, net: Links, bcgc_blocks, a, b):
    """(name, τ draws, upload, messages, parameters, exact gradient, closed form or None) per scheme."""
    L, workers, deadline = inputs.coords, inputs.workers, inputs.deadline
    by_p = deadline is not None
    gc = one_message_levels(a, b, L, net, lambda s: s + 1.0)
    gc_s = _pick(gc, deadline, by_p)
    levels = level_candidates(workers)
    tandon = np.stack([block_samples(tandon_blocks(workers, L, s, inputs.alpha), a, b, net) for s in levels], axis=1)
    tandon_i = _pick(tandon, deadline, by_p)
    tandon_s = int(levels[tandon_i])
    tx = tandon_blocks(workers, L, tandon_s, inputs.alpha)
    rs = ucmmc_r_candidates(workers, net)
    uc = ucmmc_links_all_r(a, b, L, net, rs)
    uc_i = _pick(uc, deadline, by_p)
    uc_r = int(rs[uc_i])
    ignore = one_message_levels(a, b, L, net, lambda s: 1.0)[:, gc_s]
    rows = [
        (
            "bcgc",
            block_samples(bcgc_blocks, a, b, net),
            L,
            np.count_nonzero(bcgc_blocks),
            {"blocks": bcgc_blocks.tolist()},
            True,
            None,
        ),
        ("uncoded", gc[:, 0], L, 1, {}, True, uncoded()),
        ("gc_best", gc[:, gc_s], L, 1, {"level": gc_s}, True, classic_gc(gc_s)),
        (
            "tandon_partial",
            tandon[:, tandon_i],
            L,
            np.count_nonzero(tx),
            {"level": tandon_s, "alpha": inputs.alpha},
            True,
            None,
        ),
    ]
    for name, layers in (("ferdinand_r_L", L), ("ferdinand_r_L2", L // 2)):
        if layers >= 1 and L <= layers * workers:
            x = ferdinand_blocks(workers, L, layers)
            rows.append(
                (
                    name,
                    block_samples(x, a, b, net),
                    L,
                    np.count_nonzero(x),
                    {"layers": layers, "blocks": x.tolist()},
                    True,
                    None,
                )
            )
    rows.append(("ucmmc_best", uc[:, uc_i], uc_r * L, uc_r, {"r": uc_r}, True, None))
    rows.append(("ignore_stragglers", ignore, L, 1, {"level": gc_s}, gc_s == 0, ignore_stragglers(gc_s)))
    rows.append(("oracle", oracle_links(a, b, L, net), None, 0, {}, True, None))
    return rows


def evaluate_links(
    model, workers: int, blocks, net: Links, deadline=None, method: str = "auto", samples: int = 200_000, seed: int = 0
):
    """E[τ] and P(τ ≤ deadline) of blocks x under the links: :func:`bcgc.analysis.evaluate` when
    communication is free, else Monte Carlo on the link recursion (the evaluation stream of
    ``design``, so a design and its evaluation agree)."""
    if net.free:
        return evaluate(model, workers, blocks, deadline=deadline, method=method, samples=samples, seed=seed)
    model = V.law(model)
    workers = model.check_workers(workers)
    x = V.blocks(blocks, workers)
    if deadline is not None:
        deadline = V.positive("deadline", deadline)
    samples = V.integer("samples", samples, minimum=2)
    V.memory(
        f"evaluating on {samples} draws of {workers} workers under links",
        3.0 * samples * workers * max(1, np.count_nonzero(x)),
        "lower --samples",
    )
    a, b = model.sample_parts(samples, workers, streams.rng(V.integer("seed", seed, minimum=0), streams.EVALUATION))
    return summarize(block_runtime_samples(x, a, b, net), deadline)
