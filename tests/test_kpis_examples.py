"""The shipped example tables: they load, they fit the CDNOW master customers, they are exactly
what the committed generator draws, and the KPI functions run on them end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels import datasets, kpis
from clvmodels.kpis.examples import FILES, make_example_tables, write_example_tables


@pytest.fixture(scope="module")
def master() -> pd.DataFrame:
    return datasets.load_cdnow_master()


@pytest.fixture(scope="module")
def generated(master) -> dict:
    return make_example_tables(master)


def test_channels(master):
    channels = datasets.load_example_channels()
    assert list(channels.columns) == ["customer_id", "channel", "campaign", "cac", "region", "age_band"]
    assert channels["customer_id"].tolist() == list(range(1, 23571))
    assert set(channels["customer_id"]) == set(master["customer_id"])
    assert (channels["cac"] >= 0).all()
    assert channels.notna().all().all()


def test_costs(master):
    costs = datasets.load_example_costs()
    assert list(costs.columns) == ["customer_id", "date", "amount", "cost", "cost_to_serve", "returned"]
    assert len(costs) == master.groupby(["customer_id", "date"]).ngroups
    assert costs["amount"].sum() == pytest.approx(master["amount"].sum(), abs=0.05)
    assert ((costs["returned"] >= 0) & (costs["returned"] <= costs["amount"])).all()
    assert ((costs["cost"] >= 0) & (costs["cost_to_serve"] > 0)).all()
    assert pd.api.types.is_datetime64_any_dtype(costs["date"])


def test_surveys(master):
    surveys = datasets.load_example_surveys()
    assert list(surveys.columns) == ["customer_id", "date", "question_type", "score"]
    assert surveys["customer_id"].isin(master["customer_id"]).all()
    first = master.groupby("customer_id")["date"].min()
    assert (surveys["date"].to_numpy() >= first.reindex(surveys["customer_id"]).to_numpy()).all()
    table = kpis.survey_metrics(surveys)  # every answer on its scale, or this raises
    assert table["nps_responses"].iloc[0] + table["csat_responses"].iloc[0] + table["ces_responses"].iloc[0] \
        == len(surveys)


@pytest.mark.parametrize("name", ["channels", "costs", "surveys"])
def test_files_are_what_the_generator_draws(generated, name):
    loader = {"channels": datasets.load_example_channels, "costs": datasets.load_example_costs,
              "surveys": datasets.load_example_surveys}[name]
    shipped = loader()
    drawn = generated[name].copy()
    if "date" in drawn:
        drawn["date"] = pd.to_datetime(drawn["date"], format="%Y-%m-%d")
    pd.testing.assert_frame_equal(shipped.reset_index(drop=True), drawn.reset_index(drop=True),
                                  check_dtype=False, check_exact=False, rtol=0, atol=1e-9)


def test_written_files_are_byte_identical(tmp_path, master):
    from importlib import resources

    paths = write_example_tables(tmp_path, master=master)
    for name, path in paths.items():
        shipped = resources.files("clvmodels.data").joinpath("files", FILES[name]).read_bytes()
        assert path.read_bytes() == shipped, name


def test_kpis_on_cdnow_and_examples(master):
    """End to end on the full log with a stand-in scores table (CLV from past spend)."""
    retention = kpis.retention_table(master, period="Q", inactivity_window=1)
    assert retention["new_customers"].sum() == 23570  # the whole cohort arrives in 1997Q1
    assert retention["new_customers"].iloc[1:].sum() == 0
    spend = master.groupby("customer_id")["amount"].sum()
    scores = pd.DataFrame({"customer_id": spend.index, "clv": spend.to_numpy() / 2,
                           "p_alive": np.linspace(0.05, 1.0, len(spend))})
    table = kpis.acquisition_economics(scores, datasets.load_example_channels(), transactions=master, margin=0.3)
    assert table["n_customers"].sum() == 23570
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    profit = kpis.customer_profitability(datasets.load_example_costs(), scores, cost_col="cost",
                                         cost_to_serve="cost_to_serve", returns_col="returned")
    assert len(profit) == 23570 and 0 < profit.attrs["share_unprofitable"] < 1
    segments = kpis.value_segments(scores)
    assert segments.notna().all()
    profile = kpis.segment_profile(segments, datasets.load_example_channels(), attributes=["channel", "region"])
    shares = profile.loc["channel"].sum(min_count=1).dropna()  # empty segments are all NaN
    assert len(shares) >= 4
    np.testing.assert_allclose(shares, 1.0)


def test_kpis_take_the_batch_runner_scores(master):
    """The scores table written by the batch runner feeds the KPI functions as it is."""
    from clvmodels import BetaGeoModel, GammaGammaModel, rfm_summary
    from clvmodels.batch.config import PredictionsConfig
    from clvmodels.batch.scoring import score

    summary = rfm_summary(master, customer_id_col="customer_id", datetime_col="date", monetary_value_col="amount",
                          observation_period_end="1997-09-30")
    purchase = BetaGeoModel().fit(summary)
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    spend = GammaGammaModel().fit(repeat)
    scores = score(summary, purchase, spend, PredictionsConfig(horizons=[39.0]))
    assert {"customer_id", "p_alive", "expected_spend", "clv"} <= set(scores.columns)
    segments = kpis.value_segments(scores)
    summary_table = kpis.segment_summary(scores, segments)
    assert summary_table["n_customers"].sum() == len(scores)
    assert summary_table["share_value"].sum() == pytest.approx(1.0)
    calibration = master[master["date"] <= "1997-09-30"]
    heuristic = kpis.heuristic_clv(calibration, scores, segments=segments, period="M", horizon_periods=12,
                                   inactivity_window=2)
    assert heuristic.loc["all", "n_customers"] == len(scores)
    assert heuristic.loc["all", "model_clv"] == pytest.approx(scores["clv"].mean())
    acquisition = kpis.acquisition_economics(scores, datasets.load_example_channels())
    assert acquisition["total_clv"].sum() == pytest.approx(scores["clv"].sum())
