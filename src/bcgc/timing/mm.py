"""bcgc_mm, the frontier scheme: BCGC blocks whose messages may be split, one design space that holds
classic BCGC and UC-MMC both (docs/model.md, "The frontier scheme bcgc_mm").

A design is a sequence of blocks processed in order by every worker. Block b has x_b coordinates, a
redundancy r_b (cyclic placement: worker n holds subsets n, n+1, .., n+r_b−1 mod N for the block's
coordinates and computes them in that order, each costing x_b / L units of work) and a mode:

* ``coded`` — one message of x_b values, the level-(r_b−1) gradient code of the block, sent once the
  worker has computed its r_b subsets; decoded from the first N − r_b + 1 arrivals (BCGC's block);
* ``multi`` — r_b uncoded messages of x_b values, the partial derivatives of subset n+j sent as soon
  as it is computed (position j); subset k is in once any of its holders' message has arrived,
  D_b = max_k min_{j<r_b} A_{(k−j) mod N}(b, j) (UC-MMC's rule, block by block);
* ``layered`` — r_b coded messages of x_b values: after its j-th subset worker n sends the block's
  level-j code of its subsets n..n+j (cyclic codes are nested windows); the master decodes the
  block from whichever level completes first, D_b = min_{j<r_b} (N−j)-th smallest over n of
  A_n(b, j) (every level j is a gradient code on its own: exact).

Worker n's work before message (b, j) is W(b, j) = P_b + (j+1)·x_b/L with P_b = Σ_{b'<b} r_{b'} x_{b'}/L
(coded: j = r_b−1); its ready time is a_n + b_n·W (``bcgc.timing.general.ready_at``), its arrival the
upload recursion of ``bcgc.timing.links``; τ = max_b D_b. BCGC's x is the coded blocks at r = s+1 in level
order (formula (2)); UC-MMC with r is one multi block of L coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate as V
from ._cache import frozen_cached, remembered
from .general import order_decode, ready_at
from .links import FREE, Links, arrivals
from .orderstat import descending
from .ucmmc import chunked_minima

__all__ = ["MODES", "MMBlock", "MMDesign", "from_bcgc", "ucmmc", "decode_times", "runtime_samples"]

#: message modes of a block (module docstring)
MODES = ("coded", "multi", "layered")


@dataclass(frozen=True)
class MMBlock:
    """One block: ``coords`` coordinates (> 0; a fraction while a design is searched), its
    redundancy r (1..N) and its mode (``MODES``). r = 1 is the uncoded block, always ``coded``."""

    coords: float
    redundancy: int
    mode: str = "coded"

    @property
    def messages(self) -> int:
        """Messages per worker for this block: 1 (coded) or r (multi, layered)."""
        return 1 if self.mode == "coded" else self.redundancy


@dataclass(frozen=True)
class MMDesign:
    """A bcgc_mm design: N workers and its blocks in processing order (see the module docstring)."""

    workers: int
    blocks: tuple

    def __post_init__(self):
        workers = V.workers(self.workers)
        if not self.blocks:
            raise V.InputError("blocks must hold at least one block")
        for i, blk in enumerate(self.blocks):
            if blk.mode not in MODES:
                raise V.InputError(f"blocks[{i}].mode must be one of {', '.join(MODES)}, got {blk.mode!r}")
            V.integer(f"blocks[{i}].redundancy", blk.redundancy, minimum=1, maximum=workers)
            if blk.redundancy == 1 and blk.mode != "coded":
                raise V.InputError(f"blocks[{i}]: redundancy 1 is the uncoded block, mode 'coded', got {blk.mode!r}")
            if not (np.isfinite(blk.coords) and blk.coords > 0):
                raise V.InputError(f"blocks[{i}].coords must be a number > 0, got {blk.coords!r}")
        object.__setattr__(self, "blocks", tuple(self.blocks))

    @property
    def coords(self) -> float:
        """L = Σ_b x_b."""
        return float(sum(b.coords for b in self.blocks))

    @property
    def upload_per_worker(self) -> float:
        """Values each worker sends per iteration: Σ_b (messages of b) · x_b."""
        return float(sum(b.messages * b.coords for b in self.blocks))

    @property
    def messages_per_worker(self) -> int:
        return int(sum(b.messages for b in self.blocks))

    def layout(self):
        """Every worker's messages in the order sent: (work W, size, block index, position j), each (M,).
        Computed once per design (the runtime's decoder asks on every arrival); read-only arrays."""
        return frozen_cached(self, "_layout", self._build_layout)

    def _build_layout(self):
        L = self.coords
        work, size, block, position = [], [], [], []
        done = 0.0
        for i, blk in enumerate(self.blocks):
            z = blk.coords / L
            js = [blk.redundancy - 1] if blk.mode == "coded" else range(blk.redundancy)
            for j in js:
                work.append(done + (j + 1.0) * z)
                size.append(float(blk.coords))
                block.append(i)
                position.append(j)
            done += blk.redundancy * z
        return (np.array(work), np.array(size), np.array(block, dtype=np.int64), np.array(position, dtype=np.int64))

    def describe(self) -> str:
        return ", ".join(f"{b.coords:g}@r{b.redundancy}:{b.mode}" for b in self.blocks)

    def as_dict(self) -> dict:
        return {
            "workers": self.workers,
            "blocks": [{"coords": b.coords, "redundancy": b.redundancy, "mode": b.mode} for b in self.blocks],
        }


def from_bcgc(x) -> MMDesign:
    """BCGC's block vector x as a bcgc_mm design: block s coded at r = s + 1, in level order."""
    x = np.asarray(x)
    return MMDesign(x.size, tuple(MMBlock(float(x[s]), int(s) + 1, "coded") for s in np.flatnonzero(x > 0)))


def ucmmc(workers: int, coords: float, r: int) -> MMDesign:
    """UC-MMC with r as a bcgc_mm design: one multi block of all L coordinates."""
    return MMDesign(workers, (MMBlock(float(coords), int(r), "coded" if r == 1 else "multi"),))


def decode_times(design: MMDesign, arrival) -> np.ndarray:
    """D_b per block from the message arrivals ``arrival`` (K, N, M) (``MMDesign.layout`` order),
    shape (K, #blocks): the decode rule of each mode (module docstring)."""
    arrival = np.asarray(arrival, dtype=float)
    N = design.workers
    _, _, block, position = design.layout()
    out = np.empty((arrival.shape[0], len(design.blocks)))
    for i, blk in enumerate(design.blocks):
        cols = np.flatnonzero(block == i)
        if blk.mode == "coded":
            out[:, i] = order_decode(arrival[:, :, cols[:1]], [N - blk.redundancy + 1])[:, 0]
        elif blk.mode == "multi":
            best = np.full(arrival.shape[:2], np.inf)
            for m in cols:  # worker k−j sends subset k at position j
                np.minimum(best, np.roll(arrival[:, :, m], position[m], axis=1), out=best)
            out[:, i] = best.max(axis=1)
        else:
            out[:, i] = order_decode(arrival[:, :, cols], N - position[cols]).min(axis=1)  # level j: N − j
    return out


def message_arrivals(design: MMDesign, fixed, rate, net: Links = FREE) -> np.ndarray:
    """Arrival of every message at the master, (K, N, M): ready at a_n + b_n·W, then the links."""
    work, size, _, _ = design.layout()
    return arrivals(ready_at(fixed, rate, work), size, net)


def runtime_samples(design: MMDesign, fixed, rate, net: Links = FREE, sorted_rate=None, cache=None) -> np.ndarray:
    """τ = max_b D_b per realisation, shape (K,). ``fixed``, ``rate``: (K, N) (a = 0, b = T without
    a fixed cost). Free links take :func:`free_runtime_samples` (the same numbers, no (K, N, M) array);
    ``sorted_rate``: b sorted descending per draw, if at hand (used there when a = 0); ``cache``: see
    there."""
    if net.free:
        return free_runtime_samples(design, fixed, rate, sorted_rate, cache)
    return decode_times(design, message_arrivals(design, fixed, rate, net)).max(axis=1)


def free_runtime_samples(design: MMDesign, fixed, rate, sorted_rate=None, cache: dict | None = None) -> np.ndarray:
    """τ under free links, block by block (A = R = a + b·W): with a = 0 a coded block is decoded at
    W · T_(N−r+1) and a layered one at min_j W_j · T_(N−j) (b·W keeps the workers' order, so its k-th
    smallest is W times b's: the same floats as sorting b·W); a multi block is
    ``bcgc.timing.ucmmc.holder_minima`` on row chunks that stay in the cache. With a fixed cost the
    order statistics are taken of a + b·W (``np.partition``). ``cache``: a dict the caller keeps for
    these draws only; a multi block's D, keyed by its r and works W, is kept there (a design search
    re-times the same block at the same place many times)."""
    rate = np.atleast_2d(np.asarray(rate, dtype=float))
    K, N = rate.shape
    a = None if fixed is None or not np.any(fixed) else np.atleast_2d(np.asarray(fixed, dtype=float))
    work, _, block, position = design.layout()
    kinds = {blk.mode for blk in design.blocks}
    if a is None and kinds != {"multi"}:
        rate_desc = descending(rate) if sorted_rate is None else sorted_rate
    out = np.full(K, -np.inf)
    for i, blk in enumerate(design.blocks):
        cols = np.flatnonzero(block == i)
        W, j = work[cols], position[cols]
        if blk.mode == "multi":
            d = _multi(rate, a, W, cache)
        elif a is None:
            d = (rate_desc[:, j] * W).min(axis=1)  # coded: the one position j = r − 1
        else:
            d = np.min([np.partition(a + rate * w, N - 1 - m, axis=1)[:, N - 1 - m] for w, m in zip(W, j)], axis=0)
        np.maximum(out, d, out=out)
    return out


#: multi-block times a search's cache holds (oldest dropped first): K floats each
CACHE_BLOCKS = 256


def _multi(rate, a, W, cache=None):
    """D of a multi block whose position j is ready at a + b·W_j: max_k min_j over the holders."""

    def build():
        out = _multi_times(rate, a, W)
        out.setflags(write=False)  # kept in the cache, shared by every design that has the block
        return out

    return remembered(cache, W.tobytes(), CACHE_BLOCKS, build)


def _multi_times(rate, a, W):
    def pass_for(rows):
        b = rate[rows]
        return (lambda j: b * W[j]) if a is None else (lambda j, f=a[rows]: f + b * W[j])

    return chunked_minima(pass_for, *rate.shape, [W.size])[:, 0]
