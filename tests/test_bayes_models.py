"""Bayesian BG/NBD and Gamma-Gamma: one likelihood with the MLE, posterior against MLE, MAP, ADVI.

Reference values are this library's own MLE fits on the CDNOW 1/10 sample (2,357 customers), which
test_bgnbd.py and test_gamma_gamma.py check against Fader, Hardie & Lee (2005) and lifetimes. The
chains are short (2 x 1,000 draws after 500 warm-up iterations, about 3 s with nutpie) but long
enough for R-hat <= 1.01 with nutpie's low-rank mass matrix.
"""

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pymc")

import pymc as pm  # noqa: E402
import pytensor  # noqa: E402
import pytensor.tensor as pt  # noqa: E402

from clvmodels import (BetaGeoModel, GammaGammaModel, ModifiedBetaGeoModel, ParetoNBDModel,  # noqa: E402
                       datasets)
from clvmodels.bayes import (BayesBetaGeoModel, BayesGammaGammaModel, BayesModifiedBetaGeoModel,  # noqa: E402
                             BayesParetoNBDModel, PosteriorConvergenceWarning)
from clvmodels.bayes._op import TotalLogLik  # noqa: E402
from clvmodels.bayes.priors import prior_variable  # noqa: E402
from clvmodels.exceptions import NotFittedError  # noqa: E402
from clvmodels.likelihoods import bgnbd, gamma_gamma  # noqa: E402

FLAT = {"dist": "HalfFlat"}


@pytest.fixture(scope="module")
def cdnow():
    return datasets.load_cdnow_summary()


@pytest.fixture(scope="module")
def mle_bg(cdnow):
    return BetaGeoModel().fit(cdnow)


@pytest.fixture(scope="module")
def mle_gg(cdnow):
    return GammaGammaModel().fit(cdnow)


@pytest.fixture(scope="module")
def bayes_bg(cdnow):
    return BayesBetaGeoModel(draws=1000, tune=500, chains=2, random_seed=1).fit(cdnow)


@pytest.fixture(scope="module")
def bayes_gg(cdnow):
    return BayesGammaGammaModel(draws=1000, tune=500, chains=2, random_seed=1).fit(cdnow)


# -- one source of the maths -----------------------------------------------------------------------
def _log_point(model, values):
    return {f"{name}_log__": np.log(v) for name, v in values.items()}


def _likelihood_term(model, values):
    return float(model["loglik"].eval({model[name]: np.float64(v) for name, v in values.items()}))


def test_compressed_and_uncompressed_logp_identical(cdnow):
    """The model on distinct histories with counts has the log-probability of one row per customer,
    and its likelihood term equals the sum of the per-customer BG/NBD log-likelihood (eq. 6)."""
    model, priors = BayesBetaGeoModel().build_model(cdnow)
    x, t_x, T = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    assert len(cdnow) == 2357 and len(np.unique(np.c_[x, t_x, T], axis=0)) < 1100
    raw = TotalLogLik(bgnbd.make_objective(x, t_x, T, weights=np.ones_like(x)), "raw")
    with pm.Model() as uncompressed:
        params = [prior_variable(n, priors[n]) for n in ("r", "alpha", "a", "b")]
        pm.Potential("loglik", raw(pt.stack(params)))
    point = _log_point(model, {"r": 0.3, "alpha": 5.0, "a": 0.6, "b": 3.0})
    compressed_logp = model.compile_logp()(point)
    assert compressed_logp == pytest.approx(uncompressed.compile_logp()(point), rel=1e-12)
    likelihood = _likelihood_term(model, {"r": 0.3, "alpha": 5.0, "a": 0.6, "b": 3.0})
    assert likelihood == pytest.approx(bgnbd.loglik([0.3, 5.0, 0.6, 3.0], x, t_x, T).sum(), rel=1e-12)


def test_gamma_gamma_likelihood_term_is_the_mle_likelihood(cdnow):
    model, _ = BayesGammaGammaModel().build_model(cdnow)
    repeat = cdnow[cdnow["frequency"] > 0]
    value = _likelihood_term(model, {"p": 5.0, "q": 3.0, "gamma": 12.0})
    expected = gamma_gamma.loglik([5.0, 3.0, 12.0], repeat["frequency"].to_numpy(float),
                                  repeat["monetary_value"].to_numpy(float)).sum()
    assert value == pytest.approx(expected, rel=1e-12)


def test_op_gradient_matches_finite_differences(cdnow):
    x, t_x, T = (cdnow[c].to_numpy(float)[:300] for c in ("frequency", "recency", "T"))
    op = TotalLogLik(bgnbd.make_objective(x, t_x, T, weights=np.ones_like(x)), "bgnbd")
    pytensor.gradient.verify_grad(op, [np.array([0.3, 5.0, 0.6, 3.0])], rng=np.random.default_rng(0),
                                  abs_tol=1e-6, rel_tol=1e-5)


# -- posterior against the MLE -----------------------------------------------------------------------
@pytest.mark.parametrize("which", ["bg", "gg"])
def test_posterior_means_within_two_sd_of_mle_and_converged(which, bayes_bg, bayes_gg, mle_bg, mle_gg):
    bayes, mle = (bayes_bg, mle_bg) if which == "bg" else (bayes_gg, mle_gg)
    table = bayes.summary()
    assert list(table.index) == list(mle.param_names)
    assert np.all(np.abs(table["mean"] - mle.params_) <= 2 * table["sd"])
    assert np.all(table["r_hat"] <= 1.01)
    assert np.all(table["ess_bulk"] >= 400) and np.all(table["ess_tail"] >= 400)
    assert np.all(table["hdi lower 90%"] < table["mean"]) and np.all(table["mean"] < table["hdi upper 90%"])
    assert table.attrs["divergences"] == 0 and table.attrs["sampler"] == "nutpie"
    assert bayes.n_customers_ == (2357.0 if which == "bg" else 946.0)
    assert bayes.n_unique_ < bayes.n_customers_


@pytest.mark.parametrize("cls, mle_cls", [(BayesBetaGeoModel, BetaGeoModel), (BayesGammaGammaModel, GammaGammaModel)])
def test_map_with_flat_priors_equals_mle(cls, mle_cls, cdnow):
    """With flat priors the posterior mode on the natural scale is the maximum of the likelihood."""
    mle = mle_cls().fit(cdnow)
    bayes = cls(method="map", priors={p: FLAT for p in mle.param_names}).fit(cdnow)
    np.testing.assert_allclose(bayes.params_, mle.params_, rtol=2e-3)
    assert np.all(bayes.summary()["sd"] == 0)


def test_advi_is_near_the_mle(cdnow, mle_bg):
    bayes = BayesBetaGeoModel(method="advi", advi_steps=5000, draws=250, chains=2, random_seed=0).fit(cdnow)
    se = np.sqrt(np.diag(mle_bg.covariance_))
    assert np.all(np.abs(bayes.params_ - mle_bg.params_) <= 3 * se)
    assert bayes.posterior_draws().shape == (500, 4)


def test_pymc_sampler_agrees(cdnow, mle_bg):
    bayes = BayesBetaGeoModel(sampler="pymc", draws=300, tune=300, chains=2, cores=1, random_seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PosteriorConvergenceWarning)  # short chains; only the answer matters
        bayes.fit(cdnow)
    table = bayes.summary()
    assert np.all(np.abs(table["mean"] - mle_bg.params_) <= 2 * table["sd"])


def test_bad_convergence_warns_naming_the_parameter(cdnow):
    model = BayesBetaGeoModel(draws=20, tune=20, chains=2, random_seed=0)
    with pytest.warns(PosteriorConvergenceWarning, match=r"alpha: (bulk|tail) ESS = \d+") as record:
        model.fit(cdnow)
    message = str(record[0].message)
    assert "should be >= 200" in message and "draws=2000" in message and "target_accept" in message


def test_weights_equal_exploded_rows(cdnow):
    counts = cdnow.groupby(["frequency", "recency", "T"]).size().rename("n").reset_index()
    a, _ = BayesBetaGeoModel().build_model(cdnow)
    b, _ = BayesBetaGeoModel().build_model(counts, weights="n")
    point = _log_point(a, {"r": 0.3, "alpha": 5.0, "a": 0.6, "b": 3.0})
    assert a.compile_logp()(point) == pytest.approx(b.compile_logp()(point), rel=1e-12)


# -- settings and errors -----------------------------------------------------------------------------
def test_settings_are_checked(cdnow):
    with pytest.raises(ValueError, match="JAX samplers"):
        BayesBetaGeoModel(sampler="numpyro").fit(cdnow)
    with pytest.raises(ValueError, match="unknown parameters \\['rho'\\]"):
        BayesBetaGeoModel(priors={"rho": FLAT}).build_model(cdnow)
    with pytest.raises(ValueError, match="positive, so use one of"):
        BayesBetaGeoModel(priors={"r": {"dist": "Normal", "mu": 0, "sigma": 1}}).build_model(cdnow)
    with pytest.raises(ValueError, match="needs exactly the arguments \\['sigma'\\]"):
        BayesBetaGeoModel(priors={"r": {"dist": "HalfNormal", "scale": 1}}).build_model(cdnow)
    with pytest.raises(ValueError, match="method must be one of"):
        BayesBetaGeoModel(method="nuts").build_model(cdnow)
    with pytest.raises(NotFittedError, match="call fit"):
        BayesBetaGeoModel().probability_alive(cdnow)


def test_default_priors_follow_the_data_scale(cdnow):
    """Times in days instead of weeks move the alpha prior median by 7 and nothing else."""
    _, weeks = BayesBetaGeoModel().build_model(cdnow)
    days = cdnow.assign(recency=cdnow["recency"] * 7, T=cdnow["T"] * 7)
    _, in_days = BayesBetaGeoModel().build_model(days)
    assert in_days["alpha"]["mu"] == pytest.approx(weeks["alpha"]["mu"] + np.log(7))
    assert {k: v for k, v in in_days.items() if k != "alpha"} == {k: v for k, v in weeks.items() if k != "alpha"}


def test_mle_only_import_does_not_load_pymc():
    code = ("import sys, clvmodels; s = clvmodels.datasets.load_cdnow_summary(); "
            "clvmodels.BetaGeoModel().fit(s); clvmodels.GammaGammaModel().fit(s); "
            "print(sorted(m for m in ('pymc', 'pytensor', 'arviz', 'nutpie') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_summary_columns(bayes_bg):
    table = bayes_bg.summary()
    assert list(table.columns) == ["mean", "sd", "hdi lower 90%", "hdi upper 90%", "r_hat", "ess_bulk", "ess_tail"]
    assert isinstance(table, pd.DataFrame) and "posterior means" in repr(bayes_bg)


@pytest.mark.parametrize("cls, mle_cls", [(BayesModifiedBetaGeoModel, ModifiedBetaGeoModel),
                                          (BayesParetoNBDModel, ParetoNBDModel)])
def test_preliminary_purchase_models_share_the_mle_likelihood(cls, mle_cls, cdnow):
    """MBG/NBD and Pareto/NBD (preliminary): the flat-prior mode is the MLE, and predictions at a
    single draw are the MLE model's at that point."""
    mle = mle_cls().fit(cdnow)
    bayes = cls(method="map", priors={p: FLAT for p in mle.param_names}).fit(cdnow)
    np.testing.assert_allclose(bayes.params_, mle.params_, rtol=2e-3)
    at_mode = mle_cls.from_params(bayes.params_.to_dict())
    band = bayes.expected_purchases(cdnow.head(50), 10)
    np.testing.assert_allclose(band["mean"], at_mode.expected_purchases(cdnow.head(50), 10), rtol=1e-10)
    assert np.all(band["lower 90%"] == band["upper 90%"])
