"""Coded gradient descent in virtual time: the fast, deterministic twin of the distributed runtime.

One process runs real gradient descent on a real data set. Each iteration draws T from a straggler
model (seeded per iteration, the same draws for every scheme), every worker's message time follows
linear progress (docs/model.md, straggler laws), and the master decodes each block from the first
N - s arrivals with the same :class:`~bcgc.scheme.BlockScheme` the distributed runtime uses. Virtual
time advances by the time the last block became decodable (the events), and ``predicted_times``
holds formula (2) for the same draw: the two must agree (the tests check it). A draw with more full
stragglers than the scheme tolerates is redrawn, as in the runtime (``streams.decodable_times``).

Schemes with an exact data path: ``bcgc`` (designed blocks), ``gc`` (classic GC at its best level),
``uncoded`` (block 0 only), ``ucmmc`` (UC-MMC at its best r: the first full gradient of each subset).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _validate as V
from . import streams
from .analysis import general_runtime, needs_general
from .model import block_runtime
from .peers import best_ucmmc_r, ucmmc_all_r
from .policy import BLOCK_SCHEMES, DesignPolicy, fixed_designs
from .problems import with_subset_sizes
from .scheme import BlockScheme
from .stragglers import StragglerModel

__all__ = ["SimulationResult", "simulate", "simulate_all", "SCHEMES"]

SCHEMES = (*BLOCK_SCHEMES, "ucmmc")


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
) -> SimulationResult:
    """Run ``iterations`` steps of coded gradient descent in virtual time (see module doc).

    ``blocks`` overrides the design of ``bcgc``/``gc``/``uncoded`` (default: ``policy``, itself by
    default the optimal BCGC design, with its data allocation, or the peer at its best level);
    ``subset_sizes`` gives the allocation of given ``blocks`` (None: equal subsets); ``r`` overrides
    UC-MMC's r. With unequal subsets the problem's rows are split by the sizes, and with a fixed
    cost or unequal subsets time follows the general model (docs/model.md).
    """
    if scheme not in SCHEMES:
        raise V.InputError(f"scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    iterations = V.integer("iterations", iterations, minimum=1)
    n, L = problem.workers, problem.L
    model = V.law(model)
    model.check_workers(n)
    lr = problem.step_size if step_size is None else V.positive("step_size", step_size)
    params: dict = {}
    if scheme == "ucmmc":
        r = best_ucmmc_r(model, n, seed=seed) if r is None else V.integer("r", r, minimum=1, maximum=n)
        params["r"] = r
        bs = None
    else:
        if blocks is None:
            policy = policy if policy is not None else DesignPolicy(scheme, seed=seed)
            blocks, subset_sizes = policy.plan(model, n, L)
        bs = BlockScheme(blocks, n, kind=code_kind, seed=seed, subset_sizes=subset_sizes)
        params["blocks"] = bs.blocks.tolist()
        params["codes"] = {int(s): c.kind for s, c in bs.codes.items()}
        if bs.subset_sizes is not None:
            params["subset_sizes"] = bs.subset_sizes.tolist()
            problem = with_subset_sizes(problem, bs.subset_sizes)
    general = needs_general(model, None if bs is None else bs.subset_sizes)
    runtime, step = (_general_timing if general else _timing)(bs, r)
    if general:
        draws = [streams.decodable_parts(model, n, seed, i, runtime) for i in range(iterations)]
    else:
        draws = [streams.decodable_times(model, n, seed, i, runtime) for i in range(iterations)]

    theta = problem.init()
    losses, times, its, pred, errs = [problem.loss(theta)], [0.0], [], [], []
    for draw, _ in draws:
        G = problem.subset_gradients(theta)  # ∂f_k at θ for every subset k
        exact = G.sum(axis=0)
        g, t_iter = step(G, draw)
        pred.append(runtime(*draw) if general else runtime(draw))
        norm = np.linalg.norm(exact)
        errs.append(float(np.linalg.norm(g - exact) / norm) if norm > 0 else 0.0)
        theta = theta - lr * g
        its.append(t_iter)
        times.append(times[-1] + t_iter)
        losses.append(problem.loss(theta))
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
    )


def _timing(bs, r):
    """(runtime(T), step(G, T) -> (gradient, time)) under formula (2): the scheme's events and (2)."""
    if bs is not None:

        def runtime(T):
            return float(block_runtime(bs.blocks, T[None, :])[0])

        def step(G, T):
            g, block_times, _ = bs.coded_gradient(G, T)
            return g, max(block_times.values())

        return runtime, step

    def runtime(T):
        return float(ucmmc_all_r(T[None, :], r)[0, -1])

    # UC-MMC: subset k is first delivered by worker argmin_j (j+1) T_{k-j}; the draw is decodable
    # (every subset delivered), so the sum of those exact gradients arrives (order of summation aside)
    return runtime, lambda G, T: (G.sum(axis=0), runtime(T))


def _general_timing(bs, r):
    """The same under the general model, on draws (a, b): the scheme decodes each block from its own
    first N - s ready times; the prediction is :func:`bcgc.analysis.general_runtime`."""
    if bs is not None:

        def runtime(a, b):
            return float(general_runtime(bs.blocks, a[None, :], b[None, :], bs.subset_sizes)[0])

        def step(G, draw):
            g, block_times, _ = bs.coded_gradient_at(G, bs.ready_times(*draw))
            return g, max(block_times.values())

        return runtime, step

    def runtime(a, b):
        return float(ucmmc_all_r(b[None, :], r, fixed=a[None, :])[0, -1])

    return runtime, lambda G, draw: (G.sum(axis=0), runtime(*draw))


def simulate_all(
    problem, model, schemes=SCHEMES, iterations: int = 50, seed: int = 0, design_args=None, designs=None, **kw
):
    """Every requested scheme on the same draws and the same data (a fair comparison).

    ``design_args``: the design arguments of every block scheme's :class:`DesignPolicy` (objective,
    deadline, method, tolerate, allowed_levels, samples, allocate); uncoded ignores a tolerance it cannot meet
    only if none is asked for. ``designs``: fixed (blocks, subset sizes or None) by scheme name
    (e.g. a design document's for ``bcgc``), used instead of designing. Every policy designs before any scheme runs."""
    args = dict(design_args or {})
    model = V.law(model)
    fixed = fixed_designs(designs, problem.workers, problem.L)
    policies = {s: DesignPolicy(s, seed=seed, **args) for s in schemes if s in BLOCK_SCHEMES and s not in fixed}
    plans = {**{s: p.plan(model, problem.workers, problem.L) for s, p in policies.items()}, **fixed}
    return [
        simulate(
            problem,
            model,
            s,
            iterations=iterations,
            seed=seed,
            blocks=plans.get(s, (None,))[0],
            subset_sizes=plans.get(s, (None, None))[1],
            **kw,
        )
        for s in schemes
    ]
