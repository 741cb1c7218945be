import os

from hypothesis import settings

# Derandomised so that CI runs are reproducible; the Monte Carlo draws inside tests are seeded too.
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=25, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
