"""All KPI tables of a run at once (kpis.bundle.compute_kpis) and their HTML section."""

from __future__ import annotations

import pandas as pd
import pytest

from clvmodels import BetaGeoModel, GammaGammaModel, customer_lifetime_value, datasets, kpis, rfm_summary
from clvmodels.kpis.bundle import compute_kpis
from clvmodels.reports.html import render_kpi_report


@pytest.fixture(scope="module")
def sample():
    tx = datasets.load_cdnow_transactions()
    summary = rfm_summary(tx, customer_id_col="customer_id", datetime_col="date", monetary_value_col="amount")
    model, spend = BetaGeoModel().fit(summary), GammaGammaModel(on_nonpositive="exclude").fit(summary)
    scores = summary.assign(p_alive=model.probability_alive(summary), expected_spend=spend.expected_spend(summary),
                            clv=customer_lifetime_value(model, spend, summary)).reset_index()
    return tx, scores


def test_only_what_the_inputs_allow_and_the_rest_is_noted(sample):
    tx, _ = sample
    bundle = compute_kpis(tx, period="M")
    assert list(bundle.tables) == ["retention", "cohort_retention", "repeat_purchase_rate"]
    assert len(bundle.notes) == 4 and any("scores" in n for n in bundle.notes)
    pd.testing.assert_frame_equal(bundle.tables["retention"], kpis.retention_table(tx, period="M"))


def test_every_table_with_every_input(sample):
    tx, scores = sample
    ids = scores["customer_id"]
    customers = pd.DataFrame({"customer_id": ids, "channel": ids.mod(3).map({0: "email", 1: "search", 2: "social"}),
                              "cac": 5.0, "region": ids.mod(2).map({0: "<script>alert(1)</script>", 1: "North"})})
    surveys = pd.DataFrame({"customer_id": ids[:6], "date": pd.Timestamp("1997-05-01"),
                            "question_type": ["nps", "nps", "nps", "csat", "csat", "ces"], "score": [10, 9, 3, 5, 2, 4]})
    bundle = compute_kpis(tx, scores, period="Q", margin=0.3, customers=customers, attributes=["region"],
                          costs=tx, surveys=surveys, segment_options={"alive_high": 0.8})
    assert list(bundle.tables) == ["retention", "cohort_retention", "repeat_purchase_rate", "segments", "heuristic_clv",
                                   "profitability", "acquisition", "segment_profile", "surveys", "surveys_by_period",
                                   "surveys_by_segment"]
    assert bundle.notes == [] and bundle.segments.attrs["thresholds"]["alive_high"] == 0.8
    # NPS of 10, 9, 3: 2 promoters, 1 detractor of 3 -> 33.3
    assert bundle.tables["surveys"]["nps"].iloc[0] == pytest.approx(100 / 3)
    assert set(bundle.tables["acquisition"].index) == {"email", "search", "social"}

    html = render_kpi_report(bundle, title="KPIs <b>sample</b>", settings="quarters")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>sample</b>" not in html and "&lt;b&gt;sample&lt;/b&gt;" in html
    assert html.count('src="data:image/png;base64,') == 5  # retention, cohorts, segments, CLV:CAC, NPS
    assert "<script" not in html
