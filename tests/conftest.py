import os
from types import SimpleNamespace

import pytest
from hypothesis import settings

# Derandomised so that CI runs are reproducible; the Monte Carlo draws inside tests are seeded too.
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=25, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray for the whole session (skipped where Ray is not installed)."""
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=4, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


#: a previous run (plus a file of the user's) in the folder the end-to-end run writes into
OLD_RUN = {"index.md": "old index\n", "e_vs_n.csv": "old,csv\n", "e_vs_n.png": "old png", "notes.txt": "mine\n"}


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else None


@pytest.fixture(scope="session")
def tiny_reproduce():
    """The smallest setting of ``bcgc reproduce`` the Config allows: every figure and file, one point per
    sweep (two deadlines, two traces, three bandwidths), few draws."""
    from bcgc.experiments.reproduce import Config

    return Config(
        samples=500,
        design_samples=50,
        n_values=(3,),
        rates=(1e-3,),
        l_values=(100,),
        base_n=3,
        base_l=100,
        prob_levels=(0.5, 0.9),
        prob_n_values=(3,),
        beyond_n=4,  # a quarter of the workers slow: one
        cost_n_values=(3,),
        subgradient_iterations=20,
        frontier_n=3,
        frontier_coords=12,
        frontier_factors=(float("inf"), 1.0, 0.1),
        trace_panels=False,
        frontier_samples=None,
        trace_names=("alibaba-pai-job1", "alibaba-pai-job2"),  # the smallest shipped traces (10 workers)
        trace_samples=100,
        trace_design_samples=20,
    )


@pytest.fixture(scope="session")
def reproduced(tmp_path_factory, tiny_reproduce):
    """The suite's one end-to-end run of ``bcgc reproduce`` (on ``tiny_reproduce``), shared by every test
    that reads its output.

    It writes into a folder that holds a previous run and a user's file, and its progress callback looks
    at that folder at every step, so the tests also see what an interruption at any step would have left.
    The writing itself (staging, commit, interruption) is tested on ``bcgc.experiments.output`` directly
    (tests/test_reproduce_output.py)."""
    from bcgc.experiments.reproduce import reproduce

    parent = tmp_path_factory.mktemp("reproduced")
    out = parent / "run"
    out.mkdir()
    for name, text in OLD_RUN.items():
        (out / name).write_text(text)
    before = _snapshot(out)
    steps = []

    def progress(msg):  # at every step: is the previous run untouched, and what lies beside it?
        steps.append((msg, _snapshot(out) == before, sorted(p.name for p in parent.iterdir())))

    margins = reproduce(out, tiny_reproduce, seed=0, progress=progress, jobs=2)  # pages in two processes
    return SimpleNamespace(cfg=tiny_reproduce, parent=parent, path=out, margins=margins, steps=steps, old=dict(OLD_RUN))


#: the files that take longest (measured per file, idle, 2 xdist processes), started first: with two
#: processes taking whole files, a long file started last leaves one process idle while the other
#: finishes it. xdist would order files by their number of tests (test_cluster, 3 tests and ~45 s,
#: last): pyproject's addopts turn that off (--no-loadscope-reorder) so that this order is kept.
LONGEST_FIRST = (
    "test_engines.py",
    "test_cluster.py",
    "test_torch_ddp.py",
    "test_torch_runtime.py",
    "test_design.py",
    "test_torch.py",
    "test_reproduce.py",
    "test_problems.py",
    "test_runtime_allocation.py",
    "test_datasets.py",
    "test_runtime.py",
    "test_design_procedure.py",
    "test_runtime_training.py",
    "test_runtime_rounds.py",
    "test_allocation.py",
    "test_reliability.py",
    "test_input_laws.py",
    "test_simulate.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order
