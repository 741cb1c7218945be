"""A block's partial derivatives of many subsets at once: the shipped problems' ``partials_given``
(docs/runtime.md, "The workers' cost per block").

A runtime worker's block at level s needs ∂_l f_k over the block's coordinates for each of its s + 1
subsets. One call per subset costs a fixed overhead each (tens of µs), so a worker's cost per block
grew with s, i.e. with N; a :class:`Batcher` computes them in one batched product instead. It holds,
per held data, the per-subset arrays stacked (built once: a view given more subsets holds new dicts,
so its stacks are rebuilt), the positions of each support in the stacks, and, per round and thread,
the forward states of the round stacked as they come (a round's states only grow).
"""

from __future__ import annotations

import functools
import itertools
import threading

import numpy as np

__all__ = ["BatchedPartials", "Batcher", "batches"]

_NONE = object()


@functools.cache
def batches(cls) -> bool:
    """Whether ``cls._batch`` computes ``cls``'s own partials: not when a subclass overrides
    ``partial_given`` or ``partial`` below the class that defines ``_batch`` (its own code runs)."""
    owner = next((c for c in cls.__mro__ if "_batch" in c.__dict__), None)
    return (
        owner is not None
        and owner._batch is not None
        and cls.partial_given is owner.partial_given
        and cls.partial is owner.partial
    )


class Batcher:
    """The stacks of a problem's per-subset arrays ``names`` (``transposed``: each array's transpose;
    every stack times ``scale``, e.g. a loss's 1/n) and the round's forward states, for one held data."""

    def __init__(self, problem, names, transposed=(), scale=1.0):
        self.sources = {n: getattr(problem, n) for n in names}
        keys = _keys(self.sources[names[0]])
        self.positions = {k: i for i, k in enumerate(keys)}
        self.stacks = {n: _stack(self.sources[n], keys, n in transposed, scale) for n in names}
        self.ready = all(s is not None for s in self.stacks.values())
        self._index: dict = {}
        self._round = threading.local()  # one round at a time per worker; two views never mix

    def holds(self, problem) -> bool:
        """Whether this batcher was built from ``problem``'s current data."""
        return all(getattr(problem, n) is src for n, src in self.sources.items())

    def index(self, subsets):
        """The positions of ``subsets`` in the stacks (a slice when they are consecutive), or None
        when the arrays differ in shape (unequal subsets) or a subset is not held."""
        key = tuple(subsets)
        idx = self._index.get(key, _NONE)
        if idx is _NONE:
            idx = None
            if self.ready and key and all(k in self.positions for k in key):
                idx = np.array([self.positions[k] for k in key])
                if np.array_equal(idx, np.arange(idx[0], idx[0] + idx.size)):
                    idx = slice(int(idx[0]), int(idx[0]) + idx.size)
            self._index[key] = idx
        return idx

    def states(self, states: dict) -> np.ndarray:
        """The round's forward states (``states``: {subset: state}, in the order forwarded) stacked
        at the subsets' positions; positions not forwarded yet hold zeros."""
        cached = getattr(self._round, "cached", None)
        if cached is None or cached[0] is not states:
            first = np.asarray(next(iter(states.values())))
            cached = [states, 0, np.zeros((len(self.positions), *first.shape), dtype=first.dtype)]
            self._round.cached = cached
        if cached[1] < len(states):
            buf = cached[2]
            for k, state in itertools.islice(states.items(), cached[1], None):
                buf[self.positions[k]] = state
            cached[1] = len(states)
        return cached[2]


def _keys(data):
    return list(data) if isinstance(data, dict) else list(range(len(data)))


def _stack(data, keys, transposed, scale):
    """The arrays of ``data`` (a list or array: the whole problem; a dict: a worker's view), in the
    order of ``keys``, as one array times ``scale``; None when their shapes differ."""
    if isinstance(data, np.ndarray) and not transposed and scale == 1.0:
        return data
    arrays = [np.asarray(data[k]) for k in keys]
    arrays = [a.T for a in arrays] if transposed else arrays
    if not arrays or len({(a.shape, a.dtype) for a in arrays}) != 1:
        return None
    stack = np.stack(arrays)
    return stack * scale if scale != 1.0 else np.ascontiguousarray(stack)


class BatchedPartials:
    """A data problem's ``partials_given`` as one batched product per block (mixed into
    ``DataProblem``, before ``Problem``, whose per-subset default it falls back to)."""

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_batch_data", None)  # rebuilt where needed: a shipped view carries its data once
        return state

    # ---- a block's partials of many subsets at once (a runtime worker's per-block work) ------------
    def partials_given(self, states, theta, subsets, coords):
        """``Problem.partials_given`` as one batched product over the subsets (``_batch``, module
        :mod:`.batch`) when they all have the same rows; else (unequal subsets, or a subclass with its
        own ``partial_given`` or ``partial``) one call per subset."""
        batcher = self._batcher() if batches(type(self)) else None
        idx = None if batcher is None else batcher.index(subsets)
        if idx is None:
            return super().partials_given(states, theta, subsets, coords)
        c0, c1 = int(coords[0]), int(coords[-1]) + 1  # a block is a contiguous range
        lo, hi = c0 // self.outputs, (c1 - 1) // self.outputs + 1
        full = self._batch(batcher, states, theta, idx, lo, hi)  # (subsets, hi - lo, outputs)
        return full.reshape(len(subsets), -1)[:, c0 - lo * self.outputs : c1 - lo * self.outputs]

    #: (batcher, states, θ, positions, lo, hi) -> ∂f_k on the rows lo..hi-1 of Θ, one per subset
    _batch = None
    #: the per-subset arrays ``_batch`` reads (``Batcher``), those transposed, and whether divided by n
    _stacked, _transposed, _over_n = ("X",), ("X",), True

    def _batcher(self) -> Batcher:
        batcher = self.__dict__.get("_batch_data")
        if batcher is None or not batcher.holds(self):
            scale = 1.0 / self.n if self._over_n else 1.0
            batcher = self._batch_data = Batcher(self, self._stacked, self._transposed, scale)
        return batcher
