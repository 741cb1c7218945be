"""The learning problems: a :class:`Problem` protocol and the shipped linear models on a :class:`Dataset`.

:class:`Problem` is the public protocol (docs/problems.md shows a new problem in one class): the data
split into N subsets D_0..D_{N-1}, the loss f(θ) = Σ_k f_k(θ) over a flat parameter vector θ of L
entries, and the partial derivatives ∂_l f_k(θ) of one subset over a range of coordinates.

Shipped: least squares through per-subset Gram matrices (∂_l f_k = (G_k θ - h_k)_l),
binary logistic regression and softmax regression (a forward pass per subset, then X_kᵀ r_k).
Parameters are flattened: θ has L = d·C entries for C outputs (feature-major: l = feature·C + class).
"""

from __future__ import annotations

import abc
import copy

import numpy as np
from scipy import special

from .. import _validate as V
from ..timing.general import check_subset_sizes
from .allocation import split_rows
from .batch import BatchedPartials
from .data import Dataset
from .names import PROBLEM_NAMES

__all__ = [
    "Problem",
    "DataProblem",
    "PROBLEMS",
    "make_problem",
    "LeastSquares",
    "Logistic",
    "Softmax",
    "set_iteration",
    "metrics_of",
]


class Problem(abc.ABC):
    """A learning problem split over N data subsets: what the simulator and every runtime worker need.

    * ``workers`` (N) and ``L``: the number of subsets and of parameters; θ is a float vector of L.
    * ``init()`` — the starting θ; ``loss(theta)`` — f(θ) = Σ_k f_k(θ) (master only, all subsets).
    * ``subset_gradient(theta, k)`` — ∇f_k(θ), shape (L,): the gradient of subset k alone.
    * ``restrict(subsets)`` — a copy holding only the data of those subsets: what one worker stores
      and is shipped (it must pickle, and share no mutable state with the original).
    * ``step_size`` — a safe constant gradient step.

    Optional, for speed: ``forward(theta, k)`` computes once per subset and iteration what every
    block of that subset reuses (a forward pass); ``partial_given(state, theta, k, coords)`` then
    gives ∂_l f_k(θ) for l in ``coords`` (a contiguous, increasing range: one block). The defaults
    slice ``subset_gradient``, which is exact but computes the whole gradient for every block.

    Optional, for training: ``set_iteration(t)`` is called with the iteration number before any
    computation of iteration t — on every worker (before each round: again on a retry of the same
    t, which must give the same result), in the simulator, and on the master before it checks the
    gradient and evaluates the loss — so a problem can draw a seeded mini-batch per subset and
    iteration. ``metrics(theta)`` (e.g. test accuracy) is evaluated by the master and the simulator
    after each iteration and recorded with it. ``save(theta, path)``, when a problem has it, writes
    trained parameters in the problem's own format (``bcgc train --save``; default: a ``.npy``).
    """

    name = "problem"
    workers: int
    L: int

    @abc.abstractmethod
    def init(self) -> np.ndarray:
        """The starting parameters θ_0, shape (L,)."""

    @abc.abstractmethod
    def loss(self, theta) -> float:
        """f(θ) = Σ_k f_k(θ) over every subset."""

    @abc.abstractmethod
    def subset_gradient(self, theta, k: int) -> np.ndarray:
        """∇f_k(θ), shape (L,)."""

    @property
    @abc.abstractmethod
    def step_size(self) -> float:
        """A safe constant step for gradient descent."""

    def set_iteration(self, t: int) -> None:
        """Called with iteration t before any of its computation (default: nothing; see the class doc)."""

    def metrics(self, theta) -> dict[str, float]:
        """Named numbers about θ recorded after each iteration (default: none), e.g. test accuracy."""
        return {}

    def restrict(self, subsets) -> "Problem":
        """A deep copy (no state shared with the original); override to keep only those subsets' data."""
        return copy.deepcopy(self)

    def forward(self, theta, subset: int):
        """The per-subset fixed cost of an iteration (a forward pass), reused by every block."""
        return None

    def partial_given(self, state, theta, subset: int, coords) -> np.ndarray:
        """∂_l f_k for l in ``coords`` given ``forward``'s state (the per-block, per-coordinate cost)."""
        return self.partial(theta, subset, coords)

    def partial(self, theta, subset: int, coords) -> np.ndarray:
        """∂_l f_k(θ) for l in ``coords`` (docs/model.md, equation (1)); generic: the subset gradient, sliced."""
        return self.subset_gradient(theta, subset)[coords]

    def partials_given(self, states, theta, subsets, coords) -> np.ndarray:
        """The rows ∂_l f_k for k in ``subsets`` (in that order) and l in ``coords`` (one block), given
        the round's ``forward`` states (``states``: {subset: state}, holding every k of ``subsets``);
        shape (len(subsets), len(coords)). Default: one ``partial_given`` per subset; the shipped
        problems batch them (one product per block: a worker's cost per block stays flat in N)."""
        return np.stack([self.partial_given(states[k], theta, k, coords) for k in subsets])

    def subset_gradients(self, theta) -> np.ndarray:
        """Every ∇f_k(θ) at once, shape (N, L) (the simulator's fast path)."""
        return np.stack([self.subset_gradient(theta, k) for k in range(self.workers)])

    def gradient(self, theta) -> np.ndarray:
        """The uncoded gradient Σ_k ∇f_k(θ)."""
        return self.subset_gradients(theta).sum(axis=0)


class DataProblem(BatchedPartials, Problem):
    """Shared machinery of the shipped problems: a :class:`Dataset` in N subsets, a bias column,
    flattened parameters, and a step size from the curvature of the data."""

    name = ""

    def __init__(self, data: Dataset, workers: int, outputs: int, subset_sizes=None):
        self.workers = V.integer("workers", workers, minimum=1)
        if data.X.shape[0] < workers:
            raise V.InputError(
                f"{data.name}: workers must be at most the number of samples ({data.X.shape[0]} rows), got {workers}"
            )
        self.data = data
        X = np.hstack([data.X, np.ones((data.X.shape[0], 1))])  # bias
        self.n, self.d = X.shape
        self.outputs = outputs
        self.subset_sizes = check_subset_sizes(subset_sizes, workers)  # None: equal subsets
        self.parts = split_rows(self.n, workers, self.subset_sizes)
        self.X = [X[p] for p in self.parts]
        self.L = self.d * outputs

    def init(self) -> np.ndarray:
        return np.zeros(self.L)

    def with_subset_sizes(self, subset_sizes) -> "DataProblem":
        """The same problem, its rows split into subsets of sizes d (docs/model.md, unequal subsets)."""
        return type(self)(self.data, self.workers, subset_sizes=subset_sizes)

    #: per-subset data attributes (lists indexed by subset); ``restrict`` keeps only some of them
    _per_subset = ("X",)

    def restrict(self, subsets) -> "DataProblem":
        """A copy holding only the data of ``subsets`` (what one worker stores, docs/model.md, placement)."""
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        keep = [int(k) for k in subsets]
        for name in self._per_subset:
            full = getattr(self, name)
            setattr(view, name, {k: full[k] for k in keep})
        view.parts = None  # row indices of the whole data set are not shipped
        view.__dict__.pop("_batch_data", None)
        return view

    @property
    def step_size(self) -> float:
        """1/λ_max of the loss's curvature bound (a safe constant gradient step)."""
        X = np.vstack([self.X[k] for k in range(self.workers)])
        # λ_max(XᵀX) = λ_max(XXᵀ): use the smaller of the two Gram matrices
        gram = (X @ X.T if X.shape[0] < X.shape[1] else X.T @ X) / self.n
        return self._curvature_factor / float(np.linalg.eigvalsh(gram)[-1])

    _curvature_factor = 1.0


class LeastSquares(DataProblem):
    """f(Θ) = (1/2n) ||X Θ - Y||² with one-hot targets Y; ∂f_k = G_k Θ - H_k, G_k = X_kᵀX_k/n (docs/runtime.md)."""

    name = "least-squares"
    _per_subset = ("X", "Y", "gram", "rhs")

    def __init__(self, data: Dataset, workers: int, subset_sizes=None):
        d = data.X.shape[1]
        V.memory(
            f"least squares on {d} features: {workers} Gram matrices of {d} × {d}",
            2.0 * workers * d * d,
            "use --problem logistic or softmax (no Gram matrix), or fewer features",
        )
        super().__init__(data, workers, data.classes, subset_sizes)
        Y = np.eye(data.classes)[data.y]
        self.Y = [Y[p] for p in self.parts]
        self.gram = np.stack([Xk.T @ Xk / self.n for Xk in self.X])  # N × d × d
        self.rhs = np.stack([Xk.T @ Yk / self.n for Xk, Yk in zip(self.X, self.Y)])  # N × d × C

    def restrict(self, subsets):
        view = super().restrict(subsets)
        view.X = view.Y = None  # a least-squares worker needs only its Gram matrices
        return view

    def subset_gradient(self, theta, k):
        return (self.gram[k] @ theta.reshape(self.d, self.outputs) - self.rhs[k]).ravel()

    def subset_gradients(self, theta):
        return (self.gram @ theta.reshape(self.d, self.outputs) - self.rhs).reshape(self.workers, -1)

    def partial(self, theta, subset, coords):
        coords = np.asarray(coords)
        rows, cols = np.divmod(coords, self.outputs)
        lo, hi = int(rows.min()), int(rows.max()) + 1
        full = self.gram[subset][lo:hi] @ theta.reshape(self.d, self.outputs) - self.rhs[subset][lo:hi]
        return full[rows - lo, cols]

    _stacked, _transposed, _over_n = ("gram", "rhs"), (), False

    def _batch(self, batcher, states, theta, idx, lo, hi):
        gram, rhs = batcher.stacks["gram"], batcher.stacks["rhs"]
        return gram[idx, lo:hi] @ theta.reshape(self.d, self.outputs) - rhs[idx, lo:hi]

    def loss(self, theta):
        Th = theta.reshape(self.d, self.outputs)
        return float(sum(0.5 * np.sum((Xk @ Th - Yk) ** 2) for Xk, Yk in zip(self.X, self.Y)) / self.n)


class Logistic(DataProblem):
    """Binary logistic regression, class 1 positive: f = (1/n) Σ log(1 + e^{-z m}).

    It needs exactly 2 classes; only a built-in multi-class set (``Dataset.split_halves``) is split
    into label < classes/2 (positive) and the rest, as its tests and benchmarks expect."""

    name = "logistic"
    _curvature_factor = 4.0

    def __init__(self, data: Dataset, workers: int, subset_sizes=None):
        if data.classes == 2:
            t = (data.y == 1).astype(float)
        elif data.split_halves:
            t = (data.y < data.classes / 2).astype(float)
        else:
            found = ", ".join(map(str, data.labels or range(data.classes)))
            raise V.InputError(
                f"{data.name}: logistic regression needs exactly 2 classes, found {data.classes} "
                f"({found}); softmax and least-squares take any number"
            )
        super().__init__(data, workers, 1, subset_sizes)
        self.t = [t[p] for p in self.parts]

    _per_subset = ("X", "t")

    def forward(self, theta, k):
        return special.expit(self.X[k] @ theta) - self.t[k]  # residual of subset k

    def partial_given(self, r, theta, k, coords):
        coords = np.asarray(coords)
        lo, hi = int(coords.min()), int(coords.max()) + 1
        return (self.X[k][:, lo:hi].T @ r / self.n)[coords - lo]

    def _batch(self, batcher, states, theta, idx, lo, hi):  # (X_kᵀ/n) r_k on the block's rows
        return np.matmul(batcher.stacks["X"][idx, lo:hi], batcher.states(states)[idx][..., None])

    def subset_gradient(self, theta, k):
        return self.X[k].T @ self.forward(theta, k) / self.n

    def loss(self, theta):
        return float(
            sum(np.sum(np.logaddexp(0, Xk @ theta) - tk * (Xk @ theta)) for Xk, tk in zip(self.X, self.t)) / self.n
        )


class Softmax(DataProblem):
    """Multinomial logistic regression: f = (1/n) Σ -log softmax(x Θ)_y."""

    name = "softmax"
    _curvature_factor = 2.0

    def __init__(self, data: Dataset, workers: int, subset_sizes=None):
        super().__init__(data, workers, data.classes, subset_sizes)
        Y = np.eye(data.classes)[data.y]
        self.Y = [Y[p] for p in self.parts]

    _per_subset = ("X", "Y")

    def forward(self, theta, k):
        P = special.softmax(self.X[k] @ theta.reshape(self.d, self.outputs), axis=1)
        return P - self.Y[k]  # residual of subset k (n_k × C)

    def partial_given(self, R, theta, k, coords):
        # a block is a contiguous coordinate range: one GEMM over its feature rows, then pick entries
        coords = np.asarray(coords)
        rows, cols = np.divmod(coords, self.outputs)
        lo, hi = int(rows.min()), int(rows.max()) + 1
        full = self.X[k][:, lo:hi].T @ R / self.n  # (hi - lo) × C
        return full[rows - lo, cols]

    def _batch(self, batcher, states, theta, idx, lo, hi):  # (X_kᵀ/n) R_k on the block's rows
        return np.matmul(batcher.stacks["X"][idx, lo:hi], batcher.states(states)[idx])

    def subset_gradient(self, theta, k):
        return (self.X[k].T @ self.forward(theta, k) / self.n).ravel()

    def loss(self, theta):
        Th = theta.reshape(self.d, self.outputs)
        return float(sum(-np.sum(Yk * special.log_softmax(Xk @ Th, axis=1)) for Xk, Yk in zip(self.X, self.Y)) / self.n)


def set_iteration(problem, t: int) -> None:
    """Tell ``problem`` the iteration (``Problem.set_iteration``), if it listens."""
    hook = getattr(problem, "set_iteration", None)
    if hook is not None:
        hook(int(t))


def metrics_of(problem, theta) -> dict:
    """``problem.metrics(theta)`` as {name: float} ({} when the problem has none)."""
    hook = getattr(problem, "metrics", None)
    values = {} if hook is None else hook(theta)
    if not isinstance(values, dict):
        raise TypeError(f"{type(problem).__name__}.metrics must return a dict of name: number, got {values!r}")
    return {str(k): float(v) for k, v in values.items()}


PROBLEMS = {"least-squares": LeastSquares, "logistic": Logistic, "softmax": Softmax}
if tuple(PROBLEMS) != PROBLEM_NAMES:  # the command line lists .names without importing this module
    raise ImportError(f"bcgc.problems.names.PROBLEM_NAMES {PROBLEM_NAMES} must list PROBLEMS {tuple(PROBLEMS)}")


def make_problem(name: str, data: Dataset, workers: int, subset_sizes=None):
    """A shipped problem on ``data`` split into N subsets (of sizes ``subset_sizes``; None: equal)."""
    name = V.Options(*PROBLEMS).check("problem", name)
    return PROBLEMS[name](data, workers, subset_sizes=subset_sizes)
