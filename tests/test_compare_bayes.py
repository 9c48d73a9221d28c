"""``clvmodels compare`` with a ``bayesian`` section: PSIS-LOO / WAIC of the Bayesian variants.

The reference for the table is arviz itself on one row per customer: :func:`arviz.loo`,
:func:`arviz.waic` and :func:`arviz.compare` on an InferenceData whose ``log_likelihood`` group
holds every customer's log-likelihood at every draw, computed here from the likelihood modules
(BG/NBD: Fader, Hardie & Lee 2005, eq. 6; MBG/NBD: Batislam, Denizel & Filiztekin 2007), not
through :mod:`clvmodels.bayes.diagnostics`. The fits are short (2 chains x 200 draws on the CDNOW
1/10 sample, 2,357 customers); their convergence warnings are the subject of
``tests/test_bayes_models.py`` and are ignored here.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest

import clvmodels
from clvmodels import cli
from clvmodels.batch import CompareConfig, load_config
from clvmodels.batch.config import parse_config
from clvmodels.exceptions import ConfigError

compare_module = sys.modules["clvmodels.batch.compare"]  # `clvmodels.batch.compare` names the function

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*the posterior sample is not reliable:clvmodels.exceptions.ClvModelsWarning")

SETTINGS = {"method": "mcmc", "draws": 200, "tune": 200, "chains": 2, "random_seed": 1}

CONFIG = """\
input: {{dataset: cdnow_sample}}
summary: {{observation_period_end: 1998-06-30}}
split: {{calibration_period_end: 1997-09-30}}
models: [bgnbd, mbgnbd]
output: {{directory: "{out}", title: "CDNOW sample"}}
{bayesian}"""


def _config(tmp_path, bayesian: str = "", name: str = "compare.yaml") -> str:
    path = tmp_path / name
    path.write_text(CONFIG.format(out=tmp_path / "out", bayesian=bayesian))
    return str(path)


def _split():
    tx = clvmodels.datasets.load_cdnow_transactions()
    return clvmodels.calibration_holdout_split(tx, customer_id_col="customer_id", datetime_col="date",
                                               monetary_value_col="amount", calibration_period_end="1997-09-30",
                                               observation_period_end="1998-06-30")


@pytest.fixture(scope="module")
def fitted():
    """BG/NBD and MBG/NBD posteriors on the calibration split of the CDNOW sample."""
    pytest.importorskip("pymc")
    from clvmodels.bayes import BayesBetaGeoModel, BayesModifiedBetaGeoModel, PosteriorConvergenceWarning

    split = _split()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PosteriorConvergenceWarning)
        models = {"bgnbd": BayesBetaGeoModel(**SETTINGS).fit(split),
                  "mbgnbd": BayesModifiedBetaGeoModel(**SETTINGS).fit(split)}
    return split, models


def _per_customer_idata(model, maths, split):
    import arviz as az

    posterior = model.idata_.posterior
    params = tuple(posterior[n].to_numpy()[..., None] for n in model.param_names)
    ll = maths.loglik(params, *(split[c].to_numpy(float) for c in ("frequency", "recency", "T")))
    return az.InferenceData(posterior=posterior, log_likelihood=az.from_dict(
        log_likelihood={"obs": ll}, dims={"obs": ["customer"]}).log_likelihood)


# -- the table ----------------------------------------------------------------------------------
def test_table_equals_arviz_on_one_row_per_customer(fitted):
    import arviz as az

    from clvmodels.likelihoods import bgnbd, mbgnbd
    from clvmodels.reports import information_criteria_table

    split, models = fitted
    table = information_criteria_table(models, split)
    idata = {"bgnbd": _per_customer_idata(models["bgnbd"], bgnbd, split),
             "mbgnbd": _per_customer_idata(models["mbgnbd"], mbgnbd, split)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.filterwarnings("ignore", message="The inplace keyword", category=DeprecationWarning)
        loo = {name: az.loo(d, pointwise=True) for name, d in idata.items()}
        waic = {name: az.waic(d, pointwise=True) for name, d in idata.items()}
        reference = az.compare(loo, ic="loo", method="stacking", scale="log")
    assert list(table.index) == list(reference.index)  # best elpd_loo first
    assert table["loo_rank"].tolist() == [1, 2]
    for name in models:
        row = table.loc[name]
        assert row["elpd_loo"] == pytest.approx(loo[name]["elpd_loo"], rel=1e-9)
        assert row["se_elpd_loo"] == pytest.approx(loo[name]["se"], rel=1e-9)
        assert row["p_loo"] == pytest.approx(loo[name]["p_loo"], rel=1e-8)
        assert row["elpd_waic"] == pytest.approx(waic[name]["elpd_waic"], rel=1e-9)
        assert row["se_elpd_waic"] == pytest.approx(waic[name]["se"], rel=1e-9)
        assert row["p_waic"] == pytest.approx(waic[name]["p_waic"], rel=1e-8)
        assert row["elpd_loo_diff"] == pytest.approx(reference.loc[name, "elpd_diff"], rel=1e-8, abs=1e-8)
        assert row["se_elpd_loo_diff"] == pytest.approx(reference.loc[name, "dse"], rel=1e-8, abs=1e-8)
        assert row["stacking_weight"] == pytest.approx(reference.loc[name, "weight"], abs=1e-4)
        k = loo[name]["pareto_k"].to_numpy()
        assert row["pareto_k_over_0.7"] == int((k > 0.7).sum())
        assert row["pareto_k_max"] == pytest.approx(k.max(), rel=1e-9)
        assert row["loo_warning"] == bool(loo[name]["warning"])
        assert row["waic_warning"] == bool(waic[name]["warning"])
    second = table.iloc[1]
    assert second["elpd_loo_diff"] > 0 and second["se_elpd_loo_diff"] > 0
    assert table["stacking_weight"].sum() == pytest.approx(1.0, abs=1e-6)


def test_high_pareto_k_is_counted_per_customer_and_warned(fitted):
    from clvmodels.reports.bayesian import _table_from_elpd

    split, models = fitted
    loos = {name: m.loo(split) for name, m in models.items()}
    waics = {name: m.waic(split) for name, m in models.items()}
    counts = loos["bgnbd"]["counts"].to_numpy()
    worst = int(np.argmax(counts))  # the most common history: many customers, one row
    k = loos["bgnbd"]["pareto_k"].copy()
    k[worst] = 0.9
    loos["bgnbd"]["pareto_k"] = k
    table = _table_from_elpd(loos, waics)
    assert table.loc["bgnbd", "pareto_k_over_0.7"] == int(counts[worst]) > 1
    warning = table.loc["bgnbd", "ic_warning"]
    assert f"{int(counts[worst]):,} customers (1 distinct history) have Pareto k > 0.7" in warning
    assert table.loc["mbgnbd", "pareto_k_over_0.7"] == 0
    assert "Pareto k > 0.7" not in table.loc["mbgnbd", "ic_warning"]


def test_models_on_different_histories_are_refused(fitted):
    from clvmodels.reports import information_criteria_table
    from clvmodels.reports.bayesian import _table_from_elpd

    split, models = fitted
    loos = {"bgnbd": models["bgnbd"].loo(split), "mbgnbd": models["mbgnbd"].loo(split.iloc[:2000])}
    waics = {name: m.waic(split) for name, m in models.items()}
    with pytest.raises(ValueError, match="different customers or histories"):
        _table_from_elpd(loos, waics)
    point = type(models["bgnbd"])(method="map").fit(split)
    with pytest.raises(ValueError, match="need posterior draws"):
        information_criteria_table({"bgnbd": point}, split)


# -- the configuration --------------------------------------------------------------------------
BASE = {"input": {"dataset": "cdnow_sample"}, "split": {"calibration_period_end": "1997-09-30"}}


def test_config_round_trips_and_defaults_to_no_bayesian_section():
    config = parse_config({**BASE, "bayesian": {"method": "mcmc", "draws": 500, "tune": 500, "chains": 2,
                                                 "random_seed": 0}}, schema=CompareConfig)
    assert config.bayesian.draws == 500 and config.bayesian.chains == 2 and config.bayesian.sampler is None
    again = parse_config(config.model_dump(mode="json"), schema=CompareConfig)
    assert again == config and again.bayesian.model_dump() == config.bayesian.model_dump()
    assert parse_config(BASE, schema=CompareConfig).bayesian is None
    assert parse_config({**BASE, "bayesian": {}}, schema=CompareConfig).bayesian.draws == 1000  # defaults


@pytest.mark.parametrize(("section", "expected"), [
    ("{draw: 200}", "bayesian.draw: unknown key 'draw'; did you mean 'draws'?"),
    ("{method: mcmc, prior: {}}", "bayesian.prior: unknown key 'prior'"),
    ("{method: map}", "bayesian.method: method 'map' keeps the posterior mode only, and LOO and WAIC need"),
    ("{method: nuts}", "bayesian.method: Input should be 'mcmc' or 'advi'"),
    ("{chains: 0}", "bayesian.chains: Input should be greater than or equal to 1"),
    ("{target_accept: 1.5}", "bayesian.target_accept"),
])
def test_config_errors(tmp_path, section, expected):
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load_config(_config(tmp_path, f"bayesian: {section}\n"), CompareConfig)


# -- the report ---------------------------------------------------------------------------------
def test_report_section_escapes_names_and_notes(fitted):
    from clvmodels.reports import Comparison, bayesian_comparison, render_report

    split, models = fitted
    hostile = "<script>alert(1)</script>"
    b = bayesian_comparison(models, split, notes=[f"note {hostile}"], settings=SETTINGS)
    b.table = b.table.rename(index={"bgnbd": hostile})
    b.table.loc[hostile, "ic_warning"] = "12 customers have Pareto k > 0.7 <b>"
    b.convergence = b.convergence.rename(index={"bgnbd": hostile})
    metrics = pd.DataFrame({"bic": [1.0]}, index=pd.Index(["m"], name="model"))
    ranks = pd.DataFrame({"bic": [1.0], "mean_rank": [1.0], "firsts": [1]}, index=metrics.index)
    comparison = Comparison(data={}, metrics=metrics, ranks=ranks, best="m", reason="m is the only model.",
                            models={}, fit=pd.DataFrame(index=pd.Index([], name="model")), bayesian=b)
    html = render_report(comparison, title="t")
    assert '<h2 id="bayesian">Bayesian comparison (LOO / WAIC)</h2>' in html and 'href="#bayesian"' in html
    assert "<script" not in html and "<b>" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # table header, convergence row, warning, note
    assert "Pareto k &gt; 0.7 &lt;b&gt;" in html
    assert "do not enter the mean rank" in html


def test_compare_with_a_bayesian_section(tmp_path, fitted, monkeypatch, capsys):
    """The CLI run: bgnbd gets a Bayesian fit (the same settings and seed as ``fitted``, so the same
    draws), mbgnbd is treated as a model without a Bayesian variant and left out with a note."""
    split, models = fitted
    variants = compare_module._bayesian_variants()
    monkeypatch.setattr(compare_module, "_bayesian_variants",
                        lambda: {k: v for k, v in variants.items() if k != "mbgnbd"})
    section = "bayesian: {" + ", ".join(f"{k}: {v}" for k, v in SETTINGS.items()) + "}\n"
    assert cli.main(["compare", _config(tmp_path, section), "--no-progress"]) == 0
    assert "best by PSIS-LOO (Bayesian fits): bgnbd" in capsys.readouterr().out
    out = tmp_path / "out"
    manifest = json.loads((out / "manifest.json").read_text())
    summary = json.loads((out / "metrics.json").read_text())
    table = pd.read_csv(out / "metrics.csv", index_col="model")
    html = (out / "report.html").read_text()

    assert manifest["status"] == "succeeded" and "bayesian" in manifest["timings_s"]
    assert manifest["bayesian"]["fitted"] == ["bgnbd"] and summary["bayesian"]["best_by_elpd_loo"] == "bgnbd"
    expected = models["bgnbd"].loo(split)
    info = summary["bayesian"]["information_criteria"]["bgnbd"]
    assert info["elpd_loo"] == pytest.approx(expected["elpd_loo"], rel=1e-9)
    assert table.loc["bgnbd", "elpd_loo"] == pytest.approx(expected["elpd_loo"], rel=1e-9)
    assert table.loc["bgnbd", "p_waic"] == pytest.approx(models["bgnbd"].waic(split)["p_waic"], rel=1e-9)
    assert np.isnan(table.loc["mbgnbd", "elpd_loo"])
    assert summary["bayesian"]["convergence"]["bgnbd"]["draws"] == 200
    # the ranking is the 10 metrics' alone
    assert not [c for c in table.columns if c.startswith("rank_") and "loo" in c]
    assert summary["best"] == table["mean_rank"].idxmin()
    assert "mbgnbd has no Bayesian variant" in " ".join(summary["bayesian"]["notes"])

    assert '<h2 id="bayesian">Bayesian comparison (LOO / WAIC)</h2>' in html
    assert "Best by elpd_loo: bgnbd." in html and "mbgnbd has no Bayesian variant" in html
    assert "<script" not in html


def test_missing_pymc_is_a_config_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(compare_module.importlib.util, "find_spec", lambda name, *a: None)
    assert cli.main(["compare", _config(tmp_path, "bayesian: {draws: 100}\n"), "--no-progress"]) == 2
    assert "pip install 'clvmodels[bayes]'" in capsys.readouterr().err
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["status"] == "failed"


def test_compare_without_the_section_does_not_import_pymc(tmp_path):
    """Validating a config with the section, and comparing without it, import no PyMC or arviz."""
    with_section = _config(tmp_path, "bayesian: {draws: 100, chains: 2}\n", name="with.yaml")
    without = _config(tmp_path)
    code = ("import sys; from clvmodels import cli; import clvmodels.reports; "
            f"assert cli.main(['validate', {with_section!r}]) == 0; "
            f"assert cli.main(['compare', {without!r}, '--no-progress']) == 0; "
            "print(sorted(m for m in ('pymc', 'pytensor', 'arviz', 'nutpie') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert "bayesian" not in json.loads((tmp_path / "out" / "metrics.json").read_text())
