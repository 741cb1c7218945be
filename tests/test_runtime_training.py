"""What a training run gives its user (docs/runtime.md): a start-up limit for slow workers, the
iteration told to the problem, per-iteration metrics, a pluggable update rule, the trained θ and
checkpoints."""

import pytest

from bcgc._validate import InputError
from bcgc.problems import load_dataset, make_problem
from bcgc.runtime import worker_views
from bcgc.schemes.blocks import BlockScheme

N = 4


@pytest.fixture(scope="module")
def problem():
    return make_problem("logistic", load_dataset("digits", samples=400, seed=0), N)


def test_workers_slow_to_start_are_named_as_such(ray_session, problem):
    from bcgc.runtime.ray_backend import RayBackend

    views = worker_views(problem, BlockScheme([problem.L, 0, 0, 0], N))
    with pytest.raises(InputError, match=r"did not all start within startup_timeout=0\.001 s: they were slow to start"):
        RayBackend(views, startup_timeout=0.001)  # no process starts in a millisecond
    with pytest.raises(InputError, match="startup_timeout must be"):
        RayBackend(views, startup_timeout=0)
