"""The bundled covariate example and the value of a new customer by profile (issue 13).

- ``datasets.load_covariate_example``: the frames are what the docstring says, the files are exactly
  what ``benchmarks/make_covariate_example.py`` writes (provenance), and BG/NBD and Gamma-Gamma with
  covariates fitted on its summary recover the documented coefficients within 3 standard errors.
- ``clv.new_customer_lifetime_value``: checked against the closed forms it stands on (BG/NBD eq. 9
  of Fader, Hardie & Lee 2005 through ``bgnbd.expected_purchases_new_customer`` with each profile's
  parameters, and the Gamma-Gamma mean ``p gamma_x / (q - 1)``), against
  ``customer_lifetime_value`` for a customer with no history, and for its argument checks.
"""

from __future__ import annotations

import gzip
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import clvmodels as clv
from clvmodels import datasets
from clvmodels.clv import MONTH_LENGTH
from clvmodels.exceptions import InvalidArgumentError, InvalidValueError, MissingColumnError
from clvmodels.likelihoods import bgnbd

ROOT = Path(__file__).resolve().parent.parent
PURCHASE, DROPOUT, SPEND = ["channel", "region", "age"], ["channel"], ["channel", "age"]


@pytest.fixture(scope="module")
def tables():
    return datasets.load_covariate_example("transactions"), datasets.load_covariate_example("customers")


@pytest.fixture(scope="module")
def summary(tables):
    transactions, customers = tables
    rfm = clv.rfm_summary(transactions, customer_id_col="customer_id", datetime_col="date",
                          monetary_value_col="amount", freq="D", time_unit="W",
                          observation_period_end=datasets.COVARIATE_EXAMPLE_OBSERVATION_END)
    joined = rfm.join(customers.set_index("customer_id"), how="inner")
    joined.attrs.update(rfm.attrs)  # a join drops attrs; the time unit is read from them
    assert len(joined) == len(rfm) == len(customers)
    return joined


@pytest.fixture(scope="module")
def fits(summary):
    purchase = clv.BetaGeoModel(purchase_covariates=PURCHASE, dropout_covariates=DROPOUT).fit(summary)
    spend = clv.GammaGammaModel(spend_covariates=SPEND).fit(summary)
    return purchase, spend


# -- the data set -------------------------------------------------------------------------------------

def test_frames_are_as_documented(tables):
    transactions, customers = tables
    assert list(transactions.columns) == ["customer_id", "date", "amount"]
    assert len(transactions) == 33_320
    assert transactions["customer_id"].map(type).eq(str).all()
    assert transactions["date"].dtype.kind == "M"
    assert (transactions["amount"] > 0).all()
    assert transactions["date"].max() <= pd.Timestamp(datasets.COVARIATE_EXAMPLE_OBSERVATION_END)
    first = transactions.groupby("customer_id")["date"].min()
    assert first.between("2023-01-01", "2023-06-30").all()
    assert transactions.equals(transactions.sort_values(["customer_id", "date"], kind="stable", ignore_index=True))

    assert list(customers.columns) == ["customer_id", "channel", "region", "age"]
    assert len(customers) == 6_000 and customers["customer_id"].is_unique
    assert customers["customer_id"].iloc[[0, -1]].tolist() == ["C00001", "C06000"]
    assert set(transactions["customer_id"]) == set(customers["customer_id"])  # every customer bought once
    assert sorted(customers["channel"].unique()) == ["organic", "paid_social", "referral"]
    assert sorted(customers["region"].unique()) == ["north", "south"]
    assert customers["age"].dtype.kind == "i" and customers["age"].between(18, 80).all()
    for frame in tables:
        assert frame.attrs["true_params"] == datasets.COVARIATE_EXAMPLE_TRUE_PARAMS
        assert frame.attrs["observation_period_end"] == "2024-06-30"


def test_loader_returns_fresh_truth_and_refuses_an_unknown_kind():
    frame = datasets.load_covariate_example("customers")
    frame.attrs["true_params"]["bgnbd"]["r"] = -1.0
    assert datasets.COVARIATE_EXAMPLE_TRUE_PARAMS["bgnbd"]["r"] == 0.8
    with pytest.raises(ValueError, match="kind must be one of"):
        datasets.load_covariate_example("summary")


def test_bundled_files_are_what_the_generator_writes():
    """Provenance: the seeded script regenerates the shipped tables exactly (in memory)."""
    spec = importlib.util.spec_from_file_location("make_covariate_example",
                                                  ROOT / "benchmarks" / "make_covariate_example.py")
    module = importlib.util.module_from_spec(spec)
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # tests never write into the working tree
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write
    for kind, frame in module.make_tables().items():
        shipped = (ROOT / "clvmodels" / "data" / "files" / module.FILES[kind]).read_bytes()
        assert gzip.decompress(module._gzip_csv(frame)) == gzip.decompress(shipped), kind


# -- recovery -----------------------------------------------------------------------------------------

def _assert_within_3se(model, truth):
    se = pd.Series(np.sqrt(np.diag(model.covariance_)), index=model.params_.index)
    assert list(model.params_.index) == list(truth)
    for name, value in truth.items():
        estimate = model.params_[name]
        if ":" in name:  # a coefficient: Wald on its own scale
            assert abs(estimate - value) < 3 * se[name], (name, estimate, value, se[name])
        else:  # a base parameter: on the log scale, where its intervals are built
            assert abs(np.log(estimate / value)) < 3 * se[name] / estimate, (name, estimate, value, se[name])


def test_bgnbd_recovers_the_documented_coefficients(fits):
    _assert_within_3se(fits[0], datasets.COVARIATE_EXAMPLE_TRUE_PARAMS["bgnbd"])


def test_gamma_gamma_recovers_the_documented_coefficients(fits):
    _assert_within_3se(fits[1], datasets.COVARIATE_EXAMPLE_TRUE_PARAMS["gamma_gamma"])


def test_covariates_beat_no_covariates(fits, summary):
    result = clv.likelihood_ratio_test(clv.BetaGeoModel().fit(summary), fits[0])
    assert result.df == 6 and result.p_value < 1e-10


# -- value of a new customer by profile ---------------------------------------------------------------

PROFILES = pd.DataFrame({"channel": ["organic", "paid_social", "referral"], "region": "north", "age": 40},
                        index=pd.Index(["organic", "paid_social", "referral"], name="profile"))


def test_new_customer_value_matches_the_closed_forms(fits):
    purchase, spend = fits
    value = clv.new_customer_lifetime_value(purchase, spend, PROFILES, horizon_months=24, discount_rate=0.02,
                                            margin=0.3)
    assert list(value.columns) == ["expected_purchases", "expected_spend", "clv"]
    assert value.index.equals(PROFILES.index)
    g = purchase.params_
    month = MONTH_LENGTH["W"]
    p, q, gamma = spend.params_[["p", "q", "gamma"]]
    for name, row in PROFILES.iterrows():
        on = {f"{col}[{row[col]}]" for col in ("channel", "region")}
        eta_p = sum(v for k, v in g.items() if k.startswith("purchase:") and k[9:] in on) + g["purchase:age"] * 40
        eta_d = sum(v for k, v in g.items() if k.startswith("dropout:") and k[8:] in on)
        params = (g["r"], g["alpha"] * np.exp(-eta_p), g["a"] * np.exp(eta_d), g["b"])
        cumulative = bgnbd.expected_purchases_new_customer(params, np.arange(25) * month)
        eta_s = sum(v for k, v in spend.params_.items() if k.startswith("spend:") and k[6:] in on)
        mean_spend = p * gamma * np.exp(eta_s + spend.params_["spend:age"] * 40) / (q - 1)
        expected = 0.3 * mean_spend * (np.diff(cumulative) @ 1.02 ** -np.arange(1, 25))
        np.testing.assert_allclose(value.loc[name, "expected_purchases"], cumulative[-1], rtol=1e-12)
        np.testing.assert_allclose(value.loc[name, "expected_spend"], mean_spend, rtol=1e-12)
        np.testing.assert_allclose(value.loc[name, "clv"], expected, rtol=1e-12)
    # the simulated channel effects: referral customers buy more, stay longer and spend more
    assert value["clv"].idxmax() == "referral" and value["clv"].idxmin() == "paid_social"


def test_new_customer_value_equals_clv_of_a_customer_without_history(fits):
    purchase, spend = fits
    fresh = PROFILES.assign(frequency=0.0, recency=0.0, T=0.0, monetary_value=0.0)
    expected = clv.customer_lifetime_value(purchase, spend, fresh, horizon_months=12)
    value = clv.new_customer_lifetime_value(purchase, spend, fresh, horizon_months=12)
    np.testing.assert_allclose(value["clv"], expected, rtol=1e-10)


def test_models_without_covariates_give_one_value_for_every_profile(summary, fits):
    purchase, spend = clv.BetaGeoModel().fit(summary), clv.GammaGammaModel().fit(summary)
    value = clv.new_customer_lifetime_value(purchase, spend, PROFILES)
    np.testing.assert_allclose(value["clv"], value["clv"].iloc[0], rtol=1e-13)
    new = purchase.expected_purchases_new_customer(np.arange(13) * MONTH_LENGTH["W"])
    p, q, gamma = spend.params_
    np.testing.assert_allclose(value["clv"].iloc[0], p * gamma / (q - 1) * (np.diff(new) @ 1.01 ** -np.arange(1, 13)))
    # a covariate purchase model with a plain spend model: values differ by the purchase side only
    mixed = clv.new_customer_lifetime_value(fits[0], spend, PROFILES)
    assert np.ptp(mixed["expected_spend"]) == 0 and np.ptp(mixed["clv"]) > 0


def test_new_customer_value_checks_its_arguments(fits):
    purchase, spend = fits
    with pytest.raises(InvalidArgumentError, match="^horizon_months"):
        clv.new_customer_lifetime_value(purchase, spend, PROFILES, horizon_months=0)
    with pytest.raises(InvalidArgumentError, match="^discount_rate"):
        clv.new_customer_lifetime_value(purchase, spend, PROFILES, discount_rate=-0.1)
    with pytest.raises(InvalidArgumentError, match="^margin"):
        clv.new_customer_lifetime_value(purchase, spend, PROFILES, margin=float("nan"))
    with pytest.raises(InvalidArgumentError, match="^profiles must be a pandas DataFrame.*got an empty DataFrame"):
        clv.new_customer_lifetime_value(purchase, spend, PROFILES.iloc[:0])
    with pytest.raises(InvalidArgumentError, match="^profiles must be a pandas DataFrame.*got dict"):
        clv.new_customer_lifetime_value(purchase, spend, {"channel": ["organic"]})
    with pytest.raises(InvalidArgumentError, match="^purchase_model must predict"):
        clv.new_customer_lifetime_value(spend, spend, PROFILES)
    with pytest.raises(InvalidValueError, match="channel"):
        clv.new_customer_lifetime_value(purchase, spend, PROFILES.assign(channel="tv"))
    with pytest.raises(MissingColumnError, match="region"):
        clv.new_customer_lifetime_value(purchase, spend, PROFILES.drop(columns="region"))
    with pytest.raises(ValueError, match="time unit of the purchase model is unknown"):
        fitted = clv.BetaGeoModel.from_params(dict(purchase.params_.iloc[:4]))
        clv.new_customer_lifetime_value(fitted, clv.GammaGammaModel.from_params(dict(spend.params_.iloc[:3])),
                                        PROFILES)


def test_spend_model_without_a_finite_mean_is_refused(fits):
    with pytest.raises(ValueError, match="q <= 1 means the population mean spend"):  # refused when built ...
        clv.GammaGammaModel.from_params({"p": 6.0, "q": 0.8, "gamma": 10.0}, time_unit="W")
    spend = clv.GammaGammaModel._from_values([6.0, 0.8, 10.0], time_unit="W")  # ... and when used
    with pytest.raises(ValueError, match="q <= 1 has no finite mean"):
        clv.new_customer_lifetime_value(fits[0], spend, PROFILES)
