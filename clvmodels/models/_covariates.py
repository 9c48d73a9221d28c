"""Covariates in the maximum-likelihood models: settings, the fit on (history, pattern) rows, and
per-customer parameters for predictions.

The maths is in :mod:`clvmodels.likelihoods.links` (one link per process, ``theta_i = theta
exp(s x_i . g)``, a positive coefficient raising that process's rate) and the design in
:mod:`clvmodels.covariates`; this module connects them to :class:`~clvmodels.models.base.MLEModel`.

The fit
-------
1. The design learns the columns' kinds, levels and references on the rows the likelihood uses
   (:meth:`~clvmodels.covariates.CovariateDesign.fit_transform`), which refuses missing values,
   constant, identical or collinear columns and too few customers.
2. The model without covariates is fitted first, exactly as ``fit`` does without covariates; its
   optimum (coefficients 0) is the start, and its log-likelihood is kept as
   ``log_likelihood_0_`` (the restricted fit of a likelihood-ratio test against "no covariates").
3. Customers collapse on (history, covariate pattern) (:func:`~clvmodels.covariates.compress_rows`)
   and the objective sums one fused objective per pattern
   (:func:`~clvmodels.likelihoods.links.pattern_objective`) when the patterns are few, else per row
   (:func:`~clvmodels.likelihoods.links.row_objective`), where the model's maths broadcasts over
   per-row parameters.
4. The optimiser works on the log of the base parameters and on the coefficients as they are
   (unconstrained, any sign), with numeric covariate columns centred and scaled internally (an
   exact reparameterisation: BFGS converges in far fewer steps on columns of unit spread); the
   answer, the Hessian and the covariance are mapped back to the user's columns by the affine map
   between the two parameterisations.

The penalty ``covariate_penalty = lam`` subtracts ``lam * sum(g ** 2)`` from the **total**
log-likelihood (all customers, not the per-customer mean): the posterior mode under independent
``Normal(0, 1 / sqrt(2 lam))`` priors on the coefficients (base parameters unpenalised), whose pull
fades as customers are added. ``log_likelihood_`` is reported without the penalty; standard errors
come from the penalised Hessian.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from .. import _checks
from ..covariates import SHARED, CovariateDesign, CovariateMatrices
from ..exceptions import ConvergenceError, InvalidArgumentError, InvalidValueError
from ..likelihoods import links as _links
from ._compress import compress
from ._optimise import _bfgs_to_tolerance as _bfgs, _newton_polish

#: The covariate settings of every model (those of processes a model lacks are refused).
ROLE_SETTINGS = {"purchase": "purchase_covariates", "dropout": "dropout_covariates", "spend": "spend_covariates"}
COVARIATE_SETTINGS = (*ROLE_SETTINGS.values(), "equal_covariates", "covariate_kinds", "covariate_reference",
                      "covariate_penalty")
#: The pattern objective (one fused objective per covariate pattern) is used up to this many
#: patterns, or one per 50 rows where that is more; beyond, the per-row objective.
PATTERN_LIMIT = 64
#: A model whose maths does not broadcast over per-row parameters (Pareto/NBD) fits on patterns
#: up to this many.
PATTERN_ONLY_LIMIT = 2_000


def setting_names(cls) -> tuple[str, ...]:
    """The covariate settings ``cls`` takes: one per process it has, ``equal_covariates`` with two
    processes or more, and the kinds, references and penalty where it has any process."""
    roles = cls.covariate_roles
    if not roles:
        return ()
    names = [ROLE_SETTINGS[r] for r in roles]
    if len(roles) > 1:
        names.append("equal_covariates")
    return (*names, "covariate_kinds", "covariate_reference", "covariate_penalty")


def _renamed(err: Exception) -> Exception:
    """The design's message with the model's setting names (``kinds`` -> ``covariate_kinds``)."""
    text = str(err)
    for short in ("kinds", "reference"):
        if text.startswith(short):
            text = "covariate_" + text
    return type(err)(text)


def design_from_settings(model) -> CovariateDesign:
    """The unfitted design the model's settings describe; checks them (messages start with the
    setting's name)."""
    cls = type(model)
    roles = cls.covariate_roles
    for role, setting in ROLE_SETTINGS.items():
        value = getattr(model, setting, None)
        if role not in roles and value not in (None, [], ()):
            offered = ", ".join(setting_names(cls)[:-3]) or "none"
            raise InvalidArgumentError(
                f"{setting}: {cls.__name__} has no {role} process"
                + (f" (its covariate settings: {offered})." if roles else
                   "; covariates are not available for it yet (BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma "
                   "take them)."))
    if getattr(model, "equal_covariates", None) not in (None, [], ()) and len(roles) < 2:
        raise InvalidArgumentError(f"equal_covariates: {cls.__name__} has {len(roles)} process(es); a shared "
                                   "coefficient needs two (purchase and dropout). Use "
                                   f"{ROLE_SETTINGS[roles[0]] if roles else 'no covariates'} instead.")
    for setting in ("covariate_kinds", "covariate_reference"):
        value = getattr(model, setting, None)
        if value is not None and not isinstance(value, Mapping):
            raise InvalidArgumentError(f"{setting} must map column names to "
                                       f"{'kinds' if setting.endswith('kinds') else 'levels'}; got {value!r}.")
    _checks.number(model.covariate_penalty, name="covariate_penalty", minimum=0.0,
                   rule="a finite number of at least 0 (the L2 penalty on the coefficients, on the total "
                   "log-likelihood)")
    try:
        return CovariateDesign({r: getattr(model, ROLE_SETTINGS[r]) or () for r in roles},
                               equal=(getattr(model, "equal_covariates", None) or ()) if len(roles) > 1 else (),
                               kinds=model.covariate_kinds, reference=model.covariate_reference,
                               reserved=cls.data_columns)
    except InvalidArgumentError as err:
        raise _renamed(err) from None


def fit_design(design: CovariateDesign, frame: pd.DataFrame, weights):
    """``design.fit_patterns``: per row its pattern, the patterns' design and their customers."""
    try:
        return design.fit_patterns(frame, weights=weights)
    except (InvalidArgumentError, InvalidValueError) as err:
        raise _renamed(err) from None


# -- the optimisation -------------------------------------------------------------------------------

def _by_pattern_and_history(codes, n_patterns: int, unique: dict, history_of_row, weights):
    """The distinct (pattern, history) rows, sorted so, with their customers and patterns: the
    key ``pattern * H + history`` of each customer summed by ``bincount`` where its range is small
    (at most 16 per customer), else numbered by a hash table and sorted. Rows of weight 0 may be
    left out (the caller drops them anyway)."""
    n_histories = len(next(iter(unique.values())))
    key = np.asarray(codes, dtype=np.int64) * n_histories + history_of_row
    size = n_patterns * n_histories
    if size <= 16 * len(key) + 1024:  # rows of no customer (weight 0) are left out here
        summed = np.bincount(key, weights=weights, minlength=size)
        distinct = np.flatnonzero(summed)
        counts = summed[distinct]
    else:
        numbered, distinct = pd.factorize(key)
        order = np.argsort(distinct)
        distinct = distinct[order]
        counts = np.bincount(numbered, weights=weights, minlength=len(order))[order]
    pattern, history = np.divmod(distinct, n_histories)
    return {c: v[history] for c, v in unique.items()}, counts, pattern.astype(np.intp)


def _scaling(model, design: CovariateDesign, matrices: CovariateMatrices, counts):
    """Centres and scales of the coefficients' columns (numeric ones only), the scaled design and
    the affine map ``A`` from the internal parameters to the user's ``(log base, coefficients)``."""
    numeric = {c.name for c in design.columns_ if c.kind == "numeric"}
    names = matrices.coefficient_names
    m, k = len(names), len(model.param_names)
    centre, scale = np.zeros(m), np.ones(m)
    for role, X in matrices.matrices.items():
        for j, pos in enumerate(matrices.positions[role]):
            if names[pos].split(":", 1)[1] in numeric and scale[pos] == 1 and centre[pos] == 0:
                mean = np.average(X[:, j], weights=counts)
                sd = np.sqrt(np.average((X[:, j] - mean) ** 2, weights=counts))
                centre[pos], scale[pos] = mean, (sd if sd > 0 else 1.0)
    scaled = {role: (X - centre[matrices.positions[role]]) / scale[matrices.positions[role]]
              for role, X in matrices.matrices.items()}
    internal = CovariateMatrices(scaled, matrices.names, names, matrices.positions)
    A = np.eye(k + m)
    A[k:, k:] = np.diag(1.0 / scale)
    for link in _links.LINKS[model.name]:
        if link.role in matrices.positions:
            j = model.param_names.index(link.param)
            for pos in matrices.positions[link.role]:
                A[j, k + pos] -= link.sign * centre[pos] / scale[pos]
    return internal, A, scale


def _objective(model, arrays, patterns: CovariateMatrices, codes: np.ndarray, counts):
    """``f(base params, coefficients) -> (sum of w loglik, gradient)`` on compressed rows, row ``i``
    of covariate pattern ``codes[i]`` (a row of ``patterns``)."""
    links = _links.LINKS[model.name]
    n_patterns = len(np.unique(codes))
    limit = max(PATTERN_LIMIT, len(counts) // 50)
    if n_patterns <= limit or (not model._row_broadcast and n_patterns <= PATTERN_ONLY_LIMIT):
        return _links.pattern_objective(lambda *a, weights: model._objective(a, weights), model.param_names,
                                        links, arrays, patterns, counts, codes=codes)
    design = patterns.take(codes)
    if not model._row_broadcast:
        raise InvalidArgumentError(
            f"{ROLE_SETTINGS[next(iter(design.matrices))]}: {type(model).__name__} does not fit continuous "
            f"covariates yet: the columns give {n_patterns} distinct covariate patterns, more than the "
            f"{PATTERN_ONLY_LIMIT} it evaluates one by one (its per-customer maths with per-row parameters is "
            "not ready). Bin the continuous column into a few categories (e.g. pandas.qcut(column, 5)) and pass "
            "it as a categorical covariate, or use BetaGeoModel, which fits continuous covariates.")
    return _links.row_objective(model._loglik, model._loglik_grad, model.param_names, links, arrays, design,
                                counts, make_row_objective=model._make_row_objective)


def _mean_negative(total, n: float, k: int, penalty: float, scale: np.ndarray):
    """The optimiser's objective on ``v = (log base', g')`` (internal scale): the penalised mean
    negative log-likelihood and its gradient; ``inf`` where not finite."""
    def objective(v):
        params = np.concatenate([np.exp(v[:k]), v[k:]])
        with np.errstate(all="ignore"):
            ll, grad = total(params)
        if not np.isfinite(ll) or not np.all(np.isfinite(grad)):
            return np.inf, np.zeros_like(v)
        g = v[k:] / scale
        ll = ll - penalty * (g @ g)
        grad = np.concatenate([grad[:k] * params[:k], grad[k:] - 2 * penalty * g / scale])
        return -ll / n, -grad / n

    return objective


def _hessian(model, total, objective, v, n: float, penalty: float, scale: np.ndarray,
             step: float = 1e-5) -> np.ndarray:
    """Hessian of the total penalised negative log-likelihood in ``v``: assembled from the
    patterns' own Hessians for a pattern objective (:func:`~clvmodels.likelihoods.links.pattern_hessian`,
    ``2 k`` evaluations' worth), else central differences of the gradient (``2 (k + m)``)."""
    k = len(model.param_names)
    if hasattr(total, "parts"):
        params = np.concatenate([np.exp(v[:k]), v[k:]])
        with np.errstate(all="ignore"):
            h = _links.pattern_hessian(total, model.param_names, params, model._hessian)
        h[k:, k:] += np.diag(2 * penalty / scale ** 2)
        return h
    if hasattr(total, "per_row"):
        params = np.concatenate([np.exp(v[:k]), v[k:]])
        with np.errstate(all="ignore"):
            h = _links.row_hessian(total, model.param_names, params)
        h[k:, k:] += np.diag(2 * penalty / scale ** 2)
        return h
    size = len(v)
    h = np.empty((size, size))
    for i in range(size):
        e = np.zeros(size)
        e[i] = step
        h[:, i] = (objective(v + e)[1] - objective(v - e)[1]) * n / (2 * step)
    return (h + h.T) / 2


def _optimum(model, total, objective, v, hess_inv, n, penalty, scale, gtol, loose):
    """BFGS to the ``loose`` tolerance, then Newton steps with the Hessian there (which the
    covariance needs anyway) to ``gtol``: the last digits come from a few gradient evaluations
    instead of BFGS iterations; where a Newton step does not improve, BFGS goes on to ``gtol``.

    Returns the optimiser's result (``x``, ``fun``, ``jac``, ``nit``) and the Hessian of the total
    penalised negative log-likelihood used for the covariance.
    """
    result = _bfgs(objective, v, gtol=loose, max_iter=model.max_iter, hess_inv=hess_inv)
    if not np.isfinite(result.fun):
        return result, np.full((len(v), len(v)), np.nan)
    hessian = _hessian(model, total, objective, result.x, n, penalty, scale)
    x, fun, jac = result.x, result.fun, result.jac
    try:
        ok = np.all(np.isfinite(hessian)) and np.linalg.eigvalsh(hessian).min() > 0
        for _ in range(3):
            if not ok or np.max(np.abs(jac)) <= gtol:
                break
            candidate = x - np.linalg.solve(hessian, jac * n)
            f_new, g_new = objective(candidate)
            if not (np.isfinite(f_new) and f_new <= fun + 1e-12 * max(1.0, abs(fun))):
                break
            x, fun, jac = candidate, f_new, g_new
    except np.linalg.LinAlgError:
        pass
    if np.max(np.abs(jac)) <= gtol:
        result.x, result.fun, result.jac = x, fun, jac
        return result, hessian
    inverse = None
    if np.all(np.isfinite(hessian)) and np.linalg.eigvalsh(hessian).min() > 0:
        inverse = np.linalg.inv(hessian / n)
        inverse = (inverse + inverse.T) / 2
    more = _bfgs(objective, x, gtol=gtol, max_iter=model.max_iter, hess_inv=inverse)
    more.nit += result.nit
    return more, _hessian(model, total, objective, more.x, n, penalty, scale)


def _sample(counts: np.ndarray, customers: float):
    from .base import _GOLDEN
    share = customers / counts.sum()
    if not share < 0.5:
        return None
    sample = np.floor(counts * share + (np.arange(len(counts)) * _GOLDEN) % 1.0)
    return sample


def fit(model, frame: pd.DataFrame, columns: dict[str, np.ndarray], weights: np.ndarray):
    """Fit ``model`` with covariates on the rows the likelihood uses (see the module docstring);
    sets the fitted attributes, warns as ``fit`` does (boundaries, identification) and returns
    the model."""
    problems: list[str] = []
    _fit(model, frame, columns, weights, problems)
    reached = model._warn_boundaries(stacklevel=4)
    if not np.all(np.isfinite(model.covariance_.to_numpy())):
        model._singular_hessian(reached, problems)
    model.identification_problem_ = " ".join(problems) or None
    return model


def _fit(model, frame, columns, weights, problems: list[str]) -> None:
    from .base import _GRAD_TOL, _GTOL, _WARM_START_CUSTOMERS, _WARM_START_GTOL, _WARM_START_ROWS

    design = design_from_settings(model)
    codes, patterns, customers = fit_design(design, frame, weights)
    # patterns numbered in the order of their design rows, so that the same customers in any
    # order give the same rows in the same order (and bitwise the same fit)
    columns_of_design = [X[:, j] for X in patterns.matrices.values() for j in range(X.shape[1])]
    order = np.lexsort(columns_of_design[::-1])
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order))
    codes, patterns, customers = rank[codes], patterns.take(order), customers[order]
    # 2. the model without covariates, exactly as fit does it: the start and log_likelihood_0_
    unique, hist_counts, history_of_row = compress(columns, weights, return_inverse=True)
    # 3. compressed on (pattern, history): one integer key per customer from its pattern and its
    # distinct history, so the rows come sorted by pattern, then history
    rows, counts, row_codes = _by_pattern_and_history(codes, len(customers), unique, history_of_row, weights)
    keep = hist_counts > 0
    unique, hist_counts = {c: v[keep] for c, v in unique.items()}, hist_counts[keep]
    problem = model._identification_problem(unique, hist_counts)
    if problem is not None:
        model._unidentified(problem, problems, stacklevel=5)
    arrays0 = tuple(unique[c] for c in model.data_columns if c in unique)
    result0, _, iter0, _ = model._optimise(arrays0, hist_counts)
    keep = counts > 0
    counts, row_codes = counts[keep], row_codes[keep]
    arrays = tuple(rows[c][keep] for c in model.data_columns if c in rows)
    internal, A, scale = _scaling(model, design, patterns, customers)
    k, m = len(model.param_names), len(internal.coefficient_names)
    if len(counts) < k + m:
        model._unidentified(
            f"the {counts.sum():g} customers have only {len(counts)} distinct (history, covariate) rows, fewer "
            f"than the {k + m} parameters and coefficients; use more customers or fewer covariates.", problems,
            stacklevel=5)
    n = counts.sum()
    penalty = float(model.covariate_penalty)
    total = _objective(model, arrays, internal, row_codes, counts)
    v = np.concatenate([result0.x, np.zeros(m)])
    hess_inv, warm_iter = None, 0
    if len(counts) > _WARM_START_ROWS:
        sample = _sample(counts, _WARM_START_CUSTOMERS)
        if sample is not None:
            used = sample > 0
            part = _objective(model, tuple(a[used] for a in arrays), internal, row_codes[used], sample[used])
            objective = _mean_negative(part, sample[used].sum(), k, penalty, scale)
            warm = None
            if not hasattr(part, "parts") and not hasattr(part, "per_row"):  # cheap Hessians: taken at the start
                warm = _bfgs(objective, v, gtol=_WARM_START_GTOL, max_iter=model.max_iter)
            if warm is None or (np.isfinite(warm.fun) and np.max(np.abs(warm.jac)) <= _GRAD_TOL):
                if warm is not None:
                    v, warm_iter = warm.x, warm.nit
                hessian = _hessian(model, part, objective, v, sample[used].sum(), penalty, scale) / sample[used].sum()
                if np.all(np.isfinite(hessian)) and np.linalg.eigvalsh(hessian).min() > 0:
                    inverse = np.linalg.inv(hessian)
                    hess_inv = (inverse + inverse.T) / 2
    objective = _mean_negative(total, n, k, penalty, scale)
    result, hessian = _optimum(model, total, objective, v, hess_inv, n, penalty, scale, _GTOL, _WARM_START_GTOL)
    if not np.isfinite(result.fun) or np.max(np.abs(result.jac)) > _GRAD_TOL:
        raise ConvergenceError(model._convergence_message(result, result.jac))
    v = _newton_polish(result.x, result.jac * n, hessian)
    internal_params = np.concatenate([np.exp(v[:k]), v[k:]])
    with np.errstate(all="ignore"):
        log_likelihood = float(total(internal_params)[0])
    u = A @ v
    params = np.concatenate([np.exp(u[:k]), u[k:]])
    covariance = _covariance(hessian, A, params, k)
    model.covariate_design_ = design
    model._set_fitted(params, covariance, log_likelihood=log_likelihood, n_customers=float(n),
                      n_unique=int(len(counts)), n_iter=iter0 + warm_iter + result.nit,
                      time_unit=frame.attrs.get("time_unit"))
    model.log_likelihood_0_ = float(-result0.fun * hist_counts.sum())


def _covariance(hessian, A, params, k) -> np.ndarray:
    """Covariance of (base parameters, coefficients) from the internal Hessian: ``A H^-1 A'`` on the
    user's (log base, coefficient) scale, then the delta method for the base parameters."""
    size = len(params)
    try:
        if not np.all(np.isfinite(hessian)) or np.linalg.eigvalsh(hessian).min() <= 0:
            raise np.linalg.LinAlgError
        cov = A @ np.linalg.inv(hessian) @ A.T
    except np.linalg.LinAlgError:
        return np.full((size, size), np.nan)
    d = np.concatenate([params[:k], np.ones(size - k)])
    cov = cov * np.outer(d, d)
    return (cov + cov.T) / 2


# -- per-customer parameters ------------------------------------------------------------------------

def pattern_params(model, matrices: CovariateMatrices) -> np.ndarray:
    """``(n_rows, k)`` parameters of the customers with these design rows."""
    values = model.params_.to_numpy()
    k = len(model.param_names)
    base, coefficients = values[:k], values[k:]
    eta = matrices.linear_predictors(coefficients)
    individual = _links.individual_params(base, model.param_names, [
        link for link in _links.LINKS[model.name] if link.role in matrices.matrices], eta)
    return np.column_stack([np.broadcast_to(np.asarray(p, dtype=float), (matrices.n_rows,)) for p in individual])


def transform(model, frame: pd.DataFrame) -> tuple[np.ndarray, CovariateMatrices]:
    """Per customer of ``frame`` its covariate pattern, and the patterns' design with the levels
    learnt at fit time (an unseen level is an :class:`~clvmodels.exceptions.InvalidValueError`
    naming the column and the known levels)."""
    return model.covariate_design_.transform_patterns(frame)


def by_pattern(model, matrices: tuple[np.ndarray, CovariateMatrices], func, arrays: Sequence, n: int):
    """``func(params, *arrays)`` evaluated for each covariate pattern with its parameters, on the
    pattern's customers: one call per distinct pattern, no loop over customers.

    Arrays whose last axis has length ``n`` are per customer and are split by pattern; others
    (horizons) are passed whole. The result's last axis is the customers, in ``matrices``' order.
    """
    code, patterns = matrices
    params = pattern_params(model, patterns)
    order = np.argsort(code, kind="stable")
    groups = np.split(order, np.cumsum(np.bincount(code, minlength=patterns.n_rows))[:-1])
    out = None
    for p, g in enumerate(groups):
        part = [a[..., g] if np.ndim(a) >= 1 and np.shape(a)[-1] == n else a for a in arrays]
        values = np.asarray(func(params[p], *part), dtype=float)
        if out is None:
            out = np.empty(values.shape[:-1] + (n,)) if values.ndim else np.empty(n)
        out[..., g] = values
    return np.empty(0) if out is None else out


def profile_params(model, profiles) -> tuple[pd.Index, np.ndarray]:
    """The parameters of each profile row (a customer table without history)."""
    frame = profiles if isinstance(profiles, pd.DataFrame) else pd.DataFrame(profiles)
    return frame.index, pattern_params(model, model.covariate_design_.transform(frame))


def probe_params(model) -> np.ndarray:
    """Parameters a loaded model's predictions must be finite at: the customer with covariates 0
    and, per coefficient, a customer with that column at 1 (each level of a categorical)."""
    values = model.params_.to_numpy()
    k = len(model.param_names)
    base, coefficients = values[:k], values[k:]
    rows = [base]
    for j, name in enumerate(model.params_.index[k:]):
        role = name.split(":", 1)[0]
        for link in _links.LINKS[model.name]:
            if role in (link.role, SHARED) and link.role in model.covariate_design_.roles:
                p = base.copy()
                i = model.param_names.index(link.param)
                p[i] = base[i] * np.exp(link.sign * coefficients[j])
                rows.append(p)
    return np.array(rows)


# -- the summary ------------------------------------------------------------------------------------

def summary_rows(table: pd.DataFrame, model, label: str) -> pd.DataFrame:
    """Wald rows for the coefficients: estimate, SE, the interval ``g +- z se``, z, the two-sided
    p-value ``2 Phi(-|z|)`` and ``exp`` of the estimate and interval (the factor on the process's
    rate, or on the odds of its probability); the base rows keep their log-scale intervals."""
    k = len(model.param_names)
    values = model.params_.to_numpy()
    se = np.sqrt(np.diag(model.covariance_.to_numpy()))
    zq = ndtri(0.5 + model.ci_level / 2)
    g, s = values[k:], se[k:]
    lower, upper = g - zq * s, g + zq * s
    table.iloc[k:, table.columns.get_loc(f"lower {label}")] = lower
    table.iloc[k:, table.columns.get_loc(f"upper {label}")] = upper
    z = np.full(len(values), np.nan)
    z[k:] = g / s
    table["z"] = z
    table["p_value"] = 2 * ndtr(-np.abs(z))
    for column, part in (("exp_estimate", g), (f"exp_lower {label}", lower), (f"exp_upper {label}", upper)):
        full = np.full(len(values), np.nan)
        full[k:] = np.exp(part)
        table[column] = full
    return table


def require_no_profiles(model, covariates, what: str) -> None:
    """Refuse ``covariates=`` for a model fitted without them, and their absence for one with them."""
    fitted = getattr(model, "covariate_design_", None) is not None
    if covariates is not None and not fitted:
        raise InvalidArgumentError(f"covariates: this {type(model).__name__} was fitted without covariates, "
                                   f"so {what} is the same for every profile; call it without covariates=.")
    if covariates is None and fitted:
        raise InvalidArgumentError(
            f"covariates: this {type(model).__name__} has covariates ({', '.join(model.covariate_design_.columns)}), "
            f"so {what} depends on the customer's profile; pass covariates= a table with one row per profile "
            "and those columns.")




def from_fields(cls, fields, design: CovariateDesign, covariance):
    """The model of a file with covariates (``MLEModel.from_dict``): its settings must describe its
    design, and ``params`` holds the base parameters then the design's coefficients."""
    model = cls(**fields["settings"])
    expected = design_from_settings(model).to_dict()
    stored = design.to_dict()
    keys = ("roles", "equal", "kinds", "reference")
    if {key: stored[key] for key in keys} != {key: expected[key] for key in keys}:
        raise ValueError("its covariate design does not match its settings (columns per process, equal "
                         "covariates, kinds, references)")
    model.covariate_design_ = design
    names = list(cls.param_names) + list(design.coefficient_names)
    model._set_fitted([float(fields["params"][n]) for n in names], covariance, log_likelihood=None,
                      n_customers=None, n_unique=None, n_iter=None, time_unit=fields["time_unit"])
    return model
