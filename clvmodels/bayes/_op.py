"""The numpy log-likelihood as a PyTensor operation, so PyMC samples the same maths the MLE fits.

:class:`TotalLogLik` wraps a fused objective ``f(params) -> (sum_i w_i log L_i, gradient)`` from
:mod:`clvmodels.likelihoods` (``make_objective``), built once on the compressed rows (distinct
histories with their counts). Its gradient is a second operation, :class:`TotalLogLikGrad`, that
returns the analytic gradient of the same function; the two share one cache so a NUTS step that
asks for the value and then the gradient at the same point evaluates the maths once.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op


class _Cached:
    """``f(params) -> (total, grad)`` with a one-entry cache keyed on the parameter values."""

    def __init__(self, objective):
        self.objective = objective
        self._entry = (None, None)  # replaced in one assignment, so threads (nutpie chains) may share it

    def __call__(self, params: np.ndarray):
        key = params.tobytes()
        entry = self._entry
        if entry[0] != key:
            with np.errstate(all="ignore"):
                total, grad = self.objective(params)
            if not np.isfinite(total) or not np.all(np.isfinite(grad)):
                total, grad = -np.inf, np.zeros_like(params)
            entry = (key, (float(total), np.asarray(grad, dtype=float)))
            self._entry = entry
        return entry[1]


class TotalLogLikGrad(Op):
    """Gradient of :class:`TotalLogLik` with respect to the natural parameters (a vector)."""

    __props__ = ("name",)

    def __init__(self, cached: _Cached, name: str):
        self.cached = cached
        self.name = name

    def make_node(self, params):
        params = pt.as_tensor_variable(params).astype("float64")
        return Apply(self, [params], [pt.dvector()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = self.cached(np.asarray(inputs[0], dtype=float))[1].copy()


class TotalLogLik(Op):
    """Total weighted log-likelihood of the compressed rows at a parameter vector (a scalar).

    Parameters
    ----------
    objective : callable
        ``f(params) -> (total, gradient)`` as returned by ``make_objective`` of a likelihood
        module, already bound to the distinct rows and their counts.
    name : str
        Label used in PyTensor graphs (the model name).
    """

    __props__ = ("name",)

    def __init__(self, objective, name: str):
        self.cached = _Cached(objective)
        self.name = name
        self.grad_op = TotalLogLikGrad(self.cached, name)

    def make_node(self, params):
        params = pt.as_tensor_variable(params).astype("float64")
        return Apply(self, [params], [pt.dscalar()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = np.asarray(self.cached(np.asarray(inputs[0], dtype=float))[0])

    def grad(self, inputs, output_grads):
        (g,) = output_grads
        return [g * self.grad_op(inputs[0])]
