"""The maximum-likelihood base every model declares itself on.

A model subclass names its parameters, the summary columns it reads, its boundary cases and the
pure likelihood functions from :mod:`clvmodels.likelihoods`; this class validates, compresses the
data to sufficient statistics, optimises on the log scale with the analytic gradient, derives the
covariance from the Hessian, and persists the result as JSON.
"""

from __future__ import annotations

import inspect
import json
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import ndtri

from .. import _checks
from .._version import __version__
from .._io import write_text_atomic
from . import _covariates, _files
from ._compress import _mostly_distinct, compress  # noqa: F401  (re-exported: compress is public here)
from ._optimise import _bfgs, _mean_negative, _newton_polish
from ._files import FILE_FORMAT, FILE_FORMAT_VERSION  # re-exported: the format's name and version
from ..covariates import CovariateDesign
from ..data.validation import check_summary, invalid_rows_error, require_columns
from ..exceptions import (BoundaryWarning, ConvergenceError, IdentificationError, IdentificationWarning,
                          InvalidArgumentError, ModelFileError, NotFittedError)

_GTOL = 1e-9  # the optimiser's target, on the per-customer mean log-likelihood, log-parameter scale
_GRAD_TOL = 1e-5  # the largest gradient accepted as converged, on the same scale
#: Fits on more distinct rows than this start from a fit on a sample of about
#: ``_WARM_START_CUSTOMERS`` customers (see ``MLEModel._warm_start``).
_WARM_START_ROWS = 50_000
_WARM_START_CUSTOMERS = 20_000
_WARM_START_GTOL = 1e-6  # the sample's optimum is only a start: it is off by its sampling error
_GOLDEN = (np.sqrt(5.0) - 1) / 2
#: Values of the ``on_unidentified`` setting.
ON_UNIDENTIFIED = ("raise", "warn")


@dataclass(frozen=True)
class Boundary:
    """A parameter limit with a known meaning: warn when a fit lands there."""

    param: str
    meaning: str
    below: float | None = None
    above: float | None = None

    def reached(self, value: float) -> bool:
        return (self.below is not None and value < self.below) or (
            self.above is not None and value > self.above
        )


class MLEModel:
    """Base class for models fitted by maximum likelihood on a customer summary.

    Subclasses set the class attributes and implement :meth:`_loglik` and :meth:`_loglik_grad`
    (per-row log-likelihood and its gradient with respect to the natural parameters).

    Parameters
    ----------
    ci_level : float, default 0.95
        Confidence level of the intervals in :meth:`summary`, strictly between 0 and 1.
    start : dict, optional
        Starting values for the optimiser, by parameter name (positive finite numbers); the
        default is deterministic.
    max_iter : int, default 1000
        Iteration limit of the optimiser, a positive whole number.
    purchase_covariates, dropout_covariates, spend_covariates : list of str, optional
        Columns of the summary (one row per customer) whose values shift the purchase, dropout or
        spend process, each with its own coefficient; only the processes a model has
        (``covariate_roles``). A column may feed both purchase and dropout (two coefficients).
        Numeric columns enter as they are (not centred: the base parameters describe a customer
        whose covariates are all 0); text, categorical and boolean columns become indicators of
        their levels except the reference (the first sorted level, or a Categorical's first
        category). A positive coefficient raises the process's rate (the links and their sources
        are in :mod:`clvmodels.likelihoods.links`). The coefficients appear in ``params_`` after the
        base parameters as ``"purchase:<column>"`` or ``"purchase:<column>[<level>]"``.
    equal_covariates : list of str, optional
        Columns with one coefficient shared by purchase and dropout, ``"shared:<column>"`` (models
        with two processes).
    covariate_kinds : dict, optional
        ``{"column": "numeric" | "categorical" | "boolean"}``, overriding the kind read from the dtype.
    covariate_reference : dict, optional
        ``{"column": level}``: the reference level of a categorical column.
    covariate_penalty : float, default 0
        L2 penalty ``lam``: ``lam * sum(g ** 2)`` over the coefficients only is subtracted from the
        **total** log-likelihood (not the per-customer mean), i.e. Normal(0, 1/sqrt(2 lam)) priors;
        ``log_likelihood_`` is reported without it. Penalised fits are refused by
        :func:`clvmodels.likelihood_ratio_test`.
    on_unidentified : {"raise", "warn"}, default "raise"
        What ``fit`` does when the data cannot identify the parameters: before optimising, when
        the data lack what the model learns from (no customer repeats, every customer observed for
        no time, fewer than 2 customers, fewer distinct histories than parameters; each model
        states its own rules in ``_identification_problem``), and after it, when the Hessian at
        the optimum is singular (NaN standard errors) without a known boundary explaining it.
        ``"raise"``: :class:`~clvmodels.exceptions.IdentificationError` saying what the data lack
        and what to do. ``"warn"``: :class:`~clvmodels.exceptions.IdentificationWarning` with the
        same text; the fit goes on where it can and the text is kept in
        ``identification_problem_`` (None for an identified fit), which is saved with the model.

    Raises
    ------
    clvmodels.exceptions.InvalidArgumentError
        When a setting breaks its rule (checked when the model is built, so the API and the batch
        config refuse the same settings); the message starts with the setting's name.
    """

    name: ClassVar[str]
    kind: ClassVar[str]  # "purchase" or "spend"
    param_names: ClassVar[tuple[str, ...]]
    rate_params: ClassVar[tuple[str, ...]] = ()
    data_columns: ClassVar[tuple[str, ...]]
    boundaries: ClassVar[tuple[Boundary, ...]] = ()
    #: Columns whose negative values ``fit`` passes on to the model's own rules (``_fit_rows``)
    #: instead of rejecting them up front.
    fit_signed_columns: ClassVar[tuple[str, ...]] = ()
    #: The processes whose covariates the model takes (``"purchase"``, ``"dropout"``, ``"spend"``),
    #: each linked to one parameter in :data:`clvmodels.likelihoods.links.LINKS`; empty: none yet.
    covariate_roles: ClassVar[tuple[str, ...]] = ()
    #: Whether ``_loglik`` and ``_loglik_grad`` broadcast over per-row parameter arrays (so that
    #: continuous covariates can be fitted row by row).
    _row_broadcast: ClassVar[bool] = True

    def __init__(self, *, ci_level: float = 0.95, start: dict[str, float] | None = None,
                 max_iter: int = 1000, on_unidentified: str = "raise",
                 purchase_covariates: list[str] | None = None, dropout_covariates: list[str] | None = None,
                 spend_covariates: list[str] | None = None, equal_covariates: list[str] | None = None,
                 covariate_kinds: dict[str, str] | None = None, covariate_reference: dict | None = None,
                 covariate_penalty: float = 0.0) -> None:
        # Stored as given (scikit-learn's contract), after checking them: settings are validated
        # where the model is built, so the API and the batch config refuse the same values.
        _checks.level(ci_level, name="ci_level")
        _checks.start_values(start, self.param_names, name="start")
        _checks.positive_int(max_iter, name="max_iter", what="optimiser iterations")
        _checks.choice(on_unidentified, ON_UNIDENTIFIED, name="on_unidentified")
        self.ci_level = ci_level
        self.start = start
        self.max_iter = max_iter
        self.on_unidentified = on_unidentified
        self.purchase_covariates = purchase_covariates
        self.dropout_covariates = dropout_covariates
        self.spend_covariates = spend_covariates
        self.equal_covariates = equal_covariates
        self.covariate_kinds = covariate_kinds
        self.covariate_reference = covariate_reference
        self.covariate_penalty = covariate_penalty
        _covariates.design_from_settings(self)  # checks the covariate settings

    # -- hooks ----------------------------------------------------------------------------------
    @staticmethod
    def _loglik(params, *columns):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def _loglik_grad(params, *columns):  # pragma: no cover - abstract
        raise NotImplementedError

    #: Optional fused objective from the maths module: ``make_objective(*columns, weights=w)``
    #: returns ``f(params) -> (sum of w * loglik, its gradient)``, precomputing what depends on
    #: the data only. Without it, ``_loglik`` and ``_loglik_grad`` are summed.
    _make_objective = None
    #: Optional fused objective with per-row parameters (covariates), see
    #: :func:`clvmodels.likelihoods.links.row_objective`.
    _make_row_objective = None

    @classmethod
    def simulate_summary(cls, params, n: int, *, rng) -> pd.DataFrame:  # pragma: no cover - abstract
        """A realistic dataset of ``n`` customers simulated from ``params`` (used by the contract
        tests and the benchmarks)."""
        raise NotImplementedError

    def _objective(self, arrays, counts):
        if self._make_objective is not None:
            return self._make_objective(*arrays, weights=counts)

        def total(params):
            return counts @ self._loglik(params, *arrays), counts @ self._loglik_grad(params, *arrays)

        return total

    def _default_start(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> np.ndarray:
        return np.ones(len(self.param_names))

    def _fit_rows(self, frame: pd.DataFrame, weights: np.ndarray | None = None) -> np.ndarray:
        """Boolean mask of the rows the likelihood uses (all by default).

        ``weights`` holds the number of customers each row stands for, so that a model reporting
        the rows it leaves out (``n_excluded_``) counts customers, not rows of a compressed table;
        None means one customer per row.
        """
        return np.ones(len(frame), dtype=bool)

    def _check_fit(self, frame: pd.DataFrame, columns: dict[str, np.ndarray], weights: np.ndarray) -> None:
        """Model-specific checks and warnings on the fitting data (none by default)."""

    def _identification_problem(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> str | None:
        """What the fitting rows lack to identify the parameters, or None; checked before optimising.

        ``columns`` and ``weights`` are the rows the likelihood uses, compressed (distinct rows,
        each with its positive number of customers). The rules, in this order: at least 2
        customers; the model's own (:meth:`_data_problem`); at least as many distinct rows as
        parameters (the likelihood depends on the parameters only through the probabilities of
        the distinct rows, so with fewer of them some direction of the parameters leaves it
        unchanged).
        """
        n = float(weights.sum())
        k = len(self.param_names)
        if n < 2:
            return (f"the data hold {n:g} customer(s) (weighted) to fit on; at least 2 are needed, and in "
                    f"practice hundreds, to estimate the {k} parameters. Fit on the whole customer base "
                    "(check the filters and the summary), not on one customer or an empty selection."
                    + self._fit_rows_note)
        problem = self._data_problem(columns, weights)
        if problem is not None:
            return problem
        distinct = len(weights)
        if distinct < k:
            return (f"the {n:g} customers have only {distinct} distinct histories "
                    f"({', '.join(columns)}), fewer than the {k} parameters ({', '.join(self.param_names)}), "
                    "so several parameter values fit equally well. Use more customers or a longer "
                    "observation period, or check that the summary was built correctly."
                    + self._fit_rows_note)
        return None

    #: Appended to the identification messages that count customers (which customers count).
    _fit_rows_note: ClassVar[str] = ""

    def _data_problem(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> str | None:
        """What this model's maths needs of the (compressed) fitting rows beyond the counts of
        :meth:`_identification_problem`, or None (nothing by default)."""
        return None

    def _unidentified(self, problem: str, problems: list[str], *, stacklevel: int = 3) -> None:
        """Raise or warn (``on_unidentified``) that ``problem`` leaves the parameters unidentified;
        a warned problem is added to ``problems``."""
        message = f"{type(self).__name__} cannot identify its parameters from these data: {problem}"
        if self.on_unidentified == "raise":
            raise IdentificationError(
                message + " Pass on_unidentified='warn' to fit anyway (the estimates are then arbitrary "
                "along the unidentified direction).")
        warnings.warn(message, IdentificationWarning, stacklevel=stacklevel)
        problems.append(message)

    # -- data -----------------------------------------------------------------------------------
    def _columns(self, data, *, signed: tuple[str, ...] = ()) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        """Validate ``data`` and return its model columns; columns in ``signed`` may be negative."""
        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
        require_columns(frame, self.data_columns, what="The summary", hint="Build it with clvmodels.rfm_summary().")
        check_summary(frame, tuple(c for c in self.data_columns if c not in signed))
        for col in signed:
            values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
            if not np.all(np.isfinite(values)):
                raise invalid_rows_error(col, "must be a finite number", ~np.isfinite(values), frame,
                                         "Rebuild the summary with clvmodels.rfm_summary(), or fix or "
                                         "drop these customers.")
        return frame, {c: frame[c].to_numpy(dtype=float) for c in self.data_columns}

    def _weights(self, frame: pd.DataFrame, weights) -> np.ndarray:
        if weights is None:
            return np.ones(len(frame))
        if isinstance(weights, str):
            check_summary(frame, (weights,))
            weights = frame[weights]
        w = np.asarray(weights, dtype=float)
        if w.shape != (len(frame),) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(
                f"weights must be {len(frame)} finite non-negative numbers, one per row "
                f"(got shape {w.shape}). Pass the count of customers each row stands for."
            )
        return w

    # -- fitting --------------------------------------------------------------------------------
    def fit(self, data, *, weights=None):
        """Fit the model by maximum likelihood.

        Parameters
        ----------
        data : pandas.DataFrame
            A customer summary with the columns in ``data_columns`` (as built by
            :func:`clvmodels.rfm_summary`); its ``attrs["time_unit"]`` is remembered.
        weights : array_like or str, optional
            Number of customers each row stands for, or the name of a column holding it.
            Rows are compressed to unique histories either way, so weighting is exact.

        Returns
        -------
        self
        """
        frame, columns = self._columns(data, signed=self.fit_signed_columns)
        w = self._weights(frame, weights)
        used = self._fit_rows(frame, w)
        if not used.all():
            columns = {c: v[used] for c, v in columns.items()}
            w = w[used]
        self._check_fit(frame, columns, w)
        self.covariate_design_ = None
        if not _covariates.design_from_settings(self).is_empty:  # see models/_covariates.py
            return _covariates.fit(self, frame if used.all() else frame[used], columns, w)
        unique, counts = compress(columns, w)
        keep = counts > 0
        unique, counts = {c: v[keep] for c, v in unique.items()}, counts[keep]
        problems: list[str] = []
        problem = self._identification_problem(unique, counts)
        if problem is not None:
            self._unidentified(problem, problems)
        arrays = tuple(unique[c] for c in self.data_columns if c in unique)

        n = counts.sum()
        result, total, warm_iter, _ = self._optimise(arrays, counts, unique)
        hessian = self._hessian(result.x, total)
        theta = _newton_polish(result.x, result.jac * n, hessian)
        params = np.exp(theta)
        covariance = self._covariance(params, hessian)
        self._set_fitted(params, covariance,
                         log_likelihood=float(-result.fun * n),
                         n_customers=float(n), n_unique=int(len(counts)), n_iter=warm_iter + result.nit,
                         time_unit=frame.attrs.get("time_unit"))
        reached = self._warn_boundaries()
        if not np.all(np.isfinite(covariance)):
            self._singular_hessian(reached, problems)
        self.identification_problem_ = " ".join(problems) or None
        return self

    def _optimise(self, arrays, counts, unique=None):
        """BFGS on the compressed rows from the start (or a warm start on a sample): the optimiser's
        result, the objective, the iterations spent on the sample, and the start used."""
        if unique is None:
            unique = dict(zip(self.data_columns, arrays))
        n = counts.sum()
        theta = np.log(self._start_vector(unique, counts))
        total = self._objective(arrays, counts)
        hess_inv, warm_iter = None, 0
        if len(counts) > _WARM_START_ROWS:
            theta, hess_inv, warm_iter = self._warm_start(arrays, counts, theta)
        result = _bfgs(_mean_negative(total, n), theta, gtol=_GTOL, max_iter=self.max_iter, hess_inv=hess_inv)
        if not np.isfinite(result.fun) or np.max(np.abs(result.jac)) > _GRAD_TOL:
            raise ConvergenceError(self._convergence_message(result, result.jac))
        return result, total, warm_iter, theta

    def _singular_hessian(self, boundaries_reached: bool, problems: list[str]) -> None:
        """The Hessian at the optimum is not positive definite: NaN standard errors.

        At a boundary the model knows (a parameter going to 0 or infinity, already reported by a
        :class:`~clvmodels.exceptions.BoundaryWarning`), that is the boundary's doing and only
        warned about; otherwise the data do not identify the parameters (``on_unidentified``).
        """
        if problems:  # already warned why: the NaN standard errors are its consequence
            problems.append("The Hessian at the optimum is not positive definite: standard errors are NaN.")
            return
        if boundaries_reached:
            warnings.warn(
                f"{type(self).__name__}: the Hessian at the optimum is not positive definite, so "
                "the parameters are not all identified by these data; standard errors are NaN. "
                "This accompanies the boundary solution reported above.", BoundaryWarning, stacklevel=3)
            return
        self._unidentified(
            "the log-likelihood is flat in some direction at the optimum (its Hessian is not positive "
            "definite, so the standard errors are NaN), and no parameter is at a known boundary. This "
            "usually means too few customers repeat, or the observation period is too short for "
            "purchases and dropout to be told apart: use more customers or a longer observation "
            "period, fix the summary, or choose a simpler model.", problems, stacklevel=4)

    def _warm_start(self, arrays, counts, theta):
        """A start near the optimum for a fit on many distinct rows: the optimum of a systematic
        sample of about ``_WARM_START_CUSTOMERS`` customers and the inverse Hessian there.

        The sample keeps ``floor(count * share + u_i)`` customers of row ``i``, with ``u_i`` the
        fractional parts of ``i`` times the golden ratio: deterministic, and evenly spread over
        the (sorted) rows. Its optimum is within a few of its standard errors of the full one, and
        its Hessian close to the full one, so BFGS on all rows needs a few steps instead of dozens
        of full evaluations. The answer is the full data's optimum either way; where the sample
        cannot be fitted, the fit starts from ``theta`` as usual.

        Returns
        -------
        tuple
            The start (log scale), the inverse Hessian of the per-customer mean negative
            log-likelihood there (or None) and the iterations spent on the sample.
        """
        share = _WARM_START_CUSTOMERS / counts.sum()
        if not share < 0.5:
            return theta, None, 0
        sample = np.floor(counts * share + (np.arange(len(counts)) * _GOLDEN) % 1.0)
        keep = sample > 0
        sample = sample[keep]
        total = self._objective(tuple(a[keep] for a in arrays), sample)
        result = _bfgs(_mean_negative(total, sample.sum()), theta, gtol=_WARM_START_GTOL, max_iter=self.max_iter)
        if not np.isfinite(result.fun) or np.max(np.abs(result.jac)) > _GRAD_TOL:
            return theta, None, 0
        hessian = self._hessian(result.x, total) / sample.sum()
        if not np.all(np.isfinite(hessian)) or np.linalg.eigvalsh(hessian).min() <= 0:
            return result.x, None, result.nit
        inverse = np.linalg.inv(hessian)
        return result.x, (inverse + inverse.T) / 2, result.nit

    def _start_vector(self, columns, weights) -> np.ndarray:
        start = np.asarray(self._default_start(columns, weights), dtype=float)
        for name, value in (self.start or {}).items():
            if name not in self.param_names:
                raise ValueError(f"start has unknown parameter {name!r}; parameters are {self.param_names}.")
            start[self.param_names.index(name)] = value
        return start

    def _hessian(self, theta, total, step: float = 1e-5) -> np.ndarray:
        """Hessian of the total negative log-likelihood on the log scale (central differences of
        the analytic gradient)."""
        def grad(th):
            p = np.exp(th)
            return -total(p)[1] * p

        k = len(theta)
        h = np.empty((k, k))
        for i in range(k):
            e = np.zeros(k)
            e[i] = step
            h[:, i] = (grad(theta + e) - grad(theta - e)) / (2 * step)
        return (h + h.T) / 2

    def _covariance(self, params, hessian) -> np.ndarray:
        """Covariance of the natural parameters by the delta method from the log-scale Hessian."""
        """NaN where the Hessian is not positive definite (``fit`` then says why)."""
        try:
            if not np.all(np.isfinite(hessian)) or np.linalg.eigvalsh(hessian).min() <= 0:
                raise np.linalg.LinAlgError
            cov_log = np.linalg.inv(hessian)
        except np.linalg.LinAlgError:
            return np.full_like(hessian, np.nan)
        cov = cov_log * np.outer(params, params)
        return (cov + cov.T) / 2

    def _convergence_message(self, result, grad) -> str:
        return (
            f"{type(self).__name__}.fit did not converge: {result.message} "
            f"(after {result.nit} iterations; largest gradient {np.max(np.abs(grad)):.2e}). Try:\n"
            f"  1. checking the data ({', '.join(self.data_columns)}): plausible values, and times "
            "in one sensible unit (weeks or days, not seconds);\n"
            "  2. another start point, e.g. "
            f"{type(self).__name__}(start={{{self.param_names[0]!r}: 0.5}});\n"
            "  3. more iterations with max_iter=5000;\n"
            "  4. a simpler model if few customers repeat: the data may not identify every parameter."
        )

    def _warn_boundaries(self, stacklevel: int = 3) -> bool:
        """Warn for each known boundary the fit reached; whether any was."""
        reached = False
        for boundary in self.boundaries:
            value = self.params_[boundary.param]
            if boundary.reached(value):
                reached = True
                warnings.warn(f"{type(self).__name__}: {boundary.param} = {value:.4g} is at the edge "
                              f"of its range: {boundary.meaning}", BoundaryWarning, stacklevel=stacklevel)
        return reached

    def _set_fitted(self, params, covariance, *, log_likelihood, n_customers, n_unique, n_iter, time_unit):
        names = list(self.param_names)
        design = getattr(self, "covariate_design_", None)
        if design is not None:
            names += list(design.coefficient_names)
        k = len(names)  # AIC and BIC count the coefficients too
        self.params_ = pd.Series(np.asarray(params, dtype=float), index=names, name="estimate")
        self.covariance_ = pd.DataFrame(np.asarray(covariance, dtype=float), index=names, columns=names)
        self.log_likelihood_ = log_likelihood
        self.n_customers_ = n_customers
        self.n_unique_ = n_unique
        self.n_iter_ = n_iter
        self.time_unit_ = time_unit
        self.identification_problem_ = None
        if log_likelihood is None:
            self.aic_ = self.bic_ = None
        else:
            self.aic_ = 2 * k - 2 * log_likelihood
            self.bic_ = k * np.log(n_customers) - 2 * log_likelihood

    # -- fitted state ---------------------------------------------------------------------------
    @classmethod
    def from_params(cls, params: dict[str, float] | None = None, *, covariance=None,
                    time_unit: str | None = None, **kwargs):
        """Build a fitted model from known parameter values (e.g. from a paper).

        Parameters
        ----------
        params : dict
            Value of every parameter in ``param_names``; may also be passed as keywords.
        covariance : array_like, optional
            Covariance of the parameters; NaN if not given.
        time_unit : str, optional
            Time unit the parameters refer to (``"D"``, ``"W"``, ...).
        """
        params = dict(params or {})
        setting_names = cls._setting_names()
        settings = {k: kwargs.pop(k) for k in list(kwargs) if k in setting_names and k not in cls.param_names}
        params.update(kwargs)  # anything else is a parameter, so a misspelt name is reported below
        unknown = set(params) - set(cls.param_names)
        missing = [p for p in cls.param_names if p not in params]
        if unknown or missing:
            raise ValueError(f"{cls.__name__}.from_params needs exactly the parameters {cls.param_names} "
                             f"(settings {setting_names} may be given too); missing {missing}, "
                             f"unknown {sorted(unknown)}.")
        values = np.array([float(params[p]) for p in cls.param_names])
        if not np.all(np.isfinite(values)) or np.any(values <= 0):
            raise ValueError(f"{cls.__name__} parameters must be positive and finite, got {params}.")
        where = f"{cls.__name__}.from_params"
        # the rules a model file obeys: a value no fit reaches, or predictions out of range (q <= 1)
        _files.check_params(cls, dict(zip(cls.param_names, values)), where, error=InvalidArgumentError)
        if covariance is not None:
            problem = _checks.covariance_problem(np.asarray(covariance, dtype=float).tolist(), list(cls.param_names),
                                                 max_variance=_files.MAX_VARIANCE)
            if problem:
                raise InvalidArgumentError(f"{where}: {problem}.")
        return cls._from_values(values, covariance, time_unit=time_unit, settings=settings)

    @classmethod
    def _from_values(cls, values, covariance=None, *, time_unit=None, settings=None):
        """A fitted model from parameter values, unchecked: for draws around a fit that passed the checks."""
        model = cls(**(settings or {}))
        k = len(values)
        cov = np.full((k, k), np.nan) if covariance is None else np.asarray(covariance, dtype=float)
        model._set_fitted(np.asarray(values, dtype=float), cov, log_likelihood=None, n_customers=None,
                          n_unique=None, n_iter=None, time_unit=time_unit)
        return model

    @classmethod
    def _setting_names(cls) -> tuple[str, ...]:
        """Names of the constructor settings: keyword-only arguments of ``__init__`` and the base's."""
        names = [p.name for p in inspect.signature(cls.__init__).parameters.values()
                 if p.kind is p.KEYWORD_ONLY and p.name not in _covariates.COVARIATE_SETTINGS]
        names += [n for n in ("ci_level", "start", "max_iter", "on_unidentified") if n not in names]
        return tuple(names) + _covariates.setting_names(cls)

    def get_settings(self) -> dict[str, Any]:
        """The constructor settings (keyword arguments of ``__init__``)."""
        return {n: getattr(self, n) for n in self._setting_names()}

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "params_")

    def _require_fitted(self) -> np.ndarray:
        if not self.is_fitted:
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet: call fit(summary) "
                                 f"or {type(self).__name__}.from_params(...) before predicting.")
        return self.params_.to_numpy()[:len(self.param_names)]  # the base parameters

    @property
    def has_covariates(self) -> bool:
        """Whether the fitted model has covariate coefficients (after ``fit`` or ``load``)."""
        return getattr(self, "covariate_design_", None) is not None

    def _per_customer(self, frame: pd.DataFrame, func, *arrays):
        """``func(params, *arrays)`` with each customer's parameters: the base parameters for a
        model without covariates; otherwise one call per covariate pattern of ``frame``'s customers
        (read from its covariate columns; an unseen level is an InvalidValueError)."""
        params = self._require_fitted()
        if not self.has_covariates:
            return func(params, *arrays)
        return _covariates.by_pattern(self, _covariates.transform(self, frame), func, arrays, len(frame))

    def summary(self) -> pd.DataFrame:
        """Estimates, standard errors and confidence intervals at ``ci_level``.

        Intervals of the base parameters are computed on the log scale and exponentiated, so they
        stay positive. A model with covariates has a row per coefficient too, with the Wald interval
        ``g +- z se``, and the columns ``z``, ``p_value`` (two-sided) and ``exp_estimate``,
        ``exp_lower``, ``exp_upper`` (the multiplicative effect on the process's rate, or on the odds
        of its probability, with its interval), NaN in the base rows. The table's ``attrs`` carry
        the fit statistics (log-likelihood, AIC, BIC, customers; with covariates also
        ``log_likelihood_0``, the fit without them).
        """
        self._require_fitted()
        level = _checks.level(self.ci_level, name="ci_level")  # checked again: it may be set after building
        params = self.params_.to_numpy()
        se = np.sqrt(np.diag(self.covariance_.to_numpy()))
        z = ndtri(0.5 + level / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            se_log = se / params
        label = f"{100 * level:g}%"
        table = pd.DataFrame({
            "estimate": params,
            "std_error": se,
            f"lower {label}": params * np.exp(-z * se_log),
            f"upper {label}": params * np.exp(z * se_log),
        }, index=pd.Index(self.params_.index, name="parameter"))
        if self.has_covariates:
            table = _covariates.summary_rows(table, self, label)
            table.attrs["log_likelihood_0"] = getattr(self, "log_likelihood_0_", None)
        table.attrs.update({"log_likelihood": self.log_likelihood_, "aic": self.aic_, "bic": self.bic_,
                            "n_customers": self.n_customers_, "ci_level": self.ci_level})
        return table

    def _prediction_frame(self, data) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        self._require_fitted()
        return self._columns(data)

    def __repr__(self) -> str:
        if not self.is_fitted:
            return f"{type(self).__name__}(unfitted)"
        values = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({values})"

    # -- persistence ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description of the fitted model."""
        self._require_fitted()
        return {
            "format": FILE_FORMAT,
            "format_version": FILE_FORMAT_VERSION,
            "model": self.name,
            "library_version": __version__,
            "time_unit": self.time_unit_,
            "settings": self.get_settings(),
            **({"covariates": self.covariate_design_.to_dict()} if self.has_covariates else {}),
            "params": {k: float(v) for k, v in self.params_.items()},
            "covariance": [[None if np.isnan(v) else float(v) for v in row]
                           for row in self.covariance_.to_numpy()],
            "fit": {"log_likelihood": self.log_likelihood_, "n_customers": self.n_customers_,
                    "n_unique": self.n_unique_, "n_iter": self.n_iter_,
                    "excluded": getattr(self, "n_excluded_", None),
                    "identification_problem": self.identification_problem_,
                    **({"log_likelihood_0": getattr(self, "log_likelihood_0_", None)} if self.has_covariates else {})},
        }

    def save(self, path) -> None:
        """Write the fitted model as JSON (atomically; never pickle)."""
        write_text_atomic(path, json.dumps(self.to_dict(), indent=2))

    @classmethod
    def from_dict(cls, payload: dict[str, Any], *, source: str = "the model file"):
        """The fitted model described by ``payload`` (as :meth:`to_dict` writes it).

        Every field is checked (see :mod:`clvmodels.models._files`): types, the parameters
        (positive finite numbers whose predictions for a few typical customers are finite), the
        settings (as the constructor checks them) and the fit facts.

        Raises
        ------
        clvmodels.exceptions.ModelFileError
            One message naming ``source`` and the problem, whatever it is.
        """
        if not isinstance(payload, dict):
            raise ModelFileError(f"{source} holds a {type(payload).__name__}, not a clvmodels model file.")
        name = _files.check_header(payload, source)
        if name != cls.name:
            raise ModelFileError(f"{source} holds a {name!r} model, not {cls.name!r}; "
                                 "load it with clvmodels.load_model(path) or the matching class.")
        design = None
        if "covariates" in payload:
            design = CovariateDesign.from_dict(payload["covariates"], source=source)
            if not design.is_fitted:
                raise ModelFileError(f"{source} is a damaged {cls.name!r} model file: its covariate design has "
                                     "no learnt columns (levels, references).")
        fields = _files.check_payload(payload, cls, source,
                                      coefficients=() if design is None else design.coefficient_names)
        cov = np.array([[np.nan if v is None else v for v in row] for row in fields["covariance"]], dtype=float)
        try:
            if design is None:
                model = cls.from_params(fields["params"], covariance=cov, time_unit=fields["time_unit"],
                                        **fields["settings"])
            else:
                model = _covariates.from_fields(cls, fields, design, cov)
        except (TypeError, ValueError) as err:
            raise ModelFileError(f"{source} is a damaged {cls.name!r} model file: {err}") from None
        with np.errstate(all="ignore"):
            probe = (np.concatenate([model._probe_values(p) for p in _covariates.probe_params(model)])
                     if model.has_covariates else model._probe_values(model.params_.to_numpy()))
        if not np.all(np.isfinite(probe)):
            raise ModelFileError(
                f"{source} holds parameters {fields['params']} at which the {cls.name!r} model's predictions "
                "for typical customers are not finite numbers (NaN or overflow), so it cannot score customers. "
                "Parameters this extreme come from a damaged or hand-edited file, or from a fit at a boundary "
                "of the parameter space (reported by a BoundaryWarning when it was fitted): refit, on more "
                "data or with a simpler model, and save the model again.")
        fit = fields["fit"]
        if fit.get("log_likelihood") is not None:
            model._set_fitted(model.params_.to_numpy(), cov, log_likelihood=float(fit["log_likelihood"]),
                              n_customers=float(fit["n_customers"]), n_unique=fit["n_unique"],
                              n_iter=fit.get("n_iter"), time_unit=fields["time_unit"])
            if fit.get("excluded") is not None:
                model.n_excluded_ = fit["excluded"]
            model.identification_problem_ = fit.get("identification_problem")
            if fit.get("log_likelihood_0") is not None:
                model.log_likelihood_0_ = float(fit["log_likelihood_0"])
        return model

    #: Typical customers on whom a loaded model's predictions must be finite (``_probe_values``),
    #: by data column; subclasses with other columns set their own.
    _probe_rows: ClassVar[dict[str, list[float]]] = {}

    def _probe_values(self, params: np.ndarray) -> np.ndarray:
        """The log-likelihood of :attr:`_probe_rows` at ``params`` and, in subclasses, the model's
        main predictions for them: all finite for parameters a model file may hold."""
        if not self._probe_rows:
            return np.zeros(1)
        columns = [np.asarray(self._probe_rows[c], dtype=float) for c in self.data_columns]
        return np.atleast_1d(self._loglik(params, *columns))

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save`; checks the model type, the file version and every field.

        Raises
        ------
        clvmodels.exceptions.ModelFileError
            Naming the file and the problem: unreadable, not UTF-8 JSON (a pickle or other binary
            bytes, nested too deeply), another model, a newer format, a missing field or a value
            of the wrong type, parameters that are not positive finite numbers or give
            non-finite predictions.
        """
        return cls.from_dict(_files.read_json(path), source=str(path))
