"""Peer schemes evaluated on the same footing as BCGC (docs/peers.md).

Runtimes that are a maximum of scaled order statistics (uncoded, classic GC, Tandon's
partial-straggler variant, ignore-stragglers, Ferdinand & Draper's layered design, BCGC) are
:class:`~bcgc.model.OrderStatMax` objects and get exact evaluation for i.i.d. named laws.
UC-MMC and the oracle bound depend on which worker is slow, not only on the order statistics,
and are always estimated by Monte Carlo. :func:`compare` draws one set of realisations and
evaluates every scheme on it (common random numbers), then re-evaluates exactly where possible.

Upload per worker is counted in values per iteration (L for every scheme that sends one value per
coordinate; r·L for UC-MMC, which sends a full gradient per finished subset).

The package: this module (the peers and :func:`compare`); :mod:`.affine` (every peer under a fixed
cost); :mod:`.links` and :mod:`.compare_links` (every peer under upload links); :mod:`.mm` (the
bcgc_mm row); :mod:`.holdout` (designed and tuned on a trace's first rows, evaluated on the rest).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate as V
from .. import streams
from ..analysis import (
    Evaluation,
    completion_probability_exact,
    evaluate_runtime,
    general_runtime,
    has_fixed_cost,
    oracle_samples,
    summarize,
    use_exact,
)
from ..model import OrderStatMax, descending
from ..stragglers import StragglerModel
from ..timeline import unequal_sizes

__all__ = [
    "best_gc_level",
    "best_ucmmc_r",
    "CompareInputs",
    "tandon_all_levels",
    "uncoded",
    "classic_gc",
    "tandon_partial",
    "ignore_stragglers",
    "ferdinand_levels",
    "ferdinand_blocks",
    "ucmmc_samples",
    "ucmmc_all_r",
    "PeerResult",
    "compare",
]


def uncoded() -> OrderStatMax:
    """Wait for every worker: τ = T_(N)."""
    return OrderStatMax(np.array([1.0]), np.array([0]))


def classic_gc(level: int) -> OrderStatMax:
    """Tandon et al. gradient coding tolerating s stragglers: τ = (s+1) · T_(N-s)."""
    return OrderStatMax(np.array([level + 1.0]), np.array([level]))


def tandon_partial(level: int, alpha: float = 6.0) -> OrderStatMax:
    """Tandon's partial-straggler variant: τ = (s+1)/(s+α) · max(α·T_(N-s), T_(N)) (docs/peers.md)."""
    k = (level + 1.0) / (level + alpha)
    return OrderStatMax(np.array([k * alpha, k]), np.array([level, 0]))


def tandon_all_levels(Td: np.ndarray, alpha: float = 6.0) -> np.ndarray:
    """Tandon's partial variant at every level s on descending-sorted draws, shape (K, N)."""
    return np.stack([tandon_partial(s, alpha).samples(Td) for s in range(Td.shape[1])], axis=1)


def ignore_stragglers(level: int) -> OrderStatMax:
    """Wait for the fastest N - s and drop the rest (an inexact gradient): τ = T_(N-s)."""
    return OrderStatMax(np.array([1.0]), np.array([level]))


def ferdinand_levels(workers: int, coords: int, layers: int) -> np.ndarray:
    """Ferdinand & Draper's hierarchical coded computation: the level s_j of each layer j = 1..r.

    Maximise u subject to u ≤ (s_j + 1)/j, Σ_j s_j = rN - L, 0 ≤ s_j ≤ N-1 (docs/peers.md): the
    continuous solution is s_j = clip(u·j - 1, 0, N-1) with u found by bisection; integers by
    rounding the cumulative sum (keeps the total; each s_j stays in [0, N-1]) and sorting.
    """
    target = layers * workers - coords
    if layers < 1 or coords < layers or target < 0:
        raise V.InputError(
            f"layers must be in [1, coords] and coords <= layers * workers, got "
            f"layers={layers}, coords={coords}, workers={workers}"
        )
    j = np.arange(1, layers + 1, dtype=float)

    def total(u):
        return np.clip(u * j - 1.0, 0.0, workers - 1.0).sum()

    lo, hi = 0.0, workers * 1.0 + 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if total(mid) < target else (lo, mid)
    cont = np.clip(0.5 * (lo + hi) * j - 1.0, 0.0, workers - 1.0)
    cont *= target / cont.sum() if cont.sum() > 0 else 0.0
    cum = np.round(np.cumsum(cont)).astype(np.int64)
    cum[-1] = target
    return np.sort(np.diff(np.concatenate([[0], cum])))


def ferdinand_blocks(workers: int, coords: int, layers: int) -> np.ndarray:
    """The BCGC block vector of Ferdinand & Draper's design: layer j adds N - s_j coordinates to
    block s_j (docs/peers.md). Σ x = L by construction."""
    s = ferdinand_levels(workers, coords, layers)
    return np.bincount(s, weights=workers - s, minlength=workers).astype(np.int64)


def ucmmc_samples(T: np.ndarray, r: int) -> np.ndarray:
    """UC-MMC (Ozfatura, Gündüz, Ulukus): worker n processes subsets n, n+1, .., n+r-1 in order,
    sending each when done; subset k is first ready at min_{j<r} (j+1) · T_{(k-j) mod N}; the
    master needs every subset: τ = max_k of that (docs/peers.md). ``T`` unsorted, shape (K, N)."""
    return ucmmc_all_r(T, r)[:, -1]


def ucmmc_all_r(T: np.ndarray, r_max: int, fixed=None) -> np.ndarray:
    """τ of UC-MMC for r = 1..r_max at once, shape (K, r_max): a running minimum over j. Worker
    k − j reaches its j-th subset (subset k) at a_{k−j} + (j + 1) T_{k−j} (``fixed`` a: a fixed
    cost, docs/model.md; None: a = 0); the master needs every subset once."""
    T = np.asarray(T, dtype=float)
    a = np.zeros_like(T) if fixed is None else np.asarray(fixed, dtype=float)
    ready = a + T  # j = 0: worker k does subset k first
    out = np.empty((T.shape[0], r_max))
    out[:, 0] = ready.max(axis=1)
    for j in range(1, r_max):
        np.minimum(
            ready, np.roll(a, j, axis=1) + (j + 1.0) * np.roll(T, j, axis=1), out=ready
        )  # worker k-j, position j
        out[:, j] = ready.max(axis=1)
    return out


def _pick(matrix: np.ndarray, deadline, by_probability: bool = False) -> int:
    """Column with the best objective on common draws: lowest mean, or highest P(τ ≤ deadline)
    when asked for (a deadline objective) or when some runtimes are infinite (full stragglers)."""
    if deadline is not None and (by_probability or not np.all(np.isfinite(matrix))):
        return int(np.argmax(np.mean(matrix <= deadline, axis=0)))
    return int(np.argmin(matrix.mean(axis=0)))


def _common_draws(model, workers, T, seed, samples):
    return model.sample(samples, workers, streams.rng(seed, streams.COMMON_DRAWS)) if T is None else T


def best_gc_level(
    model: StragglerModel,
    workers: int,
    T=None,
    seed: int = 0,
    samples: int = 20_000,
    deadline=None,
    tolerate: int = 0,
    objective: str = "runtime",
) -> int:
    """Classic GC's best level s ≥ ``tolerate``. For the runtime: exact argmin of (s+1) E[T_(N-s)]
    for i.i.d. laws with finite moments, else chosen on common draws ``T`` (drawn with ``seed``
    when not given). For ``objective="deadline"``: the highest P(τ ≤ deadline) on common draws."""
    by_probability = objective == "deadline"
    if T is None and model.iid and model.full_prob == 0 and not by_probability:
        means = model.order_stat_mean(workers)[::-1] * (np.arange(workers) + 1.0)
        if np.all(np.isfinite(means)):
            return tolerate + int(np.argmin(means[tolerate:]))
    if T is None and has_fixed_cost(model):  # (s+1) units of work cost a + b (s+1): on draws of (a, b)
        a, b = model.sample_parts(samples, workers, streams.rng(seed, streams.COMMON_DRAWS))
        runs = np.stack([classic_gc(s).affine_samples(a, b) for s in range(workers)], axis=1)
        return tolerate + _pick(runs[:, tolerate:], deadline, by_probability)
    Td = descending(_common_draws(model, workers, T, seed, samples))
    return tolerate + _pick((Td * (np.arange(workers) + 1.0))[:, tolerate:], deadline, by_probability)


def best_ucmmc_r(
    model: StragglerModel, workers: int, T=None, seed: int = 0, samples: int = 20_000, deadline=None
) -> int:
    """UC-MMC's best r on common draws (Monte Carlo: its runtime depends on who is slow)."""
    if T is None and has_fixed_cost(model):
        a, b = model.sample_parts(samples, workers, streams.rng(seed, streams.COMMON_DRAWS))
        return _pick(ucmmc_all_r(b, workers, fixed=a), deadline) + 1
    return _pick(ucmmc_all_r(_common_draws(model, workers, T, seed, samples), workers), deadline) + 1


@dataclass(frozen=True)
class CompareInputs:
    """The arguments a comparison was made from (validated)."""

    model: object
    workers: int
    coords: int
    deadline: float | None
    samples: int
    seed: int
    alpha: float
    method: str

    @classmethod
    def checked(cls, model, workers, coords, deadline, samples, seed, alpha, method) -> "CompareInputs":
        """The arguments of :func:`compare` (and ``compare_links``), each validated by name."""
        model = V.law(model)
        return cls(
            model,
            model.check_workers(workers),
            V.coords(coords),
            None if deadline is None else V.positive("deadline", deadline),
            V.integer("samples", samples, minimum=2),
            V.integer("seed", seed, minimum=0),
            V.positive("alpha", alpha),
            method,
        )

    @property
    def objective(self) -> str:
        """What every tunable row is tuned for: P(τ ≤ deadline) when a deadline is given."""
        return "deadline" if self.deadline is not None else "runtime"


@dataclass(frozen=True)
class PeerResult:
    """One row of a comparison: a scheme, its parameters and upload, and its :class:`Evaluation`."""

    name: str
    evaluation: Evaluation
    upload_per_worker: int | None
    parameters: dict
    exact_gradient: bool
    inputs: CompareInputs
    tuned_for: str = "-"  #: "runtime" (E[τ]), "deadline" (P(τ ≤ t)), "given" or "-" (nothing to tune)
    upload_time: float | None = None  #: time a worker's link is busy per iteration (λ per message + upload/B)
    links: object = None  #: the network (``bcgc.links.Links``); None: free communication

    expected_runtime = property(lambda self: self.evaluation.expected_runtime)
    expected_runtime_stderr = property(lambda self: self.evaluation.expected_runtime_stderr)
    completion_probability = property(lambda self: self.evaluation.completion_probability)
    completion_probability_stderr = property(lambda self: self.evaluation.completion_probability_stderr)


def compare(
    model: StragglerModel,
    workers: int,
    coords: int,
    deadline: float | None = None,
    samples: int = 100_000,
    seed: int = 0,
    bcgc_blocks=None,
    alpha: float = 6.0,
    method: str = "auto",
    bcgc_subset_sizes=None,
    bandwidth: float = float("inf"),
    latency: float = 0.0,
    ingress: float | None = None,
    mm: bool = False,
) -> list[PeerResult]:
    """Every peer (docs/peers.md) and BCGC, side by side (expected runtime, P(τ ≤ deadline), upload).

    Parameters (GC's level, Tandon's level, UC-MMC's r) are chosen by the lowest mean on one set of
    ``samples`` common draws — by completion probability instead when E[τ] is infinite (full
    stragglers). Chosen schemes of the order-statistic family are then evaluated exactly for i.i.d.
    named laws (``method``: auto, exact or monte-carlo, as in :func:`bcgc.analysis.evaluate`); the
    rest keep their Monte Carlo estimate and stderr.
    ``bcgc_blocks``: the BCGC design to show (default: ``design(..., method="optimal")``, with its
    data allocation); ``bcgc_subset_sizes`` its subset sizes (None: equal). Under a law with a fixed
    cost every scheme is evaluated under a + b·w on common draws (:mod:`bcgc.peers.affine`).
    ``bandwidth``, ``latency``, ``ingress``: upload links (``bcgc.links``); anything but free
    communication is evaluated by ``bcgc.peers.compare_links`` (docs/peers.md, "Under upload links").
    ``mm``: add the ``bcgc_mm`` row (the frontier scheme designed for the same links, ``bcgc.peers.mm``;
    it runs a design search, hence off by default in the library and on in ``bcgc compare``).
    """
    from ..links import links as _links

    net = _links(bandwidth, latency, ingress)
    if not net.free:
        from .compare_links import compare_links

        if bcgc_subset_sizes is not None:
            raise V.InputError(
                "bcgc_subset_sizes: unequal subsets under upload links are not supported; "
                "compare with free communication, or with equal subsets"
            )
        return compare_links(model, workers, coords, net, deadline, samples, seed, bcgc_blocks, alpha, method, mm)
    inputs = CompareInputs.checked(model, workers, coords, deadline, samples, seed, alpha, method)
    model, workers = inputs.model, inputs.workers
    exact = use_exact(model, workers, method)
    V.memory(
        f"comparing on {inputs.samples} common draws of {workers} workers",
        5.0 * inputs.samples * workers,
        "lower --samples or --workers",
    )
    tuned = {"bcgc": "given" if bcgc_blocks is not None else inputs.objective}
    if bcgc_blocks is None:
        bcgc_blocks, bcgc_subset_sizes = _default_design(inputs)
    bcgc_blocks = V.blocks(bcgc_blocks, workers, inputs.coords)
    sizes = unequal_sizes(bcgc_subset_sizes, workers)  # equal ones: formula (2), today's numbers
    if has_fixed_cost(model):
        from . import affine

        return [
            PeerResult(
                name,
                ev,
                upload,
                params,
                exact_grad,
                inputs,
                tuned.get(name, inputs.objective if name in _TUNED else "-"),
            )
            for name, ev, upload, params, exact_grad in affine.affine_rows(inputs, bcgc_blocks, sizes)
        ]
    return _rows(inputs, bcgc_blocks, sizes, exact, tuned, mm)


def _rows(inputs: CompareInputs, bcgc_blocks, sizes, exact: bool, tuned: dict, mm: bool) -> list[PeerResult]:
    """Every scheme on one set of common draws (free communication, no fixed cost)."""
    model, workers, method = inputs.model, inputs.workers, inputs.method
    out = []
    T = _common_draws(model, workers, None, inputs.seed, inputs.samples)
    Td = descending(T)
    for name, rt, upload, params, exact_grad in _schemes(inputs, bcgc_blocks, T, Td, exact):
        if name == "bcgc" and sizes is not None:  # unequal subsets: the general model on the same draws
            rt = general_runtime(bcgc_blocks, np.zeros_like(T), T, sizes)
            params = {**params, "subset_sizes": sizes.tolist()}
        if isinstance(rt, OrderStatMax) and exact:
            ev = evaluate_runtime(
                model,
                workers,
                rt,
                inputs.deadline,
                method,
                inputs.samples,
                streams.rng(inputs.seed, streams.EVALUATION),
            )
        else:
            ev = summarize(rt.samples(Td) if isinstance(rt, OrderStatMax) else rt, inputs.deadline)
        tuned_for = tuned.get(name, inputs.objective if name in _TUNED else "-")
        out.append(PeerResult(name, ev, upload, params, exact_grad, inputs, tuned_for, None if upload is None else 0.0))
    if mm:
        from ..links import FREE
        from .mm import mm_row

        out += [r for r in [mm_row(inputs, FREE, bcgc_blocks, np.zeros_like(T), T)] if r is not None]
    return out


def _default_design(inputs: CompareInputs) -> np.ndarray:
    from ..design import design  # late import: design sits above analysis, like peers

    full = inputs.model.full_prob > 0
    if full and inputs.deadline is None:
        raise V.InputError("with full stragglers every expected runtime is inf: give a deadline")
    r = design(
        inputs.model,
        inputs.workers,
        inputs.coords,
        objective=inputs.objective,
        deadline=inputs.deadline,
        seed=inputs.seed,
    )
    return r.blocks, r.subset_sizes


#: rows whose parameter compare() chooses (by E[τ], or by P(τ ≤ t) with a deadline)
_TUNED = ("gc_best", "tandon_partial", "ucmmc_best")  # ignore_stragglers follows gc_best's level


def _most_likely(candidates, model, workers, Td, deadline, exact) -> int:
    """Index of the candidate runtime with the highest P(τ ≤ deadline): exact for i.i.d. named laws,
    else on the common draws (ties: the first, i.e. the lowest level)."""
    if exact:
        p = [completion_probability_exact(model, workers, rt, deadline)[0][0] for rt in candidates]
    else:
        p = [np.mean(rt.samples(Td) <= deadline) for rt in candidates]
    return int(np.argmax(p))


def _schemes(inputs: CompareInputs, bcgc_blocks, T, Td, exact):
    """(name, runtime, upload, parameters, exact gradient) of every scheme. Parameters are tuned for
    the comparison's objective: the lowest E[τ], or with a deadline the highest P(τ ≤ t)."""
    L, workers, deadline = inputs.coords, inputs.workers, inputs.deadline
    uc = ucmmc_all_r(T, workers)
    if deadline is None:
        gc_s = best_gc_level(inputs.model, workers, T)
        tandon_s = _pick(tandon_all_levels(Td, inputs.alpha), None)
    else:
        levels = range(workers)
        gc_s = _most_likely([classic_gc(s) for s in levels], inputs.model, workers, Td, deadline, exact)
        tandon_s = _most_likely(
            [tandon_partial(s, inputs.alpha) for s in levels], inputs.model, workers, Td, deadline, exact
        )
    uc_r = _pick(uc, deadline, by_probability=deadline is not None) + 1
    rows = [
        ("bcgc", OrderStatMax.from_blocks(bcgc_blocks), L, {"blocks": bcgc_blocks.tolist()}, True),
        ("uncoded", uncoded(), L, {}, True),
        ("gc_best", classic_gc(gc_s), L, {"level": gc_s}, True),
        ("tandon_partial", tandon_partial(tandon_s, inputs.alpha), L, {"level": tandon_s, "alpha": inputs.alpha}, True),
    ]
    for name, layers in (("ferdinand_r_L", L), ("ferdinand_r_L2", L // 2)):
        if layers >= 1 and L <= layers * workers:
            x = ferdinand_blocks(workers, L, layers)
            rows.append((name, OrderStatMax.from_blocks(x), L, {"layers": layers, "blocks": x.tolist()}, True))
    rows.append(("ucmmc_best", uc[:, uc_r - 1], uc_r * L, {"r": uc_r}, True))
    rows.append(("ignore_stragglers", ignore_stragglers(gc_s), L, {"level": gc_s}, gc_s == 0))  # s = 0 waits for all
    rows.append(("oracle", oracle_samples(T), None, {}, True))
    return rows
