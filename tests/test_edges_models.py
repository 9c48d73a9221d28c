"""Edge cases of the models (issue 12): counts that describe customers, not table rows; settings
checked when a model is built; unidentifiable fits; damaged model files."""
import numpy as np
import pandas as pd
import pytest

from clvmodels.bayes.models import BAYES_MODELS
from clvmodels.exceptions import InvalidArgumentError
from clvmodels.models import MODELS
from clvmodels.models.gamma_gamma import GammaGammaModel


def test_gamma_gamma_n_excluded_counts_customers_with_weights():
    """A compressed table (rows with weights) reports the same n_excluded_ as the exploded rows."""
    rng = np.random.default_rng(0)
    n = 40
    table = pd.DataFrame({"frequency": rng.integers(0, 4, n).astype(float),
                          "monetary_value": rng.gamma(3.0, 20.0, n),
                          "count": rng.integers(1, 5, n)})
    table.loc[table["frequency"] == 0, "monetary_value"] = 0.0
    table.loc[[1, 2], ["frequency", "monetary_value"]] = [2.0, 0.0]
    exploded = table.loc[table.index.repeat(table["count"])].reset_index(drop=True)
    a = GammaGammaModel(on_nonpositive="exclude").fit(table, weights="count")
    b = GammaGammaModel(on_nonpositive="exclude").fit(exploded)
    assert a.n_excluded_ == b.n_excluded_
    assert a.n_excluded_["nonpositive_monetary_value"] == int(table.loc[[1, 2], "count"].sum())
    assert a.n_excluded_["no_repeat_purchase"] == int(table.loc[table["frequency"] == 0, "count"].sum())


# -- settings are checked when the model is built (item 2) -------------------------------------------
BAD_BASE_SETTINGS = [
    ({"ci_level": 95}, ["ci_level", "between 0 and 1", "use 0.95"]),
    ({"ci_level": 0}, ["ci_level", "between 0 and 1"]),
    ({"ci_level": 1.0}, ["ci_level", "between 0 and 1"]),
    ({"ci_level": float("nan")}, ["ci_level", "nan"]),
    ({"ci_level": "0.95"}, ["ci_level", "'0.95'"]),
    ({"ci_level": True}, ["ci_level", "True"]),
    ({"max_iter": 0}, ["max_iter", "whole number", "at least 1"]),
    ({"max_iter": -5}, ["max_iter", "-5"]),
    ({"max_iter": 2.5}, ["max_iter", "2.5"]),
    ({"max_iter": True}, ["max_iter", "True"]),
    ({"max_iter": "1000"}, ["max_iter", "'1000'"]),
    ({"start": [1.0, 2.0]}, ["start", "must map parameter names"]),
    ({"start": {"nope": 1.0}}, ["start", "'nope'", "not parameters"]),
]


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("settings, words", BAD_BASE_SETTINGS, ids=lambda v: str(v)[:30])
def test_mle_settings_are_refused_when_built(name, settings, words):
    with pytest.raises(InvalidArgumentError) as info:
        MODELS[name](**settings)
    message = str(info.value)
    assert message.startswith(next(iter(settings)))  # the batch config prefixes its location
    for word in words:
        assert word in message


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("value", [0.0, -1.0, float("inf"), float("nan"), "1", None, True])
def test_start_values_must_be_positive_finite_numbers(name, value):
    first = MODELS[name].param_names[0]
    with pytest.raises(InvalidArgumentError, match=f"start values must be positive finite numbers.*{first}"):
        MODELS[name](start={first: value})


@pytest.mark.parametrize("name", sorted(MODELS))
def test_good_settings_are_stored_as_given(name):
    cls = MODELS[name]
    start = {cls.param_names[0]: 0.5}
    model = cls(ci_level=0.9, max_iter=50, start=start)
    assert (model.ci_level, model.max_iter, model.start) == (0.9, 50, start)
    assert model.get_settings()["start"] is start


def test_gamma_gamma_on_nonpositive_is_checked():
    with pytest.raises(InvalidArgumentError, match="on_nonpositive must be 'raise' or 'exclude'; got 'drop'"):
        GammaGammaModel(on_nonpositive="drop")


def test_batch_config_refuses_what_the_constructor_refuses():
    from clvmodels.batch.fitting import option_problems

    problems = dict(option_problems("gamma_gamma", {"ci_level": 95, "on_nonpositive": "drop", "max_iter": 0}))
    assert set(problems) == {"ci_level", "on_nonpositive", "max_iter"}
    assert "'raise' or 'exclude'" in problems["on_nonpositive"]


BAD_BAYES_SETTINGS = [
    ({"method": "nuts"}, ["method", "one of", "'mcmc'"]),
    ({"sampler": "stan"}, ["sampler", "'nutpie'", "'stan'"]),
    ({"sampler": "numpyro"}, ["sampler", "JAX"]),
    ({"draws": 0}, ["draws", "at least 1"]),
    ({"draws": 10.5}, ["draws", "10.5"]),
    ({"tune": -1}, ["tune", "at least 0"]),
    ({"chains": True}, ["chains", "True"]),
    ({"cores": 0}, ["cores", "at least 1"]),
    ({"advi_steps": "many"}, ["advi_steps", "'many'"]),
    ({"target_accept": 1.0}, ["target_accept", "between 0 and 1"]),
    ({"ci_level": 90}, ["ci_level", "use 0.9"]),
    ({"random_seed": -3}, ["random_seed", "at least 0"]),
    ({"priors": ["r"]}, ["priors", "must map parameter names"]),
    ({"priors": {"rho": {"dist": "Gamma", "alpha": 1.0, "beta": 1.0}}}, ["priors", "unknown parameters", "rho"]),
]


@pytest.mark.parametrize("name", sorted(BAYES_MODELS))
@pytest.mark.parametrize("settings, words", BAD_BAYES_SETTINGS, ids=lambda v: str(v)[:30])
def test_bayes_settings_are_refused_when_built(name, settings, words):
    with pytest.raises(InvalidArgumentError) as info:
        BAYES_MODELS[name](**settings)
    for word in words:
        assert word in str(info.value)


# -- unidentifiable fits (item 3) --------------------------------------------------------------------
from clvmodels import datasets  # noqa: E402
from clvmodels.exceptions import IdentificationError, IdentificationWarning  # noqa: E402

PURCHASE_MODELS = [MODELS[n] for n in ("bgnbd", "mbgnbd", "pareto_nbd")]
NO_REPEAT = pd.DataFrame({"frequency": [0.0] * 4, "recency": [0.0] * 4, "T": [10.0, 20.0, 30.0, 40.0]})
NO_TIME = pd.DataFrame({"frequency": [0.0] * 3, "recency": [0.0] * 3, "T": [0.0] * 3})


@pytest.mark.parametrize("cls", PURCHASE_MODELS, ids=lambda c: c.name)
@pytest.mark.parametrize("data, weights, words", [
    (NO_REPEAT, None, ["no customer made a repeat purchase", "frequency is 0 for all 4 customers",
                       "longer observation period"]),
    (NO_TIME, None, ["observed for no time", "T = 0 for all 3 customers", "observation period end"]),
    (NO_REPEAT.iloc[:1], None, ["1 customer(s)", "at least 2", "whole customer base"]),
    (pd.DataFrame({"frequency": [0.0, 1.0, 2.0], "recency": [0.0, 5.0, 8.0], "T": [10.0] * 3}), [50, 30, 20],
     ["100 customers have only 3 distinct histories", "fewer than the 4 parameters", "more customers"]),
], ids=["no-repeat", "no-time", "one-customer", "few-histories"])
def test_purchase_models_refuse_data_that_cannot_identify_them(cls, data, weights, words):
    with pytest.raises(IdentificationError) as info:
        cls().fit(data, weights=weights)
    message = str(info.value)
    assert message.startswith(f"{cls.__name__} cannot identify its parameters")
    for word in words:
        assert word in message
    assert "on_unidentified='warn'" in message
    assert isinstance(info.value, ValueError)  # a DataError: the batch runner reports it as bad data


@pytest.mark.parametrize("cls", PURCHASE_MODELS, ids=lambda c: c.name)
def test_warn_keeps_the_fit_and_records_the_problem(cls, tmp_path):
    with pytest.warns(IdentificationWarning, match="no customer made a repeat purchase"):
        model = cls(on_unidentified="warn").fit(NO_REPEAT)
    assert model.is_fitted
    assert "no customer made a repeat purchase" in model.identification_problem_
    model.save(tmp_path / "m.json")
    loaded = type(model).load(tmp_path / "m.json")
    assert loaded.identification_problem_ == model.identification_problem_
    assert loaded.on_unidentified == "warn"


def test_identified_fits_record_no_problem(tmp_path):
    summary = datasets.load_cdnow_summary()
    model = MODELS["bgnbd"]().fit(summary)  # warnings are errors in this suite: none is emitted
    assert model.identification_problem_ is None
    model.save(tmp_path / "m.json")
    assert MODELS["bgnbd"].load(tmp_path / "m.json").identification_problem_ is None
    assert MODELS["bgnbd"].from_params(model.params_.to_dict()).identification_problem_ is None


def test_singular_hessian_without_a_boundary_is_unidentified(monkeypatch):
    """The covariance condition, checked after the fit: a flat direction at an interior optimum.
    The Hessian is replaced by a singular one so that the check, not the data, is under test."""
    summary = datasets.load_cdnow_summary()
    cls = MODELS["bgnbd"]
    monkeypatch.setattr(cls, "_hessian", lambda self, theta, total, step=1e-5: np.zeros((4, 4)))
    with pytest.raises(IdentificationError, match="Hessian is not positive definite.*standard errors are NaN"):
        cls().fit(summary)
    with pytest.warns(IdentificationWarning, match="flat in some direction"):
        model = cls(on_unidentified="warn").fit(summary)
    assert np.isnan(model.covariance_.to_numpy()).all()
    assert "longer observation" in model.identification_problem_


def test_boundary_solutions_stay_boundary_warnings():
    """A known boundary (no sign of churn: a -> 0) explains a singular Hessian: the fit is kept with a
    BoundaryWarning, as before, and is not called unidentified."""
    from clvmodels.exceptions import BoundaryWarning

    data = pd.DataFrame({"tenure": [1, 2, 3, 4], "churned": [0, 0, 0, 0], "count": [50, 40, 30, 20]})
    with pytest.warns(BoundaryWarning):
        model = MODELS["sbg"]().fit(data, weights="count")
    assert model.identification_problem_ is None


@pytest.mark.parametrize("name, data, weights, words", [
    ("bgbb", pd.DataFrame({"frequency": [0, 0, 0], "recency": [0, 0, 0], "n_periods": [0, 0, 0]}), [5, 5, 5],
     ["n_periods = 0 for all 15 customers", "more periods"]),
    ("bgbb", pd.DataFrame({"frequency": [0] * 4, "recency": [0] * 4, "n_periods": [1, 2, 3, 4]}), None,
     ["no customer transacted again", "frequency is 0 for all 4 customers"]),
    ("sbg", pd.DataFrame({"tenure": [0, 0], "churned": [0, 0]}), [10, 20],
     ["no customer has reached a renewal decision", "tenure is 0 for all 30 customers"]),
    ("sbg", pd.DataFrame({"tenure": [3], "churned": [1]}), None, ["1 customer(s)", "at least 2"]),
    ("gamma_gamma", pd.DataFrame({"frequency": [0.0, 2.0], "monetary_value": [0.0, 10.0]}), None,
     ["1 customer(s)", "Only repeat customers"]),
    ("gamma_gamma", pd.DataFrame({"frequency": [1.0, 2.0, 3.0, 4.0], "monetary_value": [10.0] * 4}), None,
     ["same mean spend (10)", "monetary_value"]),
], ids=["bgbb-no-periods", "bgbb-no-repeat", "sbg-no-renewal", "sbg-one", "gg-one", "gg-same-spend"])
def test_other_models_refuse_data_that_cannot_identify_them(name, data, weights, words):
    with pytest.raises(IdentificationError) as info:
        MODELS[name]().fit(data, weights=weights)
    for word in words:
        assert word in str(info.value)


def test_on_unidentified_is_a_checked_setting():
    with pytest.raises(InvalidArgumentError, match="on_unidentified must be 'raise' or 'warn'; got 'ignore'"):
        MODELS["bgnbd"](on_unidentified="ignore")
    assert "on_unidentified" in MODELS["gamma_gamma"]().get_settings()
