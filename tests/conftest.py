"""Suite-wide settings: deterministic hypothesis runs that write nothing into the working tree."""

import tempfile
import textwrap

import pytest
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


SAMPLE_COMPARE = """\
input: {{dataset: cdnow_sample}}
summary: {{observation_period_end: 1998-06-30}}
split: {{calibration_period_end: 1997-09-30}}
models: [bgnbd, mbgnbd, pareto_nbd, {{name: gamma_gamma, options: {{on_nonpositive: exclude}}}}]
output: {{directory: "{out}", title: "CDNOW sample"}}
kpis: {{period: Q, margin: 0.3, surveys: {{dataset: example_surveys}}}}
"""


@pytest.fixture(scope="session")
def sample_comparison(tmp_path_factory):
    """``clvmodels compare`` on the CDNOW sample (39 + 39 weeks): the output directory."""
    from clvmodels import cli

    tmp = tmp_path_factory.mktemp("compare")
    config = tmp / "compare.yaml"
    config.write_text(textwrap.dedent(SAMPLE_COMPARE.format(out=tmp / "out")))
    assert cli.main(["compare", str(config), "--no-progress"]) == 0
    return tmp / "out"
