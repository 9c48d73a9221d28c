"""Suite-wide settings: deterministic hypothesis runs that write nothing into the working tree."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "clvmodels",
    derandomize=True,  # the same examples on every run: no flaky tests
    database=None,  # no .hypothesis/ folder in the checkout
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("clvmodels")
