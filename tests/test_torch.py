"""bcgc.torch: a PyTorch module as a problem — its gradients, mini-batches, dropout, optimizers and
cost profile (docs/torch.md)."""

import json
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install 'bcgc[torch]'")

from bcgc.timing.work import WorkOrder  # noqa: E402
from bcgc.torch import TorchOptimizer, TorchProblem  # noqa: E402
from bcgc.torch.factory import problem_from_factory  # noqa: E402
from bcgc.torch.optim import make_optimizer  # noqa: E402
from bcgc.torch.profile import profile_costs  # noqa: E402


class Tied(torch.nn.Module):
    """An auto-encoder whose decoder is its encoder's weight, transposed: one tensor used twice."""

    def __init__(self):
        super().__init__()
        self.enc = torch.nn.Linear(6, 4, bias=False)
        self.mid = torch.nn.Linear(4, 4)

    def forward(self, x):
        return torch.tanh(self.mid(self.enc(x))) @ self.enc.weight


def mlp():
    return torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))


def cnn():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 3, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(3 * 4 * 4, 3)
    )


def data(kind, rows=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    if kind == "cnn":
        return torch.randn(rows, 1, 6, 6, generator=g), torch.randint(0, 3, (rows,), generator=g)
    if kind == "tied":
        X = torch.randn(rows, 6, generator=g)
        return X, X.clone()
    return torch.randn(rows, 6, generator=g), torch.randint(0, 3, (rows,), generator=g)


MODELS = {
    "mlp": (mlp, torch.nn.CrossEntropyLoss),
    "cnn": (cnn, torch.nn.CrossEntropyLoss),
    "tied": (Tied, torch.nn.MSELoss),
}


def make(kind, dtype=torch.float32, workers=4, **kw):
    torch.manual_seed(1)
    module, loss = MODELS[kind]
    X, y = data(kind)
    return TorchProblem(module(), loss(), X, y, workers, dtype=dtype, **kw), X, y


def reference_gradient(p, X, y):
    """torch.autograd on the union of the subsets, in one process, the module's own loss."""
    module = p.module
    module.zero_grad()
    p.loss_fn(module(X.to(p.dtype)), y if not y.is_floating_point() else y.to(p.dtype)).backward()
    return torch.cat([q.grad.reshape(-1) for q in p.params]).double().numpy()


@pytest.mark.parametrize("kind", list(MODELS))
@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-6), (torch.float64, 1e-12)])
def test_subset_gradients_sum_to_autograd_on_the_union(kind, dtype, tol):
    p, X, y = make(kind, dtype)
    theta = p.init()
    total = sum(p.subset_gradient(theta, k) for k in range(p.workers))
    ref = reference_gradient(p, X, y)
    assert np.max(np.abs(total - ref)) <= tol * np.max(np.abs(ref))
    if kind == "tied":  # the shared tensor is one entry of θ, its gradient the sum over both uses
        assert p.names == ["enc.weight", "mid.weight", "mid.bias"] and p.L == 24 + 16 + 4


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_blocks_and_tails_are_slices_of_the_subset_gradient(kind):
    p, _, _ = make(kind)
    theta = p.init()
    for k in range(p.workers):
        full = p.subset_gradient(theta, k)
        state = p.forward(theta, k)
        for lo, hi in [(0, 5), (3, p.L // 2), (p.L // 2, p.L), (p.L - 1, p.L)]:
            assert np.array_equal(p.partial_given(state, theta, k, np.arange(lo, hi)), full[lo:hi])
            assert np.array_equal(p.tail_gradient(theta, k, lo), full[lo:])


def test_mini_batches_are_seeded_and_sum_to_the_global_batch_gradient():
    p, X, y = make("mlp", torch.float64, batch_size=5)
    theta = p.init()
    p.set_iteration(3)
    rows = [p._batch(k) for k in range(p.workers)]
    assert [r.size for r in rows] == [5] * 4 and all(np.isin(r, p.parts[k]).all() for k, r in enumerate(rows))
    total = sum(p.subset_gradient(theta, k) for k in range(p.workers))
    union = np.concatenate(rows)
    assert np.allclose(total, reference_gradient(p, X[union], y[union]), rtol=0, atol=1e-12)
    p.set_iteration(4)
    assert any(not np.array_equal(p._batch(k), r) for k, r in enumerate(rows))
    p.set_iteration(3)
    assert all(np.array_equal(p._batch(k), r) for k, r in enumerate(rows))


def test_dropout_masks_are_the_same_on_every_worker_holding_the_subset():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Dropout(0.5), torch.nn.Linear(16, 3))
    X, y = data("mlp")
    p = TorchProblem(net, torch.nn.CrossEntropyLoss(), X, y, 4)
    a, b = p.restrict([1, 2]), pickle.loads(pickle.dumps(p.restrict([2, 3])))
    theta = p.init()
    for view in (a, b):
        view.set_iteration(7)
    assert np.array_equal(a.subset_gradient(theta, 2), b.subset_gradient(theta, 2))
    a.set_iteration(8)
    assert not np.array_equal(a.subset_gradient(theta, 2), b.subset_gradient(theta, 2))


def test_a_restricted_view_holds_only_its_rows_and_pickles():
    p, _, _ = make("cnn")
    theta = p.init()
    view = pickle.loads(pickle.dumps(p.restrict([2])))
    assert len(view.X) == p.parts[2].size and view.module is not p.module
    assert np.array_equal(view.subset_gradient(theta, 2), p.subset_gradient(theta, 2))
    with pytest.raises(KeyError):
        view.subset_gradient(theta, 0)


@pytest.mark.parametrize("name,kw", [("sgd", {"momentum": 0.9}), ("adam", {}), ("adamw", {"weight_decay": 0.01})])
def test_the_master_optimizer_is_the_single_process_one(name, kw):
    p, X, y = make("mlp", torch.float64)
    opt = make_optimizer(p, name, lr=0.05, schedule="cosine", iterations=5, **kw)
    torch.manual_seed(1)
    twin = mlp().double()
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name]
    ref = cls(twin.parameters(), lr=0.05, **kw)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(ref, T_max=5)
    theta = p.init()
    for it in range(5):
        grad = sum(p.subset_gradient(theta, k) for k in range(p.workers))
        theta = opt.step(theta, grad, it)
        ref.zero_grad()
        torch.nn.CrossEntropyLoss()(twin(X.double()), y).backward()
        ref.step()
        sched.step()
    flat = torch.cat([q.detach().reshape(-1) for q in twin.parameters()]).numpy()
    assert np.allclose(theta, flat, rtol=0, atol=1e-12)
    assert opt.lr == pytest.approx(sched.get_last_lr()[0])


def test_an_optimizer_on_other_tensors_is_refused():
    p, _, _ = make("mlp")
    with pytest.raises(ValueError, match="problem.module.parameters"):
        TorchOptimizer(p, torch.optim.SGD(mlp().parameters(), lr=0.1))


def test_the_profile_is_a_cost_document_the_design_reads(tmp_path):
    p, _, _ = make("cnn")
    doc = profile_costs(p, repeats=2)
    assert doc["sizes"] == p.sizes[::-1].tolist() and doc["names"][0] == p.names[-1]
    assert doc["forward"] > 0 and min(doc["backward"]) >= 0 and sum(doc["backward"]) > 0
    path = tmp_path / "costs.json"
    path.write_text(json.dumps(doc))
    order = WorkOrder.from_costs(str(path))
    assert order.kind == "backprop" and 0 < order.forward < 1


def test_a_factory_file_builds_the_problem(tmp_path):
    file = tmp_path / "model.py"
    file.write_text(
        "import torch\n"
        "def factory(seed=0):\n"
        "    torch.manual_seed(seed)\n"
        "    X, y = torch.randn(20, 3), torch.randint(0, 2, (20,))\n"
        "    return {'module': torch.nn.Linear(3, 2), 'loss': torch.nn.CrossEntropyLoss(), 'train': (X, y),\n"
        "            'test': (X, y), 'batch_size': 4}\n"
        "def broken():\n"
        "    return 3\n"
    )
    p = problem_from_factory(f"{file}:factory", 4, seed=2)
    assert p.L == 8 and p.batch_size == 4 and "test_accuracy" in p.metrics(p.init())
    with pytest.raises(ValueError, match="must return a dict"):
        problem_from_factory(f"{file}:broken", 4)
    with pytest.raises(ValueError, match="no function"):
        problem_from_factory(f"{file}:absent", 4)
    with pytest.raises(ValueError, match="FILE.py:FUNCTION"):
        problem_from_factory(f"{tmp_path}/none.py", 4)


def test_bad_arguments_name_the_parameter():
    X, y = data("mlp")
    with pytest.raises(ValueError, match="module"):
        TorchProblem("not a module", torch.nn.CrossEntropyLoss(), X, y, 4)
    with pytest.raises(ValueError, match="workers"):
        TorchProblem(mlp(), torch.nn.CrossEntropyLoss(), X, y, 100)
    with pytest.raises(ValueError, match="param_order"):
        TorchProblem(mlp(), torch.nn.CrossEntropyLoss(), X, y, 4, param_order=["0.weight"])
    with pytest.raises(ValueError, match="same number of rows"):
        TorchProblem(mlp(), torch.nn.CrossEntropyLoss(), X, y[:3], 4)
