"""Batch scoring with saved Bayesian posteriors (``.nc``): interval columns, values, manifest, errors.

The posteriors are fitted on the CDNOW 1/10 sample with short chains (2 x 300 draws); the scores
must equal the models' own predictions for the same customers, whatever the chunking.
"""

from __future__ import annotations

import json
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pymc")

from clvmodels import cli, datasets  # noqa: E402
from clvmodels.batch import load_config, score  # noqa: E402
from clvmodels.bayes import (BayesBetaGeoModel, BayesGammaGammaModel,  # noqa: E402
                             PosteriorConvergenceWarning, customer_lifetime_value)
from clvmodels.exceptions import ConfigError  # noqa: E402

CONFIG = """\
input:
  dataset: cdnow_sample
summary:
  observation_period_end: 1997-09-30
models: [bgnbd, gamma_gamma]
predictions:
  horizons: [39, 52]
  clv: {{horizon_months: 6, discount_rate: 0.02, margin: 0.3}}
{intervals}output:
  directory: {out}
engine: {{chunk_size: 1000}}
"""


def _config(tmp_path, name="config", intervals=""):
    path = tmp_path / f"{name}.yaml"
    path.write_text(CONFIG.format(out=tmp_path / name, intervals=textwrap.indent(intervals, "  ")))
    return str(path)


@pytest.fixture(scope="module")
def posteriors(tmp_path_factory):
    """Both posteriors saved as NetCDF, and the summary the batch builds (to predict on directly)."""
    folder = tmp_path_factory.mktemp("posteriors")
    summary = datasets.load_cdnow_summary()
    paths = {}
    with warnings.catch_warnings():  # convergence is tested in test_bayes_models.py
        warnings.simplefilter("ignore", PosteriorConvergenceWarning)
        for name, cls in (("bgnbd", BayesBetaGeoModel), ("gamma_gamma", BayesGammaGammaModel)):
            model = cls(draws=300, tune=300, chains=2, random_seed=5).fit(summary)
            paths[name] = folder / f"{name}.nc"
            model.save(paths[name])
    return paths


def _scored(tmp_path, posteriors, intervals=""):
    config = _config(tmp_path, intervals=intervals)
    assert cli.main(["score", config, "--model", str(posteriors["bgnbd"]), "--model",
                     str(posteriors["gamma_gamma"]), "--no-progress"]) == 0
    out = tmp_path / "config"
    return config, pd.read_parquet(out / "scores.parquet"), json.loads((out / "manifest.json").read_text())


def test_scores_are_the_posterior_predictions_with_bounds(tmp_path, posteriors):
    config, scores, manifest = _scored(tmp_path, posteriors)
    bg, gg = BayesBetaGeoModel.load(posteriors["bgnbd"]), BayesGammaGammaModel.load(posteriors["gamma_gamma"])
    summary = scores.set_index("customer_id")[["frequency", "recency", "T", "monetary_value"]]
    summary.attrs["time_unit"] = "W"
    expected = {"p_alive": bg.probability_alive(summary),
                "expected_purchases_39w": bg.expected_purchases(summary, 39),
                "expected_purchases_52w": bg.expected_purchases(summary, 52),
                "expected_spend": gg.expected_spend(summary),
                "clv": customer_lifetime_value(bg, gg, summary, horizon_months=6, discount_rate=0.02, margin=0.3)}
    assert len(scores) == 2357  # three chunks of 1,000 customers
    for column, table in expected.items():
        assert list(table.columns[2:]) == ["lower 90%", "upper 90%"]  # the default level
        lower, mean, upper = (scores[c].to_numpy() for c in (f"{column}_lower", column, f"{column}_upper"))
        assert np.all(lower <= mean + 1e-12) and np.all(mean <= upper + 1e-12) and np.any(lower < upper)
        np.testing.assert_allclose(mean, table["mean"], rtol=0, atol=1e-9)
        np.testing.assert_allclose(lower, table["lower 90%"], rtol=0, atol=1e-9)
        np.testing.assert_allclose(upper, table["upper 90%"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(scores["churn_probability"], 1 - scores["p_alive"], atol=1e-15)
    np.testing.assert_allclose(scores["churn_probability_upper"], 1 - scores["p_alive_lower"], atol=1e-15)

    assert manifest["status"] == "succeeded" and manifest["customers"]["reconciled"]
    assert manifest["customers"]["scored"] == manifest["customers"]["in_input"] == 2357
    entry = manifest["models"]["bgnbd"]
    assert entry["class"] == "BayesBetaGeoModel" and entry["method"] == "mcmc" and entry["draws"] == 600
    assert entry["file"] == str(posteriors["bgnbd"])
    assert entry["params"] == pytest.approx(bg.params_.to_dict())
    assert manifest["models"]["gamma_gamma"]["class"] == "BayesGammaGammaModel"


def test_configured_level_sets_the_bounds(tmp_path, posteriors):
    _, scores, _ = _scored(tmp_path, posteriors, intervals="intervals: {ci_level: 0.5}\n")
    bg = BayesBetaGeoModel.load(posteriors["bgnbd"])
    summary = scores.set_index("customer_id")[["frequency", "recency", "T"]]
    band = bg.probability_alive(summary, ci_level=0.5)
    np.testing.assert_allclose(scores["p_alive_lower"], band["lower 50%"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(scores["p_alive_upper"], band["upper 50%"], rtol=0, atol=1e-9)


def test_wrong_model_files_exit_2_with_a_message(tmp_path, posteriors, capsys):
    config = _config(tmp_path)
    not_netcdf = tmp_path / "bgnbd.nc"
    not_netcdf.write_text('{"model": "bgnbd"}')
    assert cli.main(["score", config, "--model", str(not_netcdf), str(posteriors["gamma_gamma"])]) == 2
    assert "is not a NetCDF posterior file" in capsys.readouterr().err

    assert cli.main(["score", config, "--model", str(posteriors["gamma_gamma"])]) == 2
    assert "the model files hold ['gamma_gamma'], but the config's models are ['bgnbd', 'gamma_gamma']" in \
        capsys.readouterr().err

    other = tmp_path / "other.yaml"
    other.write_text(open(config).read().replace("[bgnbd, gamma_gamma]", "[pareto_nbd, gamma_gamma]"))
    assert cli.main(["score", str(other), "--model", str(posteriors["bgnbd"]), str(posteriors["gamma_gamma"])]) == 2
    assert "the config's models are ['gamma_gamma', 'pareto_nbd']" in capsys.readouterr().err


def test_mle_and_bayesian_models_do_not_mix(tmp_path, posteriors):
    config = _config(tmp_path)
    assert cli.main(["fit", config, "--no-progress"]) == 0
    mle = tmp_path / "config" / "models" / "bgnbd.json"
    with pytest.raises(ConfigError, match="is a Bayesian posterior but .*bgnbd.json is a maximum-likelihood fit"):
        score(load_config(config), models=[mle, posteriors["gamma_gamma"]], progress=False)


def test_mle_only_scoring_does_not_import_pymc(tmp_path):
    """PyMC is imported for ``.nc`` model files only."""
    import subprocess
    import sys

    config = _config(tmp_path)
    code = ("import sys; from clvmodels import cli; "
            f"assert cli.main(['run', {config!r}, '--no-progress']) == 0; "
            f"assert cli.main(['score', {config!r}, '--no-progress']) == 0; "
            "print(sorted(m for m in ('pymc', 'pytensor', 'arviz', 'nutpie') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
