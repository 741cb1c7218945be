"""Gradient codes per redundancy level: encoding matrices and stable decoding (docs/model.md, coordinate gradient coding).

For N workers and level s, B ∈ R^{N×N}: row n is supported on the subsets worker n holds for that
level, and for every set F of N - s workers there is a with aᵀ B_F = 1ᵀ, so that
Σ_k g_k = Σ_{n∈F} a_n · (Σ_k B_{n,k} g_k). Constructions:

* ``fractional`` (Tandon et al.): when (s+1) divides N, workers form N/(s+1) groups of s+1 that
  all hold the same s+1 subsets (group-based placement, docs/model.md, placement); binary, exact; decoding takes
  one responder per group.
* ``gaussian`` (Tandon et al.'s cyclic repetition): row n on the cyclic window {n, .., n+s} mod N,
  chosen in the null space of a Gaussian H ∈ R^{s×N} with H·1 = 0. One draw can be badly
  conditioned (N = 32, s = 16: cond(B_F) up to 1e13); we draw several (seeded) and keep the one
  with the smallest worst condition number over the probe sets below (ours; at N = 32, s = 16 the
  best of 12 has 3.5e4).
* ``mds`` (Raviv et al.'s cyclic MDS code over the reals/complex): rows are the cyclic shifts of the
  generator polynomial g(x) = Π_{j∈J} (x - ω^j), ω = e^{2πi/N}, J a run of s consecutive
  frequencies centred on N/2 (real coefficients when N - s is odd; complex otherwise).

Level 0 is the identity (uncoded); level N-1 is all ones (any one worker delivers the sum).
Decoding vectors are computed by a least-squares solve on the responders' rows and cached per set.
``kind="auto"`` takes ``fractional`` where it exists; otherwise ``auto`` and ``cyclic`` measure the
real candidates — the cyclic MDS code when N - s is odd and N ≤ 64 (when N - s is even it is complex, and
complex messages would double the upload) and the best Gaussian draw — and keep the one with the
smaller worst condition number over the probe sets: every burst of s consecutive stragglers (the
hard case for cyclic codes) and 20 seeded random sets. ``benchmarks/codes.py`` reports the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from threadpoolctl import threadpool_limits

from . import _validate as V
from . import streams

__all__ = ["GradientCode", "make_code", "layout", "KINDS", "probe_sets", "worst_condition"]

KINDS = ("auto", "cyclic", "fractional", "gaussian", "mds")


#: Above this N the real MDS code passed the probe sets yet failed to decode other random sets
#: (N = 96, s = 89; benchmarks/codes.py), so "auto"/"cyclic" only consider it up to here.
MDS_MAX_WORKERS = 64


#: Gaussian draws compared per level (fewer for large N, where each probe costs an SVD of N columns)
def _draws(n):
    return 12 if n <= 64 else 4


@dataclass(eq=False)
class GradientCode:
    """Encoding matrix ``B`` of one level, its supports, and a cached decoder."""

    workers: int
    level: int
    kind: str
    B: np.ndarray
    _cache: dict = field(default_factory=dict, repr=False)
    _rows: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.B.setflags(write=False)  # codes are cached and shared: never mutate one

    @property
    def needed(self) -> int:
        """Responders needed to decode: N - s."""
        return self.workers - self.level

    def support(self, worker: int) -> np.ndarray:
        """The data subsets worker n must hold for this level (non-zero entries of row n)."""
        return self.row(worker)[0]

    def row(self, worker: int) -> tuple[np.ndarray, np.ndarray]:
        """(support(n), B[n, support(n)]): worker n's subsets and their coefficients, found once per
        worker (a runtime worker encodes every block of every iteration with them); read-only."""
        row = self._rows.get(worker)
        if row is None:
            support = np.flatnonzero(self.B[worker] != 0)
            coeffs = self.B[worker, support]
            support.setflags(write=False)
            coeffs.setflags(write=False)
            row = self._rows[worker] = (support, coeffs)
        return row

    def encode_support(self, worker: int, rows: np.ndarray) -> np.ndarray:
        """Worker n's coded message Σ_k B[n, k] ∂f_k from the rows of its own subsets only
        (``support(n)`` order): all a worker has computed."""
        return self.row(worker)[1] @ rows

    def messages(self, responders, partials: np.ndarray) -> np.ndarray:
        """Every responder's message at once, B_F · partials with partials of all N subsets
        (the simulator's fast path; the same numbers as ``encode_support`` up to rounding)."""
        return self.B[np.asarray(responders)] @ partials

    def decoding_vector(self, responders) -> np.ndarray:
        """a with aᵀ B_F = 1ᵀ for the responders F (in the order given); needs |F| ≥ N - s.

        Raises ValueError for too few or repeated responders, never decodes wrongly: the solve is
        checked: a residual above 1e-6 (an ill-conditioned set, docs/model.md, coordinate gradient coding) raises too.
        """
        F = np.asarray(responders).ravel()
        if F.size and not (
            np.issubdtype(F.dtype, np.integer) or (np.issubdtype(F.dtype, np.floating) and np.all(F == np.round(F)))
        ):
            raise V.InputError(f"responders must be worker indices (integers), got {np.asarray(responders).tolist()}")
        F = F.astype(np.int64)
        if F.size < self.needed:
            raise V.InputError(
                f"responders must hold at least N - s = {self.needed} distinct workers for "
                f"level {self.level}, got {F.size}"
            )
        if np.unique(F).size != F.size or F.min() < 0 or F.max() >= self.workers:
            raise V.InputError(
                f"responders must be distinct worker indices in [0, {self.workers - 1}], got {F.tolist()}"
            )
        key = tuple(F.tolist())
        a = self._cache.get(key)
        if a is None:
            a = self._solve(F)
            self._cache[key] = a
        return a

    def _solve(self, F):
        if self.kind == "fractional":
            return _fractional_decoder(F, self.workers, self.level)
        if self.kind == "identity":  # level 0: every worker's own subset, weight 1
            return np.ones(F.size)
        if self.kind == "replication":  # level N-1: the first responder alone holds the whole sum
            a = np.zeros(F.size)
            a[0] = 1.0
            return a
        BF = self.B[F]
        a, *_ = np.linalg.lstsq(BF.T, np.ones(self.workers, dtype=BF.dtype), rcond=None)
        resid = np.max(np.abs(BF.T @ a - 1.0))
        if not resid < 1e-6:
            raise ValueError(
                f"level {self.level}: the responders {F.tolist()} do not span the sum "
                f"(residual {resid:.2g}); the code is not decodable from this set"
            )
        return a

    def condition(self, responders) -> float:
        """Condition number of B_F (ratio of its extreme non-zero singular values)."""
        return worst_condition(self.B, self.level, [np.asarray(responders)])


def make_code(workers: int, level: int, kind: str = "auto", seed: int = 0) -> GradientCode:
    """The code of level s for N workers (docs/model.md, coordinate gradient coding). ``kind``: auto, cyclic, fractional, gaussian,
    or mds; ``seed`` fixes the random constructions. Codes are cached: same arguments, same code."""
    workers = V.integer("workers", workers, minimum=1)
    level = V.integer("level", level, minimum=0, maximum=workers - 1)
    kind = V.Options(*KINDS).check("kind", kind)
    seed = V.integer("seed", seed, minimum=0)
    return _make_code(workers, level, kind, seed)


@lru_cache(maxsize=1024)
def _make_code(workers: int, level: int, kind: str, seed: int) -> GradientCode:
    with threadpool_limits(limits=1, user_api="blas"):  # small matrices: see worst_condition
        return _construct(workers, level, kind, seed)


def _construct(workers: int, level: int, kind: str, seed: int) -> GradientCode:
    if level == 0:
        return GradientCode(workers, 0, "identity", np.eye(workers))
    if level == workers - 1:
        return GradientCode(workers, level, "replication", np.ones((workers, workers)))
    if kind == "auto" and workers % (level + 1) == 0:
        kind = "fractional"
    if kind in ("auto", "cyclic"):
        probes = probe_sets(workers, level, seed)
        candidates = [("gaussian", _null_space_rows(workers, level, seed, probes))]
        if (workers - level) % 2 and workers <= MDS_MAX_WORKERS:
            candidates.append(("mds", _mds(workers, level)))
        kind, B = min(candidates, key=lambda c: worst_condition(c[1], level, probes))
        return GradientCode(workers, level, kind, B)
    if kind == "fractional":
        if workers % (level + 1):
            raise V.InputError(
                f"kind 'fractional' needs (level + 1) to divide workers: {level + 1} does not divide {workers}"
            )
        group = np.arange(workers) // (level + 1)
        B = (group[:, None] == group[None, :]).astype(float)
    elif kind == "mds":
        B = _mds(workers, level)
    else:
        B = _null_space_rows(workers, level, seed, probe_sets(workers, level, seed))
    return GradientCode(workers, level, kind, B)


def layout(workers: int, level: int, kind: str = "auto") -> tuple[str, np.ndarray] | None:
    """The kind that ``make_code(N, s, kind)`` builds and each worker's support (the subsets it
    holds; row w of an N × (s+1) array, sorted), without building the code, where both follow from
    the construction alone: levels 0
    and N - 1, fractional codes (groups), and Gaussian ones (cyclic windows {n, .., n+s}; every
    window entry is a solved coefficient, non-zero with probability 1), which ``auto``/``cyclic``
    build above MDS_MAX_WORKERS. None where the kind is chosen by measuring (N ≤ 64) or is MDS.
    A design document at large N needs only this (``bcgc.report.scheme_json``): measuring a
    Gaussian code's draws costs about a thousand SVDs of N × N at N = 256."""
    n = V.integer("workers", workers, minimum=1)
    s = V.integer("level", level, minimum=0, maximum=n - 1)
    kind = V.Options(*KINDS).check("kind", kind)
    workers_col = np.arange(n)[:, None]
    if s == 0:
        return "identity", workers_col
    if s == n - 1:
        return "replication", np.broadcast_to(np.arange(n), (n, n))
    if kind in ("auto", "fractional") and n % (s + 1) == 0:
        return "fractional", (workers_col // (s + 1)) * (s + 1) + np.arange(s + 1)
    if kind == "gaussian" or (kind in ("auto", "cyclic") and n > MDS_MAX_WORKERS):
        return "gaussian", np.sort(_windows(n, s), axis=1)
    return None


def probe_sets(n: int, s: int, seed: int = 0, randoms: int = 20) -> list[np.ndarray]:
    """Responder sets used to measure a code: every burst of s consecutive stragglers, plus
    ``randoms`` seeded random sets of size N - s."""
    rng = streams.code_rng(seed, n, s, 1)
    bursts = [np.setdiff1d(np.arange(n), (np.arange(s) + b) % n) for b in range(n)]
    return bursts + [np.sort(rng.choice(n, n - s, replace=False)) for _ in range(randoms)]


def worst_condition(B: np.ndarray, s: int, sets) -> float:
    """max over the sets F of cond(B_F) (its N - s non-zero singular values; inf if singular).

    The sets of one size are stacked into one batched SVD (the same LAPACK call per matrix, so the
    same numbers as one call each), by chunks of about 2^22 entries; BLAS runs on one thread:
    these matrices are small, and OpenBLAS's threads spent 40x the CPU time on a busy 2-core machine
    (benchmarks/scale_results.md)."""
    sets = [np.asarray(F) for F in sets]
    worst = 0.0
    with threadpool_limits(limits=1, user_api="blas"):
        for size in sorted({F.size for F in sets}):
            group = [F for F in sets if F.size == size]
            step = max(1, 2**22 // max(1, size * B.shape[1]))
            for i in range(0, len(group), step):
                sv = np.linalg.svd(B[np.stack(group[i : i + step])], compute_uv=False)[:, : B.shape[0] - s]
                with np.errstate(divide="ignore"):
                    cond = np.where(sv[:, -1] > 0, sv[:, 0] / sv[:, -1], np.inf)
                worst = max(worst, float(cond.max()))
    return worst


def _windows(n, s):
    return (np.arange(n)[:, None] + np.arange(s + 1)[None, :]) % n


def _null_space_rows(n, s, seed, probes):
    """The best-conditioned (on ``probes``) of several seeded Gaussian constructions."""
    best, best_cond = None, np.inf
    for draw in range(_draws(n)):
        B = _gaussian_rows(n, s, streams.code_rng(seed, n, s, draw))
        cond = worst_condition(B, s, probes)
        if best is None or cond < best_cond:
            best, best_cond = B, cond
    return best


def _gaussian_rows(n, s, rng):
    """Rows on cyclic windows, each in the null space of H (H·1 = 0) with B[n, n] = 1."""
    H = rng.standard_normal((s, n))
    H[:, -1] = -H[:, :-1].sum(axis=1)
    B = np.zeros((n, n))
    for w, win in enumerate(_windows(n, s)):
        # solve H[:, win[1:]] v = -H[:, win[0]]: s equations, s unknowns
        v = np.linalg.solve(H[:, win[1:]], -H[:, win[0]])
        B[w, win[0]] = 1.0
        B[w, win[1:]] = v
    return B


def _mds(n, s):
    """Cyclic MDS rows: shifts of g(x) = Π_{j∈J}(x - ω^j) with J = s consecutive frequencies
    centred on N/2 (closed under conjugation when N - s is odd, then g is real)."""
    start = (n - s + 1) // 2
    J = np.arange(start, start + s)
    g = np.poly(np.exp(2j * np.pi * J / n))[::-1]  # coefficients of x^0 .. x^s
    if np.max(np.abs(g.imag)) < 1e-9 * np.max(np.abs(g)):
        g = g.real
    g = g / g[0]
    B = np.zeros((n, n), dtype=g.dtype)
    for w, win in enumerate(_windows(n, s)):
        B[w, win] = g
    return B


def _fractional_decoder(F, n, s):
    """One responder per group of s+1 (the first one given); exact 0/1 weights."""
    a = np.zeros(F.size)
    seen = set()
    for i, w in enumerate(F):
        g = int(w) // (s + 1)
        if g not in seen:
            seen.add(g)
            a[i] = 1.0
    if len(seen) != n // (s + 1):
        raise ValueError(f"responders {F.tolist()} miss a whole group of level {s}: not decodable")
    return a
