"""Time-invariant covariates: from customer columns to the design matrices every model fits on.

A model with covariates names, per process ("role"), the columns of the customer table that shift
that process (``purchase_covariates=["channel", "age"]``, ``dropout_covariates=["channel"]``,
``spend_covariates=[...]``) and, optionally, ``equal_covariates``: columns whose one coefficient is
shared by both processes. :class:`CovariateDesign` turns those settings and a table with one row
per customer into one float64 matrix per role, with the coefficient names
``"<role>:<column>"`` for numeric columns and ``"<role>:<column>[<level>]"`` for the indicators of
categorical ones (``"shared:<column>..."`` for equal covariates). The maths of each model then
forms ``eta = X @ g`` per role and its per-customer parameters from it
(:mod:`clvmodels.likelihoods.links`).

Columns
-------
- **numeric** (integer or float dtype): used as they are. They are *not* centred or scaled, so a
  coefficient is the effect of one unit of the column, as in CLVTools, and the base parameters
  (``alpha``, ``beta``, ...) describe a customer whose covariates are all 0 (centre a column
  yourself if "0" means nothing, e.g. subtract the mean age).
- **categorical** (object or string dtype, pandas ``Categorical``, or any column declared so in
  ``kinds``): one 0/1 indicator per level except the reference level, named ``column[level]``.
  The reference is the first category of a pandas ``Categorical`` (the order the user chose) and
  otherwise the first level in sorted order, as R's treatment contrasts choose it (CLVTools builds
  its design with R's ``model.matrix``; patsy and formulaic do the same): the choice does not
  depend on the counts, so refitting on new data keeps the same reference and comparable
  coefficients. ``reference={"channel": "web"}`` picks another. Categories of a ``Categorical``
  that no customer has are left out (an indicator of zeros identifies nothing).
- **boolean** (bool dtype): one indicator ``column[True]``, reference ``False``.

Text that all reads as numbers (``"34"``, ``"51"``) is refused as ambiguous until ``kinds`` says
which it is. ``fit`` learns the levels and references; ``transform`` applies them and refuses a
level it has not seen. :meth:`CovariateDesign.to_dict` stores everything a model file needs.

The module also holds :func:`compress_rows`, which collapses customers with the same history and
the same covariate pattern into one row with a count (fitting on sufficient statistics), and
:func:`likelihood_ratio_test` for nested fits.
"""

from ._columns import KINDS, SHARED
from .compress import CompressedRows, compress_rows
from .design import DESIGN_FORMAT, DESIGN_FORMAT_VERSION, CovariateColumn, CovariateDesign, CovariateMatrices
from .lrtest import LikelihoodRatioResult, likelihood_ratio_test

__all__ = ["KINDS", "SHARED", "DESIGN_FORMAT", "DESIGN_FORMAT_VERSION", "CovariateColumn", "CovariateDesign",
           "CovariateMatrices", "CompressedRows", "LikelihoodRatioResult", "compress_rows", "likelihood_ratio_test"]
