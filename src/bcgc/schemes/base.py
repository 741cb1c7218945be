"""The scheme protocol (docs/peers.md, "Adding a scheme"): what every scheme — BCGC, its peers, a
user's own — tells the comparison, the simulator and the runtime.

A scheme is one object: its **timing** on common draws (a, b) under free links, a fixed cost or
upload links (``runtime``), its exact form when it is a maximum of order statistics (``formula``:
then ``compare`` evaluates it exactly for i.i.d. named laws), its **upload** per worker and number of
messages, its **tunable parameter** (``candidates``, tuned on the common draws by :meth:`Scheme.tune`),
and, when it can run (``runnable``), the **design** a run uses (``run_design``: a block vector or a
``bcgc.timing.mm.MMDesign``), whose placement, encoding and decoding are those of
:class:`~bcgc.schemes.blocks.BlockScheme` / :class:`~bcgc.schemes.mm_codec.MMScheme`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .._validate import InputError
from ..timing import FREE, PAPER, Links, OrderStatMax, WorkOrder, descending, runtime

__all__ = ["Context", "Scheme", "BlockDesign", "RedesignImpossible", "pick"]


class RedesignImpossible(RuntimeError):
    """No design of this scheme tolerates the dead workers: the run must stop."""


def pick(matrix: np.ndarray, deadline, by_probability: bool = False) -> int:
    """Column with the best objective on common draws: lowest mean, or highest P(τ ≤ deadline)
    when asked for (a deadline objective) or when some runtimes are infinite (full stragglers)."""
    if deadline is not None and (by_probability or not np.all(np.isfinite(matrix))):
        return int(np.argmax(np.mean(matrix <= deadline, axis=0)))
    return int(np.argmin(matrix.mean(axis=0)))


@dataclass
class Context:
    """The common draws a comparison evaluates every scheme on, and its setting.

    ``fixed`` a and ``rate`` b: draws of shape (K, N) (a = 0 and b = T for a law without a fixed
    cost); ``fixed_cost``: the law has one (then every runtime is the general model's); ``net``: the
    upload links; ``exact``: i.i.d. named law whose formula-(2) runtimes are evaluated exactly;
    ``chosen``: the parameters tuned so far, by scheme name (ignore-stragglers follows GC's level);
    ``split``: the data split of the peers that may use one (set when BCGC's design allocates);
    ``order``: the workers' work order every block scheme is timed under (docs/model.md, "The
    backprop work order"; one-message and MM schemes are the same under every order)."""

    model: object
    workers: int
    coords: int
    fixed: np.ndarray
    rate: np.ndarray
    deadline: float | None = None
    alpha: float = 6.0
    net: Links = FREE
    fixed_cost: bool = False
    exact: bool = False
    chosen: dict = field(default_factory=dict)
    #: the speed-proportional data split the peers may use (``schemes.split``); None: equal subsets
    split: np.ndarray | None = None
    #: exact P(τ ≤ t) of formulas, an index (the comparison's; None: tune on the draws)
    most_likely: object = None
    order: WorkOrder = PAPER

    def multi_level_formula_holds(self, blocks) -> bool:
        """Formula (2)'s family times these blocks: the paper's order, or one level (same W)."""
        return self.order.is_paper or np.count_nonzero(blocks) <= 1

    @cached_property
    def sorted_rate(self) -> np.ndarray:
        """b sorted descending per draw: column s holds T_(N−s) (formula (2))."""
        return descending(self.rate)

    @property
    def mode(self) -> str:
        """ "free" (formula (2)'s setting), "fixed" (a fixed cost, free links) or "links"."""
        return "links" if not self.net.free else ("fixed" if self.fixed_cost else "free")

    @property
    def by_probability(self) -> bool:
        return self.deadline is not None

    def of_formula(self, formula: OrderStatMax) -> np.ndarray:
        """τ of a maximum of order statistics on these draws (free links): formula (2), or with a
        fixed cost each term the time N − m workers have done its work."""
        if self.fixed_cost:
            return formula.affine_samples(self.fixed, self.rate)
        return formula.samples(self.sorted_rate)


class Scheme:
    """Base class of every scheme; a subclass sets ``name`` and overrides what differs.

    ``name``: the registry's key (``train --scheme``, ``simulate --scheme``); ``label``: its row in
    ``compare`` (default: the name); ``tunable``: it has a parameter ``tune`` chooses; ``runnable``:
    ``run_design`` gives a design that the simulator and the runtime can run; ``one_message``: a
    single message of L per worker (its E[τ] under per-worker links is the free one plus λ + L/B)."""

    name: str = ""
    label: str = ""
    tunable: bool = False
    runnable: bool = False
    one_message: bool = False

    def __init__(self):
        if not self.name:
            raise InputError(f"{type(self).__name__}.name must be a non-empty string")
        self.label = self.label or self.name

    def applies(self, ctx: Context) -> bool:
        """Whether the scheme exists for this N and L (Ferdinand & Draper needs L ≤ r·N)."""
        return True

    def candidates(self, ctx: Context) -> list | None:
        """The parameter values ``tune`` chooses among (None: nothing to tune)."""
        return None

    def params(self, ctx: Context, value) -> dict:
        """The parameters of candidate ``value`` (or of the untuned scheme for None), as rows show them."""
        return {}

    def formula(self, params: dict, ctx: Context) -> OrderStatMax | None:
        """τ = max_i coef_i · T_(N − m_i) when the scheme is of formula (2)'s family, else None."""
        return None

    def tolerance(self, params: dict, ctx: Context) -> int | None:
        """The fewest stragglers any part of the gradient tolerates (the least level m: some piece
        waits for N − m workers); the law decides from it whether E[τ] is finite
        (``StragglerModel.mean_is_finite``). None: no such check. Default: the formula's least level."""
        formula = self.formula(params, ctx)
        return None if formula is None else int(np.min(formula.levels))

    def runtime(self, params: dict, ctx: Context) -> np.ndarray:
        """τ on the context's draws, shape (K,). Default: the formula (free links only)."""
        formula = self.formula(params, ctx)
        if formula is None or not ctx.net.free:
            raise NotImplementedError(f"scheme {self.name!r} has no runtime for {ctx.mode!r}")
        return ctx.of_formula(formula)

    def runtimes(self, ctx: Context, values) -> np.ndarray:
        """τ for every candidate, shape (K, len(values)): override to share work between them."""
        return np.stack([self.runtime(self.params(ctx, v), ctx) for v in values], axis=1)

    def upload(self, params: dict, coords: int) -> int | None:
        """Values each worker uploads per iteration (None: the scheme sends nothing)."""
        return coords

    def messages(self, params: dict, ctx: Context) -> int:
        """Messages per worker and iteration (each pays the latency λ)."""
        return 1

    def exact_gradient(self, params: dict) -> bool:
        return True

    def tune(self, ctx: Context, most_likely=None) -> dict:
        """The parameters with the best objective on the common draws: the lowest mean, or with a
        deadline the highest P(τ ≤ t) — exact through ``most_likely(formulas)`` (an index) when the
        comparison can evaluate the formulas exactly."""
        values = self.candidates(ctx)
        if values is None:
            return self.params(ctx, None)
        if most_likely is not None and ctx.by_probability and ctx.mode == "free":
            formulas = [self.formula(self.params(ctx, v), ctx) for v in values]
            if all(f is not None for f in formulas):
                return self.params(ctx, values[most_likely(formulas)])
        matrix = self.runtimes(ctx, values)
        if not ctx.by_probability and ctx.model.full_prob == 0:
            # a sample mean is finite even where E[τ] diverges: the law rules those candidates out
            for j, v in enumerate(values):
                level = self.tolerance(self.params(ctx, v), ctx)
                if level is not None and not ctx.model.mean_is_finite(ctx.workers, level)[0]:
                    matrix[:, j] = np.inf
        return self.params(ctx, values[pick(matrix, ctx.deadline, ctx.by_probability)])

    def run_design(self, model, workers: int, coords: int, tolerate: int, policy):
        """The design a run of this scheme uses (block vector or MMDesign), tolerating ``tolerate``
        full stragglers; raise :class:`RedesignImpossible` when it cannot."""
        raise NotImplementedError(f"scheme {self.name!r} does not run (compare only)")


class BlockDesign(Scheme):
    """A scheme whose design is a BCGC block vector x (BCGC, Ferdinand & Draper, single-level codes,
    a user's own): its timing is ``bcgc.timing.runtime`` and it runs on ``BlockScheme``. A subclass
    gives :meth:`blocks`."""

    runnable = True

    def blocks(self, params: dict, ctx: Context) -> np.ndarray:
        raise NotImplementedError

    def params(self, ctx, value) -> dict:
        return {"blocks": self.blocks({}, ctx).tolist()}

    def formula(self, params, ctx):
        if params.get("subset_sizes") is not None or not ctx.multi_level_formula_holds(params["blocks"]):
            return None
        return OrderStatMax.from_blocks(np.asarray(params["blocks"], dtype=float))

    def runtime(self, params, ctx):
        free = ctx.mode == "free"
        return runtime(
            np.asarray(params["blocks"]),
            ctx.rate,
            ctx.fixed if ctx.fixed_cost else None,
            params.get("subset_sizes"),
            ctx.net,
            sorted_rate=ctx.sorted_rate if free else None,
            order=ctx.order,
        )

    def messages(self, params, ctx) -> int:
        return int(np.count_nonzero(params["blocks"]))

    def tolerance(self, params, ctx) -> int:
        return int(np.flatnonzero(np.asarray(params["blocks"]) > 0)[0])

    def run_design(self, model, workers, coords, tolerate, policy):
        ctx = Context(model, workers, coords, np.zeros((0, workers)), np.zeros((0, workers)))
        x = np.asarray(self.blocks({}, ctx), dtype=np.int64)
        level = int(np.flatnonzero(x)[0])
        if level < tolerate:
            raise RedesignImpossible(
                f"scheme {self.name} decodes with at most {level} missing worker(s), {tolerate} must be tolerated"
            )
        return x
