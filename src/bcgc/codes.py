"""Gradient codes per redundancy level: encoding matrices and stable decoding (SPEC §5).

For N workers and level s, B ∈ R^{N×N}: row n is supported on the subsets worker n holds for that
level, and for every set F of N - s workers there is a with aᵀ B_F = 1ᵀ, so that
Σ_k g_k = Σ_{n∈F} a_n · (Σ_k B_{n,k} g_k). Constructions:

* ``fractional`` (Tandon et al.): when (s+1) divides N, workers form N/(s+1) groups of s+1 that
  all hold the same s+1 subsets (group-based placement, SPEC §3.3); binary, exact; decoding takes
  one responder per group.
* ``gaussian`` (Tandon et al.'s cyclic repetition): row n on the cyclic window {n, .., n+s} mod N,
  chosen in the null space of a seeded Gaussian H ∈ R^{s×N} with H·1 = 0.
* ``mds`` (Raviv et al.'s cyclic MDS code over the reals/complex): rows are the cyclic shifts of the
  generator polynomial g(x) = Π_{j∈J} (x - ω^j), ω = e^{2πi/N}, J a run of s consecutive
  frequencies centred on N/2 (real coefficients when N - s is odd; complex otherwise).

Level 0 is the identity (uncoded); level N-1 is all ones (any one worker delivers the sum).
Decoding vectors are computed by a least-squares solve on the responders' rows and cached per set.
``kind="auto"`` (and ``"cyclic"``) take ``fractional`` where it exists (``auto`` only), else the real
cyclic MDS code when N - s is odd, else the Gaussian one: measured in ``benchmarks/codes.py``, the
MDS code's worst condition number over straggler sets (bursts of consecutive stragglers included)
is 10-1000x smaller than the Gaussian code's at most (N, s); when N - s is even the MDS code is
complex, and complex messages would double the upload, so the real Gaussian code is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _validate as V

__all__ = ["GradientCode", "make_code", "KINDS", "default_cyclic"]

KINDS = ("auto", "cyclic", "fractional", "gaussian", "mds")


def default_cyclic(workers: int, level: int) -> str:
    """The cyclic construction of "auto"/"cyclic": real MDS if N - s is odd, else Gaussian."""
    return "mds" if (workers - level) % 2 else "gaussian"


@dataclass(eq=False)
class GradientCode:
    """Encoding matrix ``B`` of one level, its supports, and a cached decoder."""

    workers: int
    level: int
    kind: str
    B: np.ndarray
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def needed(self) -> int:
        """Responders needed to decode: N - s."""
        return self.workers - self.level

    def support(self, worker: int) -> np.ndarray:
        """The data subsets worker n must hold for this level (non-zero entries of row n)."""
        return np.flatnonzero(self.B[worker] != 0)

    def encode(self, worker: int, partials: np.ndarray) -> np.ndarray:
        """Worker n's coded message Σ_k B[n, k] · partials[k] (partials: N × block length)."""
        sup = self.support(worker)
        return self.B[worker, sup] @ partials[sup]

    def decoding_vector(self, responders) -> np.ndarray:
        """a with aᵀ B_F = 1ᵀ for the responders F (in the order given); needs |F| ≥ N - s.

        Raises ValueError for too few or repeated responders, never decodes wrongly: the solve is
        checked: a residual above 1e-6 (an ill-conditioned set, SPEC §5) raises too.
        """
        F = np.asarray(responders, dtype=np.int64).ravel()
        if F.size < self.needed:
            raise ValueError(f"responders must hold at least N - s = {self.needed} distinct workers for "
                             f"level {self.level}, got {F.size}")
        if np.unique(F).size != F.size or F.min() < 0 or F.max() >= self.workers:
            raise ValueError(f"responders must be distinct worker indices in [0, {self.workers - 1}], got {F.tolist()}")
        key = tuple(F.tolist())
        a = self._cache.get(key)
        if a is None:
            a = self._solve(F)
            self._cache[key] = a
        return a

    def _solve(self, F):
        if self.kind == "fractional":
            return _fractional_decoder(F, self.workers, self.level)
        BF = self.B[F]
        a, *_ = np.linalg.lstsq(BF.T, np.ones(self.workers, dtype=BF.dtype), rcond=None)
        resid = np.max(np.abs(BF.T @ a - 1.0))
        if not resid < 1e-6:
            raise ValueError(f"level {self.level}: the responders {F.tolist()} do not span the sum "
                             f"(residual {resid:.2g}); the code is not decodable from this set")
        return a

    def condition(self, responders) -> float:
        """Condition number of B_F (ratio of its extreme non-zero singular values)."""
        sv = np.linalg.svd(self.B[np.asarray(responders)], compute_uv=False)
        sv = sv[: self.needed]
        return float(sv[0] / sv[-1])


def make_code(workers: int, level: int, kind: str = "auto", seed: int = 0) -> GradientCode:
    """The code of level s for N workers (SPEC §5). ``kind``: auto, cyclic, fractional, gaussian,
    or mds; ``seed`` fixes the random constructions."""
    workers = V.integer("workers", workers, minimum=1)
    level = V.integer("level", level, minimum=0, maximum=workers - 1)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if level == 0:
        return GradientCode(workers, 0, "identity", np.eye(workers))
    if level == workers - 1:
        return GradientCode(workers, level, "replication", np.ones((workers, workers)))
    if kind == "auto":
        kind = "fractional" if workers % (level + 1) == 0 else default_cyclic(workers, level)
    elif kind == "cyclic":
        kind = default_cyclic(workers, level)
    if kind == "fractional":
        if workers % (level + 1):
            raise ValueError(f"kind 'fractional' needs (level + 1) to divide workers: {level + 1} does not divide {workers}")
        group = np.arange(workers) // (level + 1)
        B = (group[:, None] == group[None, :]).astype(float)
    elif kind == "mds":
        B = _mds(workers, level)
    else:
        B = _null_space_rows(workers, level, seed)
    return GradientCode(workers, level, kind, B)


def _windows(n, s):
    return (np.arange(n)[:, None] + np.arange(s + 1)[None, :]) % n


def _null_space_rows(n, s, seed):
    """Rows on cyclic windows, each in the null space of H (H·1 = 0) with B[n, n] = 1."""
    rng = np.random.default_rng([seed, n, s])
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
