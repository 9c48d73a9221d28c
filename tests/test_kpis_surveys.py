"""NPS, CSAT and CES on hand-made answers (all-promoter, all-detractor and passive-only surveys
included), grouped by period and segment, and the scale checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels.exceptions import InvalidValueError, MissingColumnError
from clvmodels.kpis import ces, csat, nps, survey_metrics


@pytest.fixture
def responses() -> pd.DataFrame:
    """Q1: NPS 10, 9, 9 (customers 1, 2, 3), CSAT 5, 4 (1, 2), CES 1, 2 (1, 3).
    Q2: NPS 7, 3 (2, 4), CSAT 3, 2 (3, 4), CES 6 (4)."""
    rows = [(1, "2024-01-05", "nps", 10), (2, "2024-02-01", "nps", 9), (3, "2024-03-31", "NPS", 9),
            (1, "2024-01-05", "csat", 5), (2, "2024-02-01", "csat", 4), (1, "2024-01-07", "ces", 1),
            (3, "2024-03-02", "ces", 2), (2, "2024-04-01", "nps", 7), (4, "2024-05-10", "nps", 3),
            (3, "2024-06-30", "csat", 3), (4, "2024-05-10", " Csat ", 2), (4, "2024-05-10", "ces", 6)]
    return pd.DataFrame({"customer_id": [r[0] for r in rows], "date": pd.to_datetime([r[1] for r in rows]),
                         "question_type": [r[2] for r in rows], "score": [r[3] for r in rows]})


def test_metric_functions():
    assert nps([10, 9, 9, 7, 3]) == pytest.approx(40.0)  # 100 x (3 - 1) / 5
    assert nps([9, 10, 10]) == 100.0  # all promoters
    assert nps([0, 6, 3]) == -100.0  # all detractors
    assert nps([7, 8]) == 0.0  # passives only
    assert csat([5, 4, 3, 2]) == 0.5
    assert ces([1, 2, 6]) == 3.0
    assert np.isnan(nps([])) and np.isnan(csat([])) and np.isnan(ces([]))


def test_overall(responses):
    t = survey_metrics(responses)
    row = t.loc["all"]
    # NPS answers 10, 9, 9, 7, 3: 3 promoters, 1 detractor of 5 -> 40.
    assert row["nps"] == pytest.approx(40.0) and row["nps_responses"] == 5
    # CSAT 5, 4, 3, 2: 2 of 4 satisfied.  CES 1, 2, 6: mean 3.
    assert row["csat"] == 0.5 and row["csat_responses"] == 4
    assert row["ces"] == 3.0 and row["ces_responses"] == 3
    assert t.index.name == "group"


def test_per_period(responses):
    t = survey_metrics(responses, period="Q")
    assert list(t.index.astype(str)) == ["2024Q1", "2024Q2"]
    # Q1: NPS 10, 9, 9 -> 100; CSAT 5, 4 -> 1; CES 1, 2 -> 1.5.
    # Q2: NPS 7, 3 -> 100 x (0 - 1) / 2 = -50; CSAT 3, 2 -> 0; CES 6.
    np.testing.assert_allclose(t["nps"], [100.0, -50.0])
    np.testing.assert_allclose(t["csat"], [1.0, 0.0])
    np.testing.assert_allclose(t["ces"], [1.5, 6.0])
    assert t["nps_responses"].tolist() == [3, 2]
    monthly = survey_metrics(responses, period="M")
    # March has only customer 3's NPS 9 and CES 2: no CSAT answers -> NaN with 0 responses.
    march = monthly.loc[pd.Period("2024-03", "M")]
    assert march["nps"] == 100.0 and np.isnan(march["csat"]) and march["csat_responses"] == 0


def test_per_segment_and_period(responses):
    segments = pd.Series(["gold", "gold", "basic"], index=[1, 2, 3])  # 4 has no segment
    t = survey_metrics(responses, segments=segments)
    # gold (1, 2): NPS 10, 9, 7 -> 100 x 2 / 3; basic (3): NPS 9 -> 100; (none) (4): NPS 3 -> -100.
    assert t.loc["gold", "nps"] == pytest.approx(200 / 3)
    assert t.loc["basic", "nps"] == 100.0
    assert t.loc["(none)", "nps"] == -100.0
    ordered = survey_metrics(responses, segments=segments.astype(pd.CategoricalDtype(["gold", "basic"])))
    assert list(ordered.index) == ["gold", "basic", "(none)"]  # the categories' order, then no segment
    both = survey_metrics(responses, period="Q", segments=segments)
    assert both.index.names == ["period", "segment"]
    # Q2 gold: only customer 2's NPS 7 -> 0.
    assert both.loc[(pd.Period("2024Q2", "Q"), "gold"), "nps"] == 0.0


def test_all_promoters_and_all_detractors():
    promoters = pd.DataFrame({"question_type": ["nps"] * 3, "score": [9, 10, 10]})
    detractors = pd.DataFrame({"question_type": ["nps"] * 3, "score": [0, 6, 3]})
    assert survey_metrics(promoters).loc["all", "nps"] == 100.0
    assert survey_metrics(detractors).loc["all", "nps"] == -100.0
    assert np.isnan(survey_metrics(promoters).loc["all", "csat"])


def test_ces_scale_is_configurable():
    answers = pd.DataFrame({"question_type": ["ces", "ces"], "score": [8, 10]})
    assert survey_metrics(answers, ces_scale=(1, 10)).loc["all", "ces"] == 9.0
    with pytest.raises(InvalidValueError, match="CES scores must be whole numbers from 1 to 7; 2 of 2 rows"):
        survey_metrics(answers)
    with pytest.raises(ValueError, match="ces_scale"):
        survey_metrics(answers, ces_scale=(5, 1))


@pytest.mark.parametrize("kind, score, rule", [
    ("nps", 11, "NPS scores must be whole numbers from 0 to 10"),
    ("nps", -1, "NPS scores must be whole numbers from 0 to 10"),
    ("csat", 0, "CSAT scores must be whole numbers from 1 to 5"),
    ("csat", 4.5, "CSAT scores must be whole numbers from 1 to 5"),
])
def test_out_of_range_scores_are_errors(responses, kind, score, rule):
    bad = pd.concat([responses, pd.DataFrame({"customer_id": [9], "date": pd.to_datetime(["2024-01-01"]),
                                              "question_type": [kind], "score": [score]})], ignore_index=True)
    with pytest.raises(InvalidValueError, match=rf"column 'score': {rule}; 1 of 13 rows break it \(row: value, "
                                                rf"first 1: 12: {score!r}\)"):
        survey_metrics(bad)


def test_other_errors(responses):
    with pytest.raises(InvalidValueError, match="question type must be one of"):
        survey_metrics(responses.assign(question_type="ces_v2"))
    with pytest.raises(InvalidValueError, match="score must be a number"):
        survey_metrics(responses.assign(score=responses["score"].astype(object).where(responses.index > 0, "n/a")))
    with pytest.raises(MissingColumnError, match="'score'"):
        survey_metrics(responses.drop(columns="score"))
    with pytest.raises(MissingColumnError, match="'date'"):
        survey_metrics(responses.drop(columns="date"), period="M")
    with pytest.raises(InvalidValueError, match="date must be a valid date"):
        survey_metrics(responses.assign(date=pd.NaT), period="M")
