"""Covariate links: per-customer parameters from base parameters and coefficients, and back.

Every covariate model here uses one link shape: a linked parameter of customer ``i`` is

    theta_i = theta * exp(s * eta_i),    eta_i = x_i . g_role,

with ``x_i`` the customer's row of the role's design matrix (:mod:`clvmodels.covariates`),
``g_role`` the role's coefficients and the sign ``s = +1`` or ``-1`` chosen so that **a positive
coefficient raises that process's rate**. The base parameter ``theta`` is the value of a customer
whose covariates are all 0. With ``l_i`` the log-likelihood of customer ``i`` (weight ``w_i``),
the chain rule gives

    d/d theta = sum_i w_i (d l_i / d theta_i) theta_i / theta,
    d/d g     = s X' (w * (d l_i / d theta_i) * theta_i),

so the gradient in the coefficients follows from the analytic gradient in the natural parameters
that every maths module already has (:data:`LINKS` names the linked parameter per model).

The links, with their sources (each keeps the parameters' meaning within the model's story):

- Pareto/NBD: ``alpha_i = alpha exp(-g_p . x)``, ``beta_i = beta exp(-g_d . x)``: Fader & Hardie
  (2007), "Incorporating time-invariant covariates into the Pareto/NBD and BG/NBD models",
  brucehardie.com/notes/019, also CLVTools' ``pnbd`` with static covariates. The mean purchase rate
  ``r / alpha_i`` and the mean dropout rate ``s / beta_i`` are multiplied by ``exp(g . x)``.
- BG/NBD and MBG/NBD: purchase as Pareto/NBD, ``alpha_i = alpha exp(-g_p . x)`` (note 019); dropout
  ``a_i = a exp(g_d . x)`` with ``b`` unchanged. Note 019 lets both ``a`` and ``b`` move
  (``a exp(g_2 . x)``, ``b exp(g_3 . x)``, as PyMC-Marketing does); CLVTools sets ``g_3 = g_2``, which
  keeps the mean dropout probability ``a / (a + b)`` fixed, so a positive coefficient there does not
  raise dropout. Here ``g_3 = 0``: the odds ``a_i / b`` of the mean dropout probability are
  multiplied by ``exp(g_d . x)``, one coefficient per column with that meaning.
- BG/BB: ``alpha_i = alpha exp(g_p . x)`` (transaction probability ``p ~ Beta(alpha, beta)``) and
  ``gamma_i = gamma exp(g_d . x)`` (dropout probability ``theta ~ Beta(gamma, delta)``): the same
  beta link as BG/NBD's dropout, on Fader, Hardie & Shang (2010)'s two beta-distributed
  probabilities; ``exp(g)`` multiplies the odds of the mean probability.
- sBG: ``alpha_i = alpha exp(g_d . x)`` (churn probability ``theta ~ Beta(alpha, beta)``, Fader &
  Hardie 2007, JIM): ``exp(g)`` multiplies the odds ``alpha_i / beta`` of the mean churn probability.
- Gamma-Gamma: ``gamma_i = gamma exp(g_s . x)``, the scale of the gamma-distributed rate ``nu ~
  Gamma(q, gamma)`` of transaction values (Fader & Hardie 2013, note 025): the expected spend
  ``p gamma_i / (q - 1)`` is multiplied by ``exp(g_s . x)``, the log link of a gamma regression
  (McCullagh & Nelder 1989, *Generalized Linear Models*, ch. 8).

Two ways to evaluate the likelihood of customers with covariates are provided:
:func:`pattern_objective` groups the rows by covariate pattern (few patterns with categorical
covariates) and calls the model's fused, scalar-parameter objective once per pattern, so every
existing objective works unchanged; :func:`row_objective` evaluates ``loglik`` and ``loglik_grad``
with per-row parameter arrays (any covariates, for the modules whose functions broadcast over
parameters).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Link", "LINKS", "individual", "individual_params", "chain_rule", "pattern_objective",
           "pattern_hessian", "row_objective", "row_hessian"]


@dataclass(frozen=True)
class Link:
    """``param_i = param * exp(sign * eta_role)``: which parameter a role's covariates move, and how.

    Attributes
    ----------
    param : str
        The model parameter (``"alpha"``).
    role : str
        The process whose covariates move it (``"purchase"``, ``"dropout"``, ``"spend"``).
    sign : int
        +1 or -1, so that a positive coefficient raises the process's rate.
    """

    param: str
    role: str
    sign: int


#: The links of each model (by the model's registry name), in the order of its parameters.
LINKS: dict[str, tuple[Link, ...]] = {
    "pareto_nbd": (Link("alpha", "purchase", -1), Link("beta", "dropout", -1)),
    "bgnbd": (Link("alpha", "purchase", -1), Link("a", "dropout", +1)),
    "mbgnbd": (Link("alpha", "purchase", -1), Link("a", "dropout", +1)),
    "bgbb": (Link("alpha", "purchase", +1), Link("gamma", "dropout", +1)),
    "sbg": (Link("alpha", "dropout", +1),),
    "gamma_gamma": (Link("gamma", "spend", +1),),
}


def individual(base: float, eta, sign: int) -> np.ndarray:
    """``base * exp(sign * eta)`` (exactly ``base`` where ``eta = 0``)."""
    return base * np.exp(sign * np.asarray(eta, dtype=float))


def individual_params(params: Sequence[float], param_names: Sequence[str], links: Sequence[Link],
                      eta: Mapping[str, np.ndarray]) -> list:
    """The model's parameter list with each linked parameter replaced by its per-row values.

    Parameters
    ----------
    params : sequence of float
        Base parameters in ``param_names`` order.
    links : sequence of Link
        The model's links (:data:`LINKS`).
    eta : mapping of str to numpy.ndarray
        The linear predictor of each role (``CovariateMatrices.linear_predictors``).
    """
    values = list(params)
    for link in links:
        k = list(param_names).index(link.param)
        values[k] = individual(params[k], eta[link.role], link.sign)
    return values


def chain_rule(d_param, param_i, sign: int, weights=None) -> tuple[float, np.ndarray]:
    """From per-row ``d l_i / d theta_i`` to the base parameter and the role's linear predictor.

    Returns
    -------
    tuple
        ``(d_log_base, d_eta)``: ``sum_i w_i (d l_i / d theta_i) theta_i`` (the derivative in
        ``log theta``; divide by ``theta`` for the natural scale) and, per row,
        ``s w_i (d l_i / d theta_i) theta_i`` (the derivative in ``eta_i``; ``X' d_eta`` is the
        gradient in the coefficients).
    """
    elasticity = np.asarray(d_param, dtype=float) * np.asarray(param_i, dtype=float)
    if weights is not None:
        elasticity = elasticity * np.asarray(weights, dtype=float)
    return float(elasticity.sum()), sign * elasticity


def _split(vector, n_params: int, design):
    vector = np.asarray(vector, dtype=float)
    n_coef = len(design.coefficient_names)
    if vector.shape != (n_params + n_coef,):
        raise ValueError(f"expected {n_params} base parameters and {n_coef} coefficients "
                         f"{list(design.coefficient_names)}; got {vector.shape[0] if vector.ndim else 0} values.")
    return vector[:n_params], vector[n_params:]


def _patterns(design):
    """Per row the code of its covariate pattern, and the first row of each pattern."""
    columns = [X[:, j] for X in design.matrices.values() for j in range(X.shape[1])]
    n = design.n_rows
    key = np.zeros(n, dtype=np.int64)
    for values in columns:
        codes, uniques = pd.factorize(values)
        key, _ = pd.factorize(key * len(uniques) + codes)
    first = np.flatnonzero(np.r_[True, key[1:] > np.maximum.accumulate(key)[:-1]]) if n else np.zeros(0, np.intp)
    return key, first


def pattern_objective(make_objective: Callable, param_names: Sequence[str], links: Sequence[Link],
                      arrays: Sequence[np.ndarray], design, counts, *, codes=None) -> Callable:
    """``sum(w * loglik)`` and its gradient for customers with covariates, one fused objective per
    covariate pattern.

    Customers with the same covariates share their parameters, so each pattern's rows are a
    model without covariates at that pattern's parameters: ``make_objective`` (the maths module's
    fused objective, scalar parameters) is built once per pattern, with its data-only work, and
    each evaluation sums the patterns. With no covariate columns there is one pattern, all rows,
    and the result is exactly ``make_objective``'s. Cost: about the patterns' share of one
    evaluation each, so cheap for categorical covariates (few patterns); for continuous ones see
    :func:`row_objective`.

    Parameters
    ----------
    make_objective : callable
        ``make_objective(*arrays, weights=w) -> f(params) -> (total, gradient)``.
    param_names : sequence of str
        The model's parameters.
    links : sequence of Link
        The model's links.
    arrays : sequence of numpy.ndarray
        The model's data columns (compressed rows).
    design : clvmodels.covariates.CovariateMatrices
        The rows' design.
    counts : numpy.ndarray
        Customers per row.
    codes : numpy.ndarray, optional
        The pattern of each row, when known: ``design`` then holds one row per pattern and
        ``codes`` index it (as :meth:`~clvmodels.covariates.CovariateDesign.fit_patterns` gives
        them), which saves grouping the rows by their design columns.

    Returns
    -------
    callable
        ``f(vector) -> (total, gradient)`` with ``vector`` the base parameters (natural scale)
        followed by the coefficients in ``design.coefficient_names`` order; the gradient likewise.
    """
    k = len(param_names)
    links = [link for link in links if link.role in design.matrices]
    index = {link.param: list(param_names).index(link.param) for link in links}
    codes = None if codes is None else np.asarray(codes, dtype=np.intp)
    if codes is not None and len(codes) and np.all(codes[1:] >= codes[:-1]):
        # rows sorted by pattern (compressed with the pattern first): each pattern is a slice
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        bounds = np.r_[starts, len(codes)]
        first = codes[starts]
        patterns = design.take(first)
        groups = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    else:
        if codes is None:
            code, first = _patterns(design)
            patterns = design.take(first)
        else:  # patterns without rows are left out
            first, code = np.unique(codes, return_inverse=True)
            patterns = design.take(first)
        if len(first) > 1:  # rows of each pattern, in their order: one stable sort, no loop over rows
            order = np.argsort(code, kind="stable")
            groups = np.split(order, np.cumsum(np.bincount(code, minlength=len(first)))[:-1])
        else:
            groups = [slice(None)]
    parts = [make_objective(*(np.asarray(a)[g] for a in arrays), weights=np.asarray(counts, dtype=float)[g])
             for g in groups]
    linked = [index[link.param] for link in links]
    if not design.coefficient_names:  # the model without covariates: its own objective, unchanged
        return parts[0]

    def total(vector):
        base, coefficients = _split(vector, k, design)
        eta = patterns.linear_predictors(coefficients)
        values = np.tile(base, (len(first), 1))
        for link in links:
            values[:, index[link.param]] = individual(base[index[link.param]], eta[link.role], link.sign)
        ll, grad_base = 0.0, np.zeros(k)
        d_eta = {role: np.zeros(len(first)) for role in design.matrices}
        for p, part in enumerate(parts):
            ll_p, grad_p = part(values[p])
            ll += ll_p
            elasticity = grad_p * values[p]  # d/d log(theta_p)
            grad_base += grad_p
            grad_base[linked] += (elasticity[linked] / base[linked]) - grad_p[linked]
            for link in links:
                d_eta[link.role][p] += link.sign * elasticity[index[link.param]]
        return ll, np.concatenate([grad_base, patterns.coefficient_gradient(d_eta)])

    total.parts, total.patterns, total.links = parts, patterns, links  # for pattern_hessian
    return total


def pattern_hessian(total, param_names: Sequence[str], vector, hessian: Callable) -> np.ndarray:
    """Hessian of ``-total`` (a :func:`pattern_objective`) in ``(log base parameters, coefficients)``.

    Pattern ``p``'s log-parameters are linear in these: ``log theta_p = log theta + s x_p . g`` for
    a linked parameter, ``log theta`` otherwise, i.e. ``log theta_p = B_p v``. So the Hessian is
    ``sum_p B_p' H_p B_p`` with ``H_p`` the Hessian of pattern ``p``'s own objective in its
    log-parameters, computed by ``hessian(log theta_p, part_p)`` (``MLEModel._hessian``: central
    differences of the analytic gradient). That costs ``2 k`` evaluations of each pattern's rows,
    as many as ``2 k`` evaluations of the whole objective, instead of ``2 (k + m)``.
    """
    k = len(param_names)
    vector = np.asarray(vector, dtype=float)
    base, coefficients = vector[:k], vector[k:]
    patterns, links = total.patterns, total.links
    n_patterns, m = patterns.n_rows, len(coefficients)
    B = np.zeros((n_patterns, k, k + m))
    B[:, np.arange(k), np.arange(k)] = 1.0
    eta = patterns.linear_predictors(coefficients)
    log_values = np.tile(np.log(base), (n_patterns, 1))
    for link in links:
        j = list(param_names).index(link.param)
        log_values[:, j] += link.sign * eta[link.role]
        X = patterns.matrices[link.role]
        for c, pos in enumerate(patterns.positions[link.role]):
            B[:, j, k + pos] += link.sign * X[:, c]
    H = np.zeros((k + m, k + m))
    for p, part in enumerate(total.parts):
        H += B[p].T @ hessian(log_values[p], part) @ B[p]
    return (H + H.T) / 2


def row_objective(loglik: Callable, loglik_grad: Callable, param_names: Sequence[str], links: Sequence[Link],
                  arrays: Sequence[np.ndarray], design, counts, *, make_row_objective=None) -> Callable:
    """``sum(w * loglik)`` and its gradient with per-row parameters (any covariates).

    Needs ``loglik`` and ``loglik_grad`` that broadcast over parameter arrays (true of BG/NBD,
    MBG/NBD, BG/BB, sBG and Gamma-Gamma; not of Pareto/NBD, whose tails assume one ``alpha`` and
    ``beta``). Same call and result as :func:`pattern_objective`. Where the maths module has a
    fused per-row version (``make_row_objective(*arrays, weights=w) -> f(params) -> (sum of w *
    loglik, per-row gradient)``, BG/NBD and MBG/NBD), it replaces the two passes.
    """
    k = len(param_names)
    links = [link for link in links if link.role in design.matrices]
    index = {link.param: list(param_names).index(link.param) for link in links}
    w = np.asarray(counts, dtype=float)
    fused = None if make_row_objective is None else make_row_objective(*arrays, weights=w)

    def per_row(values):  # (sum of w * loglik, per-row gradient in the natural parameters)
        if fused is not None:
            return fused(values)
        return w @ loglik(values, *arrays), loglik_grad(values, *arrays)

    def total(vector):
        base, coefficients = _split(vector, k, design)
        eta = design.linear_predictors(coefficients)
        values = individual_params(base, param_names, links, eta)
        ll, grad = per_row(values)
        grad_base = w @ grad
        d_eta = {role: np.zeros(design.n_rows) for role in design.matrices}
        for link in links:
            j = index[link.param]
            d_log, d_row = chain_rule(grad[:, j], values[j], link.sign, w)
            grad_base[j] = d_log / base[j]
            d_eta[link.role] = d_eta[link.role] + d_row
        return ll, np.concatenate([grad_base, design.coefficient_gradient(d_eta)])

    total.per_row, total.design, total.links, total.weights = per_row, design, links, w  # for row_hessian
    return total


def row_hessian(total, param_names: Sequence[str], vector, step: float = 1e-5) -> np.ndarray:
    """Hessian of ``-total`` (a :func:`row_objective`) in ``(log base parameters, coefficients)``.

    As :func:`pattern_hessian`, with a "pattern" per row: row ``i``'s log-parameters are
    ``B_i v`` and the Hessian is ``sum_i w_i B_i' H_i B_i``, ``H_i`` the row's own Hessian in its
    log-parameters by central differences of the per-row gradient, all rows at once: ``2 k``
    evaluations instead of ``2 (k + m)``.
    """
    k = len(param_names)
    vector = np.asarray(vector, dtype=float)
    base, coefficients = vector[:k], vector[k:]
    design, links, w = total.design, total.links, total.weights
    n, m = design.n_rows, len(coefficients)
    values = individual_params(base, param_names, links, design.linear_predictors(coefficients))
    H_rows = np.empty((n, k, k))
    for j in range(k):
        sides = []
        for sign in (1.0, -1.0):
            moved = list(values)
            moved[j] = values[j] * np.exp(sign * step)
            grad = total.per_row(moved)[1]
            sides.append(grad * np.column_stack([np.broadcast_to(np.asarray(q, dtype=float), (n,)) for q in moved]))
        H_rows[:, :, j] = -(sides[0] - sides[1]) / (2 * step)
    H_rows = (H_rows + H_rows.transpose(0, 2, 1)) / 2 * w[:, None, None]
    H = np.zeros((k + m, k + m))
    H[:k, :k] = H_rows.sum(axis=0)
    L = {}  # per linked parameter, d log theta_ij / d g: (n, m)
    for link in links:
        j = list(param_names).index(link.param)
        L_j = np.zeros((n, m))
        X = design.matrices[link.role]
        for c, pos in enumerate(design.positions[link.role]):
            L_j[:, pos] += link.sign * X[:, c]
        L[j] = L_j
    for j, L_j in L.items():
        H[:k, k:] += H_rows[:, :, j].T @ L_j
        for l, L_l in L.items():
            H[k:, k:] += L_j.T @ (H_rows[:, j, l][:, None] * L_l)
    H[k:, :k] = H[:k, k:].T
    return (H + H.T) / 2
