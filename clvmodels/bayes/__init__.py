"""Bayesian fitting of the CLV models with PyMC (install with ``pip install 'clvmodels[bayes]'``).

The models here parallel the maximum-likelihood estimators: the same likelihood code (wrapped as a
PyTensor operation on the compressed histories), priors on the positive parameters, and NUTS
(nutpie by default, or PyMC's own), the posterior mode, or ADVI. Predictions are posterior means
with credible intervals per customer, computed on distinct histories in bounded memory.

Importing :mod:`clvmodels` never imports PyMC; only this subpackage does.

>>> from clvmodels import datasets
>>> from clvmodels.bayes import BayesBetaGeoModel
>>> summary = datasets.load_cdnow_summary()
>>> model = BayesBetaGeoModel(draws=500, tune=500, chains=2, random_seed=1).fit(summary)  # doctest: +SKIP
>>> model.summary()  # doctest: +SKIP
>>> model.probability_alive(summary)  # doctest: +SKIP
>>> model.loo(summary)["elpd_loo"]  # PSIS-LOO on the distinct histories  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util

if importlib.util.find_spec("pymc") is None:  # pragma: no cover - depends on the install
    raise ImportError("clvmodels.bayes needs PyMC and arviz: pip install 'clvmodels[bayes]'.")

from .clv import customer_lifetime_value, value_stream
from .diagnostics import PosteriorConvergenceWarning, convergence_table, loo, waic
from .models import (BayesBetaGeoModel, BayesGammaGammaModel, BayesModifiedBetaGeoModel,
                     BayesParetoNBDModel, load_model)
from .discrete import BayesBetaGeoBetaBinomModel, BayesShiftedBetaGeoModel
from .priors import default_priors

__all__ = [
    "BayesBetaGeoModel",
    "BayesModifiedBetaGeoModel",
    "BayesParetoNBDModel",
    "BayesGammaGammaModel",
    "BayesBetaGeoBetaBinomModel",
    "BayesShiftedBetaGeoModel",
    "customer_lifetime_value",
    "value_stream",
    "PosteriorConvergenceWarning",
    "convergence_table",
    "loo",
    "waic",
    "default_priors",
    "load_model",
]
