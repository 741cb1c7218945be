"""Design of bcgc_mm (docs/algorithms.md, "Designing bcgc_mm"): which coordinates go to which
(redundancy, mode) block, in which order, minimising the sample mean of τ under the links.

Starts: BCGC's design (the LP optimum of the all-coded sub-space; the communication-aware one under
links), UC-MMC's best r and the best single layered block — each a point of the space. From the best
start, a local search on the exact sample objective (``bcgc.timing.mm.runtime_samples`` on draws of (a, b)):
move a fraction δ of the coordinates from one block to another block or to a new (r, mode) block,
or swap two neighbouring blocks; accept improvements, halve δ when a whole pass fails. The search,
the pick among {starts, searched} and the reported evaluation use three independent seeded streams
(design samples, candidates, evaluation), so the reported E[τ] is not biased by the choice.

Not an LP: for coded blocks alone the sample objective is a maximum of terms linear in the block
fractions (A3), but a multi block's time max_k min_j (...) and a layered block's min over levels
are minima of linear functions — concave pieces, so the sample problem is a mixed-integer LP (one
binary per draw, subset and position); hence the local search, started from the LP's optimum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import _validate as V
from .. import streams
from .._rounding import largest_remainder
from ..analysis import Evaluation, summarize
from ..schemes.bcgc_mm import mm_samples
from ..schemes.ucmmc import ucmmc_r_candidates
from ..stragglers import as_law
from ..timing import descending, ucmmc_runtimes
from ..timing.links import Links, links
from ..timing.mm import MMBlock, MMDesign, from_bcgc, ucmmc
from .core import design

__all__ = ["MMDesignResult", "design_mm", "mm_samples"]


@dataclass(frozen=True)
class MMDesignResult:
    """A bcgc_mm design, its evaluation (Monte Carlo on the evaluation stream) and what it came from.
    ``reference``: E[τ] of BCGC's design and of UC-MMC's best r on the same evaluation draws."""

    design: MMDesign
    evaluation: Evaluation
    links: Links
    start: str
    chosen: str
    reference: dict
    diagnostics: dict = field(default_factory=dict)

    expected_runtime = property(lambda self: self.evaluation.expected_runtime)
    expected_runtime_stderr = property(lambda self: self.evaluation.expected_runtime_stderr)
    upload_per_worker = property(lambda self: self.design.upload_per_worker)
    messages_per_worker = property(lambda self: self.design.messages_per_worker)

    @property
    def upload_time(self) -> float:
        """Time one worker's link is busy per iteration: λ per message + upload / B."""
        return self.links.upload_time(self.upload_per_worker, self.messages_per_worker)


def _types(workers: int, extra=()) -> list:
    """(r, mode) pairs the search may open: every r for N ≤ 24, else about 16 r on a geometric grid."""
    rs = np.arange(1, workers + 1) if workers <= 24 else np.geomspace(1, workers, 16)
    rs = sorted(set(np.round(rs).astype(int).tolist()) | {r for r, _ in extra})
    return [(1, "coded")] + [(r, m) for r in rs if r > 1 for m in ("coded", "multi", "layered")]


def _build(workers, state, coords):
    return MMDesign(workers, tuple(MMBlock(z * coords, r, m) for r, m, z in state if z > 0))


def _moves(state, types, delta):
    """Neighbouring states: δ moved between blocks or to a new (r, mode) block (inserted where r
    keeps its order), whole blocks emptied, neighbouring blocks swapped."""
    present = {(r, m) for r, m, _ in state}
    for i, (ri, mi, zi) in enumerate(state):
        for amount in sorted({min(delta, zi), zi}):
            for j, (rj, mj, zj) in enumerate(state):
                if j != i:
                    new = list(state)
                    new[i], new[j] = (ri, mi, zi - amount), (rj, mj, zj + amount)
                    yield [s for s in new if s[2] > 1e-12]
            rest = list(state)
            rest[i] = (ri, mi, zi - amount)
            rest = [s for s in rest if s[2] > 1e-12]
            for r, m in types:
                if (r, m) not in present:
                    at = next((k for k, s in enumerate(rest) if s[0] > r), len(rest))
                    yield rest[:at] + [(r, m, amount)] + rest[at:]
    for i in range(len(state) - 1):
        yield state[:i] + [state[i + 1], state[i]] + state[i + 2 :]


def _search(state, score, types, max_evals: int, min_delta: float):
    """First-improvement local search (module docstring): after a success the next pass resumes at
    the same place in the list of moves, so moves tried and failed are not tried again at once.
    Returns (state, value, evaluations, moves)."""
    best = score(state)
    delta = max(z for _, _, z in state) / 4.0
    evals, moves, offset = 1, 0, 0
    while delta >= min_delta and evals < max_evals:
        cands = list(_moves(state, types, delta))
        improved = False
        for i in range(len(cands)):
            k = (offset + i) % len(cands)
            val = score(cands[k])
            evals += 1
            if val < best - 1e-12 * abs(best):
                state, best, improved, moves, offset = cands[k], val, True, moves + 1, k
                break
            if evals >= max_evals:
                break
        if not improved:
            delta, offset = delta / 2.0, 0
    return state, best, evals, moves


def _integer(design: MMDesign, coords: int) -> MMDesign:
    """Integer coordinates by largest remainders (Σ = L); empty blocks dropped, equal neighbours merged."""
    x = np.array([b.coords for b in design.blocks]) * coords / design.coords
    n = largest_remainder(x, coords)
    out = []
    for blk, c in zip(design.blocks, n):
        if c == 0:
            continue
        if out and (out[-1].redundancy, out[-1].mode) == (blk.redundancy, blk.mode):
            out[-1] = MMBlock(out[-1].coords + float(c), blk.redundancy, blk.mode)
        else:
            out.append(MMBlock(float(c), blk.redundancy, blk.mode))
    return MMDesign(design.workers, tuple(out))


def _sorted(a, b, net):
    """b sorted descending per draw where the free-links timing uses it (a = 0), computed once for
    every evaluation of the search (``bcgc.timing.mm.free_runtime_samples``); else None."""
    return descending(b) if net.free and not np.any(a) else None


def _starts(model, workers, coords, net, a, b, seed, bcgc_blocks, desc=None):
    """The named points of the space the search may start from: BCGC, UC-MMC's best r, layered's best r."""
    if bcgc_blocks is None:
        bcgc_blocks = design(
            model, workers, coords, seed=seed, bandwidth=net.bandwidth, latency=net.latency, ingress=net.ingress
        ).blocks
    rs = ucmmc_r_candidates(workers, net)
    uc_r = int(rs[int(np.argmin(ucmmc_runtimes(a, b, rs, coords, net).mean(axis=0)))])
    layered = {
        r: mm_samples(MMDesign(workers, (MMBlock(float(coords), r, "layered"),)), a, b, net, sorted_rate=desc).mean()
        for r in sorted({t for t, _ in _types(workers)})
        if r > 1
    }
    starts = {"bcgc": from_bcgc(np.asarray(bcgc_blocks)), "ucmmc": ucmmc(workers, coords, uc_r)}
    if layered:
        r = min(layered, key=layered.get)
        starts["layered"] = MMDesign(workers, (MMBlock(float(coords), r, "layered"),))
    return starts, uc_r


def design_mm(
    model,
    workers: int,
    coords: int,
    bandwidth: float = math.inf,
    latency: float = 0.0,
    ingress: float | None = None,
    samples: int = 1000,
    seed: int = 0,
    eval_samples: int | None = None,
    max_evals: int = 2000,
    bcgc_blocks=None,
) -> MMDesignResult:
    """The bcgc_mm design minimising E[τ] under the links (module docstring; docs/model.md).

    ``samples``: draws the search optimises on; ``eval_samples``: independent draws of the reported
    evaluation (default as ``design``); ``max_evals``: sample-objective evaluations of the search;
    ``bcgc_blocks``: BCGC's design to start from (default: ``design(...)`` under the same links).
    """
    model = as_law(model)
    workers, coords = model.check_workers(workers), V.coords(coords)
    if model.full_prob > 0:
        raise V.InputError(
            "with full stragglers every expected runtime is inf: bcgc_mm minimises E[τ] and has nothing to compare"
        )
    net = links(bandwidth, latency, ingress)
    samples = V.integer("samples", samples, minimum=10)
    seed = V.integer("seed", seed, minimum=0)
    max_evals = V.integer("max_evals", max_evals, minimum=1)
    eval_samples = (
        min(200_000, max(2_000, 20_000_000 // workers))
        if eval_samples is None
        else V.integer("eval_samples", eval_samples, minimum=10)
    )
    a, b = model.sample_parts(samples, workers, streams.rng(seed, streams.DESIGN_SAMPLES))
    desc, cache = _sorted(a, b, net), {}  # both for these draws only
    starts, uc_r = _starts(model, workers, coords, net, a, b, seed, bcgc_blocks, desc)
    first = {k: float(mm_samples(d, a, b, net, sorted_rate=desc, cache=cache).mean()) for k, d in starts.items()}
    start = min(first, key=first.get)
    state = [(blk.redundancy, blk.mode, blk.coords / coords) for blk in starts[start].blocks]
    extra = [(blk.redundancy, blk.mode) for d in starts.values() for blk in d.blocks]

    def score(st):
        return float(mm_samples(_build(workers, st, coords), a, b, net, sorted_rate=desc, cache=cache).mean())

    state, _, evals, moves = _search(state, score, _types(workers, extra), max_evals, max(1.0 / coords, 1e-3))
    cands = dict(starts, searched=_integer(_build(workers, state, coords), coords))
    return _finish(
        model,
        workers,
        net,
        cands,
        seed,
        samples,
        eval_samples,
        start,
        {"start_sample_means": first, "evaluations": evals, "moves": moves, "ucmmc_r": uc_r},
    )


def _finish(model, workers, net, cands, seed, samples, eval_samples, start, diag):
    """Pick on the candidates stream, report on the evaluation stream (with BCGC and UC-MMC beside)."""
    a, b = model.sample_parts(max(samples, 5_000), workers, streams.rng(seed, streams.CANDIDATES))
    desc = _sorted(a, b, net)
    picks = {k: float(mm_samples(d, a, b, net, sorted_rate=desc).mean()) for k, d in cands.items()}
    chosen = min(picks, key=picks.get)
    a, b = model.sample_parts(eval_samples, workers, streams.rng(seed, streams.EVALUATION))
    desc = _sorted(a, b, net)
    tau = mm_samples(cands[chosen], a, b, net, sorted_rate=desc)
    ref = {k: summarize(mm_samples(cands[k], a, b, net, sorted_rate=desc)).expected_runtime for k in ("bcgc", "ucmmc")}
    diag.update(candidate_means=picks)
    return MMDesignResult(cands[chosen], summarize(tau), net, start, chosen, ref, diag)
