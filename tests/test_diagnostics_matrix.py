"""The prediction matrix (P(alive) and expected purchases over frequency x recency) and the value
concentration table.

Provenance: the BG/NBD matrix is checked against lifetimes 0.11.3 (``conditional_probability_alive``
and ``conditional_expected_number_of_purchases_up_to_time``, the functions behind its
``plot_probability_alive_matrix`` and ``plot_frequency_recency_matrix``) at the published CDNOW
parameters of Fader, Hardie & Lee (2005), r = 0.243, alpha = 4.414, a = 0.793, b = 2.426; every
purchase model's matrix against its own predictions for customers with the same histories. The
concentration numbers are worked out by hand in the comments; the Gini coefficient is checked
against the mean-absolute-difference definition, ``sum_ij |v_i - v_j| / (2 n^2 mean(v))``.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter

from clvmodels import MODELS, BetaGeoModel, GammaGammaModel, datasets
from clvmodels.diagnostics import prediction_matrix, value_concentration
from clvmodels.exceptions import DataError, EmptyDataError, InvalidValueError, NotFittedError

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PURCHASE_MODELS = [pytest.param(cls, id=name) for name, cls in MODELS.items() if cls.kind == "purchase"]


@functools.cache
def fitted(cls):
    return cls().fit(datasets.load_cdnow_summary())


def _cells(table: pd.DataFrame, T: float) -> pd.DataFrame:
    """One row per possible cell, built with a plain loop (independent of the vectorised grid)."""
    rows = [(f, r, T) for f in table.index for r in table.columns if r <= T and (f > 0 or r == 0)]
    return pd.DataFrame(rows, columns=["frequency", "recency", "T"], dtype=float)


# -- prediction_matrix ----------------------------------------------------------------------------

@pytest.mark.parametrize("cls", PURCHASE_MODELS)
@pytest.mark.parametrize("quantity", ["probability_alive", "expected_purchases"])
def test_matrix_equals_the_models_predictions(cls, quantity):
    """Each possible cell holds the model's prediction for a customer with that history; the
    impossible ones (recency > T, or recency > 0 without repeat purchases) are NaN."""
    model = fitted(cls)
    table = prediction_matrix(model, quantity, t=5.0, max_frequency=12, max_recency=20, T=15.5)
    assert table.shape == (13, 21)
    assert table.index.tolist() == list(range(13)) and table.columns.tolist() == list(range(21))
    assert table.index.name == "frequency" and table.columns.name == "recency"
    cells = _cells(table, 15.5)
    expected = (model.probability_alive(cells) if quantity == "probability_alive"
                else model.expected_purchases(cells, 5.0)).to_numpy()
    got = np.array([table.loc[int(f), int(r)] for f, r in zip(cells["frequency"], cells["recency"])])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert table.notna().to_numpy().sum() == len(cells) == 1 + 12 * 16  # (0, 0), then recency 0..15
    assert table.loc[0, 1:].isna().all() and table.loc[:, 16:].isna().all().all()
    assert table.attrs == {"quantity": quantity, "t": 5.0 if quantity == "expected_purchases" else None,
                           "T": 15.5, "model": cls.name, "time_unit": "W"}


def test_bgnbd_matrix_matches_lifetimes():
    """lifetimes' conditional P(alive) and conditional expected purchases over the same grid."""
    summary = datasets.load_cdnow_summary()
    fitter = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    fitter.params_ = pd.Series(PUBLISHED)
    model = BetaGeoModel.from_params(PUBLISHED, time_unit="W")
    alive = prediction_matrix(model, max_frequency=29, max_recency=summary["T"].max())
    purchases = prediction_matrix(model, "expected_purchases", t=39, max_frequency=29, max_recency=summary["T"].max())
    assert alive.attrs["T"] == summary["T"].max() and alive.columns[-1] == 38  # T defaults to max_recency
    cells = _cells(alive, summary["T"].max())
    theirs_alive = fitter.conditional_probability_alive(cells["frequency"], cells["recency"], cells["T"])
    theirs_purchases = fitter.conditional_expected_number_of_purchases_up_to_time(
        39, cells["frequency"], cells["recency"], cells["T"])
    mask = alive.notna().to_numpy()
    np.testing.assert_allclose(alive.to_numpy()[mask], theirs_alive, rtol=1e-9)
    np.testing.assert_allclose(purchases.to_numpy()[mask], theirs_purchases, rtol=1e-7)
    # The shape of the surface: for a given frequency, a later last purchase means more likely alive.
    assert np.all(np.diff(alive.loc[1:].to_numpy(), axis=1) > 0)


class _CountingModel:
    """Stand-in purchase model that records each call: P(alive) = 1 / (1 + frequency)."""

    kind, name, time_unit_ = "purchase", "counting", "D"

    def __init__(self):
        self.calls = []

    def _require_fitted(self):
        return np.array([1.0])

    def probability_alive(self, data):
        self.calls.append(len(data))
        return pd.Series(1 / (1 + data["frequency"].to_numpy()), index=data.index)


def test_matrix_is_one_vectorised_call_and_hand_values():
    model = _CountingModel()
    table = prediction_matrix(model, max_frequency=2, max_recency=2.7)  # recency 0, 1, 2; T = 2.7
    assert model.calls == [1 + 2 * 3]
    expected = np.array([[1, np.nan, np.nan], [1 / 2, 1 / 2, 1 / 2], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_array_equal(table.to_numpy(), expected)
    assert table.attrs["T"] == 2.7 and table.attrs["t"] is None and table.attrs["time_unit"] == "D"


def test_matrix_errors():
    model = BetaGeoModel.from_params(PUBLISHED, time_unit="W")
    with pytest.raises(ValueError, match="quantity must be one of"):
        prediction_matrix(model, "p_alive", max_frequency=3, max_recency=5)
    with pytest.raises(ValueError, match="needs max_frequency and max_recency.*summary"):
        prediction_matrix(model)
    with pytest.raises(ValueError, match="needs max_recency"):
        prediction_matrix(model, max_frequency=3)
    with pytest.raises(ValueError, match="max_frequency must be a whole number"):
        prediction_matrix(model, max_frequency=2.5, max_recency=5)
    for bad in (0, -1, float("nan"), float("inf"), "ten"):
        with pytest.raises(ValueError, match="max_recency must be a positive"):
            prediction_matrix(model, max_frequency=3, max_recency=bad)
        with pytest.raises(ValueError, match="T must be a positive"):
            prediction_matrix(model, max_frequency=3, max_recency=5, T=bad)
        with pytest.raises(ValueError, match="t must be a positive"):
            prediction_matrix(model, "expected_purchases", t=bad, max_frequency=3, max_recency=5)
    prediction_matrix(model, t=-1, max_frequency=3, max_recency=5)  # t is unused for P(alive)
    with pytest.raises(TypeError, match="must be a fitted purchase model"):
        prediction_matrix(GammaGammaModel.from_params(p=6.25, q=3.74, gamma=15.44), max_frequency=3, max_recency=5)
    with pytest.raises(NotFittedError):
        prediction_matrix(BetaGeoModel(), max_frequency=3, max_recency=5)


# -- value_concentration --------------------------------------------------------------------------

def test_concentration_by_hand():
    """Values 4, 3, 2, 1 (total 10): the top quarter holds 4/10, the top half 7/10, ...; the top
    20 % is 0.8 of the first customer, 0.32; Gini = 2 * area - 1 with the area under the curve
    (0.4/2 + (0.4+0.7)/2 + (0.7+0.9)/2 + (0.9+1)/2) / 4 = 0.625, so 0.25."""
    table = value_concentration(pd.Series([1.0, 4.0, 2.0, 3.0], index=list("abcd")))
    assert table.index.name == "rank" and table.index.tolist() == [1, 2, 3, 4]
    assert table["value"].tolist() == [4.0, 3.0, 2.0, 1.0]
    np.testing.assert_allclose(table["share_of_customers"], [0.25, 0.5, 0.75, 1.0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(table["share_of_value"], [0.4, 0.7, 0.9, 1.0], rtol=0, atol=1e-15)
    assert table.loc[1, "share_of_value"] == pytest.approx(0.4)  # the top 25 % hold 40 %
    assert table.attrs["top_20_share"] == pytest.approx(0.32)
    assert table.attrs["top_10_share"] == pytest.approx(0.16)
    assert table.attrs["gini"] == pytest.approx(0.25)
    assert table.attrs["n_customers"] == 4 and table.attrs["total_value"] == 10.0


def test_concentration_exact_deciles():
    """Values 1..10 (total 55): the top 10 % is the 10 alone, the top 20 % is 10 + 9."""
    table = value_concentration(np.arange(1, 11))
    assert table.attrs["top_10_share"] == pytest.approx(10 / 55)
    assert table.attrs["top_20_share"] == pytest.approx(19 / 55)


def test_gini_limits_and_definition():
    assert value_concentration([3.0] * 7).attrs["gini"] == pytest.approx(0.0, abs=1e-12)
    equal = value_concentration([2.5] * 5)
    np.testing.assert_allclose(equal["share_of_value"], equal["share_of_customers"], rtol=1e-12)
    assert value_concentration([5, 0, 0, 0]).attrs["gini"] == pytest.approx(0.75)  # 1 - 1/n
    rng = np.random.default_rng(20240611)
    values = np.r_[rng.lognormal(3.0, 1.2, 300), np.zeros(40)]  # customers worth nothing count too
    definition = np.abs(values[:, None] - values[None, :]).sum() / (2 * len(values) ** 2 * values.mean())
    table = value_concentration(values)
    assert table.attrs["gini"] == pytest.approx(definition, rel=1e-12)
    shuffled = value_concentration(pd.Series(rng.permutation(values)))
    pd.testing.assert_frame_equal(shuffled, table)
    assert table["share_of_value"].iloc[-1] == 1.0 and np.all(np.diff(table["share_of_value"]) >= 0)


@pytest.mark.parametrize(("values", "error", "message"), [
    ([1.0, float("nan"), 2.0], InvalidValueError, "must be a finite number; 1 of 3 rows"),
    ([1.0, float("inf")], InvalidValueError, "must be a finite number"),
    (pd.Series([1.0, -2.0, 3.0], index=["a", "b", "c"]), InvalidValueError, r"must not be negative.*'b': -2.0"),
    (["1", "x"], InvalidValueError, "must be a finite number"),
    ([], EmptyDataError, "values is empty"),
    (pd.Series([], dtype=float), EmptyDataError, "values is empty"),
    ([0, 0, 0], InvalidValueError, "add up to 0"),
    ([[1.0, 2.0], [3.0, 4.0]], InvalidValueError, "one-dimensional"),
])
def test_concentration_errors(values, error, message):
    with pytest.raises(error, match=message) as info:
        value_concentration(values)
    assert isinstance(info.value, DataError)
