"""Two PyTorch models for ``bcgc train --torch`` (docs/torch.md): an MLP and a small CNN on
Fashion-MNIST (Debian's package dataset-fashion-mnist; where it is absent, scikit-learn's bundled
digits, and bcgc says so on stderr).

    bcgc train --torch docs/examples/torch_models.py:cnn --workers 8 --backend threads --optimizer adam --lr 1e-3
"""

import numpy as np
import torch

from bcgc.problems import load_dataset


def _data(seed, samples=6000, tests=2000):
    ds = load_dataset("fashion-mnist", samples=samples + tests, seed=seed)
    X = torch.tensor(ds.X, dtype=torch.float32)
    y = torch.tensor(ds.y, dtype=torch.int64)
    order = np.random.default_rng(seed).permutation(len(X))
    train, test = order[:samples], order[samples:]
    side = int(round(np.sqrt(X.shape[1])))  # 28 (Fashion-MNIST) or 8 (digits)
    return X, y, train, test, side


def mlp(seed=0):
    """784 → 64 → 10 (tanh)."""
    X, y, train, test, _ = _data(seed)
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 64), torch.nn.Tanh(), torch.nn.Linear(64, 10))
    return {
        "module": net,
        "loss": torch.nn.CrossEntropyLoss(),
        "train": (X[train], y[train]),
        "test": (X[test], y[test]),
        "batch_size": 32,
    }


def cnn(seed=0):
    """Two 3×3 convolutions (8 and 16 channels, ReLU, 2×2 max-pooling) and a linear layer."""
    X, y, train, test, side = _data(seed)
    X = X.reshape(-1, 1, side, side)
    torch.manual_seed(seed)
    pooled = ((side - 2) // 2 - 2) // 2
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2) if pooled > 0 else torch.nn.Identity(),
        torch.nn.Flatten(),
        torch.nn.Linear(16 * (pooled or (side - 2) // 2 - 2) ** 2, 10),
    )
    return {
        "module": net,
        "loss": torch.nn.CrossEntropyLoss(),
        "train": (X[train], y[train]),
        "test": (X[test], y[test]),
        "batch_size": 32,
    }


factory = cnn
