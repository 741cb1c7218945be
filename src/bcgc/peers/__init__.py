"""Peer schemes evaluated on the same footing as BCGC (docs/peers.md): :func:`compare`.

Every scheme of the registry (``bcgc.schemes``: BCGC, uncoded, classic GC, Tandon's partial variant,
Ferdinand & Draper, UC-MMC, ignore-stragglers, the oracle bound, and a user's own) is evaluated on ONE
set of common draws (a, b) — common random numbers — under the comparison's setting: free links
(formula (2)), a fixed cost (the general model) or upload links. Each tunable scheme chooses its
parameter on those draws (the lowest mean, or the highest P(τ ≤ deadline) with a deadline); schemes of
formula (2)'s family are then evaluated exactly for i.i.d. named laws (and, with per-worker links, a
one-message scheme exactly as its free τ shifted by λ + L/B); the rest keep their Monte Carlo estimate
and stderr. The draws are public (:func:`common_draws`) so a scheme of one's own is judged on them too.

Upload per worker is counted in values per iteration (L for every scheme that sends one value per
coordinate; r·L for UC-MMC, which sends a full gradient per finished subset). :mod:`.holdout`:
designed and tuned on a trace's first rows, evaluated on the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .. import _validate as V
from .. import progress, streams
from .. import schemes as registry
from ..analysis import Evaluation, completion_probability_exact, evaluate_runtime, summarize, tail_checked, use_exact
from ..design import design
from ..design.mm_design import design_mm
from ..schemes import Context
from ..schemes.split import speed_split
from ..stragglers import StragglerModel, as_law
from ..timing import Links, as_order, unequal_sizes
from ..timing import links as make_links

__all__ = ["CompareInputs", "PeerResult", "compare", "common_draws", "MM_COMPARE_EVALS"]

#: sample-objective evaluations of bcgc_mm's design search inside ``compare`` (``design_mm`` takes
#: more when asked)
MM_COMPARE_EVALS = 1000


def common_draws(model, workers: int, samples: int, seed: int):
    """The common draws (a, b) of a comparison, shape (samples, N) each (a = 0, b = T for a law
    without a fixed cost): every row of :func:`compare` is evaluated on them."""
    return model.sample_parts(samples, workers, streams.rng(seed, streams.COMMON_DRAWS))


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
        """The arguments of :func:`compare`, each validated by name."""
        model = as_law(model)
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
    links: object = None  #: the network (``bcgc.timing.links.Links``); None: free communication
    #: the parameters as tuned (``parameters`` is what rows show): a held-out evaluation re-runs them
    tuned: dict = field(default=None, repr=False, compare=False)

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
    equal_subsets: bool = False,
    work_order=None,
) -> list[PeerResult]:
    """Every registered scheme (docs/peers.md) side by side: E[τ], P(τ ≤ deadline), upload.

    ``bcgc_blocks``: the BCGC design to show (default: ``design(..., method="optimal")`` with its data
    allocation, communication-aware under links); ``bcgc_subset_sizes`` its subset sizes (None:
    equal). ``bandwidth``, ``latency``, ``ingress``: upload links (``bcgc.timing.links``); with a
    fixed cost every scheme follows a + b·w on the common draws. ``mm``: add the ``bcgc_mm`` row (the
    frontier scheme designed for the same links; a design search, hence off by default in the
    library and on in ``bcgc compare``). When BCGC's design gives workers unequal data, uncoded and GC
    also appear on a speed-proportional split (``uncoded_split``, ``gc_split``: the fair baselines);
    ``equal_subsets``: keep every subset equal, BCGC's too. ``work_order``: the workers' work order
    (``bcgc.timing.work.WorkOrder``; None: the paper's), under which every scheme is timed and BCGC's
    default design is made (docs/model.md, "The backprop work order"). Tuning and exactness: the
    module docstring.
    """
    order = as_order(work_order)
    net = make_links(bandwidth, latency, ingress)
    if not net.free and bcgc_subset_sizes is not None:
        raise V.InputError(
            "bcgc_subset_sizes: unequal subsets under upload links are not supported; "
            "compare with free communication, or with equal subsets"
        )
    inputs = CompareInputs.checked(model, workers, coords, deadline, samples, seed, alpha, method)
    model, workers = inputs.model, inputs.workers
    if net.free:
        V.memory(
            f"comparing on {inputs.samples} common draws of {workers} workers",
            5.0 * inputs.samples * workers,
            "lower --samples or --workers",
        )
    else:
        V.memory(
            f"comparing on {inputs.samples} common draws of {workers} workers under links",
            8.0 * inputs.samples * workers,
            "lower --samples or --workers",
        )
    given = bcgc_blocks is not None
    if not given:
        bcgc_blocks, bcgc_subset_sizes = _default_design(inputs, net, not equal_subsets, order)
    elif equal_subsets and unequal_sizes(bcgc_subset_sizes, inputs.workers) is not None:
        raise V.InputError("equal_subsets: the given BCGC design has unequal bcgc_subset_sizes; drop one or the other")
    bcgc_blocks = V.blocks(bcgc_blocks, workers, inputs.coords)
    sizes = unequal_sizes(bcgc_subset_sizes, workers)  # equal ones: formula (2), today's numbers
    a, b = common_draws(model, workers, inputs.samples, inputs.seed)
    ctx = Context(
        model,
        workers,
        inputs.coords,
        a,
        b,
        inputs.deadline,
        inputs.alpha,
        net,
        model.has_fixed_cost,
        use_exact(model, workers, method),
        order=order,
    )
    ctx.split = None if sizes is None else speed_split(a, b)
    ctx.most_likely = lambda formulas: _most_likely(formulas, ctx)
    ctx.chosen["bcgc"] = {"blocks": bcgc_blocks.tolist(), **({} if sizes is None else {"subset_sizes": sizes.tolist()})}
    rows = []
    with progress.task("compare", len(registry.schemes())) as step:
        for scheme in registry.schemes():
            step(scheme.name)
            if scheme.name == "bcgc_mm" and not (mm and model.full_prob == 0):
                continue  # full stragglers: the design's objective E[τ] is infinite
            if scheme.name == "bcgc_mm":
                ctx.chosen["bcgc_mm"] = _mm_design(inputs, net, bcgc_blocks)
            if not scheme.applies(ctx):
                continue
            rows.append(_row(scheme, ctx, inputs, given))
    return rows


def _row(scheme, ctx: Context, inputs: CompareInputs, given: bool) -> PeerResult:
    """One scheme tuned and evaluated on the context's draws."""
    params = scheme.tune(ctx, ctx.most_likely)
    ctx.chosen[scheme.name] = params
    tau = scheme.runtime(params, ctx)
    formula = scheme.formula(params, ctx)
    if ctx.mode == "free" and formula is not None and ctx.exact:
        ev = evaluate_runtime(
            ctx.model,
            ctx.workers,
            formula,
            ctx.deadline,
            inputs.method,
            inputs.samples,
            streams.rng(inputs.seed, streams.EVALUATION),
        )
    elif (
        ctx.mode == "links"
        and scheme.one_message
        and formula is not None
        and ctx.exact
        and ctx.net.per_worker
        and not np.any(ctx.fixed)
    ):
        ev = _shifted_exact(inputs, ctx.net, formula)
    else:
        ev = tail_checked(summarize(tau, ctx.deadline), ctx.model, ctx.workers, scheme.tolerance(params, ctx))
    if scheme.name == "bcgc":
        tuned = "given" if given else inputs.objective
    elif scheme.name == "bcgc_mm":
        tuned = "runtime"
    else:
        tuned = inputs.objective if scheme.tunable else "-"
    upload = scheme.upload(params, ctx.coords)
    shown = {k: v for k, v in params.items() if k != "mm_design"}
    upload_time = None if upload is None else ctx.net.upload_time(float(upload), int(scheme.messages(params, ctx)))
    return PeerResult(
        scheme.label,
        ev,
        upload,
        shown,
        scheme.exact_gradient(params),
        inputs,
        tuned,
        upload_time,
        None if ctx.net.free else ctx.net,
        params,
    )


def _default_design(inputs: CompareInputs, net: Links, allocate: bool = True, order=None):
    """BCGC's design for the comparison: optimal (with its allocation), communication-aware under links."""
    if not net.free:
        if order is not None and not order.is_paper:
            raise V.InputError(
                "work_order: BCGC's design under the backprop order is for free links; drop the links, or give the BCGC blocks"
            )
        if inputs.deadline is not None:
            raise V.InputError(
                "a deadline under links is not supported: the deadline design does not model "
                "uploads; drop the deadline, or give the BCGC blocks"
            )
        r = design(
            inputs.model,
            inputs.workers,
            inputs.coords,
            seed=inputs.seed,
            bandwidth=net.bandwidth,
            latency=net.latency,
            ingress=net.ingress,
        )
        return r.blocks, None
    if inputs.model.full_prob > 0 and inputs.deadline is None:
        raise V.InputError("with full stragglers every expected runtime is inf: give a deadline")
    r = design(
        inputs.model,
        inputs.workers,
        inputs.coords,
        objective=inputs.objective,
        deadline=inputs.deadline,
        seed=inputs.seed,
        allocate=allocate,
        work_order=None if order is None or order.is_paper else order,
    )
    return r.blocks, r.subset_sizes


def _mm_design(inputs: CompareInputs, net: Links, bcgc_blocks) -> dict:
    """bcgc_mm designed under the comparison's links on its own seeded streams (independent of the
    common draws, so the row's E[τ] is not biased by the search); it minimises E[τ]."""
    res = design_mm(
        inputs.model,
        inputs.workers,
        inputs.coords,
        bandwidth=net.bandwidth,
        latency=net.latency,
        ingress=net.ingress,
        seed=inputs.seed,
        eval_samples=10,
        max_evals=MM_COMPARE_EVALS,
        bcgc_blocks=np.asarray(bcgc_blocks),
    )
    return {
        "design": res.design.describe(),
        "messages": res.messages_per_worker,
        "blocks": [[int(x.coords), x.redundancy, x.mode] for x in res.design.blocks],
        "mm_design": res.design,
    }


def _most_likely(formulas, ctx: Context) -> int:
    """Index of the formula with the highest P(τ ≤ deadline): exact for i.i.d. named laws, else on the
    common draws (ties: the first, i.e. the lowest level)."""
    if ctx.exact:
        p = [completion_probability_exact(ctx.model, ctx.workers, f, ctx.deadline)[0][0] for f in formulas]
    else:
        p = [np.mean(f.samples(ctx.sorted_rate) <= ctx.deadline) for f in formulas]
    return int(np.argmax(p))


def _shifted_exact(inputs: CompareInputs, net: Links, runtime):
    """Exact E[τ] and P(τ ≤ t) of a one-message scheme under per-worker links: its free τ shifted by
    λ + L/B in every realisation."""
    shift = float(net.message_time(inputs.coords))
    t = inputs.deadline
    free_t = None if t is None or t <= shift else t - shift
    ev = evaluate_runtime(
        inputs.model,
        inputs.workers,
        runtime,
        free_t,
        inputs.method,
        inputs.samples,
        streams.rng(inputs.seed, streams.EVALUATION),
    )
    prob = ev.completion_probability if free_t is not None else (None if t is None else 0.0)
    prob_se = ev.completion_probability_stderr if free_t is not None else None
    return replace(
        ev,
        expected_runtime=ev.expected_runtime + shift,
        deadline=t,
        completion_probability=prob,
        completion_probability_stderr=prob_se,
    )
