"""Estimators, and the registry that resolves model names used in configs and model files."""

from __future__ import annotations

import difflib

from ..exceptions import ModelFileError
from . import _files
from .base import MLEModel
from .bgbb import BetaGeoBetaBinomModel
from .bgnbd import BetaGeoModel
from .gamma_gamma import GammaGammaModel
from .mbgnbd import ModifiedBetaGeoModel
from .pareto_nbd import ParetoNBDModel
from .sbg import ShiftedBetaGeoModel

#: Every model selectable by name (configs, saved files). Add new models here.
MODELS: dict[str, type[MLEModel]] = {cls.name: cls for cls in (BetaGeoModel, ModifiedBetaGeoModel, GammaGammaModel, BetaGeoBetaBinomModel, ShiftedBetaGeoModel, ParetoNBDModel)}

__all__ = ["MODELS", "MLEModel", "BetaGeoModel", "GammaGammaModel", "ModifiedBetaGeoModel", "BetaGeoBetaBinomModel", "ShiftedBetaGeoModel", "ParetoNBDModel", "get_model", "load_model"]


def get_model(name: str) -> type[MLEModel]:
    """Return the model class registered under ``name``; unknown names get a suggestion."""
    try:
        return MODELS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(MODELS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown model {name!r}; available: {sorted(MODELS)}.{hint}") from None


def load_model(path) -> MLEModel:
    """Load any saved model, choosing the class from the file's ``model`` field.

    Raises
    ------
    clvmodels.exceptions.ModelFileError
        Naming the file and the problem (see :meth:`MLEModel.load`), or the model it names when
        this clvmodels does not know it.
    """
    payload = _files.read_json(path)
    name = _files.check_header(payload, str(path))
    if not isinstance(name, str) or name not in MODELS:
        raise ModelFileError(f"{path} names model {name!r}, which this clvmodels does not know; "
                             f"known: {sorted(MODELS)}.")
    return MODELS[name].from_dict(payload, source=str(path))
