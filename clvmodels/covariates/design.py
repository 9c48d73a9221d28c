"""The covariate design: settings per process, the levels and references learnt from a customer
table, and the design matrices (see :mod:`clvmodels.covariates`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data.validation import require_columns, require_rows
from ..exceptions import IdentificationError, InvalidArgumentError, InvalidValueError, ModelFileError, NotFittedError
from ._columns import (KINDS, SHARED, _bool_values, _check_missing, _collinearity, _encode,
                       _identical_columns, _infer_kind, _json_scalar, _setting, _shown, _sorted_levels)
from .compress import _row_key

#: Format name and version of :meth:`CovariateDesign.to_dict`.
DESIGN_FORMAT, DESIGN_FORMAT_VERSION = "clvmodels.covariates", 1


@dataclass(frozen=True)
class CovariateColumn:
    """What ``fit`` learnt about one covariate column.

    Attributes
    ----------
    name : str
        The column of the customer table.
    kind : {"numeric", "categorical", "boolean"}
        How it enters the design (see the module docstring).
    levels : tuple
        Categorical and boolean columns: every level seen at fit time, in design order (the
        reference first); empty for numeric columns.
    reference : object
        The level without an indicator (None for numeric columns).
    """

    name: str
    kind: str
    levels: tuple = ()
    reference: Any = None

    @property
    def labels(self) -> tuple[str, ...]:
        """The design columns this column becomes: ``name`` or ``name[level]`` per non-reference level."""
        if self.kind == "numeric":
            return (self.name,)
        return tuple(f"{self.name}[{level}]" for level in self.levels[1:])


@dataclass(frozen=True)
class CovariateMatrices:
    """The design of a set of customers, one matrix per role.

    Attributes
    ----------
    matrices : dict of str to numpy.ndarray
        Per role, ``(n_rows, k_role)`` float64: the role's own columns, then the shared ones.
    names : dict of str to tuple of str
        Per role, the coefficient name of each matrix column (``"purchase:channel[web]"``,
        ``"shared:region[north]"``; a shared name appears in both roles).
    coefficient_names : tuple of str
        Every coefficient once: each role's own, in role order, then the shared ones.
    positions : dict of str to numpy.ndarray
        Per role, the index of each matrix column in ``coefficient_names``.
    """

    matrices: dict[str, np.ndarray]
    names: dict[str, tuple[str, ...]]
    coefficient_names: tuple[str, ...]
    positions: dict[str, np.ndarray]

    @property
    def n_rows(self) -> int:
        return next(iter(self.matrices.values())).shape[0] if self.matrices else 0

    def linear_predictors(self, coefficients) -> dict[str, np.ndarray]:
        """``eta_role = X_role @ g[positions[role]]`` per role, from the coefficient vector
        (in ``coefficient_names`` order); zeros for a role without columns."""
        g = np.asarray(coefficients, dtype=float)
        if g.shape != (len(self.coefficient_names),):
            raise InvalidArgumentError(f"coefficients must be {len(self.coefficient_names)} numbers, one per "
                                       f"coefficient {list(self.coefficient_names)}; got shape {g.shape}.")
        return {role: X @ g[self.positions[role]] for role, X in self.matrices.items()}

    def coefficient_gradient(self, d_eta: Mapping[str, np.ndarray]) -> np.ndarray:
        """``sum_role X_role' d_eta[role]`` gathered into ``coefficient_names`` order: the gradient in
        the coefficients of a sum over rows whose derivative in ``eta_role`` is ``d_eta[role]`` per
        row (weights included). A shared coefficient collects from both roles."""
        grad = np.zeros(len(self.coefficient_names))
        for role, values in d_eta.items():
            X = self.matrices[role]
            if X.shape[1]:
                np.add.at(grad, self.positions[role], X.T @ np.asarray(values, dtype=float))
        return grad

    def take(self, rows) -> CovariateMatrices:
        """The same design for a subset (or reordering) of the rows."""
        return CovariateMatrices({r: X[rows] for r, X in self.matrices.items()}, self.names,
                                 self.coefficient_names, self.positions)


class CovariateDesign:
    """Covariate settings of a model, and the design matrices they give for a customer table.

    Parameters
    ----------
    columns : mapping of str to sequence of str
        Per role (the model's processes, e.g. ``{"purchase": [...], "dropout": [...]}`` or
        ``{"spend": [...]}``), the covariate columns with a coefficient of their own in that role.
        The same column may feed several roles, each with its own coefficient.
    equal : sequence of str, optional
        ``equal_covariates``: columns with one coefficient shared by every role, named
        ``"shared:<column>"``; only for a model with two or more roles, and not also named in a role.
    kinds : mapping of str to str, optional
        ``kind`` per column, overriding the dtype: ``"numeric"``, ``"categorical"`` or
        ``"boolean"`` (e.g. integer region codes as ``"categorical"``).
    reference : mapping of str to object, optional
        Reference level per categorical column, instead of the default (module docstring).
    reserved : sequence of str, optional
        Columns that may not be covariates (the model's own data, e.g. ``frequency``, ``T``: a
        covariate built from the history would leak the outcome into the design).

    Raises
    ------
    clvmodels.exceptions.InvalidArgumentError
        When a setting breaks its rule; the message starts with the setting's name
        (``purchase_covariates``, ``equal_covariates``, ...).

    Examples
    --------
    >>> import pandas as pd
    >>> from clvmodels.covariates import CovariateDesign
    >>> customers = pd.DataFrame({"channel": ["web", "shop", "web", "app", "shop", "app"],
    ...                           "age": [30, 41, 25, 52, 38, 47]})
    >>> design = CovariateDesign({"purchase": ["channel", "age"], "dropout": ["channel"]})
    >>> design.fit(customers).coefficient_names
    ('purchase:channel[shop]', 'purchase:channel[web]', 'purchase:age', 'dropout:channel[shop]', 'dropout:channel[web]')
    >>> design.transform(customers).matrices["dropout"].tolist()
    [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]
    """

    def __init__(self, columns: Mapping[str, Sequence[str]] | None = None, *, equal: Sequence[str] = (),
                 kinds: Mapping[str, str] | None = None, reference: Mapping[str, Any] | None = None,
                 reserved: Sequence[str] = ()) -> None:
        columns = {} if columns is None else columns
        if not isinstance(columns, Mapping):
            raise InvalidArgumentError(f"covariates must map each process to its list of columns, e.g. "
                                       f"{{'purchase': ['channel']}}; got {type(columns).__name__}.")
        self.roles: tuple[str, ...] = tuple(columns)
        self.role_columns = {role: self._names(cols, _setting(role), reserved) for role, cols in columns.items()}
        for role in self.roles:
            if not isinstance(role, str) or not role.isidentifier() or role == SHARED:
                raise InvalidArgumentError(f"covariates: {role!r} is not a process name (a word such as "
                                           f"'purchase' or 'dropout', not {SHARED!r}).")
        self.equal = self._names(equal, "equal_covariates", reserved)
        if self.equal and len(self.roles) < 2:
            raise InvalidArgumentError(
                f"equal_covariates {list(self.equal)} needs a model with two processes (purchase and dropout) "
                f"to share a coefficient between; this one has {list(self.roles) or 'none'}. Name the columns "
                f"in {_setting(self.roles[0]) if self.roles else 'the covariates'} instead.")
        for col in self.equal:
            twice = [_setting(r) for r in self.roles if col in self.role_columns[r]]
            if twice:
                raise InvalidArgumentError(
                    f"equal_covariates names {col!r}, which is also in {', '.join(twice)}: a column has either "
                    "one coefficient shared by both processes (equal_covariates) or its own coefficient per "
                    "process, not both. Remove it from one of the lists.")
        named = self.columns
        self.kinds = dict(kinds or {})
        for col, kind in self.kinds.items():
            if col not in named:
                raise InvalidArgumentError(f"kinds names {col!r}, which is not a covariate; covariates are {list(named)}.")
            if kind not in KINDS:
                raise InvalidArgumentError(f"kinds[{col!r}] must be one of {list(KINDS)}; got {kind!r}.")
        self.reference = dict(reference or {})
        for col in self.reference:
            if col not in named:
                raise InvalidArgumentError(f"reference names {col!r}, which is not a covariate; covariates are {list(named)}.")

    @staticmethod
    def _names(values, setting: str, reserved: Sequence[str]) -> tuple[str, ...]:
        if values is None:
            return ()
        if isinstance(values, str) or not isinstance(values, Sequence):
            hint = f" Use [{values!r}]." if isinstance(values, str) else ""
            raise InvalidArgumentError(f"{setting} must be a list of column names; got {values!r}.{hint}")
        bad = [v for v in values if not isinstance(v, str) or not v]
        if bad:
            raise InvalidArgumentError(f"{setting} must hold column names (non-empty text); got {_shown(bad)}.")
        repeated = sorted({v for v in values if list(values).count(v) > 1})
        if repeated:
            raise InvalidArgumentError(f"{setting} names {_shown(repeated)} more than once; name each column once.")
        leaking = [v for v in values if v in reserved]
        if leaking:
            raise InvalidArgumentError(
                f"{setting} names {_shown(leaking)}, which the model reads as customer history ({list(reserved)}); "
                "a covariate must describe the customer, not the behaviour the model explains. Remove it.")
        return tuple(values)

    # -- settings -------------------------------------------------------------------------------
    @property
    def columns(self) -> tuple[str, ...]:
        """Every covariate column once, in the order first named (roles, then ``equal``)."""
        seen = dict.fromkeys(c for role in self.roles for c in self.role_columns[role])
        seen.update(dict.fromkeys(self.equal))
        return tuple(seen)

    @property
    def is_empty(self) -> bool:
        """Whether no column is named (the model without covariates)."""
        return not self.columns

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "columns_")

    def _require_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError("This CovariateDesign is not fitted yet: call fit(customers) first, so that "
                                 "it learns the levels of the categorical columns.")

    @property
    def coefficient_names(self) -> tuple[str, ...]:
        """Every coefficient name, in the order of :attr:`CovariateMatrices.coefficient_names`."""
        self._require_fitted()
        return self._layout()[2]

    def _layout(self):
        """Per role the coefficient names, then all names once, then per role their positions."""
        cols = {c.name: c for c in self.columns_}
        own = {role: [f"{role}:{label}" for c in self.role_columns[role] for label in cols[c].labels]
               for role in self.roles}
        shared = [f"{SHARED}:{label}" for c in self.equal for label in cols[c].labels]
        every = tuple(n for role in self.roles for n in own[role]) + tuple(shared)
        index = {n: i for i, n in enumerate(every)}
        names = {role: tuple(own[role] + shared) for role in self.roles}
        positions = {role: np.array([index[n] for n in names[role]], dtype=np.intp) for role in self.roles}
        return names, positions, every

    # -- fit / transform ------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame, *, weights=None) -> CovariateDesign:
        """Learn the kinds, levels and references, and check that the columns can identify their
        coefficients.

        Parameters
        ----------
        frame : pandas.DataFrame
            One row per customer (or per group of customers, with ``weights``), holding every
            covariate column.
        weights : array_like, optional
            Customers each row stands for (rows of weight 0 are ignored in the checks below).

        Returns
        -------
        self

        Raises
        ------
        clvmodels.exceptions.MissingColumnError
            A covariate column is absent.
        clvmodels.exceptions.InvalidValueError
            Missing (NaN) or infinite values, text in a numeric column, text that reads as numbers
            without a declared kind, or a ``reference`` that is not a level.
        clvmodels.exceptions.IdentificationError
            A constant column, two identical design columns, perfectly collinear columns (with the
            intercept the base parameters stand for), or fewer customers than coefficients need.
        """
        self._fit(frame, weights)
        return self

    def _fit(self, frame, weights, *, patterns: bool = False) -> CovariateMatrices:
        """:meth:`fit`, returning the design of the rows of positive weight (``patterns``: the rows
        are distinct patterns, so their number is not a count of customers)."""
        frame = self._frame(frame)
        w = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
        if w.shape != (len(frame),) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise InvalidArgumentError(f"weights must be {len(frame)} finite non-negative numbers, one per row "
                                       f"(got shape {w.shape}): the customers each row stands for.")
        used = w > 0
        _check_missing(frame, self.columns)
        learnt = []
        for name in self.columns:
            series = frame[name]
            kind = self.kinds.get(name) or _infer_kind(name, series)
            if kind == "numeric":
                if name in self.reference:
                    raise InvalidArgumentError(f"reference[{name!r}]: {name!r} is a numeric covariate, which has no "
                                               "reference level; declare kinds={name!r: 'categorical'} to use "
                                               "its values as levels.".replace("name!r", repr(name)))
                learnt.append(CovariateColumn(name, "numeric"))
            else:
                learnt.append(self._learn_levels(name, kind, series[used]))
        self.columns_ = tuple(learnt)
        matrices = self.transform(frame if used.all() else frame[used])  # levels of the customers that count
        self._check_identified(matrices, w[used], patterns=patterns)
        return matrices

    def fit_transform(self, frame: pd.DataFrame, *, weights=None) -> CovariateMatrices:
        """:meth:`fit`, then :meth:`transform` of the same table (computed once where every row counts)."""
        matrices = self._fit(frame, weights)
        return matrices if matrices.n_rows == len(frame) else self.transform(frame)

    def fit_patterns(self, frame: pd.DataFrame, *, weights=None) -> tuple[np.ndarray, CovariateMatrices, np.ndarray]:
        """:meth:`fit`, computed once per distinct combination of the covariate values.

        Customers with the same values of every covariate column (a *pattern*) have the same
        design row, so the levels, the checks and the design are computed on one row per pattern
        with the customers it stands for as weight: with categorical covariates a few dozen rows
        instead of millions. Any error is the one :meth:`fit` gives on every row (counted on every
        customer).

        Returns
        -------
        tuple
            Per row of ``frame`` its pattern number; the design of the patterns (one row each, in
            order of first appearance); the customers (summed weights) per pattern.
        """
        frame = self._frame(frame)
        w = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
        if w.shape != (len(frame),) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise InvalidArgumentError(f"weights must be {len(frame)} finite non-negative numbers, one per row "
                                       f"(got shape {w.shape}): the customers each row stands for.")
        _check_missing(frame, self.columns)
        code, first = _row_key([frame[c] for c in self.columns], len(frame))
        customers = np.bincount(code, weights=w, minlength=len(first))
        distinct = frame.iloc[first]
        try:
            matrices = self._fit(distinct, customers, patterns=True)
            if matrices.n_rows != len(distinct):  # patterns of no customers (weight 0) too
                matrices = self.transform(distinct)
        except (InvalidArgumentError, InvalidValueError, IdentificationError):
            self.fit_transform(frame, weights=w)  # the same error, with every customer's row counted
            raise
        return code, matrices, customers

    def transform_patterns(self, frame: pd.DataFrame) -> tuple[np.ndarray, CovariateMatrices]:
        """:meth:`transform` computed once per pattern: per row its pattern number, and the design
        of the patterns (errors as :meth:`transform` gives them on every row)."""
        self._require_fitted()
        frame = self._frame(frame, empty_ok=True)
        _check_missing(frame, self.columns)
        code, first = _row_key([frame[c] for c in self.columns], len(frame))
        try:
            return code, self.transform(frame.iloc[first])
        except (InvalidArgumentError, InvalidValueError):
            self.transform(frame)
            raise

    def transform(self, frame: pd.DataFrame) -> CovariateMatrices:
        """The design matrices of the customers in ``frame`` with the levels learnt by :meth:`fit`.

        Raises
        ------
        clvmodels.exceptions.MissingColumnError, clvmodels.exceptions.InvalidValueError
            As :meth:`fit` for absent columns and bad values; also a level that :meth:`fit` did not
            see (naming the column, the levels, how many rows and the known levels).
        """
        self._require_fitted()
        frame = self._frame(frame, empty_ok=True)
        _check_missing(frame, self.columns)
        blocks = {c.name: _encode(c, frame) for c in self.columns_}
        names, positions, every = self._layout()
        n = len(frame)
        matrices = {}
        for role in self.roles:
            parts = [blocks[c] for c in self.role_columns[role] + self.equal]
            matrices[role] = np.column_stack(parts) if parts else np.zeros((n, 0))
        return CovariateMatrices(matrices, names, every, positions)

    def _frame(self, frame, *, empty_ok: bool = False) -> pd.DataFrame:
        frame = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
        require_columns(frame, self.columns, what="The customer table",
                        hint="Add the covariate columns (one row per customer), or join them on the customer id.")
        if not empty_ok:
            require_rows(frame, what="The customer table")
        return frame

    def _learn_levels(self, name: str, kind: str, series: pd.Series) -> CovariateColumn:
        if kind == "boolean":
            if name in self.reference:
                raise InvalidArgumentError(
                    f"reference[{name!r}]: a boolean covariate's reference is False (its indicator is "
                    f"{name}[True]); declare kinds={{{name!r}: 'categorical'}} to choose another.")
            levels = tuple(bool(v) for v in np.unique(_bool_values(name, series)))
        elif isinstance(series.dtype, pd.CategoricalDtype):
            observed = np.unique(series.cat.codes.to_numpy())
            levels = tuple(_json_scalar(v) for v in series.cat.categories[observed[observed >= 0]])
        else:
            levels = _sorted_levels([_json_scalar(v) for v in pd.factorize(series)[1]])
        bad = [v for v in levels if not isinstance(v, (str, bool, int, float))]
        if bad:
            raise InvalidValueError(f"column {name!r}: the levels of a categorical covariate must be text, numbers "
                                    f"or booleans; got {_shown(bad)}. Convert the column, e.g. with .astype(str).")
        labels = [str(v) for v in levels]
        if len(set(labels)) < len(labels):
            clash = sorted({s for s in labels if labels.count(s) > 1})
            raise InvalidValueError(f"column {name!r}: levels of different types print the same ({_shown(clash)}), "
                                    "so their indicators would share a name. Convert the column to one type "
                                    "(e.g. .astype(str)).")
        default = False if kind == "boolean" and False in levels else levels[0]
        reference = self.reference.get(name, default)
        if reference not in levels:
            raise InvalidValueError(f"reference[{name!r}] is {reference!r}, which is not a level of column {name!r} "
                                    f"(no customer has it); its levels are {_shown(levels)}.")
        reference = levels[levels.index(reference)]
        levels = (reference,) + tuple(v for v in levels if v != reference)
        return CovariateColumn(name, kind, levels, reference)

    def _check_identified(self, matrices: CovariateMatrices, weights: np.ndarray, *, patterns: bool = False) -> None:
        """Constant, duplicated and collinear design columns, and too few customers, per role."""
        n_customers = float(weights.sum())
        for col in self.columns_:
            if col.kind != "numeric" and len(col.levels) < 2:
                raise IdentificationError(
                    f"column {col.name!r} is constant: all {n_customers:g} customers have {col.levels[0]!r}, so "
                    "its effect cannot be told from the base parameters. Drop it from the covariates (or fit on "
                    "customers that differ in it).")
        for role in self.roles:
            X = matrices.matrices[role]
            names = matrices.names[role]
            k = X.shape[1]
            if k == 0:
                continue
            if n_customers < k + 2 or (X.shape[0] < k + 2 and not patterns):
                raise IdentificationError(
                    f"too few customers for the {_setting(role)}: {n_customers:g} customers ({X.shape[0]} rows) for "
                    f"{k} coefficients "
                    f"and the base parameter of the {role} process; at least {k + 2} are needed, and in practice "
                    "dozens per coefficient. Use fewer covariates or levels, or more customers.")
            # constancy, equality and rank are properties of the distinct rows (few with categoricals)
            X = X[_row_key([X[:, j] for j in range(k)], X.shape[0])[1]]
            spread = np.ptp(X, axis=0)
            for j in np.flatnonzero(spread == 0):
                raise IdentificationError(
                    f"column {self._source(names[j])!r} ({names[j]}) is constant at {X[0, j]:g} for all "
                    f"{n_customers:g} customers, so its effect cannot be told from the base parameters. Drop it "
                    "from the covariates.")
            for i, j in _identical_columns(X):
                raise IdentificationError(
                    f"columns {self._source(names[i])!r} and {self._source(names[j])!r} are identical in "
                    f"{names[i]} and {names[j]} for all {n_customers:g} customers, so their effects cannot be "
                    "told apart. Drop one of them.")
            relation = _collinearity(X)
            if relation is not None:
                terms = " ".join(f"{'+' if c > 0 else '-'} {abs(c):.3g}*{names[j]}" for j, c in relation)
                involved = dict.fromkeys(self._source(names[j]) for j, _ in relation)
                raise IdentificationError(
                    f"the {_setting(role)} are perfectly collinear: columns {_shown(involved)} satisfy "
                    f"{terms.lstrip('+ ')} = constant for all {n_customers:g} customers, so the design with the "
                    "intercept (the base parameter) has not full rank and their effects cannot be separated. "
                    "Drop one of the columns involved (e.g. a total that is the sum of others, or one "
                    "indicator column of a set that always sums to 1).")

    def _source(self, coefficient: str) -> str:
        """The table column a coefficient comes from."""
        label = coefficient.split(":", 1)[1]
        for col in self.columns_:
            if label in col.labels:
                return col.name
        return label

    # -- persistence ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings and, once fitted, the learnt columns (kinds, levels, references)."""
        payload = {"format": DESIGN_FORMAT, "format_version": DESIGN_FORMAT_VERSION,
                   "roles": {role: list(self.role_columns[role]) for role in self.roles},
                   "equal": list(self.equal), "kinds": dict(self.kinds),
                   "reference": {k: _json_scalar(v) for k, v in self.reference.items()}, "columns": None}
        if self.is_fitted:
            payload["columns"] = [{"name": c.name, "kind": c.kind, "levels": [_json_scalar(v) for v in c.levels],
                                   "reference": _json_scalar(c.reference)} for c in self.columns_]
        return payload

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any], *, source: str = "the model file") -> CovariateDesign:
        """The design described by ``payload`` (as :meth:`to_dict` writes it), every field checked.

        Raises
        ------
        clvmodels.exceptions.ModelFileError
            One message naming ``source`` and the damaged field.
        """
        def damaged(problem: str):
            return ModelFileError(f"{source} has a damaged covariate design: {problem}. Save the model again "
                                  "from a fitted model; do not edit the file by hand.")

        if not isinstance(payload, Mapping):
            raise damaged(f"it is a {type(payload).__name__}, not an object")
        expected = {"format", "format_version", "roles", "equal", "kinds", "reference", "columns"}
        if set(payload) != expected:
            raise damaged(f"its fields are {sorted(payload)}, expected {sorted(expected)}")
        if payload["format"] != DESIGN_FORMAT or payload["format_version"] != DESIGN_FORMAT_VERSION:
            raise damaged(f"format {payload['format']!r} version {payload['format_version']!r} is not "
                          f"{DESIGN_FORMAT!r} version {DESIGN_FORMAT_VERSION} (a newer clvmodels may read it)")
        roles, equal = payload["roles"], payload["equal"]
        if not isinstance(roles, Mapping) or not all(isinstance(v, list) for v in roles.values()):
            raise damaged("'roles' must map each process to a list of columns")
        if not isinstance(equal, list) or not isinstance(payload["kinds"], Mapping) \
                or not isinstance(payload["reference"], Mapping):
            raise damaged("'equal' must be a list, 'kinds' and 'reference' objects")
        try:
            design = cls(dict(roles), equal=equal, kinds=payload["kinds"], reference=payload["reference"])
        except InvalidArgumentError as err:
            raise damaged(str(err)) from None
        columns = payload["columns"]
        if columns is None:
            return design
        if not isinstance(columns, list) or not all(isinstance(c, Mapping) for c in columns):
            raise damaged("'columns' must be a list of objects")
        names = [c.get("name") for c in columns]
        if names != list(design.columns):
            raise damaged(f"'columns' describes {names}, but the settings name {list(design.columns)}")
        learnt = []
        for c in columns:
            if set(c) != {"name", "kind", "levels", "reference"}:
                raise damaged(f"column {c.get('name')!r} has fields {sorted(c)}")
            kind, levels, ref = c["kind"], c["levels"], c["reference"]
            if kind not in KINDS or kind != design.kinds.get(c["name"], kind):
                raise damaged(f"column {c['name']!r} has kind {kind!r}, not one of {list(KINDS)} as declared")
            if kind == "numeric":
                if levels != [] or ref is not None:
                    raise damaged(f"numeric column {c['name']!r} has levels or a reference")
                learnt.append(CovariateColumn(c["name"], kind))
                continue
            if (not isinstance(levels, list) or len(levels) < 2 or levels[0] != ref
                    or not all(isinstance(v, (str, bool, int, float)) for v in levels)
                    or len({(type(v), v) for v in levels}) < len(levels)):
                raise damaged(f"column {c['name']!r} must have at least two distinct levels (text, numbers or "
                              f"booleans), the reference first; got levels {levels!r}, reference {ref!r}")
            if kind == "boolean" and (sorted(levels) != [False, True] or ref is not False
                                      or not all(isinstance(v, bool) for v in levels)):
                raise damaged(f"boolean column {c['name']!r} must have levels [false, true] with reference false")
            learnt.append(CovariateColumn(c["name"], kind, tuple(levels), ref))
        design.columns_ = tuple(learnt)
        return design

    def __repr__(self) -> str:
        parts = [f"{role}={list(self.role_columns[role])}" for role in self.roles]
        if self.equal:
            parts.append(f"equal={list(self.equal)}")
        return f"CovariateDesign({', '.join(parts)}{'' if self.is_fitted else ', unfitted'})"
