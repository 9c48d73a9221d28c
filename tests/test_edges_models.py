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
