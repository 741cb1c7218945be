"""BCGC inside ``torch.distributed``: the coded all-reduce, with no master (docs/torch.md, "Coded
all-reduce").

Decoding is linear. Rank n is worker n of a block design x (``bcgc.schemes.BlockScheme``): it holds
the subsets of its codes' supports and computes its coded block messages m_{n,s} in the design's work
order (``bcgc.runtime.engine.block_partials``: the backprop order of docs/model.md, or the paper's).
Once every rank knows block s's responders F_s (its first N − s finishers, ``bcgc.torch.collective``)
and a_s = ``GradientCode.decoding_vector(F_s)`` (the core decoder), each rank scales its own blocks,

    c_n[block s] = a_s[n] · m_{n,s}   (n ∈ F_s; 0 otherwise),

and ONE all-reduce gives Σ_n c_n = Σ_k ∇f_k on every rank: the gradient plain data parallel (DDP)
computes for the same global batch (Σ_k f_k is the mean loss over it, docs/torch.md). Every rank
then steps its own optimizer on the same gradient, so the parameters stay identical
(:func:`~bcgc.torch.collective.check_identical` checks it bit for bit).

Straggling is emulated as the threads engine does (``bcgc.runtime.engine``): with (a_n, b_n) in the
unit of T, rank n's block s is done at (a_n + b_n · W_n(s)) · unit after the step starts
(``Plan.ready``; the real computation happens inside that time), and a rank asleep in its delay wakes
as soon as the step closes.

A design of level 0 alone (no redundancy: what BCGC's design is with no stragglers) has nothing to
decode and every rank must finish, so on gloo it skips the closure protocol (``fast_path``): one
all-reduce on a gloo group whose timeout is ``stop_timeout``, and on its error the store names the
ranks that did not reach it. It is a fast path, not the protocol's cost at a coded design (s > 0):
benchmarks/allreduce_results.md reports both.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.distributed as dist

from .. import _validate as V
from ..problems.models import set_iteration
from ..runtime.engine import block_partials
from ..schemes.blocks import BlockScheme
from ..schemes.plan import Plan
from .collective import (
    RankTimeout,
    StepStore,
    _delta,
    _reason,
    all_reduce_buckets,
    check_identical,
    flat_grads,
    write_grads,
)
from .problem import TorchProblem

__all__ = ["CodedDataParallel", "DataParallelBase", "default_store"]


def default_store(group=None):
    """The process group's store (torch keeps it private: ``_get_default_store`` for the default group)."""
    if group is not None and group is not dist.group.WORLD:
        raise V.InputError("store must be given for a process group other than the default one")
    return dist.distributed_c10d._get_default_store()


class DataParallelBase:
    """What every data-parallel wrapper of this harness shares: the rank's view of the problem
    (its subsets, the module itself), the group, the exact gradient and the loss of a step."""

    own: list  # the subsets whose gradients this rank sums in plain DDP (its own batch)

    def __init__(self, problem, subsets, group=None, bucket_mb: float = 25.0, reduce_dtype=None):
        if not isinstance(problem, TorchProblem):
            raise V.InputError(f"problem must be a bcgc.torch.TorchProblem, got {type(problem).__name__}")
        if not dist.is_initialized():
            raise V.InputError("torch.distributed must be initialised first (dist.init_process_group)")
        self.group, self.rank, self.world = group, dist.get_rank(group), dist.get_world_size(group)
        self.view = problem.restrict(subsets, share_module=True)
        self.module, self.params, self.offsets = problem.module, self.view.params, self.view.offsets
        self.device, self.dtype = problem.device, reduce_dtype or problem.dtype
        size = torch.tensor([], dtype=self.dtype).element_size()
        self.bucket = max(1, int(V.positive("bucket_mb", bucket_mb) * 2**20 / size))

    def theta(self, t: int) -> np.ndarray:
        """θ as the module holds it, the problem told the iteration."""
        set_iteration(self.view, t)
        return self.view.flatten()

    def exact(self, t: int) -> tuple[torch.Tensor, float]:
        """Plain DDP's gradient and loss at the module's parameters: Σ over ranks of the own subsets'
        ∇f_k and f_k (float64), for checking a step's gradient (outside its timed part)."""
        theta = self.theta(t)
        g = sum(self.view.subset_gradient(theta, k) for k in self.own)
        with torch.no_grad():
            loss = sum(float(self.view.forward(theta, k)) for k in self.own)
        flat = torch.as_tensor(np.append(g, loss), dtype=torch.float64, device=self.device)
        dist.all_reduce(flat, group=self.group)
        return flat[:-1], float(flat[-1])

    def gather(self, values) -> np.ndarray:
        """Every rank's ``values`` (numbers), (N, len(values)): for the records, outside a step's time."""
        t = torch.as_tensor(np.asarray(values, dtype=float), dtype=torch.float64, device=self.device)
        every = [torch.zeros_like(t) for _ in range(self.world)]
        dist.all_gather(every, t, group=self.group)
        return torch.stack(every).cpu().numpy()

    def gradient(self) -> torch.Tensor:
        """The gradient the last step wrote into ``.grad`` (θ's layout, float64)."""
        return flat_grads(self.params, torch.float64)

    def check(self, t: int) -> None:
        """Every rank holds the same parameters after step t (bit for bit), else RunFailed."""
        check_identical(self.params, t, self.group, self.device)


class CodedDataParallel(DataParallelBase):
    """BCGC's coded all-reduce for ``problem``'s module on an initialised process group: rank n is
    worker n of the block design ``blocks`` (N = world size = ``problem.workers``; every rank builds
    the same problem, same seed). :meth:`backward` writes step t's exact gradient into the module's
    ``.grad``; the caller then steps its optimizer, as after DDP's ``loss.backward()``.

    ``work_order``: the workers' order (``bcgc.timing.work.WorkOrder``; None: the paper's; a network
    wants the backprop order, docs/model.md); ``store``: where finishes are counted (default: the
    group's); ``close_timeout``/``stop_timeout``: seconds before a step that does not close, or a rank
    that does not stop, ends the step with :class:`~bcgc.torch.collective.RankTimeout` naming it;
    ``bucket_mb``: the all-reduce's bucket; ``reduce_dtype``: its type (default: the module's);
    ``fast_path``: a level-0 design on gloo all-reduces at once, without the closure protocol (above)."""

    def __init__(
        self,
        problem,
        blocks,
        *,
        work_order=None,
        group=None,
        store=None,
        code_kind: str = "auto",
        seed: int = 0,
        close_timeout: float = 300.0,
        stop_timeout: float = 30.0,
        bucket_mb: float = 25.0,
        reduce_dtype=None,
        fast_path: bool = True,
    ):
        world = dist.get_world_size(group) if dist.is_initialized() else None
        if world is not None and getattr(problem, "workers", world) != world:
            raise V.InputError(f"problem.workers must be the world size {world}, got {problem.workers}")
        scheme = BlockScheme(blocks, problem.workers, kind=code_kind, seed=seed)
        if scheme.coords != problem.L:
            raise V.InputError(f"blocks must sum to the module's {problem.L} parameters, got {scheme.coords}")
        rank = dist.get_rank(group) if world is not None else 0
        super().__init__(problem, scheme.subsets_of(rank).tolist(), group, bucket_mb, reduce_dtype)
        self.scheme, self.plan, self.own = scheme, Plan(scheme, order=work_order), [self.rank]
        self.levels = [int(s) for s in scheme.levels]
        close_timeout, stop_timeout = (
            V.positive("close_timeout", close_timeout),
            V.positive("stop_timeout", stop_timeout),
        )
        store = default_store(group) if store is None else store
        self.steps = StepStore(store, self.rank, self.world, self.levels, close_timeout, stop_timeout)
        self.fast = fast_path and self.levels == [0] and dist.get_backend(group) == "gloo"
        if self.fast:  # a gloo group of its own, whose timeout (stop_timeout) bounds the wait for a dead or hung rank
            ranks = dist.get_process_group_ranks(group if group is not None else dist.group.WORLD)
            self.control = dist.new_group(
                ranks, timeout=_delta(stop_timeout), backend="gloo", use_local_synchronization=True
            )
            # level 0 spans every coordinate and its responders are every rank: a_0 is fixed (the core decoder)
            self.a0 = complex(scheme.code(0).decoding_vector(np.arange(self.world))[self.rank])

    def predicted(self, parts) -> float:
        """τ of the draw (a, b) in the unit of T (``Plan.runtime``: the timeline model, bcgc.timing)."""
        a, b = (np.asarray(v, dtype=float)[None, :] for v in parts)
        return float(self.plan.runtime(a, b)[0])

    def backward(self, t: int, parts=None, unit: float = 0.0) -> dict:
        """Step t: compute, close, stop, gather, decode, all-reduce; the gradient lands in ``.grad``.
        ``parts``: (a, b), each (N,), the emulated fixed cost and rate per rank (unit of T), None: no
        injected delay; ``unit``: seconds per unit. Returns the step's record (responders, times)."""
        if self.fast:
            return self._backward_level0(t, parts, unit)
        start = time.perf_counter()
        self.steps.begin(t)
        theta = self.theta(t)
        partial = block_partials(self.view, theta, self.plan)
        due = (
            None
            if parts is None
            else start + unit * self.plan.ready(self.rank, parts[0][self.rank], parts[1][self.rank])
        )
        messages, pos = {}, np.zeros(len(self.levels))
        for i, level in enumerate(self.levels):
            if self.steps.closed.is_set():
                break  # the step closed: stop at this block boundary
            vec = self.plan.message(self.rank, level, partial)
            if due is not None and not self._wait(due[i]):
                break
            messages[level] = vec
            pos[i] = self.steps.finish(i)
        self.steps.stop(finished=len(messages) == len(self.levels))
        stopped = time.perf_counter()
        responders = self.steps.responders()
        flat = self._contribution(responders, messages)
        all_reduce_buckets(flat, self.bucket, self.group)
        write_grads(self.params, self.offsets, flat)
        end = time.perf_counter()
        closed_at, latency = self.steps.latency()
        return {
            "iteration": int(t),
            "seconds": end - start,
            "closed_seconds": closed_at - start,  # the closure, on this rank's clock
            "stop_latency": latency,  # closure -> this rank stopped
            "stop_seconds": stopped - closed_at,  # closure -> every rank checked in
            "reduce_seconds": end - stopped,  # who finished what, decoding coefficients, all-reduce
            "responders": {int(s): F.tolist() for s, F in responders.items()},
            "blocks_done": int(np.count_nonzero(pos)),
        }

    def _backward_level0(self, t: int, parts, unit: float) -> dict:
        """The level-0 design's step (``fast_path``): compute, the emulated wait, one all-reduce."""
        start = time.perf_counter()
        self.steps.advance(t)  # rounds stay aligned on every rank: the failure keys are per round
        theta = self.theta(t)
        message = self.plan.message(self.rank, 0, block_partials(self.view, theta, self.plan))
        if parts is not None:
            due = start + unit * self.plan.ready(self.rank, parts[0][self.rank], parts[1][self.rank])[0]
            if not np.isfinite(due):  # a full straggler, which level 0 does not tolerate: it never arrives
                time.sleep(2 * self.steps.stop_timeout + self.steps.grace)
                raise RankTimeout(
                    f"rank {self.rank}: a full straggler in step {t}, which a level-0 design does not tolerate"
                )
            time.sleep(max(0.0, due - time.perf_counter()))  # nothing closes early: every rank must finish
        stopped = time.perf_counter()
        values = message if self.a0 == 1 else np.real(self.a0 * message)  # c_n = a_0[n] · m_{n,0}
        flat = torch.as_tensor(values, dtype=self.dtype, device=self.device)
        try:
            all_reduce_buckets(flat, self.bucket, self.control)
        except RuntimeError as exc:  # gloo's timeout, or a peer's closed connection: who is missing?
            # a live rank errs at most stop_timeout after it entered: wait that long for its check-in
            what = f"the all-reduce did not complete ({_reason(exc)})"
            self.steps.missing(what, self.steps.stop_timeout, self.steps.stop_timeout + self.steps.grace)
        write_grads(self.params, self.offsets, flat)
        end = time.perf_counter()
        return {
            "iteration": int(t),
            "seconds": end - start,
            "stop_latency": 0.0,  # no closure: every rank's one block is its stop
            "reduce_seconds": end - stopped,  # the all-reduce, waiting for the last rank included
            "responders": {0: list(range(self.world))},
            "blocks_done": 1,
            "fast_path": True,
        }

    def _wait(self, due: float) -> bool:
        if not np.isfinite(due):  # a full straggler never finishes: wait for the others to close
            self.steps.watch()
            self.steps.closed.wait(self.steps.close_timeout)
            return False
        return self.steps.sleep_until(due)

    def _contribution(self, responders, messages) -> torch.Tensor:
        """c_n: this rank's coded blocks scaled by its decoding coefficients (zeros elsewhere)."""
        flat = torch.zeros(self.scheme.coords, dtype=self.dtype, device=self.device)
        for s, F in responders.items():
            if self.rank not in F:
                continue
            a = self.scheme.code(s).decoding_vector(F)  # the core decoder, on every rank alike
            coef = a[int(np.flatnonzero(F == self.rank)[0])]
            # a complex code's terms sum to a real gradient: the real parts sum to it
            flat[self.scheme.slices[s]] = torch.as_tensor(np.real(coef * messages[s]), dtype=self.dtype)
        return flat
