"""The coded all-reduce under Ray Train's ``TorchTrainer`` (docs/torch.md, "Coded all-reduce").

NOT RUN in this repository's checks: ``ray.train`` does not import in the development environment
(Ray is installed without its ``train`` extra: ``pip install "ray[train]"``). The same loop runs under
``torchrun`` with ``python -m bcgc.torch.run``, which the tests do run.

Ray Train starts one process per worker and initialises the default process group (gloo on CPU, NCCL
on GPUs) before ``train_loop_per_worker`` runs; CodedDataParallel only needs that group and its store.
Do not call ``ray.train.torch.prepare_model``: it would wrap the module in DDP, whose own all-reduce
would run inside every backward pass.

    python docs/examples/ray_train_coded.py
"""

from pathlib import Path

import numpy as np


def train_loop_per_worker(config):
    import torch
    import torch.distributed as dist
    from ray import train

    from bcgc.timing.work import WorkOrder
    from bcgc.torch import TorchProblem
    from bcgc.torch.distributed import CodedDataParallel
    from bcgc.torch.factory import load_factory

    made = load_factory(config["factory"])(seed=0)  # every worker builds the same model and data
    X, y = made["train"]
    problem = TorchProblem(made["module"], made["loss"], X, y, dist.get_world_size(), batch_size=32, seed=0)
    order = WorkOrder.from_costs(config["costs"]) if config.get("costs") else None
    coded = CodedDataParallel(problem, config["blocks"], work_order=order)
    opt = torch.optim.Adam(problem.module.parameters(), lr=1e-3)
    for t in range(config["steps"]):
        record = coded.backward(t)  # the exact gradient of the global batch, in .grad
        opt.step()
        if (t + 1) % 10 == 0:
            coded.check(t)  # identical parameters on every worker, bit for bit
            train.report({"step": t, "seconds": record["seconds"], "responders": str(record["responders"])})


def main(workers=4, steps=50):
    from ray.train import ScalingConfig
    from ray.train.torch import TorchTrainer

    from bcgc.design import design
    from bcgc.stragglers import parse_model
    from bcgc.timing.work import WorkOrder
    from bcgc.torch.factory import problem_from_factory
    from bcgc.torch.profile import profile_costs

    factory = str(Path(__file__).resolve().parent / "torch_models.py") + ":cnn"  # Ray's workers run elsewhere
    problem = problem_from_factory(factory, workers, batch_size=32)
    costs = profile_costs(problem)  # the backprop work order (docs/model.md)
    law = parse_model("shifted-exponential:shift=0.1,rate=1")
    blocks = design(law, workers, problem.L, work_order=WorkOrder.from_costs(costs)).blocks
    trainer = TorchTrainer(
        train_loop_per_worker,
        train_loop_config={"factory": factory, "blocks": np.asarray(blocks).tolist(), "costs": costs, "steps": steps},
        scaling_config=ScalingConfig(num_workers=workers),
    )
    print(trainer.fit())


if __name__ == "__main__":
    main()
