"""MBG/NBD estimator (Batislam, Denizel & Filiztekin 2007); maths in :mod:`clvmodels.likelihoods.mbgnbd`."""

from __future__ import annotations

from ..likelihoods import mbgnbd
from ._purchase import PurchaseModel
from .base import Boundary


class ModifiedBetaGeoModel(PurchaseModel):
    """MBG/NBD purchase model: BG/NBD in which customers may also drop out right after the first
    purchase, so P(alive) < 1 even for customers without repeat purchases.

    Parameters ``r, alpha`` (gamma purchase rates; ``alpha`` in the data's time unit) and ``a, b``
    (beta dropout probability). Same data and settings as :class:`~clvmodels.BetaGeoModel`.

    Examples
    --------
    >>> from clvmodels import ModifiedBetaGeoModel, datasets
    >>> ModifiedBetaGeoModel().fit(datasets.load_cdnow_summary()).params_.round(3).to_dict()
    {'r': 0.525, 'alpha': 6.183, 'a': 0.891, 'b': 1.614}
    """

    name = "mbgnbd"
    maths = mbgnbd
    boundaries = (
        Boundary("a", below=1e-4, meaning="a -> 0 means almost nobody drops out; the data show no "
                 "sign of churn, and a plain NBD model describes them as well."),
        Boundary("r", above=1e4, meaning="r, alpha -> infinity means purchase rates hardly differ "
                 "between customers (no heterogeneity); the gamma mixing adds nothing."),
    )
