"""Discounted customer lifetime value: agreement with lifetimes and the identities it must obey."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter, GammaGammaFitter

import clvmodels
from clvmodels import BetaGeoModel, GammaGammaModel, customer_lifetime_value
from clvmodels import clv as clv_module


@pytest.fixture(scope="module")
def weekly():
    """The published CDNOW summary (weeks) with both models fitted on it."""
    summary = clvmodels.datasets.load_cdnow_summary()
    return summary, BetaGeoModel().fit(summary), GammaGammaModel().fit(summary)


@pytest.fixture(scope="module")
def daily():
    """The raw CDNOW sample summarised in days (``time_unit="D"``), both models fitted on it."""
    tx = clvmodels.datasets.load_cdnow_transactions()
    summary = clvmodels.rfm_summary(tx, customer_id_col="customer_id", datetime_col="date",
                                    monetary_value_col="amount", observation_period_end="1997-09-30",
                                    time_unit="D")
    return summary, BetaGeoModel().fit(summary), GammaGammaModel().fit(summary)


def _lifetimes_clv(summary, bg, gg, *, freq, time=12, discount_rate=0.01):
    """lifetimes 0.11.3 ``GammaGammaFitter.customer_lifetime_value`` with its parameters set to
    ours (the fitter is fitted first: lifetimes attaches ``predict`` in ``fit``)."""
    bgf = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    bgf.params_ = pd.Series(bg.params_.to_dict())
    ggf = GammaGammaFitter()
    ggf.params_ = pd.Series({"p": gg.params_["p"], "q": gg.params_["q"], "v": gg.params_["gamma"]})
    return ggf.customer_lifetime_value(bgf, summary["frequency"], summary["recency"], summary["T"],
                                       summary["monetary_value"], time=time, discount_rate=discount_rate,
                                       freq=freq)


def test_weekly_clv_agrees_with_lifetimes(weekly):
    """lifetimes 0.11.3 ``GammaGammaFitter.customer_lifetime_value(bgf, ..., time=12,
    discount_rate=0.01, freq='W')`` (4.345 weeks a month, end-of-month discounting) on the CDNOW
    summary with the same BG/NBD and Gamma-Gamma parameters: 1e-6 relative, every customer."""
    summary, bg, gg = weekly
    theirs = _lifetimes_clv(summary, bg, gg, freq="W")
    ours = customer_lifetime_value(bg, gg, summary, horizon_months=12, discount_rate=0.01, margin=1.0)
    assert ours.name == "clv" and ours.index.equals(summary.index)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-6)
    assert ours.min() > 0


def test_daily_clv_agrees_with_lifetimes(daily):
    """As above with times in days: lifetimes ``freq='D'`` (30 days a month), 24 months at 2 %."""
    summary, bg, gg = daily
    assert bg.time_unit_ == "D"
    theirs = _lifetimes_clv(summary, bg, gg, freq="D", time=24, discount_rate=0.02)
    ours = customer_lifetime_value(bg, gg, summary, horizon_months=24, discount_rate=0.02)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-6)


def test_clv_does_not_depend_on_the_time_unit(weekly, daily):
    """Weekly and daily summaries of the same customers give the same total CLV once the month is
    the same length (4.345 weeks = 30.415 days): 1e-4 relative, the published weekly file having
    recency and T rounded to 2 decimals. With the default 30-day month (lifetimes' convention)
    the daily total is about 1 % lower, the horizon being 1.4 % shorter."""
    w_summary, w_bg, w_gg = weekly
    d_summary, d_bg, d_gg = daily
    total_w = customer_lifetime_value(w_bg, w_gg, w_summary).sum()
    same_month = customer_lifetime_value(d_bg, d_gg, d_summary, month_length=4.345 * 7).sum()
    assert same_month == pytest.approx(total_w, rel=1e-4)
    thirty_days = customer_lifetime_value(d_bg, d_gg, d_summary).sum()
    assert 0.98 < thirty_days / total_w < 0.995


def test_undiscounted_clv_telescopes_to_expected_purchases_times_spend(weekly):
    """With discount_rate = 0 the monthly increments add up: CLV = margin * E[spend] *
    E[purchases in 12 months] (FHL 2005 eq. 10 at t = 12 * 4.345 weeks)."""
    summary, bg, gg = weekly
    ours = customer_lifetime_value(bg, gg, summary, horizon_months=12, discount_rate=0.0, margin=0.3)
    expected = 0.3 * gg.expected_spend(summary) * bg.expected_purchases(summary, 12 * 4.345)
    np.testing.assert_allclose(ours.to_numpy(), expected.to_numpy(), rtol=1e-10)


def test_clv_is_linear_in_margin_and_falls_with_discount_rate(weekly):
    summary, bg, gg = weekly
    base = customer_lifetime_value(bg, gg, summary)
    np.testing.assert_allclose(customer_lifetime_value(bg, gg, summary, margin=0.25).to_numpy(),
                               0.25 * base.to_numpy(), rtol=1e-14)
    higher = customer_lifetime_value(bg, gg, summary, discount_rate=0.05)
    assert np.all(higher.to_numpy() < base.to_numpy())
    longer = customer_lifetime_value(bg, gg, summary, horizon_months=13)
    assert np.all(longer.to_numpy() > base.to_numpy())


def test_explicit_month_length_matches_the_unit_table(weekly):
    summary, bg, gg = weekly
    np.testing.assert_array_equal(customer_lifetime_value(bg, gg, summary, month_length=4.345).to_numpy(),
                                  customer_lifetime_value(bg, gg, summary).to_numpy())


def test_chunking_does_not_change_the_result(weekly, monkeypatch):
    """CLV is computed in chunks of customers to bound memory; chunk edges must not matter."""
    summary, bg, gg = weekly
    whole = customer_lifetime_value(bg, gg, summary)
    monkeypatch.setattr(clv_module, "_CHUNK", 7)
    np.testing.assert_allclose(customer_lifetime_value(bg, gg, summary).to_numpy(), whole.to_numpy(),
                               rtol=1e-14)


def test_models_from_published_params_need_a_time_unit(weekly):
    """Fader, Hardie & Lee (2005) and Fader & Hardie (2013) CDNOW parameters via ``from_params``:
    CLV needs to know the unit to convert months; with ``time_unit="W"`` it matches the fitted
    models to the precision of the rounded parameters."""
    summary, bg, gg = weekly
    pub_bg = BetaGeoModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    pub_gg = GammaGammaModel.from_params(p=6.25, q=3.74, gamma=15.44)
    bare = summary.copy()
    bare.attrs = {}
    with pytest.raises(ValueError, match="time unit"):
        customer_lifetime_value(pub_bg, pub_gg, bare)
    pub_bg = BetaGeoModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W")
    published = customer_lifetime_value(pub_bg, pub_gg, bare)
    fitted = customer_lifetime_value(bg, gg, summary)
    assert published.sum() == pytest.approx(fitted.sum(), rel=2e-3)


@pytest.mark.parametrize("kwargs, match", [
    ({"horizon_months": 0}, "horizon_months"),
    ({"horizon_months": 2.5}, "horizon_months"),
    ({"discount_rate": -1.0}, "discount_rate"),
])
def test_invalid_arguments_are_rejected(weekly, kwargs, match):
    summary, bg, gg = weekly
    with pytest.raises(ValueError, match=match):
        customer_lifetime_value(bg, gg, summary, **kwargs)


def test_unfitted_models_raise_not_fitted(weekly):
    summary, bg, gg = weekly
    with pytest.raises(clvmodels.exceptions.NotFittedError, match="fit"):
        customer_lifetime_value(BetaGeoModel(), gg, summary)
    with pytest.raises(clvmodels.exceptions.NotFittedError, match="fit"):
        customer_lifetime_value(bg, GammaGammaModel(), summary)
