"""The block-coded gradient: placement, what each worker sends, how the master decodes (docs/model.md).

Coordinates are laid out block after block (block s = the x_s coordinates of level s, in order
s = 0, 1, ..); each non-empty level has its code (``bcgc.codes``). Worker n holds the union of its
supports over the non-empty levels (nested cyclic placement, docs/model.md, placement; group placement for levels
using fractional repetition), computes block by block the partial derivatives of its subsets, and
sends one coded vector per non-empty block. Under linear progress (docs/model.md, straggler laws) worker n's block-s
message is ready at T_n · y_s / L; the master decodes block s from the FIRST N - s arrivals.
The distributed runtime and the virtual-time simulator both use this one object.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import numpy as np

from .. import _validate as V
from ..codes import MDS_MAX_WORKERS, GradientCode, make_code
from ..codes import layout as codes_layout
from ..timing import general as timeline
from ..timing.general import cyclic_shares, unequal_sizes
from ..timing.orderstat import block_of_coordinates, normalized_load

__all__ = ["BlockScheme", "partial_rows"]


def partial_rows(partial, subsets, coords) -> np.ndarray:
    """The rows ∂f_k over ``coords`` for k in ``subsets`` (in that order), shape (len(subsets),
    len(coords)): ``partial.rows(subsets, coords)`` when the callable has it (a runtime worker's,
    one batched computation per block), else one ``partial(k, coords)`` per subset."""
    rows = getattr(partial, "rows", None)
    if rows is not None:
        return rows(subsets, coords)
    return np.stack([partial(int(k), coords) for k in subsets])


class _Codes(Mapping):
    """level → ``make_code(N, level, kind, seed)`` over the non-empty levels, each built on first
    access (``make_code`` caches it)."""

    def __init__(self, workers, levels, kind, seed):
        self._args, self._levels = (workers, kind, seed), levels

    def __getitem__(self, level):
        if level not in self._levels:
            raise KeyError(level)
        workers, kind, seed = self._args
        return make_code(workers, int(level), kind, seed)

    def __iter__(self):
        return iter(self._levels)

    def __len__(self):
        return len(self._levels)


class BlockScheme:
    """A BCGC scheme for block sizes x (N entries summing to L) and a code kind per level."""

    def __init__(self, blocks, workers: int, kind: str = "auto", seed: int = 0, subset_sizes=None):
        workers = V.integer("workers", workers, minimum=1)
        self.blocks = V.blocks(blocks, workers)
        #: the data allocation d (None: equal subsets); unequal subsets keep cyclic placement
        #: (docs/model.md, "Unequal subsets"), so group placement (fractional codes) is not used
        self.subset_sizes = unequal_sizes(subset_sizes, workers)
        if self.subset_sizes is not None:
            if kind == "fractional":
                raise V.InputError(
                    "kind 'fractional' (group placement) cannot hold unequal subset_sizes: "
                    "use auto, cyclic, gaussian or mds"
                )
            kind = "cyclic" if kind == "auto" else kind
        self.workers = workers
        self.coords = int(self.blocks.sum())
        self.levels = np.flatnonzero(self.blocks)
        self.slices = block_of_coordinates(self.blocks)
        self.loads = normalized_load(self.blocks)  # c_s = y_s / L
        self.kind, self.seed = kind, seed
        #: the code of each non-empty level, built when first used (a large N costs seconds per level)
        self.codes: Mapping[int, GradientCode] = _Codes(workers, [int(s) for s in self.levels], kind, seed)
        self._coord_ranges: dict[int, np.ndarray] = {}
        self._layouts: dict[int, tuple] = {}

    @cached_property
    def shares(self) -> np.ndarray:
        """w_n(j): the data worker n holds for level j, in units of a subset of size 1/N, from the
        codes' supports: N · Σ_{k ∈ support} d_k (j + 1 with equal subsets); (N, N), docs/model.md.
        Computed once (the runtime reads it every iteration)."""
        n = self.workers
        d = np.full(n, 1.0 / n) if self.subset_sizes is None else self.subset_sizes
        w = cyclic_shares(d)
        for s, code in self.codes.items():
            w[:, s] = [n * d[code.support(k)].sum() for k in range(n)]
        return w

    def ready_times(self, fixed, rate, order=None) -> np.ndarray:
        """When each worker's message of each non-empty block is ready, for one draw (a, b) of
        shape (N,): a_n + b_n · W_n(s), shape (N, #non-empty) (docs/model.md, the general model),
        W under the work ``order`` (None: the paper's; docs/model.md, "The backprop work order")."""
        a, b = np.asarray(fixed, dtype=float)[None, :], np.asarray(rate, dtype=float)[None, :]
        return timeline.ready_times(self.blocks, a, b, self.shares, order)[0]

    def coded_gradient_at(self, subset_grads: np.ndarray, ready: np.ndarray):
        """One iteration of the general model: block s decoded from the first N - s of its own ready
        times ``ready[:, i]`` (i-th non-empty block, :meth:`ready_times`). Returns the decoded
        gradient, each block's decoding time and its responders, as :meth:`coded_gradient`."""
        g = np.empty(self.coords, dtype=float)
        block_times, used = {}, {}
        for i, s in enumerate(int(v) for v in self.levels):
            F = self.first_responders(s, ready[:, i])
            sl = self.slices[s]
            g[sl] = self.decode(s, F, self.codes[s].messages(F, subset_grads[:, sl]))
            block_times[s] = float(ready[F[-1], i])
            used[s] = F
        return g, block_times, used

    def subsets_of(self, worker: int) -> np.ndarray:
        """Data subsets worker n must store: the union of its supports over the non-empty levels."""
        worker = V.integer("worker", worker, minimum=0, maximum=self.workers - 1)
        return np.flatnonzero(self._held[worker])

    def layout(self, level: int) -> tuple:
        """(kind, supports) of a non-empty level, row w of ``supports`` worker w's subsets. Above
        MDS_MAX_WORKERS taken from the construction where it fixes them (``bcgc.codes.layout``),
        without building the code (seconds per level at N = 256); else from the built code."""
        s = int(level)
        if s not in self._layouts:
            known = codes_layout(self.workers, s, self.kind) if self.workers > MDS_MAX_WORKERS else None
            if known is None:
                code = self.code(s)
                known = code.kind, [code.support(w) for w in range(self.workers)]
            self._layouts[s] = known
        return self._layouts[s]

    @cached_property
    def _held(self) -> np.ndarray:
        """held[w, k]: worker w stores subset k (the union of its supports, level by level)."""
        held = np.zeros((self.workers, self.workers), dtype=bool)
        for s in self.codes:
            supports = self.layout(s)[1]
            if isinstance(supports, np.ndarray):  # one step for the construction's array
                held[np.arange(self.workers)[:, None], supports] = True
            else:
                for w, sup in enumerate(supports):
                    held[w, sup] = True
        return held

    def code(self, level: int) -> GradientCode:
        """The code of a non-empty level (a clear error for any other level)."""
        code = self.codes.get(level) if isinstance(level, (int, np.integer)) else None
        if code is None:
            raise V.InputError(
                f"level must be one of the non-empty levels {self.levels.tolist()} of this design, got {level!r}"
            )
        return code

    def worker_message(self, worker: int, level: int, partial) -> np.ndarray:
        """Worker n's coded message for block s, computed from its own subsets only:
        Σ_k B^{(s)}[n, k] ∂f_k over the block's coordinates, ``partial(k, coords)`` giving ∂f_k
        (:func:`partial_rows`). This is what every runtime worker sends (docs/model.md, the scheme)."""
        code = self.code(level)
        return code.encode_support(worker, partial_rows(partial, code.support(worker), self._coords(level)))

    def _coords(self, level: int) -> np.ndarray:
        """The coordinates of block s (read-only, made once per level: a worker reads them every block)."""
        coords = self._coord_ranges.get(level)
        if coords is None:
            sl = self.slices[level]
            coords = np.arange(sl.start, sl.stop)
            coords.setflags(write=False)
            self._coord_ranges[level] = coords
        return coords

    def ready_time(self, level: int, t_n: float) -> float:
        """When worker n's block-s message is ready under linear progress: T_n · c_s (unit of T)."""
        self.code(level)
        if not t_n >= 0:  # inf is a full straggler; nan or a negative time is a bug upstream
            raise ValueError(f"t_n must be a time >= 0 (inf for a full straggler), got {t_n!r}")
        return t_n * float(self.loads[level])

    def first_responders(self, level: int, T: np.ndarray) -> np.ndarray:
        """The first N - s workers to deliver block s (ties broken by worker index)."""
        need = self.workers - level
        order = np.argsort(np.asarray(T, dtype=float), kind="stable")[:need]
        if not np.all(np.isfinite(np.asarray(T)[order])):
            raise ValueError(f"block {level} cannot be decoded: fewer than N - s = {need} workers answered")
        return order

    def decode(self, level: int, responders, messages: np.ndarray) -> np.ndarray:
        """The block's gradient Σ_k ∂f_k from the responders' coded messages (rows in that order)."""
        a = self.code(level).decoding_vector(responders)
        out = a @ np.asarray(messages)
        return out.real if np.iscomplexobj(out) else out

    def coded_gradient(self, subset_grads: np.ndarray, T: np.ndarray):
        """One iteration from full subset gradients G (N × L) and times T (N,): the decoded
        gradient, the time each block became decodable, and the responders of each block."""
        g = np.empty(self.coords, dtype=float)
        block_times, used = {}, {}
        for s in self.levels:
            s = int(s)
            F = self.first_responders(s, T)
            sl = self.slices[s]
            messages = self.codes[s].messages(F, subset_grads[:, sl])  # exactly what workers F send
            g[sl] = self.decode(s, F, messages)
            block_times[s] = self.ready_time(s, float(T[F[-1]]))  # the last needed arrival
            used[s] = F
        return g, block_times, used
