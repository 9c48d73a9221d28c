"""The likelihood-ratio test of nested fits (fewer covariates, or coefficients set equal)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import ConvergenceError, InvalidArgumentError, NotFittedError
from ._columns import SHARED, _shown


@dataclass(frozen=True)
class LikelihoodRatioResult:
    """The likelihood-ratio test of a restricted fit against a full fit that nests it.

    Attributes
    ----------
    statistic : float
        ``2 (log L_full - log L_restricted)``, at least 0 (tiny negative values from the optimisers'
        tolerance are set to 0).
    df : int
        Degrees of freedom: the full model's parameters less the restricted model's.
    p_value : float
        ``P(chi2(df) >= statistic)``: small values say the extra parameters improve the fit more
        than chance would. Valid asymptotically, for restrictions inside the parameter space (a
        coefficient set to 0 or two coefficients set equal), not for a parameter at a boundary.
    restricted_log_likelihood, full_log_likelihood : float
        The two maximised log-likelihoods.
    added : tuple of str
        The full model's parameters the restricted one lacks.
    """

    statistic: float
    df: int
    p_value: float
    restricted_log_likelihood: float
    full_log_likelihood: float
    added: tuple[str, ...]


def _fitted_facts(model, which: str):
    name = type(model).__name__
    if not hasattr(model, "params_") or not hasattr(model, "log_likelihood_"):
        raise NotFittedError(f"likelihood_ratio_test: the {which} model ({name}) is not fitted; call fit(data) first.")
    penalty = getattr(model, "covariate_penalty", 0.0) or 0.0
    if penalty > 0 and getattr(model, "has_covariates", True):
        raise InvalidArgumentError(
            f"{which} was fitted with covariate_penalty={penalty:g}: a penalised fit does not maximise the "
            "likelihood, so the likelihood-ratio statistic has no chi-squared reference. Refit both models with "
            "covariate_penalty=0 to test, or compare penalised fits on holdout data instead.")
    if model.log_likelihood_ is None or not np.isfinite(model.log_likelihood_):
        raise InvalidArgumentError(
            f"{which} has no finite log-likelihood ({name} built from parameters or loaded without fit facts); "
            "the test needs two models fitted on the same customers.")
    params = model.params_
    if not isinstance(params, pd.Series):
        raise InvalidArgumentError(f"{which}.params_ must be a pandas Series of parameters by name; got "
                                   f"{type(params).__name__}.")
    return list(params.index), float(model.log_likelihood_), getattr(model, "n_customers_", None)


def likelihood_ratio_test(restricted, full, *, tol: float = 1e-6) -> LikelihoodRatioResult:
    """Likelihood-ratio test of ``restricted`` against ``full``, two fits of nested models.

    The models are nested when every parameter of ``restricted`` is a parameter of ``full``, or a
    shared coefficient ``shared:<label>`` whose column ``full`` has per process
    (``purchase:<label>``, ``dropout:<label>``): the restricted model then sets the missing
    coefficients to 0, or the per-process ones equal. Both must be the same model (same ``name``
    where they have one) fitted on the same number of customers.

    Parameters
    ----------
    restricted, full : fitted models
        Objects with ``log_likelihood_`` (float), ``params_`` (pandas Series by parameter name)
        and, ideally, ``n_customers_``.
    tol : float, default 1e-6
        Relative tolerance (times ``max(1, |log L_full|)``) below which a negative statistic is
        taken for 0, the optimisers' rounding.

    Returns
    -------
    LikelihoodRatioResult

    Raises
    ------
    clvmodels.exceptions.NotFittedError
        A model is not fitted.
    clvmodels.exceptions.InvalidArgumentError
        The models are not nested, are different models, or were fitted on different numbers of
        customers.
    clvmodels.exceptions.ConvergenceError
        ``full`` fits worse than ``restricted`` beyond ``tol``: the full fit did not reach its
        maximum (it can always do at least as well as the model it nests).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import pandas as pd
    >>> small = SimpleNamespace(params_=pd.Series({"r": 1.0, "alpha": 2.0}), log_likelihood_=-100.0, n_customers_=50)
    >>> big = SimpleNamespace(params_=pd.Series({"r": 1.0, "alpha": 2.0, "purchase:age": 0.1}),
    ...                       log_likelihood_=-98.0, n_customers_=50)
    >>> result = likelihood_ratio_test(small, big)
    >>> result.statistic, result.df, round(result.p_value, 4)
    (4.0, 1, 0.0455)
    """
    r_names, r_ll, r_n = _fitted_facts(restricted, "restricted")
    f_names, f_ll, f_n = _fitted_facts(full, "full")
    r_kind, f_kind = getattr(restricted, "name", None), getattr(full, "name", None)
    if r_kind is not None and f_kind is not None and r_kind != f_kind:
        raise InvalidArgumentError(f"restricted is a {r_kind!r} model and full a {f_kind!r} model: the test compares "
                                   "two fits of the same model, one with fewer covariates (or coefficients set equal).")
    full_set = set(f_names)
    not_nested = []
    for name in r_names:
        if name in full_set:
            continue
        role, _, label = name.partition(":")
        per_process = [n for n in f_names if n.partition(":")[2] == label and not n.startswith(SHARED + ":")]
        if not (role == SHARED and len(per_process) >= 2):  # a shared coefficient of per-process ones
            not_nested.append(name)
    df = len(f_names) - len(r_names)
    if not_nested or df <= 0:
        why = (f"full lacks {_shown(not_nested)}" if not_nested
               else f"full has {len(f_names)} parameters, not more than restricted's {len(r_names)}")
        raise InvalidArgumentError(
            f"restricted is not nested in full: {why}. Pass the model with fewer covariates first and the "
            "model with more second, both of the same model class.")
    if r_n is not None and f_n is not None and not math.isclose(float(r_n), float(f_n), rel_tol=1e-9):
        raise InvalidArgumentError(
            f"restricted was fitted on {float(r_n):g} customers and full on {float(f_n):g}: log-likelihoods of "
            "different data cannot be compared. Fit both on the same customers (the same rows, none excluded).")
    statistic = 2.0 * (f_ll - r_ll)
    if statistic < 0:
        if -statistic > tol * max(1.0, abs(f_ll)):
            raise ConvergenceError(
                f"the full model's log-likelihood ({f_ll:.6g}) is below the restricted model's ({r_ll:.6g}), "
                "although it nests it: the full fit did not reach its maximum. Refit the full model, e.g. "
                "starting from the restricted estimates, with more iterations (max_iter), and check that both "
                "were fitted on the same customers.")
        statistic = 0.0
    added = tuple(n for n in f_names if n not in set(r_names))
    return LikelihoodRatioResult(statistic, int(df), float(stats.chi2.sf(statistic, df)), r_ll, f_ll, added)

