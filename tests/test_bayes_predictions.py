"""Posterior predictions, CLV from joint draws, and NetCDF persistence of the Bayesian models.

The models are fitted on the CDNOW 1/10 sample with short chains (2 x 500 draws); the MLE
predictions of the same data are the reference the credible intervals should mostly contain.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pymc")

import clvmodels  # noqa: E402
from clvmodels import BetaGeoModel, GammaGammaModel, datasets  # noqa: E402
from clvmodels.bayes import (BayesBetaGeoModel, BayesGammaGammaModel,  # noqa: E402
                             PosteriorConvergenceWarning, customer_lifetime_value)
from clvmodels.bayes import _base, _predict  # noqa: E402
from clvmodels.bayes.clv import _joint_draws  # noqa: E402
from clvmodels.exceptions import ModelFileError  # noqa: E402


@pytest.fixture(scope="module")
def cdnow():
    return datasets.load_cdnow_summary()


def _fit(model, data):
    with warnings.catch_warnings():  # convergence is tested in test_bayes_models.py, not here
        warnings.simplefilter("ignore", PosteriorConvergenceWarning)
        return model.fit(data)


@pytest.fixture(scope="module")
def bg(cdnow):
    return _fit(BayesBetaGeoModel(draws=500, tune=500, chains=2, random_seed=7), cdnow)


@pytest.fixture(scope="module")
def gg(cdnow):
    return _fit(BayesGammaGammaModel(draws=500, tune=500, chains=2, random_seed=7), cdnow)


def _check_band(band, reference, *, coverage):
    lower, upper = band["lower 90%"], band["upper 90%"]
    assert list(band.columns) == ["mean", "sd", "lower 90%", "upper 90%"]
    assert band.index.equals(reference.index)
    assert np.all(lower <= band["mean"] + 1e-12) and np.all(band["mean"] <= upper + 1e-12)
    assert np.all(band["sd"] >= 0)
    inside = (lower - 1e-9 <= reference) & (reference <= upper + 1e-9)
    assert inside.mean() >= coverage


def test_purchase_predictions_bracket_the_mle(bg, cdnow):
    mle = BetaGeoModel().fit(cdnow)
    _check_band(bg.probability_alive(cdnow), mle.probability_alive(cdnow), coverage=0.95)
    _check_band(bg.expected_purchases(cdnow, 39), mle.expected_purchases(cdnow, 39), coverage=0.95)


def test_spend_predictions_bracket_the_mle(gg, cdnow):
    mle = GammaGammaModel().fit(cdnow)
    _check_band(gg.expected_spend(cdnow), mle.expected_spend(cdnow), coverage=0.95)


def test_summary_of_draws_matches_the_draws(bg, cdnow):
    """Mean, sd and percentiles per customer are those of the full draw table (chunks and the
    separate evaluation of draws near a = 1 change nothing)."""
    subset = cdnow.head(40)
    draws = bg.prediction_draws("expected_purchases", subset, 10, n_draws=300, random_state=1)
    band = bg.expected_purchases(subset, 10, n_draws=300, random_state=1, ci_level=0.8)
    assert draws.shape == (300, 40) and draws.columns.equals(subset.index)
    np.testing.assert_allclose(band["mean"], draws.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(band["sd"], draws.std(axis=0, ddof=0), rtol=1e-9)
    np.testing.assert_allclose(band["lower 80%"], draws.quantile(0.1), rtol=1e-12)
    one_by_one = BayesBetaGeoModel.mle_class.maths.expected_purchases
    chosen = _predict.thin(bg.posterior_draws().to_numpy(), 300, 1)
    for k in (0, 123, 299):
        expected = one_by_one(chosen[k], 10.0, *(subset[c].to_numpy(float) for c in ("frequency", "recency", "T")))
        np.testing.assert_allclose(draws.iloc[k], expected, rtol=1e-10)


def test_small_chunks_give_the_same_answer(bg, cdnow, monkeypatch):
    full = bg.probability_alive(cdnow, n_draws=100)
    monkeypatch.setattr(_predict, "CHUNK_CELLS", 1000)
    pd.testing.assert_frame_equal(bg.probability_alive(cdnow, n_draws=100), full)


def test_draw_tables_are_limited(bg, cdnow):
    with pytest.raises(ValueError, match="pass a subset of customers"):
        bg.prediction_draws("probability_alive", cdnow, max_cells=1000)
    with pytest.raises(ValueError, match="quantity must be one of"):
        bg.prediction_draws("clv", cdnow.head())


def test_clv_uses_joint_draws_of_both_models(bg, gg, cdnow):
    """Each CLV draw is the deterministic CLV at one purchase draw paired with one spend draw."""
    subset = cdnow.head(30)
    draws = customer_lifetime_value(bg, gg, subset, n_draws=40, random_state=3, return_draws=True)
    joint, k = _joint_draws(bg, gg, 40, 3)
    for s in (0, 17, 39):
        purchase = BetaGeoModel.from_params(dict(zip(bg.param_names, joint[s, :k])), time_unit="W")
        spend = GammaGammaModel.from_params(dict(zip(gg.param_names, joint[s, k:])))
        expected = clvmodels.customer_lifetime_value(purchase, spend, subset)
        np.testing.assert_allclose(draws.iloc[s], expected, rtol=1e-9)
    # both sources of uncertainty: fixing spend at its posterior mean narrows the spread
    spend = np.column_stack([GammaGammaModel.from_params(dict(zip(gg.param_names, joint[s, k:])))
                             .expected_spend(subset).to_numpy() for s in range(40)]).T
    purchases_only = draws.to_numpy() / spend * spend.mean(axis=0)
    assert np.median(draws.std(axis=0) / purchases_only.std(axis=0)) > 1.0


def test_clv_posterior_brackets_the_mle_clv(bg, gg, cdnow):
    mle = clvmodels.customer_lifetime_value(BetaGeoModel().fit(cdnow), GammaGammaModel().fit(cdnow), cdnow)
    band = customer_lifetime_value(bg, gg, cdnow, n_draws=200)
    _check_band(band, mle, coverage=0.9)


def test_netcdf_roundtrip_gives_identical_predictions(bg, gg, cdnow, tmp_path):
    path = tmp_path / "bg.nc"
    bg.save(path)
    loaded = BayesBetaGeoModel.load(path)
    assert loaded.get_settings() == bg.get_settings() and loaded.priors_ == bg.priors_
    assert loaded.time_unit_ == "W" and loaded.n_customers_ == bg.n_customers_
    pd.testing.assert_frame_equal(loaded.summary(), bg.summary())
    pd.testing.assert_frame_equal(loaded.expected_purchases(cdnow, 10), bg.expected_purchases(cdnow, 10))
    gg.save(tmp_path / "gg.nc")
    loaded_gg = BayesGammaGammaModel.load(tmp_path / "gg.nc")
    pd.testing.assert_frame_equal(customer_lifetime_value(loaded, loaded_gg, cdnow.head(50)),
                                  customer_lifetime_value(bg, gg, cdnow.head(50)))
    assert loaded_gg.n_excluded_ == gg.n_excluded_


def test_loading_checks_type_and_version(bg, tmp_path, monkeypatch):
    path = tmp_path / "bg.nc"
    bg.save(path)
    with pytest.raises(ModelFileError, match="holds a 'bayes_bgnbd' posterior"):
        BayesGammaGammaModel.load(path)
    monkeypatch.setattr(_base, "FILE_FORMAT_VERSION", 99)
    bg.save(tmp_path / "new.nc")
    monkeypatch.undo()
    with pytest.raises(ModelFileError, match="newer clvmodels"):
        BayesBetaGeoModel.load(tmp_path / "new.nc")
    (tmp_path / "junk.nc").write_text("not netcdf")
    with pytest.raises(ModelFileError, match="not a NetCDF posterior"):
        BayesBetaGeoModel.load(tmp_path / "junk.nc")
    bg.idata_.to_netcdf(str(tmp_path / "plain.nc"))  # arviz file without clvmodels attributes
    with pytest.raises(ModelFileError, match="not a clvmodels posterior"):
        BayesBetaGeoModel.load(tmp_path / "plain.nc")


def test_draws_near_a_equal_one_are_evaluated_apart_in_their_order(cdnow):
    """Draws with a near 1 (BG/NBD's interpolated branch) go through a separate call; every row of
    the draw table is still the prediction at its own draw, in the original order."""
    draws = np.array([[0.24, 4.4, a, 2.4] for a in (0.8, 1.0005, 0.9, 0.9995, 1.2)])
    model = BayesBetaGeoModel()
    groups = model._slow_draws(draws)
    assert groups.tolist() == [False, True, False, True, False]
    columns = {c: cdnow[c].to_numpy(float)[:100] for c in ("frequency", "recency", "T")}
    table = _predict.all_draws(model._quantities(10)["expected_purchases"], draws, columns,
                               index=cdnow.index[:100], groups=groups)
    for k, params in enumerate(draws):
        expected = BetaGeoModel.maths.expected_purchases(params, 10.0, *columns.values())
        np.testing.assert_allclose(table.iloc[k], expected, rtol=1e-10)


@pytest.mark.parametrize("maths_name", ["bgnbd", "mbgnbd", "pareto_nbd"])
def test_expected_purchases_by_pairs_equals_the_direct_formula(maths_name, cdnow):
    """P(alive | x, t_x, T) E[X(t) | alive, x, T], the second factor once per (x, T) pair, is the
    expected-purchase formula itself (eq. 10 of Fader, Hardie & Lee 2005 for BG/NBD)."""
    import importlib

    maths = importlib.import_module(f"clvmodels.likelihoods.{maths_name}")
    columns = {c: cdnow[c].to_numpy(float)[:400] for c in ("frequency", "recency", "T")}
    columns["T"] = np.round(columns["T"])  # ties in (x, T) with different recency
    columns["recency"] = np.minimum(columns["recency"], columns["T"])
    params = {"bgnbd": (0.243, 4.414, 0.793, 2.426), "mbgnbd": (0.525, 6.183, 0.891, 1.614),
              "pareto_nbd": (0.553, 10.578, 0.606, 11.669)}[maths_name]
    direct = maths.expected_purchases(params, 26.0, columns["frequency"], columns["recency"], columns["T"])
    by_pairs = _predict.by_pairs(maths.expected_purchases, maths.probability_alive, 26.0)(params, columns)
    np.testing.assert_allclose(by_pairs, direct, rtol=1e-10)
