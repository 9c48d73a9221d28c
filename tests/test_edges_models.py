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


# -- model files: parameters checked on load, damaged files refused clearly (item 4) ----------------
import json  # noqa: E402
import pickle  # noqa: E402

from clvmodels.exceptions import ModelFileError  # noqa: E402
from clvmodels.models import load_model  # noqa: E402

CDNOW_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture
def saved(tmp_path):
    """A valid BG/NBD model file and its payload (from_params: no fitting needed)."""
    path = tmp_path / "bgnbd.json"
    MODELS["bgnbd"].from_params(CDNOW_BGNBD, time_unit="W").save(path)
    return path, json.loads(path.read_text())


def _refused(path, *words):
    """Both loaders refuse ``path`` with one ModelFileError naming the file and ``words``."""
    for load in (load_model, MODELS["bgnbd"].load):
        with pytest.raises(ModelFileError) as info:
            load(path)
        message = str(info.value)
        assert str(path) in message
        for word in words:
            assert word in message, message
        assert info.value.__context__ is None or info.value.__suppress_context__  # one clear error


def _write(path, payload):
    path.write_text(json.dumps(payload))
    return path


def test_a_valid_file_loads(saved):
    path, _ = saved
    assert load_model(path).params_.to_dict() == CDNOW_BGNBD


@pytest.mark.parametrize("value, words", [
    ("0.24", ["positive finite numbers", "'0.24'"]),
    (-0.24, ["positive finite numbers", "-0.24"]),
    (0, ["positive finite numbers"]),
    (None, ["positive finite numbers", "None"]),
    (True, ["positive finite numbers", "True"]),
    ([0.24], ["positive finite numbers"]),
    (float("nan"), ["positive finite numbers"]),
    (float("inf"), ["positive finite numbers"]),
    (1e300, ["outside 1e-12..1e+12", "damaged or hand-edited", "Refit"]),
])
def test_parameters_must_be_usable_numbers(saved, tmp_path, value, words):
    _, payload = saved
    payload["params"]["r"] = value
    _refused(_write(tmp_path / "bad.json", payload), *words)


def test_huge_parameters_that_still_predict_load(saved, tmp_path):
    """The rule is usable predictions, not a bound: alpha = 1e6 is a rate parameter for data in
    seconds, say, and predicts finite numbers."""
    _, payload = saved
    payload["params"]["alpha"] = 1e6
    assert load_model(_write(tmp_path / "ok.json", payload)).params_["alpha"] == 1e6


@pytest.mark.parametrize("edit, words", [
    (lambda p: p.pop("params"), ["fields ['params'] are missing"]),
    (lambda p: p.pop("covariance"), ["fields ['covariance'] are missing"]),
    (lambda p: p["params"].pop("b"), ["params must map exactly", "'b'"]),
    (lambda p: p["params"].update(rho=1.0), ["params must map exactly", "'rho'"]),
    (lambda p: p.update(params=[0.2, 4.4, 0.8, 2.4]), ["params must map exactly", "list"]),
    (lambda p: p.update(covariance={"r": 1}), ["covariance must be a 4 x 4"]),
    (lambda p: p.update(covariance=[[None] * 3] * 3), ["covariance must be a 4 x 4"]),
    (lambda p: p["covariance"][0].__setitem__(0, "x"), ["covariance entries must be finite numbers or null"]),
    (lambda p: p.update(settings=["ci_level"]), ["settings must be an object", "list"]),
    (lambda p: p["settings"].update(ci_level="0.95"), ["ci_level must be a number between 0 and 1"]),
    (lambda p: p["settings"].update(ci_level=95), ["use 0.95"]),
    (lambda p: p["settings"].update(alpha=0.1), ["settings has unknown keys ['alpha']"]),
    (lambda p: p.update(time_unit=7), ["time_unit must be a string"]),
    (lambda p: p.update(fit=[1, 2]), ["fit must be an object", "list"]),
    (lambda p: p.update(fit={"log_likelihood": "high", "n_customers": 1.0, "n_unique": 1}),
     ["fit has values of the wrong type for ['log_likelihood']"]),
    (lambda p: p.update(fit={"log_likelihood": -10.0}), ["log_likelihood but no n_customers"]),
    (lambda p: p.update(format_version="1"), ["format_version '1'", "damaged"]),
    (lambda p: p.update(format_version=0), ["format_version 0"]),
    (lambda p: p.update(format_version=99), ["newer clvmodels", "upgrade"]),
    (lambda p: p.pop("format"), ["not a clvmodels model file"]),
], ids=lambda v: getattr(v, "__name__", str(v))[:40])
def test_damaged_fields_are_named(saved, tmp_path, edit, words):
    _, payload = saved
    edit(payload)
    _refused(_write(tmp_path / "bad.json", payload), *words)


def test_a_file_of_another_model_kind(saved, tmp_path):
    path = tmp_path / "gg.json"
    MODELS["gamma_gamma"].from_params({"p": 6.25, "q": 3.74, "gamma": 15.45}).save(path)
    with pytest.raises(ModelFileError, match=r"holds a 'gamma_gamma' model, not 'bgnbd'.*load_model"):
        MODELS["bgnbd"].load(path)
    assert load_model(path).name == "gamma_gamma"
    _, payload = saved
    payload["model"] = "bg_nbd"
    with pytest.raises(ModelFileError, match="names model 'bg_nbd', which this clvmodels does not know"):
        load_model(_write(tmp_path / "x.json", payload))
    payload["model"] = ["bgnbd"]
    with pytest.raises(ModelFileError, match="does not know"):
        load_model(_write(tmp_path / "y.json", payload))


@pytest.mark.parametrize("content, words", [
    (pickle.dumps({"format": "clvmodels.model"}), ["pickle", "never reads pickles"]),
    (b"\x00\x01\x02binary", ["binary data", "NUL byte at offset 0"]),
    ("{\"model\": \"caf\u00e9\"}".encode("latin-1"), ["not UTF-8 text", "byte 14"]),
    (b"[" * 100_000 + b"]" * 100_000, ["nested too deeply"]),
    (b"{\"format\": ", ["not valid JSON"]),
    (b"", ["not valid JSON"]),
    (b"[1, 2, 3]", ["holds a JSON list, not an object"]),
    (b"\"clvmodels.model\"", ["holds a JSON str"]),
    (b"\x89HDF\r\n\x1a\n" + b"\x00" * 16, ["NetCDF file", "clvmodels.bayes.load_model"]),
], ids=["pickle", "binary", "latin-1", "deep", "truncated", "empty", "list", "string", "netcdf"])
def test_unreadable_bytes_are_refused(tmp_path, content, words):
    path = tmp_path / "model.json"
    path.write_bytes(content)
    _refused(path, *words)


def test_a_directory_or_missing_file(tmp_path):
    _refused(tmp_path, "cannot be read")
    _refused(tmp_path / "absent.json", "cannot be read", "No such file")


# -- posterior (NetCDF) files ------------------------------------------------------------------------
@pytest.fixture
def posterior(tmp_path):
    """A BayesBetaGeoModel posterior built from draws (no sampling), its path and its attributes."""
    az = pytest.importorskip("arviz")
    from clvmodels.bayes import BayesBetaGeoModel
    from clvmodels.bayes.priors import default_priors, resolve_priors

    model = BayesBetaGeoModel(method="map")
    rng = np.random.default_rng(0)
    idata = az.from_dict(posterior={n: rng.gamma(50.0, v / 50.0, size=(1, 20)) for n, v in CDNOW_BGNBD.items()})
    priors = resolve_priors(model.param_names, default_priors(model.shape_params, {"alpha": 5.0}), None)
    model._set_posterior(idata, priors, sampler=None, fit_seconds=0.1, n_customers=100.0, n_unique=10,
                         time_unit="W")
    path = tmp_path / "posterior.nc"
    model.save(path)
    return model, path


def _write_posterior(model, path, draws=None, **attrs):
    """The model's posterior with some attributes (or draws) replaced, as a NetCDF file."""
    idata = model.idata_.copy()
    if draws is not None:
        idata.posterior["r"] = idata.posterior["r"] * 0 + draws
    idata.posterior.attrs.update({**model._attrs(), **attrs})
    idata.to_netcdf(str(path))
    return path


def _posterior_refused(path, *words):
    from clvmodels.bayes import BayesBetaGeoModel, load_model as load_posterior

    for load in (load_posterior, BayesBetaGeoModel.load):
        with pytest.raises(ModelFileError) as info:
            load(path)
        for word in [str(path), *words]:
            assert word in str(info.value), str(info.value)


def test_a_valid_posterior_loads(posterior):
    from clvmodels.bayes import load_model as load_posterior

    model, path = posterior
    assert load_posterior(path).params_.to_dict() == pytest.approx(model.params_.to_dict())


@pytest.mark.parametrize("attrs, words", [
    ({"clvmodels_format_version": "abc"}, ["clvmodels_format_version 'abc'", "damaged"]),
    ({"clvmodels_format_version": "0"}, ["clvmodels_format_version '0'"]),
    ({"clvmodels_format_version": "1.5"}, ["clvmodels_format_version '1.5'"]),
    ({"clvmodels_format_version": "7"}, ["newer clvmodels", "upgrade"]),
    ({"clvmodels_format_version": "9" * 5000}, ["'9999999999", "... (5,002 characters)", "damaged"]),
    ({"clvmodels_format": "other"}, ["not a clvmodels posterior file"]),
    ({"clvmodels_model": "bayes_nope"}, ["'bayes_nope'"]),
    ({"clvmodels_settings": "{not json"}, ["damaged", "posterior file"]),
    ({"clvmodels_settings": "[" * 100_000}, ["damaged"]),
    ({"clvmodels_settings": "[1]"}, ["settings are a JSON list"]),
    ({"clvmodels_settings": json.dumps({"draws": 0})}, ["draws must be a whole number"]),
    ({"clvmodels_settings": json.dumps({"speed": 1})}, ["damaged", "speed"]),
    ({"clvmodels_priors": json.dumps({"r": {"dist": "Normal"}})}, ["priors do not match"]),
    ({"clvmodels_fit": json.dumps({"n_customers": "many"})}, ["wrong type", "n_customers"]),
], ids=lambda v: str(v)[:40])
def test_damaged_posterior_attributes_are_named(posterior, tmp_path, attrs, words):
    model, _ = posterior
    _posterior_refused(_write_posterior(model, tmp_path / "bad.nc", **attrs), *words)


@pytest.mark.parametrize("value", [np.nan, -1.0, np.inf])
def test_posterior_draws_must_be_positive_finite(posterior, tmp_path, value):
    model, _ = posterior
    _posterior_refused(_write_posterior(model, tmp_path / "bad.nc", draws=value), "draws of 'r'", "positive finite")


@pytest.mark.parametrize("content, words", [
    (b'{"format": "clvmodels.model"}', ["JSON", "clvmodels.load_model"]),
    (pickle.dumps([1, 2]), ["pickle"]),
    (b"", ["not NetCDF"]),
    (b"\x89HDF\r\n\x1a\n" + b"\x00" * 64, ["not a readable NetCDF posterior file"]),
], ids=["json", "pickle", "empty", "truncated-hdf5"])
def test_non_netcdf_bytes_are_refused(tmp_path, content, words):
    pytest.importorskip("arviz")
    path = tmp_path / "posterior.nc"
    path.write_bytes(content)
    _posterior_refused(path, *words)


# -- model files: what a fit could produce, and what the predictions are defined for (issue 12) ------
def test_a_duplicate_key_is_refused_by_name(saved, tmp_path):
    path, _ = saved
    text = path.read_text().replace('"r":', '"r": 9.0, "r":', 1)
    _refused(_write_text(tmp_path / "dup.json", text), "the key 'r' twice", "Keep one of them")


def _write_text(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize("digits", [400, 5000])
def test_a_very_long_integer_is_refused(saved, tmp_path, digits):
    """400 digits overflowed a float (OverflowError), 5,000 hit Python's int-digits limit (ValueError)."""
    path, _ = saved
    text = path.read_text().replace('"format_version": 1', '"format_version": 1' + "0" * digits, 1)
    _refused(_write_text(tmp_path / "long.json", text), f"{digits + 1:,} digits", "at most 40 digits")


@pytest.mark.parametrize("cov, words", [
    (np.diag([-1.0, 1, 1, 1]), ["negative variances", "['r']"]),
    (np.full((4, 4), 1e300), ["variances above 1e+24"]),
    (np.eye(4) + np.diag([0.5, 0, 0], 1), ["not symmetric"]),
    (np.ones((4, 4)) * 1.0 - 2 * np.eye(4) * 0 + np.diag([0, 0, 0, 0.0]) + np.array(
        [[0, 2, 0, 0], [2, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]), ["not positive semi-definite"]),
])
def test_a_covariance_that_is_not_one_is_refused(saved, tmp_path, cov, words):
    path, payload = saved
    payload["covariance"] = np.asarray(cov, dtype=float).tolist()
    _refused(_write(tmp_path / "cov.json", payload), "damaged 'bgnbd' model file", *words, "Save the model again")


def test_a_semi_definite_or_unknown_covariance_loads(saved, tmp_path):
    path, payload = saved
    payload["covariance"] = np.full((4, 4), 0.01).tolist()  # rank 1: semi-definite
    assert load_model(_write(tmp_path / "psd.json", payload)).covariance_.to_numpy()[0, 0] == 0.01
    payload["covariance"] = [[None] * 4] * 4
    assert load_model(_write(tmp_path / "nan.json", payload)).covariance_.isna().all().all()


@pytest.mark.parametrize("name, value", [("r", 1e300), ("alpha", 1e13), ("a", 1e-13)])
def test_parameters_beyond_any_fit_are_refused(saved, tmp_path, name, value):
    path, payload = saved
    payload["params"][name] = value
    _refused(_write(tmp_path / "far.json", payload), f"'{name}': {value}", "outside 1e-12..1e+12")


def _gamma_gamma_file(tmp_path, **params):
    path = tmp_path / "gg.json"
    GammaGammaModel.from_params({"p": 4.68, "q": 3.0, "gamma": 24.39}).save(path)
    payload = json.loads(path.read_text())
    payload["params"].update(params)
    return _write(path, payload)


@pytest.mark.parametrize("q", [0.5, 1.0])
def test_gamma_gamma_needs_q_above_1(tmp_path, q):
    """q <= 1 scored negative (or infinite) spend for customers without repeat purchases."""
    path = _gamma_gamma_file(tmp_path, q=q)
    for load in (load_model, GammaGammaModel.load):
        with pytest.raises(ModelFileError) as info:
            load(path)
        message = str(info.value)
        for word in (str(path), "expected spend", "above 0", "population mean spend p*gamma/(q-1) is infinite"):
            assert word in message, message


@pytest.mark.parametrize("name", ["p", "q", "gamma"])
def test_gamma_gamma_absurd_parameters_are_refused(tmp_path, name):
    with pytest.raises(ModelFileError, match=r"outside 1e-12\.\.1e\+12"):
        load_model(_gamma_gamma_file(tmp_path, **{name: 1e300}))


def test_every_model_file_of_a_real_fit_loads(tmp_path):
    """The range rule refuses nothing a fit on CDNOW, or at a boundary, produces."""
    import warnings

    summary = datasets.load_cdnow_summary()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = [MODELS["bgnbd"]().fit(summary), GammaGammaModel().fit(summary),
                MODELS["sbg"]().fit(pd.DataFrame({"tenure": [1, 2, 3, 5, 8] * 20, "churned": [0] * 100}))]
    for model in fits:
        model.save(tmp_path / "m.json")
        np.testing.assert_array_equal(load_model(tmp_path / "m.json").params_, model.params_)
