"""Covariates in the maximum-likelihood models (issue 13): recovery of known coefficients, the
no-covariate special case, compression, persistence, predictions by profile, the LR test, time
rescaling and the settings' checks.

Data are simulated with each model's own ``simulate`` function fed per-customer parameters built
with the links of :mod:`clvmodels.likelihoods.links` (``alpha_i = alpha exp(-g_p . x)``, ``a_i = a
exp(g_d . x)`` and so on), so a recovered coefficient checks the link, the gradient and the
optimiser together. Every generator is seeded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvmodels as clv
from clvmodels.exceptions import InvalidArgumentError, InvalidValueError, ModelFileError
from clvmodels.likelihoods import bgbb, bgnbd, gamma_gamma, mbgnbd, pareto_nbd, sbg

CHANNEL_EFFECT = {"app": 0.0, "shop": -0.5, "web": -0.3}  # "app" is the reference (first sorted)


def _profiles(n, rng):
    channel = rng.choice(["web", "shop", "app"], n, p=[0.4, 0.3, 0.3])
    promo = rng.random(n) < 0.4
    age = rng.normal(0.0, 1.0, n)
    return pd.DataFrame({"channel": channel, "promo": promo, "age": age})


def _purchase_data(maths, base, n, seed, *, continuous=True, dropout_param=2):
    """Customers with ``channel`` (categorical), ``promo`` (boolean) and ``age`` (continuous):
    purchase ``channel`` + ``promo`` (+ ``age``), dropout ``channel``."""
    rng = np.random.default_rng(seed)
    frame = _profiles(n, rng)
    eta_p = frame["channel"].map(CHANNEL_EFFECT).to_numpy() + 0.4 * frame["promo"].to_numpy()
    if continuous:
        eta_p = eta_p + 0.25 * frame["age"].to_numpy()
    eta_d = 0.5 * (frame["channel"] == "shop").to_numpy()
    params = list(base)
    params[1] = base[1] * np.exp(-eta_p)  # alpha
    sign = -1 if maths is pareto_nbd else 1  # Pareto/NBD: beta_i = beta exp(-g_d x)
    params[dropout_param] = base[dropout_param] * np.exp(sign * eta_d)
    draws = maths.simulate(params, rng.uniform(20.0, 78.0, n), rng=rng)
    frame = frame.assign(frequency=draws["x"], recency=draws["t_x"], T=draws["T"])
    frame.attrs["time_unit"] = "W"
    return frame


TRUE_PURCHASE = {"purchase:channel[shop]": -0.5, "purchase:channel[web]": -0.3, "purchase:promo[True]": 0.4,
                 "purchase:age": 0.25, "dropout:channel[shop]": 0.5, "dropout:channel[web]": 0.0}


def _within_3se(model, truth):
    se = np.sqrt(np.diag(model.covariance_))
    se = pd.Series(se, index=model.params_.index)
    for name, value in truth.items():
        if ":" in name:  # a coefficient: Wald on its own scale
            assert abs(model.params_[name] - value) < 3 * se[name], (name, model.params_[name], value, se[name])
        else:  # a base parameter: on the log scale, where its intervals are built
            error = abs(np.log(model.params_[name] / value))
            assert error < 3 * se[name] / model.params_[name], (name, model.params_[name], value, se[name])


@pytest.fixture(scope="module")
def bg_data():
    return _purchase_data(bgnbd, (0.8, 6.0, 0.7, 2.5), 8000, seed=11)


@pytest.fixture(scope="module")
def bg_fit(bg_data):
    return clv.BetaGeoModel(purchase_covariates=["channel", "promo"], dropout_covariates=["channel"]).fit(
        bg_data.drop(columns="age"))


# -- recovery -----------------------------------------------------------------------------------------

def test_bgnbd_recovers_binary_categorical_and_continuous_coefficients(bg_data):
    model = clv.BetaGeoModel(purchase_covariates=["channel", "promo", "age"],
                             dropout_covariates=["channel"]).fit(bg_data)
    assert list(model.params_.index) == ["r", "alpha", "a", "b", "purchase:channel[shop]", "purchase:channel[web]",
                                         "purchase:promo[True]", "purchase:age", "dropout:channel[shop]",
                                         "dropout:channel[web]"]
    _within_3se(model, TRUE_PURCHASE | {"r": 0.8, "alpha": 6.0, "a": 0.7, "b": 2.5})


def test_bgnbd_categorical_fit_recovers(bg_fit):
    # age left out: its effect (sd 0.25 on log rate) becomes heterogeneity, absorbed by r
    truth = {k: v for k, v in TRUE_PURCHASE.items() if "age" not in k}
    _within_3se(bg_fit, truth)
    assert bg_fit.log_likelihood_ > bg_fit.log_likelihood_0_


def test_mbgnbd_recovers():
    data = _purchase_data(mbgnbd, (0.8, 6.0, 0.7, 2.5), 6000, seed=12, continuous=False)
    model = clv.ModifiedBetaGeoModel(purchase_covariates=["channel", "promo"],
                                     dropout_covariates=["channel"]).fit(data)
    _within_3se(model, {k: v for k, v in TRUE_PURCHASE.items() if "age" not in k})


def test_pareto_nbd_recovers_categorical_coefficients():
    data = _purchase_data(pareto_nbd, (0.8, 6.0, 0.6, 12.0), 5000, seed=13, continuous=False, dropout_param=3)
    model = clv.ParetoNBDModel(purchase_covariates=["channel", "promo"], dropout_covariates=["channel"]).fit(data)
    assert list(model.params_.index[:4]) == ["r", "alpha", "s", "beta"]
    _within_3se(model, {k: v for k, v in TRUE_PURCHASE.items() if "age" not in k})


def test_pareto_nbd_refuses_a_continuous_covariate_with_the_alternative():
    data = _purchase_data(pareto_nbd, (0.8, 6.0, 0.6, 12.0), 3000, seed=14, dropout_param=3)
    with pytest.raises(InvalidArgumentError, match=r"(?s)^purchase_covariates: ParetoNBDModel does not fit "
                       r"continuous covariates yet.*Bin the continuous column"):
        clv.ParetoNBDModel(purchase_covariates=["age"]).fit(data)


def _spend_data(n, seed):
    rng = np.random.default_rng(seed)
    frame = _profiles(n, rng)
    eta = frame["channel"].map({"app": 0.0, "shop": 0.3, "web": -0.2}).to_numpy() + 0.2 * frame["age"].to_numpy()
    frequency = rng.poisson(3.0, n).astype(float)
    spend = gamma_gamma.simulate([6.0, 4.0, 15.0 * np.exp(eta)], frequency, rng=rng)
    return frame.assign(frequency=frequency, monetary_value=spend)


def test_gamma_gamma_recovers_spend_coefficients():
    data = _spend_data(6000, seed=15)
    model = clv.GammaGammaModel(spend_covariates=["channel", "age"]).fit(data)
    assert list(model.params_.index) == ["p", "q", "gamma", "spend:channel[shop]", "spend:channel[web]",
                                         "spend:age"]
    _within_3se(model, {"spend:channel[shop]": 0.3, "spend:channel[web]": -0.2, "spend:age": 0.2, "gamma": 15.0})
    spend = model.expected_spend(data)
    # expected spend of a repeat-free customer is the profile's population mean p gamma_i / (q - 1)
    p, q, g = model.params_[["p", "q", "gamma"]]
    none = data.index[(data["frequency"] == 0).to_numpy()][:5]
    eta = (model.params_["spend:channel[shop]"] * (data.loc[none, "channel"] == "shop")
           + model.params_["spend:channel[web]"] * (data.loc[none, "channel"] == "web")
           + model.params_["spend:age"] * data.loc[none, "age"])
    np.testing.assert_allclose(spend[none], p * g * np.exp(eta) / (q - 1), rtol=1e-12)


def test_bgbb_recovers_transaction_and_dropout_coefficients():
    rng = np.random.default_rng(16)
    n = 6000
    frame = _profiles(n, rng)
    eta_p = 0.5 * frame["promo"].to_numpy()
    eta_d = frame["channel"].map({"app": 0.0, "shop": 0.6, "web": -0.3}).to_numpy()
    draws = bgbb.simulate([1.2 * np.exp(eta_p), 0.75, 0.65 * np.exp(eta_d), 2.8], n, rng.integers(4, 11, n), rng=rng)
    data = frame.assign(frequency=draws["x"], recency=draws["t_x"], n_periods=draws["n"])
    model = clv.BetaGeoBetaBinomModel(purchase_covariates=["promo"], dropout_covariates=["channel"]).fit(data)
    _within_3se(model, {"purchase:promo[True]": 0.5, "dropout:channel[shop]": 0.6, "dropout:channel[web]": -0.3,
                        "alpha": 1.2, "gamma": 0.65})
    values = model.params_
    row = data.iloc[0]
    params = [values["alpha"] * np.exp(values["purchase:promo[True]"] * row.promo), values["beta"],
              values["gamma"] * np.exp(values.get(f"dropout:channel[{row.channel}]", 0.0)), values["delta"]]
    history = (row.frequency, row.recency, row.n_periods)
    assert model.probability_alive(data).iloc[0] == pytest.approx(bgbb.probability_alive(params, *history), rel=1e-12)
    assert model.expected_purchases(data, 5).iloc[0] == pytest.approx(
        bgbb.expected_purchases(params, 5.0, *history), rel=1e-12)
    profiles = pd.DataFrame({"promo": [False, True], "channel": ["app", "shop"]})
    assert model.expected_purchases_new_customer(5, covariates=profiles).shape == (2,)


def test_sbg_recovers_churn_coefficients():
    rng = np.random.default_rng(17)
    n = 6000
    frame = _profiles(n, rng)
    eta = frame["channel"].map({"app": 0.0, "shop": 0.5, "web": -0.4}).to_numpy() + 0.3 * frame["age"].to_numpy()
    draws = sbg.simulate([0.7 * np.exp(eta), 1.5], n, rng.integers(1, 25, n), rng=rng)
    data = frame.assign(tenure=draws["tenure"], churned=draws["churned"])
    model = clv.ShiftedBetaGeoModel(dropout_covariates=["channel", "age"]).fit(data)
    _within_3se(model, {"dropout:channel[shop]": 0.5, "dropout:channel[web]": -0.4, "dropout:age": 0.3,
                        "alpha": 0.7, "beta": 1.5})
    profiles = pd.DataFrame({"channel": ["app", "shop"], "age": [0.0, 0.0]})
    curves = model.survival([1, 2, 3], covariates=profiles)
    assert curves.shape == (2, 3) and np.all(curves[1] < curves[0])  # a positive coefficient raises churn
    base = model.params_[["alpha", "beta"]].to_numpy()
    np.testing.assert_allclose(curves[0], sbg.survival(base, np.array([1.0, 2.0, 3.0])), rtol=1e-12)
    derl = model.discounted_expected_residual_lifetime(data.iloc[:200], 0.1)
    assert derl.notna().all() and (derl[data["churned"].iloc[:200] == 1] == 0).all()
    with pytest.raises(InvalidArgumentError, match="^covariates: this ShiftedBetaGeoModel has covariates"):
        model.retention_rate([1, 2])


def test_pattern_hessian_equals_finite_differences_of_the_gradient(bg_data):
    """The Hessian assembled from the patterns' own Hessians (links.pattern_hessian) is the
    Hessian of the whole objective (central differences of the analytic gradient)."""
    from clvmodels.covariates import CovariateDesign
    from clvmodels.likelihoods import links
    data = bg_data.iloc[:3000]
    design = CovariateDesign({"purchase": ["channel", "promo"], "dropout": ["channel"]})
    matrices = design.fit_transform(data)
    arrays = tuple(data[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    total = links.pattern_objective(bgnbd.make_objective, bgnbd.PARAM_NAMES, links.LINKS["bgnbd"], arrays,
                                    matrices, np.ones(len(data)))
    model = clv.BetaGeoModel()
    vector = np.array([0.8, 6.0, 0.7, 2.5, -0.4, -0.2, 0.3, 0.5, 0.1])
    H = links.pattern_hessian(total, bgnbd.PARAM_NAMES, vector, model._hessian)

    def grad(v):  # of -total in (log base, coefficients)
        params = np.concatenate([np.exp(v[:4]), v[4:]])
        g = total(params)[1]
        return -np.concatenate([g[:4] * params[:4], g[4:]])

    v0 = np.concatenate([np.log(vector[:4]), vector[4:]])
    step = 1e-5
    numeric = np.column_stack([(grad(v0 + e) - grad(v0 - e)) / (2 * step) for e in np.eye(len(v0)) * step])
    np.testing.assert_allclose(H, (numeric + numeric.T) / 2, rtol=1e-6, atol=1e-6 * np.abs(H).max())


@pytest.mark.parametrize("maths", [bgnbd, mbgnbd])
def test_row_objective_and_hessian_with_continuous_covariates(bg_data, maths):
    """The fused per-row objective (make_row_objective) equals loglik / loglik_grad summed, and
    links.row_hessian equals central differences of the whole objective's gradient."""
    from clvmodels.covariates import CovariateDesign
    from clvmodels.likelihoods import links
    data = bg_data.iloc[:2000]
    design = CovariateDesign({"purchase": ["age", "promo"], "dropout": ["age"]})
    matrices = design.fit_transform(data)
    arrays = tuple(data[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    w = np.random.default_rng(4).integers(1, 4, len(data)).astype(float)
    args = (maths.loglik, maths.loglik_grad, maths.PARAM_NAMES, links.LINKS["bgnbd"], arrays, matrices, w)
    fused = links.row_objective(*args, make_row_objective=maths.make_row_objective)
    plain = links.row_objective(*args)
    vector = np.array([0.8, 6.0, 0.7, 2.5, 0.2, 0.3, -0.1])
    (ll_f, g_f), (ll_p, g_p) = fused(vector), plain(vector)
    assert ll_f == pytest.approx(ll_p, rel=1e-13)
    np.testing.assert_allclose(g_f, g_p, rtol=1e-10, atol=1e-9)
    H = links.row_hessian(fused, maths.PARAM_NAMES, vector)

    def grad(v):
        params = np.concatenate([np.exp(v[:4]), v[4:]])
        g = fused(params)[1]
        return -np.concatenate([g[:4] * params[:4], g[4:]])

    v0 = np.concatenate([np.log(vector[:4]), vector[4:]])
    numeric = np.column_stack([(grad(v0 + e) - grad(v0 - e)) / 2e-5 for e in np.eye(len(v0)) * 1e-5])
    np.testing.assert_allclose(H, (numeric + numeric.T) / 2, rtol=1e-6, atol=1e-6 * np.abs(H).max())


def test_fit_patterns_equals_fit_transform(bg_data):
    from clvmodels.covariates import CovariateDesign
    settings = {"purchase": ["channel", "promo", "age"], "dropout": ["channel"]}
    full = CovariateDesign(settings).fit_transform(bg_data)
    code, patterns, customers = CovariateDesign(settings).fit_patterns(bg_data)
    for role in full.matrices:
        np.testing.assert_array_equal(patterns.take(code).matrices[role], full.matrices[role])
    assert customers.sum() == len(bg_data)


# -- the no-covariate special case -------------------------------------------------------------------

def test_no_covariates_fit_exactly_as_before(bg_data):
    """Empty covariate lists take the unchanged path: bitwise the default fit."""
    plain = clv.BetaGeoModel().fit(bg_data)
    empty = clv.BetaGeoModel(purchase_covariates=[], dropout_covariates=[]).fit(bg_data)
    assert plain.params_.equals(empty.params_) and plain.log_likelihood_ == empty.log_likelihood_
    assert list(plain.summary().columns) == ["estimate", "std_error", "lower 95%", "upper 95%"]
    assert not plain.has_covariates and "covariates" not in plain.to_dict()


def test_cdnow_fits_as_published_without_covariates():
    """The CDNOW estimates of the model docstrings (unchanged since before covariates)."""
    summary = clv.datasets.load_cdnow_summary()
    params = clv.BetaGeoModel().fit(summary).params_.round(3).to_dict()
    assert params == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def test_log_likelihood_0_is_the_no_covariate_fit(bg_fit, bg_data):
    plain = clv.BetaGeoModel().fit(bg_data)
    assert bg_fit.log_likelihood_0_ == plain.log_likelihood_


def test_identical_halves_give_zero_coefficient_and_the_no_covariate_likelihood(bg_data):
    half = bg_data.iloc[:3000].drop(columns=["channel", "promo", "age"])
    both = pd.concat([half.assign(side="left"), half.assign(side="right")], ignore_index=True)
    plain = clv.BetaGeoModel().fit(both)
    model = clv.BetaGeoModel(purchase_covariates=["side"], dropout_covariates=["side"]).fit(both)
    assert abs(model.params_["purchase:side[right]"]) < 1e-6
    assert abs(model.params_["dropout:side[right]"]) < 1e-6
    np.testing.assert_allclose(model.log_likelihood_, plain.log_likelihood_, rtol=1e-12)
    np.testing.assert_allclose(model.params_[["r", "alpha", "a", "b"]], plain.params_, rtol=1e-6)


# -- compression and persistence ---------------------------------------------------------------------

def test_compressed_equals_exploded(bg_data):
    data = bg_data.drop(columns="age").iloc[:4000]
    exploded = clv.BetaGeoModel(purchase_covariates=["channel", "promo"], dropout_covariates=["channel"]).fit(data)
    grouped = data.groupby(["frequency", "recency", "T", "channel", "promo"], as_index=False).size()
    compressed = clv.BetaGeoModel(purchase_covariates=["channel", "promo"],
                                  dropout_covariates=["channel"]).fit(grouped, weights="size")
    # bitwise: the same distinct rows in the same order (patterns numbered by their design rows)
    assert compressed.params_.equals(exploded.params_)
    assert compressed.log_likelihood_ == exploded.log_likelihood_
    assert compressed.n_customers_ == exploded.n_customers_ == 4000
    shuffled = clv.BetaGeoModel(purchase_covariates=["channel", "promo"], dropout_covariates=["channel"]).fit(
        data.sample(frac=1.0, random_state=5))
    assert shuffled.params_.equals(exploded.params_)
    np.testing.assert_array_equal(shuffled.covariance_, exploded.covariance_)


def test_save_load_round_trip_is_exact(bg_fit, bg_data, tmp_path):
    path = tmp_path / "bg.json"
    bg_fit.save(path)
    loaded = clv.load_model(path)
    assert loaded.params_.equals(bg_fit.params_)
    np.testing.assert_array_equal(loaded.covariance_, bg_fit.covariance_)
    assert loaded.get_settings() == bg_fit.get_settings()
    assert loaded.log_likelihood_0_ == bg_fit.log_likelihood_0_ and loaded.aic_ == bg_fit.aic_
    assert loaded.covariate_design_.to_dict() == bg_fit.covariate_design_.to_dict()
    pd.testing.assert_series_equal(loaded.probability_alive(bg_data), bg_fit.probability_alive(bg_data))
    pd.testing.assert_frame_equal(loaded.summary(), bg_fit.summary())


@pytest.mark.parametrize("damage, message", [
    (lambda p: p["params"].pop("purchase:promo[True]"), "params must map exactly"),
    (lambda p: p["params"].update({"purchase:promo[True]": float("nan")}), "finite numbers of any sign"),
    (lambda p: p["covariates"].update(equal=["promo"]), "damaged covariate design"),
    (lambda p: p["covariates"]["roles"].update(dropout=["promo"]), "params must map exactly"),
    (lambda p: p["settings"].update(dropout_covariates=["promo"]), "does not match its settings"),
    (lambda p: p["covariates"]["columns"][0].update(levels=["app"]), "at least two distinct levels"),
    (lambda p: p["params"].update(alpha=-1.0), "positive finite"),
])
def test_damaged_covariate_file_is_refused_naming_the_file(bg_fit, tmp_path, damage, message):
    import json
    payload = json.loads(json.dumps(bg_fit.to_dict()))
    damage(payload)
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(ModelFileError, match=message) as info:
        clv.load_model(path)
    assert str(path) in str(info.value)


def test_negative_coefficients_load(bg_fit, tmp_path):
    assert (bg_fit.params_ < 0).any()
    bg_fit.save(tmp_path / "m.json")
    assert clv.BetaGeoModel.load(tmp_path / "m.json").params_.equals(bg_fit.params_)


# -- predictions ----------------------------------------------------------------------------------------

def test_predictions_read_each_customers_covariates(bg_fit, bg_data):
    data = bg_data.iloc[:500]
    p_alive = bg_fit.probability_alive(data)
    expected = bg_fit.expected_purchases(data, 10.0)
    grid = bg_fit.expected_purchases_grid(data, [0.0, 5.0, 10.0])
    values = bg_fit.params_
    for i in (0, 7, 123):
        row = data.iloc[i]
        alpha = values["alpha"] * np.exp(-(values.get(f"purchase:channel[{row.channel}]", 0.0)
                                           + values["purchase:promo[True]"] * row.promo))
        a = values["a"] * np.exp(values.get(f"dropout:channel[{row.channel}]", 0.0))
        params = [values["r"], alpha, a, values["b"]]
        history = (row.frequency, row.recency, row["T"])
        assert p_alive.iloc[i] == pytest.approx(bgnbd.probability_alive(params, *history), rel=1e-12)
        assert expected.iloc[i] == pytest.approx(bgnbd.expected_purchases(params, 10.0, *history), rel=1e-12)
        assert grid[2, i] == pytest.approx(expected.iloc[i], rel=1e-12)
    per_customer_t = bg_fit.expected_purchases(data, np.full(len(data), 10.0))
    np.testing.assert_allclose(per_customer_t, expected, rtol=1e-12)


def test_unseen_level_is_a_clear_error(bg_fit, bg_data):
    data = bg_data.iloc[:20].copy()
    data.loc[data.index[:3], "channel"] = "phone"
    with pytest.raises(InvalidValueError, match=r"column 'channel' holds level\(s\) 'phone'.*in 3 of 20 rows"):
        bg_fit.probability_alive(data)


def test_new_customer_by_profile(bg_fit):
    profiles = pd.DataFrame({"channel": ["app", "web", "shop"], "promo": [False, True, False]},
                            index=["a", "b", "c"])
    values = bg_fit.expected_purchases_new_customer(26.0, covariates=profiles)
    assert list(values.index) == ["a", "b", "c"]
    base = bg_fit.params_[["r", "alpha", "a", "b"]].to_numpy()
    assert values["a"] == pytest.approx(bgnbd.expected_purchases_new_customer(base, 26.0), rel=1e-12)
    grid = bg_fit.expected_purchases_new_customer([13.0, 26.0], covariates=profiles)
    assert grid.shape == (3, 2)
    np.testing.assert_allclose(grid[26.0].to_numpy(), values.to_numpy(), rtol=1e-12)
    with pytest.raises(InvalidArgumentError, match="^covariates: this BetaGeoModel has covariates"):
        bg_fit.expected_purchases_new_customer(26.0)
    with pytest.raises(InvalidArgumentError, match="^covariates: this BetaGeoModel was fitted without"):
        clv.BetaGeoModel.from_params(r=1, alpha=2, a=1, b=2).expected_purchases_new_customer(1.0, covariates=profiles)


def test_customer_lifetime_value_with_covariate_models(bg_fit, bg_data):
    data = bg_data.iloc[:300].copy()
    data["monetary_value"] = np.where(data["frequency"] > 0, 20.0 + 5 * data["promo"], 0.0)
    rng = np.random.default_rng(3)
    data.loc[data["frequency"] > 0, "monetary_value"] *= rng.gamma(5.0, 0.2, int((data["frequency"] > 0).sum()))
    spend = clv.GammaGammaModel(spend_covariates=["promo"]).fit(data)
    value = clv.customer_lifetime_value(bg_fit, spend, data, horizon_months=6)
    assert value.notna().all() and (value >= 0).all() and value.index.equals(data.index)


# -- inference -------------------------------------------------------------------------------------------

def test_summary_has_wald_rows_and_multiplicative_effects(bg_fit):
    table = bg_fit.summary()
    row = table.loc["purchase:promo[True]"]
    assert row["z"] == pytest.approx(row["estimate"] / row["std_error"])
    assert row["exp_estimate"] == pytest.approx(np.exp(row["estimate"]))
    assert row["lower 95%"] == pytest.approx(row["estimate"] - 1.959964 * row["std_error"], rel=1e-6)
    assert row["exp_upper 95%"] == pytest.approx(np.exp(row["upper 95%"]))
    assert 0 <= row["p_value"] <= 1 and np.isnan(table.loc["r", "z"])
    k = len(bg_fit.params_)
    assert bg_fit.aic_ == pytest.approx(2 * k - 2 * bg_fit.log_likelihood_)
    assert bg_fit.bic_ == pytest.approx(k * np.log(bg_fit.n_customers_) - 2 * bg_fit.log_likelihood_)


def test_likelihood_ratio_test_between_nested_fits(bg_fit, bg_data):
    data = bg_data.drop(columns="age")
    restricted = clv.BetaGeoModel(purchase_covariates=["channel", "promo"]).fit(data)
    result = clv.likelihood_ratio_test(restricted, bg_fit)
    assert result.df == 2 and result.added == ("dropout:channel[shop]", "dropout:channel[web]")
    assert result.statistic == pytest.approx(2 * (bg_fit.log_likelihood_ - restricted.log_likelihood_))
    assert result.p_value < 0.01  # the simulated dropout effect is real
    plain = clv.BetaGeoModel().fit(data)
    assert clv.likelihood_ratio_test(plain, bg_fit).df == 5
    penalised = clv.BetaGeoModel(purchase_covariates=["channel", "promo"], dropout_covariates=["channel"],
                                 covariate_penalty=1.0).fit(data)
    with pytest.raises(InvalidArgumentError, match="covariate_penalty=1"):
        clv.likelihood_ratio_test(restricted, penalised)


def test_equal_covariates_share_one_coefficient(bg_data):
    data = bg_data.drop(columns="age")
    shared = clv.BetaGeoModel(purchase_covariates=["channel"], equal_covariates=["promo"]).fit(data)
    assert "shared:promo[True]" in shared.params_.index
    separate = clv.BetaGeoModel(purchase_covariates=["channel", "promo"], dropout_covariates=["promo"]).fit(data)
    result = clv.likelihood_ratio_test(shared, separate)
    assert result.df == 1


def test_penalty_shrinks_the_coefficients_only(bg_fit, bg_data):
    data = bg_data.drop(columns="age")
    strong = clv.BetaGeoModel(purchase_covariates=["channel", "promo"], dropout_covariates=["channel"],
                              covariate_penalty=500.0).fit(data)
    coefficients = [n for n in bg_fit.params_.index if ":" in n]
    # the squared norm shrinks (a single coefficient correlated with others may not)
    assert (strong.params_[coefficients] ** 2).sum() < 0.5 * (bg_fit.params_[coefficients] ** 2).sum()
    assert strong.log_likelihood_ < bg_fit.log_likelihood_


def test_rescaling_time_changes_only_the_rate_parameter(bg_data):
    data = bg_data.iloc[:5000]
    days = data.assign(recency=data["recency"] * 7.0, T=data["T"] * 7.0)
    settings = {"purchase_covariates": ["channel", "promo", "age"], "dropout_covariates": ["channel"]}
    weeks = clv.BetaGeoModel(**settings).fit(data).params_
    in_days = clv.BetaGeoModel(**settings).fit(days).params_
    assert in_days["alpha"] == pytest.approx(7.0 * weeks["alpha"], rel=1e-5)
    others = [n for n in weeks.index if n != "alpha"]
    np.testing.assert_allclose(in_days[others], weeks[others], rtol=1e-5, atol=1e-6)


def test_rescaling_time_pareto_nbd_changes_only_alpha_and_beta():
    data = _purchase_data(pareto_nbd, (0.8, 6.0, 0.6, 12.0), 2500, seed=18, continuous=False, dropout_param=3)
    days = data.assign(recency=data["recency"] * 7.0, T=data["T"] * 7.0)
    settings = {"purchase_covariates": ["channel", "promo"], "dropout_covariates": ["promo"]}
    weeks = clv.ParetoNBDModel(**settings).fit(data).params_
    in_days = clv.ParetoNBDModel(**settings).fit(days).params_
    for rate in ("alpha", "beta"):
        assert in_days[rate] == pytest.approx(7.0 * weeks[rate], rel=1e-5)
    others = [n for n in weeks.index if n not in ("alpha", "beta")]
    np.testing.assert_allclose(in_days[others], weeks[others], rtol=1e-5, atol=1e-6)


def test_mbgnbd_recovers_a_continuous_covariate():
    data = _purchase_data(mbgnbd, (0.8, 6.0, 0.7, 2.5), 6000, seed=19)
    model = clv.ModifiedBetaGeoModel(purchase_covariates=["channel", "promo", "age"],
                                     dropout_covariates=["channel"]).fit(data)
    _within_3se(model, TRUE_PURCHASE)


# -- settings ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model, settings, message", [
    (clv.BetaGeoModel, {"purchase_covariates": "channel"}, r"^purchase_covariates must be a list.*\['channel'\]"),
    (clv.BetaGeoModel, {"dropout_covariates": ["T"]}, "^dropout_covariates names 'T', which the model reads"),
    (clv.BetaGeoModel, {"purchase_covariates": ["c", "c"]}, "^purchase_covariates names 'c' more than once"),
    (clv.BetaGeoModel, {"purchase_covariates": ["c"], "equal_covariates": ["c"]}, "^equal_covariates names 'c'"),
    (clv.BetaGeoModel, {"covariate_penalty": -1.0}, "^covariate_penalty must be"),
    (clv.BetaGeoModel, {"covariate_penalty": "big"}, "^covariate_penalty must be"),
    (clv.BetaGeoModel, {"purchase_covariates": ["c"], "covariate_kinds": {"d": "numeric"}},
     "^covariate_kinds names 'd'"),
    (clv.BetaGeoModel, {"purchase_covariates": ["c"], "covariate_kinds": {"c": "text"}}, r"^covariate_kinds\['c'\]"),
    (clv.BetaGeoModel, {"purchase_covariates": ["c"], "covariate_reference": {"d": "x"}},
     "^covariate_reference names 'd'"),
    (clv.BetaGeoModel, {"spend_covariates": ["c"]}, "^spend_covariates: BetaGeoModel has no spend process"),
    (clv.GammaGammaModel, {"dropout_covariates": ["c"]}, "^dropout_covariates: GammaGammaModel has no dropout"),
    (clv.GammaGammaModel, {"equal_covariates": ["c"]}, "^equal_covariates: GammaGammaModel has 1 process"),
    (clv.ShiftedBetaGeoModel, {"purchase_covariates": ["c"]}, "^purchase_covariates: ShiftedBetaGeoModel has no "
     "purchase process"),
    (clv.ShiftedBetaGeoModel, {"equal_covariates": ["c"]}, "^equal_covariates: ShiftedBetaGeoModel has 1"),
    (clv.BetaGeoBetaBinomModel, {"spend_covariates": ["c"]}, "^spend_covariates: BetaGeoBetaBinomModel has no"),
])
def test_bad_settings_are_refused_naming_the_setting(model, settings, message):
    with pytest.raises(InvalidArgumentError, match=message):
        model(**settings)


def test_settings_are_listed_per_model():
    assert "dropout_covariates" in clv.ParetoNBDModel().get_settings()
    gg = clv.GammaGammaModel().get_settings()
    assert "spend_covariates" in gg and "dropout_covariates" not in gg and "equal_covariates" not in gg
    sbg_settings = clv.ShiftedBetaGeoModel().get_settings()
    assert "purchase_covariates" not in sbg_settings and "dropout_covariates" in sbg_settings


def test_design_errors_at_fit_name_the_column(bg_data):
    data = bg_data.drop(columns="age").iloc[:1000].copy()
    data["constant"] = "x"
    with pytest.raises(Exception, match="column 'constant' is constant"):
        clv.BetaGeoModel(purchase_covariates=["constant"]).fit(data)
    data.loc[data.index[:2], "channel"] = None
    with pytest.raises(InvalidValueError, match="channel"):
        clv.BetaGeoModel(purchase_covariates=["channel"]).fit(data)
    with pytest.raises(InvalidValueError, match=r"^covariate_reference\['channel'\] is 'phone'"):
        clv.BetaGeoModel(purchase_covariates=["channel"], covariate_reference={"channel": "phone"}).fit(
            bg_data.iloc[:1000])

