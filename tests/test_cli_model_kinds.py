"""Every registered model is selectable by name in the YAML config: bgbb on discrete
opportunities and sbg on subscription payments, besides the continuous-time purchase models."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest

import clvmodels
from clvmodels import cli
from clvmodels.batch import load_config
from clvmodels.data import discrete_summary, retention_summary
from clvmodels.exceptions import ConfigError


def _donation_log() -> pd.DataFrame:
    """A transaction log with the donors of Fader, Hardie & Shang (2010): every donor gives in 1995
    (trial), and a donor of pattern (x, t_x) in the x years ending at 1995 + t_x."""
    d = clvmodels.datasets.load_donations()
    x, t_x = np.repeat(d["frequency"], d["count"]).to_numpy(), np.repeat(d["recency"], d["count"]).to_numpy()
    donor = np.arange(len(x))
    repeat_donor = np.repeat(donor, x)
    offset = np.arange(len(repeat_donor)) - np.repeat(np.cumsum(x) - x, x)  # 0..x-1 within a donor
    repeat_year = 1995 + np.repeat(t_x - x + 1, x) + offset
    years = np.r_[np.full(len(donor), 1995), repeat_year]
    return pd.DataFrame({"donor": np.r_[donor, repeat_donor],
                         "date": pd.to_datetime(pd.Series(years).astype(str) + "-06-15")})


def _config(tmp_path, body: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(body).format(tmp=tmp_path))
    return str(path)


def test_bgbb_from_yaml_reproduces_the_donations_paper(tmp_path):
    """FHS (2010), Table 2 (p. 1091): alpha 1.204, beta 0.750, gamma 0.657, delta 2.783,
    LL -33,225.6, fitted here from a transaction log run through the YAML config."""
    log = _donation_log()
    log.to_csv(tmp_path / "donations.csv", index=False)
    config = _config(tmp_path, """\
        input: {{path: "{tmp}/donations.csv", customer_id: donor, datetime: date, monetary_value: null}}
        summary: {{period: Y, observation_period_end: 2001-12-31}}
        models: [bgbb]
        predictions:
          horizons: [1, 5]
          clv: {{discount_rate: 0.1}}
          intervals: {{n_draws: 30, seed: 2}}
        output: {{directory: "{tmp}/out", formats: [csv]}}
        """)
    assert cli.main(["run", config, "--no-progress"]) == 0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    fitted = manifest["models"]["bgbb"]
    assert fitted["params"] == pytest.approx({"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}, abs=6e-4)
    assert fitted["log_likelihood"] == pytest.approx(-33225.6, abs=0.05)
    assert manifest["customers"]["scored"] == 11104 and manifest["summary"]["time_unit"] == "Y"

    scores = pd.read_csv(tmp_path / "out" / "scores.csv").set_index("donor")
    model = clvmodels.load_model(tmp_path / "out" / "models" / "bgbb.json")
    summary = discrete_summary(log, customer_id_col="donor", datetime_col="date", period="Y",
                               observation_period_end="2001-12-31")
    np.testing.assert_allclose(scores["p_alive"], model.probability_alive(summary).loc[scores.index], rtol=1e-9)
    np.testing.assert_allclose(scores["expected_purchases_5y"],
                               model.expected_purchases(summary, 5).loc[scores.index], rtol=1e-9)
    np.testing.assert_allclose(scores["dert"], model.discounted_expected_residual_transactions(summary, 0.1)
                               .loc[scores.index], rtol=1e-9)
    assert (scores["dert_lower"] <= scores["dert"]).all() and (scores["dert"] <= scores["dert_upper"]).all()
    assert "clv" not in scores and "expected_spend" not in scores


def test_sbg_from_yaml_scores_subscribers(tmp_path):
    rng = np.random.default_rng(11)
    n, months = 2000, 18
    lifetime = rng.geometric(rng.beta(0.7, 3.8, n))
    paid = np.minimum(lifetime, months)
    ids = np.repeat(np.arange(n), paid)
    month = np.concatenate([np.arange(k) for k in paid])
    fee = np.where(ids % 2 == 0, 10.0, 25.0)  # two plans
    log = pd.DataFrame({"customer_id": ids, "amount": fee,
                        "date": pd.PeriodIndex.from_ordinals(pd.Period("2023-01", "M").ordinal + month, freq="M")
                        .to_timestamp() + pd.Timedelta(days=3)})
    log.to_parquet(tmp_path / "payments.parquet")
    config = _config(tmp_path, """\
        input: {{path: "{tmp}/payments.parquet"}}
        summary: {{period: M, observation_period_end: 2024-06-30}}
        models: [sbg]
        predictions:
          clv: {{discount_rate: 0.01}}
        output: {{directory: "{tmp}/out"}}
        """)
    assert cli.main(["run", config, "--no-progress"]) == 0
    scores = pd.read_parquet(tmp_path / "out" / "scores.parquet").set_index("customer_id")
    scores.index = scores.index.astype(int)  # the job reads ids as text (input.customer_id_dtype)
    scores = scores.sort_index()
    model = clvmodels.load_model(tmp_path / "out" / "models" / "sbg.json")
    summary = retention_summary(log, customer_id_col="customer_id", datetime_col="date", monetary_value_col="amount",
                                observation_period_end="2024-06-30")
    assert (scores["churned"] == summary["churned"]).all()
    derl = model.discounted_expected_residual_lifetime(summary, 0.01)
    np.testing.assert_allclose(scores["derl"], derl, rtol=1e-12)
    np.testing.assert_allclose(scores["clv"], derl * np.where(scores.index % 2 == 0, 10.0, 25.0), rtol=1e-12)
    assert (scores.loc[scores["churned"] == 1, "clv"] == 0).all()
    assert model.params_["alpha"] == pytest.approx(0.7, rel=0.25) and model.params_["beta"] == pytest.approx(3.8, rel=0.3)


@pytest.mark.parametrize(("models", "message"), [
    ("[bgbb, gamma_gamma]", "only beside a continuous-time purchase model"),
    ("[bgnbd, sbg]", "exactly one purchase model"),
    ("[sbg, bgbb]", "exactly one purchase model"),
])
def test_model_kinds_do_not_mix(tmp_path, models, message):
    config = _config(tmp_path, f"input: {{{{dataset: cdnow_sample}}}}\nmodels: {models}\n")
    with pytest.raises(ConfigError, match=message):
        load_config(config)


def test_discrete_horizons_are_whole_periods(tmp_path):
    config = _config(tmp_path, "input: {{dataset: cdnow_sample}}\nmodels: [bgbb]\npredictions: {{horizons: [2.5]}}\n")
    with pytest.raises(ConfigError, match="whole periods"):
        load_config(config)
