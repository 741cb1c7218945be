import os

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
