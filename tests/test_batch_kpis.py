"""The ``kpis:`` section of a run: KPI tables and page beside the scores, from the same data."""

from __future__ import annotations

import json
import textwrap

import pandas as pd
import pytest

from clvmodels import cli, datasets
from clvmodels.batch import load_config
from clvmodels.exceptions import ConfigError
from clvmodels.kpis.bundle import compute_kpis

KPI_RUN = """\
input: {{dataset: cdnow_sample}}
summary: {{observation_period_end: 1998-06-30}}
models: [bgnbd, {{name: gamma_gamma, options: {{on_nonpositive: exclude}}}}]
output: {{directory: "{out}", formats: [csv], columns: [frequency]}}
kpis:
  period: M
  margin: 0.3
  segments: {{alive_high: 0.8}}
  customers: {{path: "{customers}", attributes: [region]}}
  surveys: {{dataset: example_surveys}}
"""


def _write(tmp_path, text, name="run.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


@pytest.fixture(scope="module")
def kpi_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kpis")
    customers = datasets.load_example_channels().query("customer_id <= 2357")
    customers.to_csv(tmp / "customers.csv", index=False)
    config = _write(tmp, KPI_RUN.format(out=tmp / "out", customers=tmp / "customers.csv"))
    assert cli.main(["run", config, "--no-progress"]) == 0
    return tmp / "out", customers


def test_kpi_files_and_manifest(kpi_run):
    out, _ = kpi_run
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kpis"]["tables"] == ["retention", "cohort_retention", "repeat_purchase_rate", "segments",
                                          "heuristic_clv", "acquisition", "segment_profile", "surveys",
                                          "surveys_by_period", "surveys_by_segment"]
    assert manifest["kpis"]["notes"] == ["No cost table: customer profitability is not computed (kpis.costs)."]
    assert sorted(manifest["outputs"]) == sorted(["scores.csv", "models/bgnbd.json", "models/gamma_gamma.json",
                                                  *manifest["kpis"]["files"]])
    assert "kpis" in manifest["timings_s"]
    html = (out / "kpis" / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == 5 and "<script" not in html
    segments = pd.read_csv(out / "kpis" / "customer_segments.csv")
    assert len(segments) == manifest["customers"]["scored"] == 2357


def test_kpi_tables_are_the_library_tables_of_the_same_scores(kpi_run):
    """Even with output.columns cutting the score file to one column, the KPIs see every score."""
    out, customers = kpi_run
    assert list(pd.read_csv(out / "scores.csv").columns) == ["customer_id", "frequency"]
    from clvmodels import BetaGeoModel, GammaGammaModel, customer_lifetime_value, load_model, rfm_summary

    tx = datasets.load_cdnow_transactions()
    summary = rfm_summary(tx, customer_id_col="customer_id", datetime_col="date", monetary_value_col="amount",
                          observation_period_end="1998-06-30")
    model, spend = load_model(out / "models" / "bgnbd.json"), load_model(out / "models" / "gamma_gamma.json")
    assert isinstance(model, BetaGeoModel) and isinstance(spend, GammaGammaModel)
    scores = summary.assign(p_alive=model.probability_alive(summary), expected_spend=spend.expected_spend(summary),
                            clv=customer_lifetime_value(model, spend, summary)).reset_index()
    bundle = compute_kpis(tx, scores, period="M", margin=0.3, segment_options={"alive_high": 0.8},
                          customers=customers, attributes=["region"], cac_col="cac",
                          surveys=datasets.load_example_surveys(), observation_period_end="1998-06-30")
    for name in ("retention", "segments", "acquisition", "surveys_by_segment"):
        written = pd.read_csv(out / "kpis" / f"{name}.csv", index_col=0)
        expected = bundle.tables[name]
        pd.testing.assert_frame_equal(written.reset_index(drop=True), expected.reset_index(drop=True),
                                      check_dtype=False, check_column_type=False, check_categorical=False, atol=1e-9)


@pytest.mark.parametrize(("text", "message"), [
    ("models: [sbg]\nkpis: {}\n", "kpis need transactions"),
    ("models: [bgnbd]\nkpis: {}\n", "with a spend model"),
    ("kpis: {perod: M}\n", "did you mean 'period'?"),
    ("kpis: {customers: {dataset: example_channels, path: x.csv}}\n", "exactly one of 'dataset'"),
    ("kpis: {segments: {alive_hi: 0.5}}\n", "did you mean 'alive_high'?"),
])
def test_kpi_config_errors(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(_write(tmp_path, "input: {dataset: cdnow_sample}\n" + text))


def test_missing_kpi_table_is_a_clear_input_error(tmp_path, capsys):
    config = _write(tmp_path, f"""\
        input: {{dataset: cdnow_sample}}
        output: {{directory: "{tmp_path / 'out'}"}}
        kpis: {{surveys: {{path: "{tmp_path / 'nope.csv'}"}}}}
        """)
    assert cli.main(["run", config, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "kpis.surveys.path" in err and "does not exist" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "scores.parquet").exists()  # nothing half-written
