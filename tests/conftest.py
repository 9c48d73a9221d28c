"""Suite-wide settings: deterministic hypothesis runs that write nothing into the working tree."""

import tempfile

from hypothesis import HealthCheck, configuration, settings

# Hypothesis keeps a storage folder (examples, constants) in the working directory by default.
configuration.set_hypothesis_home_dir(tempfile.mkdtemp(prefix="clvmodels-hypothesis-"))

settings.register_profile(
    "clvmodels",
    derandomize=True,  # the same examples on every run: no flaky tests
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("clvmodels")
