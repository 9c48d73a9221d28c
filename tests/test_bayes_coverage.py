"""Frequentist coverage of the posterior intervals: a seeded, small-scale repeated-fit check.

Twenty data sets of 1,000 customers are simulated from one known BG/NBD parameter set and each is
fitted by NUTS with the default priors. With that much data the 90 % equal-tailed intervals should
contain the true parameter in about 90 % of the fits (Bernstein-von Mises); a wrong likelihood,
a prior that dominates, or intervals computed at the wrong level push the share far from it.
Binomial noise with 20 fits x 4 parameters (correlated within a fit) is about +-4 points.
"""

import warnings

import numpy as np
import pytest

pytest.importorskip("pymc")

from clvmodels import BetaGeoModel  # noqa: E402
from clvmodels.bayes import BayesBetaGeoModel  # noqa: E402

TRUE = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}
FITS = 20


def test_ninety_percent_intervals_cover_the_true_parameters():
    hits = []
    for k in range(FITS):
        data = BetaGeoModel.simulate_summary(tuple(TRUE.values()), 1000, rng=np.random.default_rng(100 + k))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = BayesBetaGeoModel(draws=300, tune=300, chains=2, random_seed=k).fit(data)
        draws = model.posterior_draws()
        lower, upper = draws.quantile(0.05), draws.quantile(0.95)
        hits.append([lower[name] <= value <= upper[name] for name, value in TRUE.items()])
    hits = np.array(hits)
    share = hits.mean()
    assert 0.8 <= share <= 0.975, f"90 % intervals covered the truth in {share:.0%} of {hits.size} cases"
    assert hits.mean(axis=0).min() >= 0.7, dict(zip(TRUE, hits.mean(axis=0)))
