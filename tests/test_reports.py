"""Model comparison: ranking, ``clvmodels compare`` outputs, and a report that escapes data."""

from __future__ import annotations

import json
import re
import textwrap

import numpy as np
import pandas as pd
import pytest

import clvmodels
from clvmodels import cli, diagnostics
from clvmodels.batch import CompareConfig, load_config
from clvmodels.exceptions import ConfigError
from clvmodels.reports import rank_models

def _write(tmp_path, text, name="compare.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


# -- ranking ------------------------------------------------------------------------------------
def test_ranking_follows_each_metric_direction():
    metrics = pd.DataFrame({"bic": [10.0, 20.0, 30.0], "holdout_correlation": [0.1, 0.9, 0.5],
                            "brier": [0.3, 0.1, 0.2]}, index=["a", "b", "c"])
    ranks, best, reason = rank_models(metrics)
    assert ranks.loc["a", "bic"] == 1 and ranks.loc["b", "holdout_correlation"] == 1 and ranks.loc["c", "brier"] == 2
    assert best == "b"  # ranks 2, 1, 1 -> mean 1.33
    assert ranks.loc["b", "mean_rank"] == pytest.approx(4 / 3) and ranks.loc["b", "firsts"] == 2
    assert reason.startswith("b has the best mean rank (1.33 over the 3 metrics it has)")
    assert "holdout correlation, Brier score" in reason


def test_ranking_ties_go_to_the_smaller_bic_and_missing_metrics_are_named():
    metrics = pd.DataFrame({"bic": [20.0, 10.0], "holdout_mae": [0.1, 0.2], "chi_square": [np.nan, 5.0]},
                           index=["a", "b"])
    ranks, best, reason = rank_models(metrics)
    # a: bic 2, mae 1 -> 1.5 ; b: bic 1, mae 2, chi 1 -> 1.33: b wins outright
    assert best == "b" and np.isnan(ranks.loc["a", "chi_square"])
    metrics["chi_square"] = np.nan
    metrics.loc["a", "chi_square"] = 1.0
    ranks, best, reason = rank_models(metrics.drop(columns="chi_square"))
    assert best == "b" and "tied and preferred for its smaller BIC" in reason


def test_a_single_model_is_best_by_default():
    _, best, reason = rank_models(pd.DataFrame({"bic": [1.0]}, index=["bgnbd"]))
    assert best == "bgnbd" and reason == "bgnbd is the only model compared."


# -- clvmodels compare --------------------------------------------------------------------------
def test_compare_writes_report_metrics_and_manifest(sample_comparison):
    out = sample_comparison
    from clvmodels.batch.publish import published_files

    assert published_files(out) == ["manifest.json", "metrics.csv", "metrics.json", "report.html"]
    assert sorted(p.name for p in out.iterdir()) == [".clvmodels", "current", "manifest.json", "metrics.csv",
                                                     "metrics.json", "report.html"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["outputs"]) == ["metrics.csv", "metrics.json", "report.html"]
    assert manifest["output_files"]["report.html"]["bytes"] == (out / "report.html").stat().st_size
    summary = json.loads((out / "metrics.json").read_text())
    table = pd.read_csv(out / "metrics.csv", index_col="model")
    assert manifest["status"] == "succeeded" and manifest["best"] == summary["best"]
    assert summary["best"] == table["mean_rank"].idxmin() and summary["reason"].startswith(summary["best"])
    assert set(table.index) == {"bgnbd", "mbgnbd", "pareto_nbd"}
    assert (table[["rank_bic", "rank_holdout_mae", "rank_brier"]] >= 1).all().all()
    # the paper's BG/NBD on the sample split (Fader, Hardie & Lee 2005): LL -9582.4
    assert table.loc["bgnbd", "log_likelihood"] == pytest.approx(-9582.43, abs=0.01)
    assert summary["parameters"]["bgnbd"]["r"]["estimate"] == pytest.approx(0.243, abs=5e-4)
    assert np.isfinite(table.loc[["bgnbd", "mbgnbd", "pareto_nbd"], "chi_square"]).all()  # every model has P(X(t)=n)
    assert summary["data"]["repeat purchases, holdout"] == 1882


def test_compare_metrics_equal_the_diagnostics(sample_comparison):
    """The numbers in metrics.csv are the diagnostics' own, recomputed here independently."""
    tx = clvmodels.datasets.load_cdnow_transactions()
    split = clvmodels.calibration_holdout_split(tx, customer_id_col="customer_id", datetime_col="date",
                                                monetary_value_col="amount", calibration_period_end="1997-09-30",
                                                observation_period_end="1998-06-30")
    model = clvmodels.ModifiedBetaGeoModel().fit(split)
    accuracy = diagnostics.holdout_accuracy(model, split).loc["purchases"]
    churn = diagnostics.churn_scores(model, split).iloc[0]
    table = pd.read_csv(sample_comparison / "metrics.csv", index_col="model")
    row = table.loc["mbgnbd"]
    assert row["holdout_mae"] == pytest.approx(accuracy["mae"], rel=1e-6)
    assert row["holdout_correlation"] == pytest.approx(accuracy["correlation"], rel=1e-6)
    assert row["brier"] == pytest.approx(churn["brier"], rel=1e-6)
    assert row["chi_square"] == pytest.approx(diagnostics.frequency_distribution(model, split).attrs["chi_square"],
                                              rel=1e-6)


def test_report_is_self_contained(sample_comparison):
    html = (sample_comparison / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # nothing fetched from a network
    assert "<script" not in html and "<link" not in html
    assert html.count('src="data:image/png;base64,') == 8 + 8 + 8 + 4  # each model with its frequency histogram; 4 KPI charts
    for name in ("bgnbd", "mbgnbd", "pareto_nbd", "gamma_gamma"):
        assert f"<h2 id=" in html and name in html
    assert "Best overall:" in html
    assert '<h2 id="kpis">Business KPIs</h2>' in html and "Survey metrics per period" in html


def test_report_escapes_strings_from_the_data(tmp_path):
    hostile = "<script>alert(1)</script>"
    tx = clvmodels.datasets.load_cdnow_transactions().rename(columns={"customer_id": hostile, "amount": "<b>amt</b>"})
    data = tmp_path / "<img src=x onerror=alert(2)>.csv"
    tx.to_csv(data, index=False)
    config = _write(tmp_path, f"""\
        input: {{path: '{data}', customer_id: '{hostile}', monetary_value: '<b>amt</b>'}}
        split: {{calibration_period_end: 1997-09-30}}
        models: [bgnbd]
        output: {{directory: '{tmp_path / "out"}', title: '{hostile}'}}
        """)
    assert cli.main(["compare", config, "--no-progress"]) == 0
    html = (tmp_path / "out" / "report.html").read_text()
    for raw in (hostile, "<b>amt</b>", "<img src=x"):
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(2)&gt;" in html


# -- configuration ------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("input: {dataset: cdnow_sample}\nmodels: [bgnbd]\n", "split: Field required"),
    ("input: {dataset: cdnow_sample}\nsplit: {calibration_period_end: 1997-09-30}\nmodels: [gamma_gamma]\n",
     "one or more continuous-time purchase models"),
    ("input: {dataset: cdnow_sample}\nsplit: {calibration_period_end: 1997-09-30}\nmodels: [bgnbd, bgbb]\n",
     "one or more continuous-time purchase models"),
    ("input: {dataset: cdnow_sample}\nsplit: {calibration_period_end: 1997-09-30}\nmodels: [bgnbd, bgnbd]\n",
     "must not repeat"),
    ("input: {dataset: cdnow_sample}\nsummary: {observation_period_end: 1997-06-30}\n"
     "split: {calibration_period_end: 1997-09-30}\n", "must come before"),
    ("input: {dataset: cdnow_sample}\nsplit: {calibration_period_ends: 1997-09-30}\n",
     "did you mean 'calibration_period_end'?"),
    ("input: {dataset: cdnow_sample}\nsplit: {calibration_period_end: 1997-09-30}\ndiagnostic: {}\n",
     "did you mean 'diagnostics'?"),
    ("input: {dataset: cdnow_sample}\nsplit: {calibration_period_end: 1997-09-30}\nmodels: [bgnbd]\nkpis: {}\n",
     "kpis need a spend model"),
])
def test_compare_config_errors(tmp_path, text, expected):
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load_config(_write(tmp_path, text), CompareConfig)


def test_compare_cli_exit_codes_and_validate(tmp_path, capsys):
    bad = _write(tmp_path, "input: {dataset: cdnow_sample}\nmodels: [bgnbd]\n")
    assert cli.main(["compare", bad]) == 2 and "split" in capsys.readouterr().err
    good = _write(tmp_path, "input: {dataset: cdnow_sample}\nsplit: {calibration_period_end: 1997-09-30}\n",
                  name="good.yaml")
    assert cli.main(["validate", good]) == 0


def test_shipped_compare_config_is_valid():
    from pathlib import Path

    config = load_config(Path(__file__).parents[1] / "configs" / "cdnow_compare.yaml", CompareConfig)
    assert config.input.dataset == "cdnow_master" and str(config.split.calibration_period_end) == "1997-09-30"
    assert [m.name for m in config.models] == ["bgnbd", "mbgnbd", "pareto_nbd", "gamma_gamma"]
