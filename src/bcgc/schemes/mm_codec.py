"""Exact encoding and decoding of a bcgc_mm design (docs/model.md, "The frontier scheme bcgc_mm").

Coordinates are laid out block after block. Coded and layered blocks use the cyclic gradient codes of
``bcgc.codes`` (kind ``cyclic``: row n of the level-j code is supported on the window n..n+j, so a
worker's first j+1 subsets of a block are exactly its level-j support); multi blocks send plain
partial derivatives. The master applies, per block, the rule that ``bcgc.timing.mm.decode_times`` times:
coded — the first N − r + 1 arrivals; multi — each subset from its earliest-arriving holder;
layered — the level whose (N − j)-th arrival is earliest, from its first N − j arrivals. Ties are
broken by worker index (stable sorts), so the decoder and the runtime name the same messages.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as V
from ..codes import make_code
from ..timing.mm import MMDesign
from .blocks import partial_rows

__all__ = ["MMScheme"]


class MMScheme:
    """Placement, worker messages and decoder of an integer bcgc_mm design."""

    def __init__(self, design: MMDesign, seed: int = 0):
        if not isinstance(design, MMDesign):
            raise V.InputError(f"design must be a bcgc.timing.mm.MMDesign, got {type(design).__name__}")
        for i, blk in enumerate(design.blocks):
            if float(blk.coords) != int(blk.coords):
                raise V.InputError(f"blocks[{i}].coords must be an integer to run the scheme, got {blk.coords!r}")
        self.design = design
        self.workers = design.workers
        self.seed = V.integer("seed", seed, minimum=0)
        sizes = np.array([int(b.coords) for b in design.blocks])
        edges = np.concatenate([[0], np.cumsum(sizes)])
        self.slices = [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]
        self.coords = int(edges[-1])
        _, _, self.block_of, self.position = design.layout()
        self._codes: dict = {}  # level -> code, and the (worker, level) pairs whose support is checked
        self._checked: set = set()

    def code(self, level: int):
        """The cyclic code of a level (identity at 0, replication at N − 1), looked up once per level."""
        code = self._codes.get(level)
        if code is None:
            code = self._codes[level] = make_code(self.workers, int(level), "cyclic", self.seed)
        return code

    def subsets_of(self, worker: int) -> np.ndarray:
        """Subsets worker n stores: n, .., n + max_b r_b − 1 mod N (nested cyclic windows)."""
        r = max(b.redundancy for b in self.design.blocks)
        return np.sort((worker + np.arange(r)) % self.workers)

    def _coded(self, worker, level, coords, partial):
        code = self.code(level)
        support = code.support(worker)
        if (worker, level) not in self._checked:
            window = set(((worker + np.arange(level + 1)) % self.workers).tolist())
            if not set(support.tolist()) <= window:  # never send what the worker has not computed
                raise RuntimeError(f"code of level {level} is not on worker {worker}'s cyclic window")
            self._checked.add((worker, level))
        return code.encode_support(worker, partial_rows(partial, support, coords))

    def worker_messages(self, worker: int, partial) -> list:
        """Worker n's messages in the order sent (``MMDesign.layout``); ``partial(k, coords)`` gives
        ∂f_k on those coordinates. Each message uses the subsets computed before it only."""
        worker = V.integer("worker", worker, minimum=0, maximum=self.workers - 1)
        return [self.worker_message(worker, m, partial) for m in range(self.block_of.size)]

    def worker_message(self, worker: int, m: int, partial) -> np.ndarray:
        """Worker n's message m alone (the runtime computes them one at a time, as it sends them)."""
        b, j = int(self.block_of[m]), int(self.position[m])
        blk = self.design.blocks[b]
        coords = np.arange(self.slices[b].start, self.slices[b].stop)
        if blk.mode == "multi":
            return np.asarray(partial(int((worker + j) % self.workers), coords), dtype=float)
        return self._coded(worker, j, coords, partial)  # coded: j = r − 1; layered: level j after j + 1 subsets

    def decode(self, arrival, messages):
        """The gradient Σ_k ∂f_k (L,) and each block's decode time, from the arrivals (N, M) of one
        iteration and ``messages[n][m]``. Raises ValueError when a block cannot be decoded (inf)."""
        arrival = np.asarray(arrival, dtype=float)
        g = np.empty(self.coords)
        times = np.empty(len(self.design.blocks))
        for b, blk in enumerate(self.design.blocks):
            cols = np.flatnonzero(self.block_of == b)
            if blk.mode == "multi":
                g[self.slices[b]], times[b] = self._decode_multi(arrival, messages, cols)
            else:
                levels = self.position[cols]
                needed = self.workers - levels
                firsts = [np.argsort(arrival[:, m], kind="stable")[:k] for m, k in zip(cols, needed)]
                last = [arrival[f[-1], m] for f, m in zip(firsts, cols)]
                i = int(np.argmin(last))
                if not np.isfinite(last[i]):
                    raise ValueError(f"block {b} cannot be decoded: too few messages arrived")
                a = self.code(levels[i]).decoding_vector(firsts[i])
                g[self.slices[b]] = a @ np.stack([messages[n][cols[i]] for n in firsts[i]])
                times[b] = last[i]
        return g, times

    def _decode_multi(self, arrival, messages, cols):
        N = self.workers
        out, worst = None, -np.inf
        for k in range(N):
            holders = [((k - self.position[m]) % N, m) for m in cols]
            n, m = min(holders, key=lambda h: (arrival[h[0], h[1]], h[0]))
            if not np.isfinite(arrival[n, m]):
                raise ValueError("a multi block cannot be decoded: a subset never arrived")
            worst = max(worst, arrival[n, m])
            out = messages[n][m].copy() if out is None else out + messages[n][m]
        return out, worst
