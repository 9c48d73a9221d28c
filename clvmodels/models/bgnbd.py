"""BG/NBD estimator (Fader, Hardie & Lee 2005); the maths is in :mod:`clvmodels.likelihoods.bgnbd`."""

from __future__ import annotations

from ..likelihoods import bgnbd
from ._purchase import PurchaseModel
from .base import Boundary


class BetaGeoModel(PurchaseModel):
    """BG/NBD purchase model: Poisson purchasing with gamma rates, beta-geometric dropout.

    Parameters are ``r, alpha`` (gamma heterogeneity of purchase rates; ``alpha`` in the data's time
    unit) and ``a, b`` (beta heterogeneity of the dropout probability after each repeat purchase).
    Fit on a summary with ``frequency``, ``recency`` and ``T``; see
    :class:`~clvmodels.models.base.MLEModel` for the settings. Customers without repeat purchases
    have P(alive) = 1 under this model (dropout happens only after a repeat purchase).

    Examples
    --------
    >>> from clvmodels import BetaGeoModel, datasets
    >>> model = BetaGeoModel().fit(datasets.load_cdnow_summary())
    >>> model.params_.round(3).to_dict()
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    """

    name = "bgnbd"
    maths = bgnbd
    boundaries = (
        Boundary("a", below=1e-4, meaning="a -> 0 means almost nobody drops out; the data show no "
                 "sign of churn, and a plain NBD model describes them as well."),
        Boundary("r", above=1e4, meaning="r, alpha -> infinity means purchase rates hardly differ "
                 "between customers (no heterogeneity); the gamma mixing adds nothing."),
    )
