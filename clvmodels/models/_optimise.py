"""The optimiser of the maximum-likelihood fits: BFGS on the log-parameter scale, then one Newton step."""

from __future__ import annotations

import numpy as np
from scipy import optimize


def _mean_negative(total, n: float):
    """The optimiser's objective: ``theta -> (-loglik / n, its gradient)`` at ``params = exp(theta)``,
    from ``total(params) -> (sum of weighted loglik, gradient in params)``; ``inf`` where not finite."""

    def objective(theta):
        params = np.exp(theta)
        with np.errstate(all="ignore"):
            ll, grad = total(params)
        if not np.isfinite(ll) or not np.all(np.isfinite(grad)):
            return np.inf, np.zeros_like(theta)
        return -ll / n, -grad * params / n

    return objective


def _bfgs(objective, theta, *, gtol, max_iter, hess_inv=None):
    """SciPy's BFGS on ``objective(theta) -> (value, gradient)``, from ``hess_inv`` where given."""
    options = {"gtol": gtol, "maxiter": max_iter}
    if hess_inv is not None:
        options["hess_inv0"] = hess_inv
    return optimize.minimize(objective, theta, jac=True, method="BFGS", options=options)


class _Converged(Exception):
    """Raised inside the objective to stop the optimiser at a point meeting the tolerance."""


def _bfgs_to_tolerance(objective, theta, *, gtol, max_iter, hess_inv=None):
    """:func:`_bfgs`, stopped at the first evaluated point whose gradient meets ``gtol``.

    Near the optimum of a large sum the change in the objective along a step falls to rounding
    level, and SciPy's line search can spend dozens of evaluations looking for a decrease it
    cannot see while the gradient it computes on the way is already within tolerance; such a
    point is taken as the answer (``fit`` then polishes it with one Newton step).
    """
    found, iterations = {}, [0]

    def watched(x):
        value, grad = objective(x)
        if np.isfinite(value) and np.max(np.abs(grad)) <= gtol:
            found.update(x=np.array(x, dtype=float), fun=value, jac=grad)
            raise _Converged
        return value, grad

    def count(_):
        iterations[0] += 1

    options = {"gtol": gtol, "maxiter": max_iter}
    if hess_inv is not None:
        options["hess_inv0"] = hess_inv
    try:
        return optimize.minimize(watched, theta, jac=True, method="BFGS", options=options, callback=count)
    except _Converged:
        return optimize.OptimizeResult(x=found["x"], fun=found["fun"], jac=found["jac"], nit=iterations[0] + 1,
                                       success=True, message="the gradient is within tolerance")


def _newton_polish(theta, gradient, hessian) -> np.ndarray:
    """One Newton step from the optimiser's answer, with the Hessian computed for the covariance.

    BFGS stops once the gradient is below its tolerance, at a point that depends on the path it
    took (on the start, and on the order in which rounding errors fell). From there one Newton
    step lands on the optimum to within rounding (the error is squared), so that equal data give
    equal estimates whichever rows they come as. The step is taken only where the Hessian is
    positive definite and the step tiny (at most 1e-6 on the log scale): at a boundary solution
    the optimiser's answer stands.
    """
    if not np.all(np.isfinite(hessian)) or not np.all(np.isfinite(gradient)):
        return theta
    try:
        if np.linalg.eigvalsh(hessian).min() <= 0:
            return theta
        step = np.linalg.solve(hessian, gradient)
    except np.linalg.LinAlgError:
        return theta
    return theta - step if np.max(np.abs(step)) <= 1e-6 else theta
