"""Every registered model has a calibration-fit diagnostic whose expected counts add up to the
customers (one contract over ``clvmodels.MODELS``; a new model kind without diagnostics fails
here). Data are simulated by each model's own ``simulate`` / ``simulate_summary`` (seeded) at
fixed, realistic parameters: BG/NBD and Pareto/NBD at the CDNOW estimates printed by Fader, Hardie
& Lee (2005), MBG/NBD illustrative values of the same size, BG/BB at the donations estimates of Fader, Hardie & Shang (2010), sBG at the "regular"
cohort estimates of Fader & Hardie (2007)."""

from __future__ import annotations

import numpy as np
import pytest

from clvmodels import MODELS
from clvmodels.diagnostics import discrete_frequency_distribution, discrete_tracking, frequency_distribution, \
    survival_table

PARAMS = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "mbgnbd": {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614},
    "pareto_nbd": {"r": 0.553, "alpha": 10.58, "s": 0.606, "beta": 11.67},
    "bgbb": {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783},
    "sbg": {"alpha": 0.704, "beta": 1.182},
}
#: Kinds whose diagnostics live elsewhere: spend models are checked with a purchase model by
#: holdout_predictions / holdout_accuracy(spend_model=...).
COVERED_ELSEWHERE = {"spend"}


def _table(cls, params, rng):
    model = cls.from_params(params)
    if cls.kind == "purchase":
        data = cls.simulate_summary(params, 2000, rng=rng)
        model = cls.from_params(params, time_unit=data.attrs.get("time_unit"))
        return frequency_distribution(model, data, max_frequency=5), len(data)
    if cls.kind == "discrete_purchase":
        data = cls.simulate_summary(params, 2000, rng=rng)
        model = cls.from_params(params, time_unit=data.attrs.get("time_unit"))
        tracking = discrete_tracking(model, data)
        assert tracking.loc[int(data["n_periods"].max()), "expected_cumulative"] > 0
        return discrete_frequency_distribution(model, data), len(data)
    if cls.kind == "retention":
        data = cls.simulate(params, 2000, 8, rng=rng)
        survivors = [int(((data["churned"] == 0) | (data["tenure"] > t)).sum()) for t in range(9)]
        table = survival_table(model, survivors, calibration_periods=5)  # the cohort size at t = 0
        table = table.rename(columns={"actual_survivors": "actual", "expected_survivors": "expected"})
        return table.iloc[[0]], len(data)
    raise AssertionError(f"model kind {cls.kind!r} has no diagnostics table")


@pytest.mark.parametrize("name", [n for n, cls in MODELS.items() if cls.kind not in COVERED_ELSEWHERE])
def test_every_registered_model_has_a_fit_table_that_adds_up(name):
    cls = MODELS[name]
    assert name in PARAMS, f"add realistic parameters for the new model {name!r}"
    table, n = _table(cls, PARAMS[name], np.random.default_rng(11))
    assert table["actual"].sum() == n
    assert table["expected"].sum() == pytest.approx(n, rel=1e-9)


def test_no_registered_kind_is_left_without_diagnostics():
    assert {cls.kind for cls in MODELS.values()} <= {"purchase", "discrete_purchase", "retention"} | COVERED_ELSEWHERE
