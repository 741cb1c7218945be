"""What data each worker holds, and what a new design makes the master ship (docs/runtime.md,
"Data on the workers").

A design places data subsets on workers (cyclic placement, ``BlockScheme.subsets_of``) and, for
workers that differ, chooses the subsets' sizes d (docs/model.md, "Unequal subsets"): the
problem's rows are then split by d (``bcgc.problems.with_subset_sizes``). A subset's data is
named by its index AND its rows (``parts``: first row and count), so that when a re-design changes
the sizes only the subsets whose rows moved count as new; a problem without ``parts`` names a
subset by its index and the sizes (any change of sizes makes every subset new). A worker keeps
what it holds; the master ships each live worker exactly the subsets of the new design it does
not hold yet (``Backend.extend``).
"""

from __future__ import annotations

import pickle
import time

import numpy as np

from ..problems import with_subset_sizes

__all__ = ["Holdings", "can_allocate"]


def can_allocate(problem) -> bool:
    """Whether the problem can split its data by subset sizes (``with_subset_sizes``; docs/problems.md):
    only then may a run's design choose unequal subsets."""
    return callable(getattr(problem, "with_subset_sizes", None))


def _same(d, e) -> bool:
    return (d is None and e is None) or (d is not None and e is not None and np.array_equal(d, e))


class Holdings:
    """The problem split by the current subset sizes, and the subsets each worker holds."""

    def __init__(self, problem, workers: int, subset_sizes=None):
        self.base, self.workers = problem, workers
        self.sizes, self.problem = None, problem
        self.held: dict[int, set] = {w: set() for w in range(workers)}
        self._bytes: dict = {}
        self.set_sizes(subset_sizes)

    def split(self, subset_sizes):
        """The problem with its rows split by ``subset_sizes`` (None: as given, equal subsets)."""
        if subset_sizes is None:
            return self.base
        if _same(np.asarray(subset_sizes, dtype=float), self.sizes):
            return self.problem
        return with_subset_sizes(self.base, subset_sizes)

    def set_sizes(self, subset_sizes) -> None:
        d = None if subset_sizes is None else np.asarray(subset_sizes, dtype=float)
        if not _same(d, self.sizes):
            self.problem, self.sizes = self.split(d), d

    @staticmethod
    def key(problem, sizes, k: int):
        """The name of subset k's data under a split (module doc)."""
        parts = getattr(problem, "parts", None)
        if parts is not None:
            p = parts[k]
            return (int(k), int(p[0]) if len(p) else -1, len(p))
        return (int(k), None if sizes is None else tuple(np.round(sizes, 12).tolist()))

    def views(self, scheme) -> list:
        """Each worker's view of the data the design needs (what an engine starts with)."""
        return [self.problem.restrict(scheme.subsets_of(w)) for w in range(self.workers)]

    def mark_loaded(self, scheme) -> None:
        """Every worker holds exactly what ``scheme`` needs (it was started with :meth:`views`)."""
        for w in range(self.workers):
            self.held[w] = {self.key(self.problem, self.sizes, k) for k in scheme.subsets_of(w).tolist()}

    def missing(self, scheme, subset_sizes=None, dead=()) -> dict[int, list[int]]:
        """Per live worker, the subsets of ``scheme`` (split by ``subset_sizes``) it does not hold."""
        problem = self.split(subset_sizes)
        d = None if subset_sizes is None else np.asarray(subset_sizes, dtype=float)
        return {w: [k for k in scheme.subsets_of(w).tolist() if self.key(problem, d, k) not in self.held[w]]
                for w in range(self.workers) if w not in dead}

    def nbytes(self, k: int, subset_sizes=None) -> int:
        """The bytes of subset k: its per-subset arrays (``_per_subset``), else its pickled view."""
        problem = self.split(subset_sizes)
        d = None if subset_sizes is None else np.asarray(subset_sizes, dtype=float)
        name = self.key(problem, d, k)
        if name not in self._bytes:
            view = problem.restrict([k])
            parts = [getattr(view, a, None) for a in getattr(view, "_per_subset", ())]
            parts = [p[k] for p in parts if isinstance(p, dict)]
            self._bytes[name] = (sum(int(np.asarray(p).nbytes) for p in parts) if parts
                                 else len(pickle.dumps(view, protocol=5)))
        return self._bytes[name]

    def ship(self, backend, scheme, dead=()):
        """Ship every live worker what the current design needs and it lacks: (bytes, seconds,
        workers found dead). Call :meth:`set_sizes` with the design's sizes first."""
        nbytes, found_dead, t0 = 0, [], time.perf_counter()
        for w, ks in self.missing(scheme, self.sizes, dead).items():
            if not ks:
                continue
            if not backend.extend(w, self.problem.restrict(ks)):
                found_dead.append(w)
                continue
            self.held[w].update(self.key(self.problem, self.sizes, k) for k in ks)
            nbytes += sum(self.nbytes(k, self.sizes) for k in ks)
        return nbytes, time.perf_counter() - t0, found_dead
