"""What data each worker holds, and what a new design makes the master ship (docs/runtime.md,
"Data on the workers").

A design places data subsets on workers (cyclic placement, ``BlockScheme.subsets_of``) and, for
workers that differ, chooses the subsets' sizes d (docs/model.md, "Unequal subsets"): the
problem's rows are then split by d (``bcgc.problems.with_subset_sizes``). A subset's data is
named by its index AND its rows (``parts``: first row and count), so that when a re-design changes
the sizes only the subsets whose rows moved count as new; a problem without ``parts`` names a
subset by its index and the sizes (any change of sizes makes every subset new). A worker holds at
most one version of subset k (shipping k replaces it: ``WorkerCore.extend``), so the master keeps,
per worker, the name of the version of each index it holds; it ships each live worker exactly the
subsets of the new design whose name differs from the one it holds.
"""

from __future__ import annotations

import pickle
import time

import numpy as np

from ..problems import with_subset_sizes
from ..timing.general import unequal_sizes

__all__ = ["Holdings", "can_allocate", "sizes_list"]


def can_allocate(problem) -> bool:
    """Whether the problem can split its data by subset sizes (``with_subset_sizes``; docs/problems.md):
    only then may a run's design choose unequal subsets."""
    return callable(getattr(problem, "with_subset_sizes", None))


def sizes_list(d):
    """Subset sizes as a log writes them: a list of floats, or None for equal subsets."""
    return None if d is None else np.asarray(d, dtype=float).tolist()


def _tag(d):
    return None if d is None else tuple(np.round(d, 12).tolist())


class Holdings:
    """The problem split by the current subset sizes, and, per worker, the version of each subset
    it holds ({index: name})."""

    def __init__(self, problem, workers: int, subset_sizes=None):
        self.base, self.workers = problem, workers
        self.held: dict[int, dict] = {w: {} for w in range(workers)}
        self._splits: dict = {None: problem}  # one split per size vector (re-splitting costs a pass)
        self._bytes: dict = {}
        self.sizes, self.problem = None, problem
        self.set_sizes(subset_sizes)

    def split(self, subset_sizes):
        """(sizes or None, the problem with its rows split by them): None for equal subsets."""
        d = unequal_sizes(subset_sizes, self.workers)
        if _tag(d) not in self._splits:
            self._splits[_tag(d)] = with_subset_sizes(self.base, d)
        return d, self._splits[_tag(d)]

    def set_sizes(self, subset_sizes) -> None:
        self.sizes, self.problem = self.split(subset_sizes)

    def names(self, subset_sizes=None) -> list:
        """The name of every subset's data under a split (module doc), index by index."""
        d, problem = self.split(subset_sizes)
        parts = getattr(problem, "parts", None)
        if parts is None:
            return [_tag(d)] * self.workers
        return [(int(p[0]) if len(p) else -1, len(p)) for p in parts]

    def views(self, scheme) -> list:
        """Each worker's view of the data the design needs (what an engine starts with)."""
        return [self.problem.restrict(scheme.subsets_of(w)) for w in range(self.workers)]

    def mark_loaded(self, scheme) -> None:
        """Every worker holds exactly what ``scheme`` needs (it was started with :meth:`views`)."""
        names = self.names(self.sizes)
        for w in range(self.workers):
            self.held[w] = {k: names[k] for k in scheme.subsets_of(w).tolist()}

    def missing(self, scheme, subset_sizes=None, dead=()) -> dict[int, list[int]]:
        """Per live worker, the subsets of ``scheme`` (split by ``subset_sizes``) whose version it
        does not hold."""
        names = self.names(subset_sizes)
        return {
            w: [k for k in scheme.subsets_of(w).tolist() if self.held[w].get(k) != names[k]]
            for w in range(self.workers)
            if w not in dead
        }

    def nbytes(self, k: int, subset_sizes=None) -> int:
        """The bytes of subset k: its per-subset arrays (``_per_subset``), else its pickled view."""
        d, problem = self.split(subset_sizes)
        key = (k, self.names(d)[k])
        if key not in self._bytes:
            view = problem.restrict([k])
            parts = [getattr(view, a, None) for a in getattr(view, "_per_subset", ())]
            parts = [p[k] for p in parts if isinstance(p, dict)]
            self._bytes[key] = (
                sum(int(np.asarray(p).nbytes) for p in parts) if parts else len(pickle.dumps(view, protocol=5))
            )
        return self._bytes[key]

    def ship(self, backend, scheme, dead=()):
        """Ship every live worker what the current design needs and it lacks: (bytes, seconds,
        workers found dead). Call :meth:`set_sizes` with the design's sizes first."""
        nbytes, found_dead, t0 = 0, [], time.perf_counter()
        names = self.names(self.sizes)
        for w, ks in self.missing(scheme, self.sizes, dead).items():
            if not ks:
                continue
            if not backend.extend(w, self.problem.restrict(ks)):
                found_dead.append(w)
                continue
            self.held[w].update({k: names[k] for k in ks})
            nbytes += sum(self.nbytes(k, self.sizes) for k in ks)
        return nbytes, time.perf_counter() - t0, found_dead
