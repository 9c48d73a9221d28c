"""One contract for every registered model (in the spirit of scikit-learn's
``parametrize_with_checks``): parameter recovery, persistence, fitted state, summary, invariances.

The tests use only class attributes (``name``, ``kind``, ``param_names``, ``data_columns``,
``rate_params``, ``simulate``), so a model added to ``clvmodels.MODELS`` is checked without
editing this file: each model simulates realistic data for itself (``simulate_summary``).
"""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import clvmodels
from clvmodels import MODELS, load_model
from clvmodels.exceptions import ModelFileError, NotFittedError

MODEL_CLASSES = [pytest.param(cls, id=name) for name, cls in MODELS.items()]
TIME_COLUMNS = ("recency", "T")
#: Kinds of models on discrete transaction opportunities: their ``recency`` and ``n_periods`` count
#: opportunities, which no change of time unit rescales.
DISCRETE_TIME_KINDS = ("discrete_purchase",)
N_CUSTOMERS = {"purchase": 6000, "spend": 3000, "discrete_purchase": 6000, "retention": 3000}


@functools.cache
def cdnow_summary() -> pd.DataFrame:
    return clvmodels.datasets.load_cdnow_summary()


@functools.cache
def reference_params(cls) -> dict[str, float]:
    """Realistic true parameters for a model: its fit to the CDNOW summary (discrete-opportunity
    models: to the donations cohort of Fader, Hardie & Shang 2010; retention models: to the
    "regular" cohort of Fader & Hardie 2007)."""
    if cls.kind == "discrete_purchase":
        return cls().fit(clvmodels.datasets.load_donations(), weights="count").params_.to_dict()
    if cls.kind == "retention":
        rows = cls.rows_from_survival([1000, 631, 468, 382, 326, 289, 262, 241])
        return cls().fit(rows, weights="count").params_.to_dict()
    return cls().fit(cdnow_summary()).params_.to_dict()


def simulate(cls, params, n: int, seed: int) -> pd.DataFrame:
    """A realistic summary simulated from ``params`` by the model's own ``simulate_summary``."""
    data = cls.simulate_summary(params, n, rng=np.random.default_rng(seed))
    assert set(cls.data_columns) <= set(data.columns)
    return data


def predictions(model, data) -> np.ndarray:
    """What the CLV pipeline asks of each kind of model."""
    if model.kind == "purchase":
        return model.expected_purchases_grid(data, [1.0, 13.0, 52.0])
    if model.kind == "discrete_purchase":
        return model.expected_purchases_grid(data, [1, 2, 5])
    if model.kind == "retention":
        return model.discounted_expected_residual_lifetime(data, discount_rate=0.1).to_numpy()
    return model.expected_spend(data).to_numpy()


@functools.cache
def fitted_on_simulation(cls):
    params = reference_params(cls)
    data = simulate(cls, params, N_CUSTOMERS[cls.kind], seed=2024)
    return params, data, cls().fit(data)


# -- recovery ------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", MODEL_CLASSES)
def test_fit_recovers_simulation_parameters(cls):
    """Data simulated from known parameters (the model's CDNOW estimates, seeded generator):
    each estimate within 3 standard errors of the truth, and jointly the Wald statistic below the
    99.9 % chi-square quantile."""
    truth, data, model = fitted_on_simulation(cls)
    estimate = model.params_[list(cls.param_names)].to_numpy()
    true = np.array([truth[p] for p in cls.param_names])
    se = model.summary()["std_error"].to_numpy()
    assert np.all(np.isfinite(se)) and np.all(se > 0)
    z = (estimate - true) / se
    assert np.all(np.abs(z) < 3), dict(zip(cls.param_names, z.round(2)))
    diff = estimate - true
    wald = diff @ np.linalg.solve(model.covariance_.to_numpy(), diff)
    assert wald < stats.chi2.ppf(0.999, len(true))


@pytest.mark.parametrize("cls", MODEL_CLASSES)
def test_fit_sets_fitted_attributes_and_returns_self(cls):
    data = simulate(cls, reference_params(cls), 500, seed=1)
    model = cls()
    before = data.copy()
    assert model.fit(data) is model
    pd.testing.assert_frame_equal(data, before)  # the input is not modified
    assert list(model.params_.index) == list(cls.param_names)
    assert np.isfinite(model.log_likelihood_) and model.n_iter_ > 0
    assert model.aic_ == pytest.approx(2 * len(cls.param_names) - 2 * model.log_likelihood_)
    assert model.time_unit_ == data.attrs["time_unit"]
    # no methods or lambdas attached to the instance (lifetimes' BetaGeoFitter.fit does that)
    assert not [k for k, v in vars(model).items() if callable(v)]


# -- persistence ---------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", MODEL_CLASSES)
def test_save_then_load_gives_identical_model(cls, tmp_path):
    _, data, model = fitted_on_simulation(cls)
    path = tmp_path / f"{cls.name}.json"
    model.save(path)
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert payload["model"] == cls.name and payload["library_version"] == clvmodels.__version__
    for loaded in (cls.load(path), load_model(path)):
        assert type(loaded) is cls
        pd.testing.assert_series_equal(loaded.params_, model.params_)
        pd.testing.assert_frame_equal(loaded.covariance_, model.covariance_)
        assert loaded.log_likelihood_ == model.log_likelihood_
        assert loaded.time_unit_ == model.time_unit_
        assert loaded.get_settings() == model.get_settings()
        np.testing.assert_array_equal(predictions(loaded, data), predictions(model, data))
        pd.testing.assert_frame_equal(loaded.summary(), model.summary())


@pytest.mark.parametrize("cls", MODEL_CLASSES)
def test_loading_another_models_file_is_an_error(cls, tmp_path):
    others = [other for other in MODELS.values() if other is not cls]
    assert others, "the contract needs at least two registered models to check this"
    for other in others:
        path = tmp_path / f"{other.name}.json"
        other.from_params(reference_params(other)).save(path)
        with pytest.raises(ModelFileError, match=rf"{other.name!r}.*not {cls.name!r}"):
            cls.load(path)


@pytest.mark.parametrize("cls", MODEL_CLASSES)
@pytest.mark.parametrize("content", [
    "not json {",
    json.dumps({"hello": 1}),
    json.dumps({"format": "clvmodels.model", "format_version": 1, "model": "no_such_model"}),
])
def test_broken_files_raise_model_file_error(cls, tmp_path, content):
    path = tmp_path / "broken.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelFileError):
        cls.load(path)
    with pytest.raises(ModelFileError):
        load_model(path)


@pytest.mark.parametrize("cls", MODEL_CLASSES)
def test_damaged_file_raises_model_file_error(cls, tmp_path):
    payload = cls.from_params(reference_params(cls)).to_dict()
    del payload["params"][cls.param_names[0]]
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    with pytest.raises(ModelFileError, match=cls.param_names[0]):
        cls.load(path)


@pytest.mark.parametrize("cls", MODEL_CLASSES)
def test_newer_file_format_is_refused(cls, tmp_path):
    payload = cls.from_params(reference_params(cls)).to_dict()
    payload["format_version"] += 1
    path = tmp_path / "future.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    with pytest.raises(ModelFileError, match="newer"):
        cls.load(path)


# -- fitted state --------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", MODEL_CLASSES)
def test_unfitted_model_raises_not_fitted_mentioning_fit(cls, tmp_path):
    model = cls()
    data = simulate(cls, reference_params(cls), 20, seed=3)
    assert not model.is_fitted and "unfitted" in repr(model)
    for call in (model.summary, lambda: predictions(model, data), lambda: model.save(tmp_path / "m.json")):
        with pytest.raises(NotFittedError, match=r"call fit\("):
            call()
    assert not (tmp_path / "m.json").exists()


@pytest.mark.parametrize("cls", MODEL_CLASSES)
def test_from_params_builds_a_predicting_model_and_checks_names(cls):
    params = reference_params(cls)
    _, data, fitted = fitted_on_simulation(cls)
    built = cls.from_params(fitted.params_.to_dict(), ci_level=0.9)
    assert built.ci_level == 0.9 and built.is_fitted and built.log_likelihood_ is None
    np.testing.assert_array_equal(predictions(built, data), predictions(fitted, data))
    assert cls.from_params(**params).params_.to_dict() == params  # keywords work too

    first = cls.param_names[0]
    missing = {k: v for k, v in params.items() if k != first}
    with pytest.raises(ValueError, match=rf"missing \[{first!r}\]"):
        cls.from_params(missing)
    with pytest.raises(ValueError, match="unknown.*'extra'"):
        cls.from_params({**params, "extra": 1.0})
    with pytest.raises(ValueError, match=rf"unknown.*{first + 'x'!r}"):  # a misspelt keyword
        cls.from_params(**missing, **{first + "x": 1.0})
    for bad in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="positive and finite"):
            cls.from_params({**params, first: bad})


@pytest.mark.parametrize("cls", MODEL_CLASSES)
@pytest.mark.parametrize("ci_level", [0.9, 0.95, 0.99])
def test_summary_has_estimates_errors_and_intervals_containing_them(cls, ci_level):
    _, _, model = fitted_on_simulation(cls)
    model = cls.from_params(model.params_.to_dict(), covariance=model.covariance_, ci_level=ci_level)
    table = model.summary()
    label = f"{ci_level:.0%}"
    assert list(table.columns) == ["estimate", "std_error", f"lower {label}", f"upper {label}"]
    assert list(table.index) == list(cls.param_names)
    lower, upper = table[f"lower {label}"], table[f"upper {label}"]
    assert ((lower < table["estimate"]) & (table["estimate"] < upper)).all()
    assert (lower > 0).all()  # log-scale intervals stay in the parameter space
    np.testing.assert_allclose(table["std_error"], np.sqrt(np.diag(model.covariance_)), rtol=1e-15)
    # interval on the log scale: log(upper / estimate) = z * se / estimate
    z = stats.norm.ppf(0.5 + ci_level / 2)
    np.testing.assert_allclose(np.log(upper / table["estimate"]), z * table["std_error"] / table["estimate"],
                               rtol=1e-12)


@pytest.mark.parametrize("cls", MODEL_CLASSES)
def test_covariance_is_symmetric_positive_definite(cls):
    _, _, model = fitted_on_simulation(cls)
    cov = model.covariance_
    assert list(cov.index) == list(cov.columns) == list(cls.param_names)
    np.testing.assert_array_equal(cov.to_numpy(), cov.to_numpy().T)
    assert np.linalg.eigvalsh(cov.to_numpy()).min() > 0


@pytest.mark.parametrize("cls", MODEL_CLASSES)
def test_covariance_is_the_inverse_observed_information(cls):
    """Independent of the analytic gradient the fit uses: second differences of the summed
    log-likelihood on the log-parameter scale, inverted and mapped back by the delta method."""
    _, data, model = fitted_on_simulation(cls)
    used = cls()._fit_rows(data)  # the rows the likelihood uses (e.g. repeat customers only)
    columns = [data.loc[used, c].to_numpy(dtype=float) for c in cls.data_columns]
    theta = np.log(model.params_.to_numpy())
    k, h = len(theta), 1e-3

    def total(th):
        return cls._loglik(np.exp(th), *columns).sum()

    hessian = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
            hessian[i, j] = (total(theta + ei + ej) - total(theta + ei - ej)
                             - total(theta - ei + ej) + total(theta - ei - ej)) / (4 * h * h)
    params = np.exp(theta)
    expected = np.linalg.inv(-hessian) * np.outer(params, params)
    scale = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
    np.testing.assert_allclose(model.covariance_.to_numpy(), expected, rtol=1e-3, atol=1e-3 * scale.max())
    np.testing.assert_allclose(np.diag(model.covariance_.to_numpy()), np.diag(expected), rtol=1e-3)


# -- invariances ---------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", MODEL_CLASSES)
def test_row_order_and_compression_do_not_matter(cls):
    """Shuffled rows, and unique rows with counts, give the same fit as the original rows."""
    data = simulate(cls, reference_params(cls), 800, seed=5)
    data = data.round(1)  # create duplicate histories
    reference = cls().fit(data)
    shuffled = cls().fit(data.sample(frac=1.0, random_state=9))
    counts = data.groupby(list(cls.data_columns), as_index=False).size()
    compressed = cls().fit(counts, weights="size")
    assert len(counts) < len(data)
    for model in (shuffled, compressed):
        np.testing.assert_allclose(model.params_.to_numpy(), reference.params_.to_numpy(), rtol=1e-10)
        assert model.log_likelihood_ == pytest.approx(reference.log_likelihood_, rel=1e-12)


def _time_columns(cls) -> list[str]:
    """The columns measured in a time unit: none for models on discrete opportunities."""
    if cls.kind in DISCRETE_TIME_KINDS:
        return []
    return [c for c in TIME_COLUMNS if c in cls.data_columns]


def _time_jacobian(cls, data) -> float:
    """log-likelihood change per unit log(c) when time is measured in units c times smaller.

    A purchase model's likelihood is a density of each customer's repeat-purchase times (the
    factor lambda^x in Poisson purchasing), so each repeat purchase contributes -log(c): the shift
    is -log(c) * sum(frequency). Models without time columns are unaffected."""
    if not _time_columns(cls):
        return 0.0
    if cls.kind == "purchase":
        return -float(data["frequency"].sum())
    pytest.fail(f"work out the time Jacobian of {cls.__name__} in tests/test_model_contract.py")


@pytest.mark.parametrize("cls", MODEL_CLASSES)
def test_rescaling_time_rescales_only_rate_parameters(cls):
    """Multiplying recency and T by 7 (weeks -> days) multiplies the rate parameters (gamma rates
    of purchase-rate distributions, in time units) by 7, leaves the others, and shifts the
    log-likelihood by exactly log(7) times the time Jacobian (see ``_time_jacobian``). A model
    without time columns (spend; discrete opportunities, see ``_time_columns``) must have no rate
    parameters, and its refit on the unchanged data is the same fit."""
    assert set(cls.rate_params) <= set(cls.param_names)
    time_columns = _time_columns(cls)
    if not time_columns:
        assert cls.rate_params == (), f"{cls.__name__} has rate parameters but no time columns"
    _, data, model = fitted_on_simulation(cls)
    factor = 7.0
    rescaled = data.assign(**{c: factor * data[c] for c in time_columns})
    refit = cls().fit(rescaled)
    expected = model.params_ * np.where(np.isin(cls.param_names, cls.rate_params), factor, 1.0)
    np.testing.assert_allclose(refit.params_.to_numpy(), expected.to_numpy(), rtol=1e-5)
    shift = refit.log_likelihood_ - model.log_likelihood_
    assert shift == pytest.approx(math.log(factor) * _time_jacobian(cls, data), abs=1e-6)


@pytest.mark.parametrize("cls", MODEL_CLASSES)
def test_registry_resolves_every_model(cls):
    assert clvmodels.get_model(cls.name) is cls
    assert cls.kind in ("purchase", "spend", "discrete_purchase", "retention")
    assert len(set(cls.param_names)) == len(cls.param_names)
    with pytest.raises(KeyError, match="Did you mean"):
        clvmodels.get_model(cls.name + "x")
