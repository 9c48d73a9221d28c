"""clvmodels: probabilistic customer-lifetime-value models.

Transactions -> :func:`rfm_summary` -> :class:`BetaGeoModel` (purchases, P(alive)) and
:class:`GammaGammaModel` (spend) -> :func:`customer_lifetime_value`.
"""

import importlib

from ._version import __version__
from .clv import customer_lifetime_value, new_customer_lifetime_value
from .covariates import likelihood_ratio_test
from . import datasets
from .data import calibration_holdout_split, rfm_summary
from .models import MODELS, BetaGeoModel, GammaGammaModel, ModifiedBetaGeoModel, BetaGeoBetaBinomModel, ShiftedBetaGeoModel, ParetoNBDModel, get_model, load_model

__all__ = [
    "__version__",
    "rfm_summary",
    "calibration_holdout_split",
    "datasets",
    "diagnostics",
    "BetaGeoModel",
    "GammaGammaModel",
    "ModifiedBetaGeoModel",
    "BetaGeoBetaBinomModel",
    "ShiftedBetaGeoModel",
    "ParetoNBDModel",
    "MODELS",
    "get_model",
    "load_model",
    "customer_lifetime_value",
    "new_customer_lifetime_value",
    "likelihood_ratio_test",
]


def __getattr__(name: str):
    # The diagnostics are imported on first use: a batch job (``clvmodels run``) does not need them.
    if name == "diagnostics":
        return importlib.import_module(".diagnostics", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
