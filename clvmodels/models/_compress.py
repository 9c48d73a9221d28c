"""Compression of a summary to sufficient statistics: identical rows become one row with a count."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def compress(columns: dict[str, np.ndarray], weights: np.ndarray, *, return_inverse: bool = False):
    """Collapse identical rows into one row carrying the summed weight.

    Returns the unique rows (sorted, so the result is deterministic) and their weights, as
    ``groupby(columns, sort=True)`` would. Rows that are already unique and sorted (a table
    compressed by an engine) are returned as they are.

    The leading columns are numbered by their sorted distinct values (a hash table, not a sort of
    the rows) and combine into one integer key per row. Where the last column has few distinct
    values too (recency and T on a calendar grid), it joins the key and the weights are summed per
    key, by ``bincount`` over the key range where that is small. Where it is nearly continuous
    (mean spend), hashing would gain nothing: the rows are sorted (by the last column, then stably
    by the key) and runs of equal rows merged. The values are finite (validated summaries).

    With ``return_inverse`` a third array gives, for each input row, its distinct row (as
    ``numpy.unique``'s ``inverse``); the rows and weights are the same either way.
    """
    names = list(columns)
    values = [np.asarray(columns[c]) for c in names]
    weights = np.asarray(weights, dtype=float)
    if _sorted_unique(values):
        unique = {c: v.astype(float) for c, v in zip(names, values)}
        return (unique, weights, np.arange(len(weights))) if return_inverse else (unique, weights)
    numbered = [pd.factorize(v, sort=True, use_na_sentinel=False) for v in values[:-1]]
    levels = [np.asarray(distinct, dtype=float) for _, distinct in numbered]
    prefix_size = math.prod(len(level) for level in levels)
    last = values[-1]
    if not _mostly_distinct(last):
        codes, distinct = pd.factorize(last, sort=True, use_na_sentinel=False)
        numbered.append((codes, distinct))
        levels.append(np.asarray(distinct, dtype=float))
    if math.prod(len(level) for level in levels) >= 2**62:  # the key would overflow: group by pandas
        frame = pd.DataFrame(dict(zip(names, values))).assign(_w=weights)
        groups = frame.groupby(names, sort=True)
        grouped = groups["_w"].sum()
        unique = grouped.index.to_frame(index=False)
        result = {c: unique[c].to_numpy(dtype=float) for c in names}, grouped.to_numpy(dtype=float)
        return (*result, groups.ngroup().to_numpy()) if return_inverse else result
    key = np.zeros(len(weights), dtype=np.int64)
    for (codes, _), level in zip(numbered, levels):
        key = key * len(level) + codes
    del numbered  # the codes: only the key is needed from here on
    if len(levels) < len(values):  # sort by the last column, then stably by the key
        order = np.argsort(last)
        narrow = np.uint16 if prefix_size <= 2**16 else np.int64  # uint16 keys sort by radix
        order = order[np.argsort(key[order].astype(narrow), kind="stable")]
        key, last = key[order], np.asarray(last[order], dtype=float)
        new_run = np.r_[True, (key[1:] != key[:-1]) | (last[1:] != last[:-1])]
        starts = np.flatnonzero(new_run)
        unique_key, summed = key[starts], np.add.reduceat(weights[order], starts)
        out = {names[-1]: last[starts]}
        if return_inverse:
            inverse = np.empty(len(order), dtype=np.intp)
            inverse[order] = np.cumsum(new_run) - 1
    else:
        size = math.prod(len(level) for level in levels)
        if size <= 4 * len(key):  # 9 bytes per possible key: at most 36 per row
            present = np.zeros(size, dtype=bool)
            present[key] = True
            unique_key = np.flatnonzero(present)
            summed = np.bincount(key, weights=weights, minlength=size)[unique_key]
            if return_inverse:
                inverse = (np.cumsum(present) - 1)[key]
        else:
            codes, unique_key = pd.factorize(key)
            order = np.argsort(unique_key)
            unique_key = unique_key[order]
            summed = np.bincount(codes, weights=weights, minlength=len(order))[order]
            if return_inverse:
                rank = np.empty(len(order), dtype=np.intp)
                rank[order] = np.arange(len(order))
                inverse = rank[codes]
        out = {}
    for name, level in zip(reversed(names[:len(levels)]), reversed(levels)):
        unique_key, code = np.divmod(unique_key, len(level))
        out[name] = level[code]
    unique = {c: out[c] for c in names}
    return (unique, summed, inverse) if return_inverse else (unique, summed)


def _mostly_distinct(values: np.ndarray) -> bool:
    """Whether most values of a large column are distinct, judged on an even sample of about 4,096."""
    if len(values) < 2**14:
        return False
    sample = values[::len(values) // 4096]
    return len(np.unique(sample)) > len(sample) // 2


def _sorted_unique(values: list[np.ndarray]) -> bool:
    """Whether the rows of these columns are strictly increasing in lexicographic order."""
    if len(values[0]) < 2:
        return True
    greater = np.zeros(len(values[0]) - 1, dtype=bool)
    equal = np.ones(len(values[0]) - 1, dtype=bool)
    for v in values:
        greater |= equal & (v[1:] > v[:-1])
        equal &= v[1:] == v[:-1]
    return bool(greater.all())
