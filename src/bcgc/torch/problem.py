"""A PyTorch module as a :class:`bcgc.problems.Problem` (docs/torch.md).

θ is the module's parameters flattened into one vector, input side first (the order of
``module.named_parameters()``, which lists a network from its input; ``param_order`` gives another
order by name). A block design lays its blocks out from level 0 at θ's start, so the high redundancy
levels fall on the output-side layers: the ones a backward pass reaches first. In the backprop work
order (docs/model.md, "The backprop work order") the (j+1)-th subset of a worker needs only the blocks
of level ≥ j — a tail of θ — and :meth:`TorchProblem.tail_gradient` stops its backward pass there.

Subset k's loss is f_k(θ) = (b_k / B) · loss(module(x), y) over its batch of b_k rows (B = Σ_k b_k,
``loss`` a mean-reduction loss): Σ_k ∇f_k is the gradient of the mean loss over the global batch —
the gradient plain data parallel (DDP) computes for the same batch. With ``batch_size`` each subset
draws a seeded fresh batch from its own rows at every iteration (the same batch on every worker that
holds it); without, a subset is its whole rows (full-batch gradient descent).
"""

from __future__ import annotations

import copy
import threading

import numpy as np
import torch

from .. import _validate as V
from .. import streams
from ..problems import Problem
from ..problems.allocation import split_rows
from ..timing.general import check_subset_sizes

__all__ = ["TorchProblem"]

# one lock for the global torch RNG: threads that seed it for a dropout mask must not interleave
_RNG_LOCK = threading.Lock()


def _stochastic(module) -> bool:
    return any(isinstance(m, torch.nn.modules.dropout._DropoutNd) for m in module.modules())


class TorchProblem(Problem):
    """``module`` trained on ``X`` (a tensor, rows first) and targets ``y`` — or on a
    ``torch.utils.data.Dataset`` given as ``X`` (``y=None``) — split into ``workers`` subsets.

    ``loss``: a mean-reduction loss, e.g. ``torch.nn.CrossEntropyLoss()``; ``batch_size``: rows per
    subset and iteration (None: the whole subset); ``test``: (X, y) for :meth:`metrics`' accuracy;
    ``dtype``: float32 (default) or float64; ``threads``: ``torch.set_num_threads`` in each worker;
    ``device``: "cpu", "cuda" or None (a GPU when present); ``step_size``: the gradient step of plain
    gradient descent (the default update; any ``torch.optim`` optimizer through
    :class:`bcgc.torch.TorchOptimizer`)."""

    name = "torch"

    def __init__(
        self,
        module,
        loss,
        X,
        y=None,
        workers: int = 4,
        *,
        batch_size: int | None = None,
        test=None,
        dtype=torch.float32,
        param_order=None,
        subset_sizes=None,
        seed: int = 0,
        threads: int | None = None,
        device=None,
        step_size: float = 0.1,
    ):
        if not isinstance(module, torch.nn.Module):
            raise V.InputError(f"module must be a torch.nn.Module, got {type(module).__name__}")
        if dtype not in (torch.float32, torch.float64):
            raise V.InputError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.dtype, self.loss_fn, self.seed = dtype, loss, int(seed)
        self.module = module.to(device=self.device, dtype=dtype)
        self.X, self.y = _tensors(X, y)
        rows = self.n = len(self.X)
        self.workers = V.integer("workers", workers, minimum=1, maximum=rows)
        self.subset_sizes = check_subset_sizes(subset_sizes, self.workers)
        self.parts = split_rows(rows, self.workers, self.subset_sizes)
        self.batch_size = None if batch_size is None else V.integer("batch_size", batch_size, minimum=1)
        self.threads = None if threads is None else V.integer("threads", threads, minimum=1)
        self._step = V.positive("step_size", step_size)
        self.test = None if test is None else _tensors(*test)
        self.names, self.params = _ordered(self.module, param_order)
        self.sizes = np.array([p.numel() for p in self.params], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])
        self.L = int(self.offsets[-1])
        self._theta0 = self.flatten()  # the module's own initialisation: every run starts there
        self.global_rows = self._batch_rows()  # B: the global batch of every iteration
        self.iteration = 0
        self._stochastic = _stochastic(self.module)
        self._threads_set = False
        self._held = None  # the θ the module's parameters hold (load)

    # ---- θ and the module ------------------------------------------------------------------------
    @property
    def step_size(self) -> float:
        return self._step

    def init(self) -> np.ndarray:
        """The module's parameters as given (its own initialisation), flattened in θ's order: the
        same for every run, whatever θ the module holds since."""
        return self._theta0.copy()

    def flatten(self) -> np.ndarray:
        with torch.no_grad():
            return torch.cat([p.detach().reshape(-1) for p in self.params]).cpu().double().numpy()

    def load(self, theta) -> None:
        """Write θ into the module's parameters (unless they hold it already: writing them again would
        invalidate the graphs of the forward passes kept for this θ's blocks)."""
        theta = np.asarray(theta)
        held = self._held
        if held is not None and held.shape == theta.shape and np.array_equal(held, theta):
            return
        self._held = theta.copy()
        t = torch.as_tensor(np.asarray(theta), dtype=self.dtype, device=self.device)
        with torch.no_grad():
            for p, lo, hi in zip(self.params, self.offsets[:-1], self.offsets[1:]):
                p.copy_(t[lo:hi].view_as(p))

    def _moved(self) -> None:
        self._held = None  # the parameters changed outside load (an optimizer step)

    def save(self, theta, path) -> None:
        """The module's ``state_dict`` with parameters θ (``torch.save``)."""
        self.load(theta)
        torch.save(self.module.state_dict(), path)

    def set_iteration(self, t: int) -> None:
        """Iteration t's mini-batches (and dropout masks) are drawn from the seed and t."""
        self.iteration = int(t)

    # ---- the gradient of one subset --------------------------------------------------------------
    def _batch(self, k: int):
        rows = self.parts[k]
        if self.batch_size is not None and self.batch_size < rows.size:
            pick = streams.rng(self.seed, streams.MINIBATCH, self.iteration, k)
            rows = np.sort(pick.choice(rows, self.batch_size, replace=False))
        return rows

    def _batch_rows(self) -> int:
        if self.batch_size is None:
            return sum(p.size for p in self.parts)
        return sum(min(self.batch_size, p.size) for p in self.parts)

    def with_subset_sizes(self, subset_sizes) -> "TorchProblem":
        """The same module and data, the rows split into subsets of sizes d (docs/model.md)."""
        out = copy.copy(self)
        out.subset_sizes = check_subset_sizes(subset_sizes, self.workers)
        out.parts = split_rows(len(self.X), self.workers, out.subset_sizes)
        out.global_rows = out._batch_rows()
        return out

    def _subset_loss(self, theta, k: int):
        """f_k(θ) with its graph: one forward pass over subset k's batch (seeded dropout masks)."""
        if self.threads is not None and not self._threads_set:
            torch.set_num_threads(self.threads)
            self._threads_set = True
        self.load(theta)
        rows = self._batch(k)
        xb, yb = _take(self.X, rows, self.device, self.dtype), _take(self.y, rows, self.device, None)
        scale = rows.size / self.global_rows
        if not self._stochastic:
            return self.loss_fn(self.module(xb), yb) * scale
        with _RNG_LOCK:  # every worker draws subset k's masks of iteration t alike: decoding stays exact
            torch.manual_seed(int(streams.rng(self.seed, streams.DROPOUT, self.iteration, k).integers(2**62)))
            return self.loss_fn(self.module(xb), yb) * scale

    def _grads(self, value, first: int, last: int, retain: bool) -> np.ndarray:
        """∂value/∂θ over tensors first..last-1 only: the backward pass stops at the deepest of them."""
        wanted = self.params[first:last]
        grads = torch.autograd.grad(value, wanted, retain_graph=retain, allow_unused=True)
        flat = [torch.zeros_like(p) if g is None else g for p, g in zip(wanted, grads)]
        return torch.cat([g.reshape(-1) for g in flat]).detach().cpu().double().numpy()

    def _tensor_range(self, lo: int, hi: int) -> tuple[int, int]:
        first = int(np.searchsorted(self.offsets, lo, side="right") - 1)
        last = int(np.searchsorted(self.offsets, hi, side="left"))
        return first, last

    def subset_gradient(self, theta, k):
        self.module.train()
        return self._grads(self._subset_loss(theta, k), 0, len(self.params), retain=False)

    def forward(self, theta, subset):
        self.module.train()
        return self._subset_loss(theta, subset)

    def partial_given(self, state, theta, subset, coords):
        """A block of the paper's (coordinate-major) order: a backward pass as deep as the block."""
        coords = np.asarray(coords)
        lo, hi = int(coords.min()), int(coords.max()) + 1
        first, last = self._tensor_range(lo, hi)
        part = self._grads(state, first, last, retain=True)
        return part[coords - self.offsets[first]]

    def tail_gradient(self, theta, subset, lo):
        """∂f_k/∂θ_l for l ≥ lo: one forward pass and a backward pass that stops at coordinate lo's
        tensor (the backprop work order's step, docs/model.md); shape (L − lo,)."""
        self.module.train()
        first = self._tensor_range(min(int(lo), self.L - 1), self.L)[0]
        part = self._grads(self._subset_loss(theta, subset), first, len(self.params), retain=False)
        return part[int(lo) - self.offsets[first] :]

    # ---- the master's view ---------------------------------------------------------------------
    def loss(self, theta) -> float:
        """f(θ) = Σ_k f_k(θ): the mean loss over this iteration's global batch."""
        self.module.train()
        with torch.no_grad():
            return float(sum(float(self._subset_loss(theta, k)) for k in range(self.workers)))

    def metrics(self, theta) -> dict:
        """Test accuracy (argmax of the output against the test labels), when a test set is given."""
        if self.test is None:
            return {}
        self.load(theta)
        self.module.eval()
        X, y = self.test
        with torch.no_grad():
            hits = sum(
                int(
                    (
                        self.module(_take(X, r, self.device, self.dtype)).argmax(1) == _take(y, r, self.device, None)
                    ).sum()
                )
                for r in np.array_split(np.arange(len(X)), max(1, len(X) // 2048))
            )
        self.module.train()
        return {"test_accuracy": hits / len(X)}

    def restrict(self, subsets, share_module: bool = False) -> "TorchProblem":
        """A copy with its own module and only the rows of ``subsets`` (what one worker is shipped);
        ``share_module``: keep this problem's module and test set (a rank of
        :class:`bcgc.torch.distributed.CodedDataParallel` trains the module it wraps)."""
        keep = sorted(int(k) for k in subsets)
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        rows = np.concatenate([self.parts[k] for k in keep]) if keep else np.zeros(0, dtype=np.int64)
        # on the device, in the module's dtype, once: a subset's batch is then only indexed
        view.X, view.y = _take(self.X, rows, self.device, self.dtype), _take(self.y, rows, self.device, None)
        start = np.concatenate([[0], np.cumsum([self.parts[k].size for k in keep])])
        view.parts = {k: np.arange(start[i], start[i + 1]) for i, k in enumerate(keep)}
        if not share_module:
            view.module = copy.deepcopy(self.module)
            view.names, view.params = _ordered(view.module, self.names)
            view.test = None
        view._threads_set = False
        view._held = None
        return view


def _tensors(X, y):
    """(X, y) as tensors: a Dataset is read item by item once (small data sets: docs/torch.md)."""
    if y is None:
        if not isinstance(X, torch.utils.data.Dataset):
            raise V.InputError("y is required unless X is a torch.utils.data.Dataset of (input, target) items")
        items = [X[i] for i in range(len(X))]
        X = torch.stack([torch.as_tensor(a) for a, _ in items])
        y = torch.as_tensor(np.asarray([np.asarray(b) for _, b in items]))
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    if len(X) != len(y) or len(X) == 0:
        raise V.InputError(f"X and y must have the same number of rows (> 0), got {len(X)} and {len(y)}")
    return X, y


def _take(t, rows, device, dtype):
    out = t[torch.as_tensor(np.asarray(rows, dtype=np.int64))]
    return out.to(device=device, dtype=dtype) if (device is not None or dtype is not None) else out


def _ordered(module, order):
    """(names, tensors) of the module's parameters in θ's order (default: input side first)."""
    named = list(module.named_parameters())  # shared (tied) tensors are listed once
    if order is None or order == "input-first":
        pass
    elif order == "output-first":
        named = named[::-1]
    else:
        by_name = dict(named)
        missing = sorted(set(by_name) - set(order)) + sorted(set(order) - set(by_name))
        if missing or len(order) != len(by_name):
            raise V.InputError(
                f"param_order must name every parameter of the module once ({', '.join(by_name)}); "
                f"wrong or missing: {', '.join(missing) or 'duplicates'}"
            )
        named = [(n, by_name[n]) for n in order]
    return [n for n, _ in named], [p for _, p in named]
