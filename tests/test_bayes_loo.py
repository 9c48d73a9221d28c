"""PSIS-LOO and WAIC on compressed rows equal arviz's on one row per customer.

The reference is :func:`arviz.loo` / :func:`arviz.waic` on an InferenceData holding the
posterior and a ``log_likelihood`` group with one column per customer (the exploded data),
computed with the same per-customer BG/NBD log-likelihood (eq. 6 of Fader, Hardie & Lee 2005).
"""

import warnings

import numpy as np
import pytest

pytest.importorskip("pymc")

import arviz as az  # noqa: E402

from clvmodels import BetaGeoModel  # noqa: E402
from clvmodels.bayes import BayesBetaGeoModel, BayesGammaGammaModel, PosteriorConvergenceWarning  # noqa: E402
from clvmodels.bayes import diagnostics  # noqa: E402
from clvmodels.likelihoods import bgnbd  # noqa: E402


@pytest.fixture(scope="module")
def small():
    """600 customers with times in whole weeks: many share a history (338 distinct rows)."""
    data = BetaGeoModel.simulate_summary((0.243, 4.414, 0.793, 2.426), 600, rng=np.random.default_rng(4))
    data["recency"], data["T"] = data["recency"].round(), data["T"].round()
    data["recency"] = np.minimum(data["recency"], data["T"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PosteriorConvergenceWarning)
        model = BayesBetaGeoModel(draws=300, tune=300, chains=2, random_seed=2).fit(data)
    return data, model


def _exploded_idata(data, model):
    posterior = model.idata_.posterior
    params = tuple(posterior[n].to_numpy()[..., None] for n in ("r", "alpha", "a", "b"))
    ll = bgnbd.loglik(params, *(data[c].to_numpy(float) for c in ("frequency", "recency", "T")))
    return az.InferenceData(posterior=posterior, log_likelihood=az.from_dict(
        log_likelihood={"obs": ll}, dims={"obs": ["customer"]}).log_likelihood)


def test_loo_on_distinct_rows_equals_arviz_on_exploded_rows(small):
    data, model = small
    ours = model.loo(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        reference = az.loo(_exploded_idata(data, model), pointwise=True)
    assert ours["n_data_points"] == reference["n_data_points"] == len(data)
    assert ours["n_samples"] == reference["n_samples"]
    assert len(ours["loo_i"]) < 0.6 * len(data)  # 338 distinct histories
    for key in ("elpd_loo", "se", "p_loo"):
        assert ours[key] == pytest.approx(reference[key], rel=1e-9), key
    # pointwise: each distinct history's value, repeated for its customers, is arviz's per customer
    counts = ours["counts"].to_numpy().astype(int)
    assert counts.sum() == len(data)
    for key in ("loo_i", "pareto_k"):
        np.testing.assert_allclose(np.sort(np.repeat(ours[key].to_numpy(), counts)),
                                   np.sort(reference[key].to_numpy()), rtol=1e-9, atol=1e-12)
    assert ours["warning"] == reference["warning"] and ours["good_k"] == reference["good_k"]


def test_waic_on_distinct_rows_equals_arviz_on_exploded_rows(small):
    data, model = small
    ours = model.waic(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        reference = az.waic(_exploded_idata(data, model))
    for key in ("elpd_waic", "se", "p_waic"):
        assert ours[key] == pytest.approx(reference[key], rel=1e-9), key
    assert ours["warning"] == reference["warning"]


def test_weights_give_the_loo_of_the_exploded_rows(small):
    """Passing the counts as weights on the compressed summary is the same as the full summary."""
    data, model = small
    compressed = data.groupby(["frequency", "recency", "T"], as_index=False).size()
    weighted = diagnostics.loo(model, compressed, weights="size")
    full = diagnostics.loo(model, data)
    assert weighted["elpd_loo"] == pytest.approx(full["elpd_loo"], rel=1e-12)
    assert weighted["se"] == pytest.approx(full["se"], rel=1e-9)


def test_spend_model_loo_and_unfitted_error(small):
    data, _ = small
    rng = np.random.default_rng(0)
    spend = data.assign(monetary_value=np.where(data["frequency"] > 0, rng.gamma(5.0, 8.0, len(data)), 0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PosteriorConvergenceWarning)
        model = BayesGammaGammaModel(draws=200, tune=200, chains=2, random_seed=1).fit(spend)
    result = model.loo(spend)
    assert result["n_data_points"] == int((data["frequency"] > 0).sum())
    assert np.isfinite(result["elpd_loo"]) and result["p_loo"] > 0
    with pytest.raises(Exception, match="not fitted"):
        BayesBetaGeoModel().loo(data)


def test_loo_needs_draws(small):
    data, _ = small
    point = BayesBetaGeoModel(method="map").fit(data)
    with pytest.raises(ValueError, match="need posterior draws"):
        point.waic(data)
