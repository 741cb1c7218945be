"""Coded gradient descent in virtual time: the fast, deterministic twin of the distributed runtime.

One process runs real gradient descent on a real data set. Each iteration draws T from a straggler
model (seeded per iteration, the same draws for every scheme), every worker's message time follows
linear progress (docs/model.md, straggler laws), and the master decodes each block from the first
N - s arrivals with the same :class:`~bcgc.schemes.blocks.BlockScheme` the distributed runtime uses. Virtual
time advances by the time the last block became decodable (the events), and ``predicted_times``
holds formula (2) for the same draw: the two must agree (the tests check it). A draw with more full
stragglers than the scheme tolerates is redrawn, as in the runtime (``streams.decodable_times``).

Every runnable scheme of the registry (``bcgc.schemes``) runs, designed by the policy ``train`` uses,
and decoded as the runtime decodes: block schemes by ``BlockScheme``, bcgc_mm and UC-MMC (designs of
``bcgc.timing.mm``) by ``MMScheme.decode`` from each message's ready time (the general model).
Under the backprop work order (docs/model.md, "The backprop work order") block schemes follow the
general model with that order's W; MM schemes are the same under every order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _validate as V
from . import streams
from .analysis import needs_general
from .optim import as_optimizer, fresh_optimizer
from .policy import DesignPolicy, allowed_schemes, fixed_designs, runtime_schemes
from .problems import with_subset_sizes
from .problems.models import metrics_of, set_iteration
from .schemes import MMScheme, make_scheme
from .stragglers import StragglerModel, as_law
from .timing import mm
from .timing import runtime as timing_runtime
from .timing.mm import ucmmc
from .timing.orderstat import block_runtime
from .timing.work import as_order

__all__ = ["SimulationResult", "simulate", "simulate_all"]


@dataclass(frozen=True)
class SimulationResult:
    """Loss against virtual time for one scheme. ``losses[i]`` is the loss after i iterations."""

    name: str
    iterations: int
    losses: np.ndarray
    times: np.ndarray  # cumulative virtual time after i iterations (times[0] = 0)
    iteration_times: np.ndarray
    predicted_times: np.ndarray  # equation (2) (or the peer's formula) for the same draws
    gradient_errors: np.ndarray  # relative error of the applied gradient vs the uncoded one
    draws: np.ndarray  # T of every iteration (streams.decodable_times), shape (iterations, N)
    retries: int  # draws redrawn because too many workers never answered
    parameters: dict = field(default_factory=dict)
    fixed_costs: np.ndarray | None = None  # a of every iteration under the general model (then draws = b)
    theta: np.ndarray | None = None  # the parameters after the last iteration
    metrics: tuple = ()  # problem.metrics(θ) after each iteration ({} for a problem without metrics)

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])

    @property
    def virtual_time(self) -> float:
        return float(self.times[-1])

    @property
    def max_gradient_error(self) -> float:
        return float(self.gradient_errors.max()) if self.gradient_errors.size else 0.0


def simulate(
    problem,
    model: StragglerModel,
    scheme: str = "bcgc",
    iterations: int = 50,
    blocks=None,
    r: int | None = None,
    step_size: float | None = None,
    seed: int = 0,
    code_kind: str = "auto",
    policy: DesignPolicy | None = None,
    subset_sizes=None,
    work_order=None,
    optimizer=None,
) -> SimulationResult:
    """Run ``iterations`` steps of coded gradient descent in virtual time (see module doc).

    ``scheme``: any runnable scheme of the registry (``bcgc.schemes.runnable()``). ``blocks``
    overrides the design of a block scheme (default: ``policy``, itself by default the one ``train``
    uses: the optimal BCGC design with its data allocation, or the peer's own design);
    ``subset_sizes`` gives the allocation of given ``blocks`` (None: equal subsets); ``r`` overrides
    UC-MMC's r. With unequal subsets the problem's rows are split by the sizes, and with a fixed
    cost or unequal subsets time follows the general model (docs/model.md). ``optimizer``: the update
    rule (:mod:`bcgc.optim`; default GradientDescent(``step_size``, else the problem's)); the problem
    is told each iteration (``set_iteration``) before its gradients, and its ``metrics`` are recorded.
    ``work_order``: the workers' work order (None: the paper's; the policy's when it has one), under
    which block schemes are timed (and BCGC designed, by the default policy).
    """
    if scheme not in runtime_schemes():
        raise V.InputError(f"scheme must be one of {', '.join(runtime_schemes())}, got {scheme!r}")
    iterations = V.integer("iterations", iterations, minimum=1)
    n, L = problem.workers, problem.L
    model = as_law(model)
    model.check_workers(n)
    if optimizer is not None and step_size is not None:
        raise V.InputError("step_size is the default optimizer's (GradientDescent): give one or the other")
    optimizer = as_optimizer(optimizer, problem.step_size if step_size is None else step_size)
    if r is not None:
        if scheme != "ucmmc":
            raise V.InputError(f"r (UC-MMC's redundancy) applies to the ucmmc scheme only, not {scheme}")
        design = ucmmc(n, L, V.integer("r", r, minimum=1, maximum=n))
    elif blocks is None:
        policy = policy if policy is not None else DesignPolicy(scheme, seed=seed, work_order=work_order)
        work_order = work_order if work_order is not None else policy.work_order
        design, subset_sizes = policy.plan(model, n, L)
    else:
        design = blocks
    codec = make_scheme(design, n, code_kind, seed, subset_sizes)
    params = _parameters(codec)
    if getattr(codec, "subset_sizes", None) is not None:
        problem = with_subset_sizes(problem, codec.subset_sizes)
    order = as_order(work_order)
    general = isinstance(codec, MMScheme) or needs_general(model, getattr(codec, "subset_sizes", None))
    general = general or not order.is_paper
    runtime, step = _general_timing(codec, order) if general else _timing(codec)
    if general:
        draws = [streams.decodable_parts(model, n, seed, i, runtime) for i in range(iterations)]
    else:
        draws = [streams.decodable_times(model, n, seed, i, runtime) for i in range(iterations)]

    theta = problem.init()
    set_iteration(problem, 0)
    losses, times, its, pred, errs, metrics = [problem.loss(theta)], [0.0], [], [], [], []
    for i, (draw, _) in enumerate(draws):
        set_iteration(problem, i)  # as every worker and the master of the runtime
        G = problem.subset_gradients(theta)  # ∂f_k at θ for every subset k
        exact = G.sum(axis=0)
        g, t_iter = step(G, draw)
        pred.append(runtime(*draw) if general else runtime(draw))
        norm = np.linalg.norm(exact)
        errs.append(float(np.linalg.norm(g - exact) / norm) if norm > 0 else 0.0)
        theta = optimizer.step(theta, g, i)
        its.append(t_iter)
        times.append(times[-1] + t_iter)
        losses.append(problem.loss(theta))
        metrics.append(metrics_of(problem, theta))
    T_all = np.vstack([d[1] if general else d for d, _ in draws])
    fixed = np.vstack([d[0] for d, _ in draws]) if general else None
    return SimulationResult(
        scheme,
        iterations,
        np.array(losses),
        np.array(times),
        np.array(its),
        np.array(pred),
        np.array(errs),
        T_all,
        sum(a for _, a in draws),
        params,
        fixed,
        theta,
        tuple(metrics),
    )


def _parameters(codec) -> dict:
    """The design as results show it: blocks and codes (block schemes), or the MMDesign (with UC-MMC's r)."""
    if isinstance(codec, MMScheme):
        blocks = codec.design.blocks
        out = {"design": codec.design.describe(), "messages": codec.design.messages_per_worker}
        if len(blocks) == 1 and blocks[0].mode != "layered" and blocks[0].coords == codec.coords:
            out["r"] = blocks[0].redundancy  # one block of all L: UC-MMC with this r
        return out
    out = {"blocks": codec.blocks.tolist(), "codes": {int(s): c.kind for s, c in codec.codes.items()}}
    if codec.subset_sizes is not None:
        out["subset_sizes"] = codec.subset_sizes.tolist()
    return out


def _timing(bs):
    """(runtime(T), step(G, T) -> (gradient, time)) under formula (2): the scheme's events and (2)."""

    def runtime(T):
        return float(block_runtime(bs.blocks, T[None, :])[0])

    def step(G, T):
        g, block_times, _ = bs.coded_gradient(G, T)
        return g, max(block_times.values())

    return runtime, step


def _general_timing(codec, order=None):
    """The same under the general model, on draws (a, b): a block scheme decodes each block from its
    own first N - s ready times, an MM scheme (bcgc_mm, UC-MMC) every block by its rule from the
    messages' ready times (``MMScheme.decode``, the runtime's decoder); the prediction is
    ``bcgc.timing``'s."""
    if isinstance(codec, MMScheme):

        def runtime(a, b):
            return float(mm.runtime_samples(codec.design, a[None, :], b[None, :])[0])

        def step(G, draw):
            arrival = mm.message_arrivals(codec.design, draw[0][None, :], draw[1][None, :])[0]
            messages = [codec.worker_messages(w, lambda k, coords: G[k, coords]) for w in range(codec.workers)]
            g, block_times = codec.decode(arrival, messages)
            return g, float(block_times.max())

        return runtime, step

    def runtime(a, b):
        return float(timing_runtime(codec.blocks, b[None, :], a[None, :], codec.subset_sizes, order=order)[0])

    def step(G, draw):
        g, block_times, _ = codec.coded_gradient_at(G, codec.ready_times(*draw, order))
        return g, max(block_times.values())

    return runtime, step


def simulate_all(
    problem,
    model,
    schemes=None,
    iterations: int = 50,
    seed: int = 0,
    design_args=None,
    designs=None,
    work_order=None,
    optimizer=None,
    **kw,
):
    """Every requested scheme on the same draws and the same data (a fair comparison).

    ``schemes``: names of runnable schemes (None: every one the design arguments allow — bcgc_mm and
    UC-MMC need the runtime objective and the optimal method, bcgc_mm no tolerance, as in ``train``).
    ``design_args``: the design arguments of every scheme's :class:`DesignPolicy` (objective,
    deadline, method, tolerate, allowed_levels, samples, allocate). ``designs``: fixed (blocks, subset
    sizes or None) by scheme name (e.g. a design document's for ``bcgc``), used instead of designing.
    ``work_order``: the workers' work order every scheme is designed for and timed under (None: the
    paper's).
    ``optimizer``: an optimizer (copied for each scheme) or a factory of one. Every policy designs
    before any scheme runs."""
    args = dict(design_args or {})
    model = as_law(model)
    if schemes is None:
        schemes = allowed_schemes(**args)
    fixed = fixed_designs(designs, problem.workers, problem.L)
    plans = {
        s: DesignPolicy(s, seed=seed, work_order=work_order, **args).plan(model, problem.workers, problem.L)
        for s in schemes
        if s not in fixed
    }
    plans.update(fixed)
    return [
        simulate(
            problem,
            model,
            s,
            iterations=iterations,
            seed=seed,
            blocks=plans[s][0],
            subset_sizes=plans[s][1],
            work_order=work_order,
            optimizer=fresh_optimizer(optimizer, len(schemes)),
            **kw,
        )
        for s in schemes
    ]
