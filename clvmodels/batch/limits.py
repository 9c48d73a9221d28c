"""Sizes a job can afford, checked before it starts: upper bounds of the config's counts, the
working memory of one scoring chunk, and whether the output directory can be written.

A job scores ``engine.chunk_size`` customers at a time, so its memory is bounded by one chunk's
working set; :func:`chunk_memory` estimates it from the config alone (the number of customers
is not known before the data are read):

- CLV: the expected purchases at every month of ``predictions.clv.horizon_months`` for
  ``min(chunk_size, 250,000)`` customers at a time (the CLV function's own chunk), about five
  float64 arrays of ``(horizon_months + 1) x customers``;
- intervals: one copy of each model per draw (about 16 KiB per draw) and at most 20 million
  draw x customer values at a time (the interval function's own chunk), for CLV with the same
  month grid;
- the score table: one float64 column per score (three with intervals), twice (the table and the
  copy being written).

A config whose estimate exceeds :data:`CHUNK_MEMORY_LIMIT` is refused, naming the key, the
estimate and the remedy (a smaller ``engine.chunk_size`` or horizon).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..exceptions import ConfigError

#: The most working memory one scoring chunk may need, in bytes (4 GiB).
CHUNK_MEMORY_LIMIT = 4 << 30
#: Months of CLV at most: 100 years (with a discount rate of 1 % a month, later months add less than
#: a millionth of the value).
MAX_HORIZON_MONTHS = 1200
#: Parameter draws of the intervals at most (200 to 2,000 give stable 90 % intervals).
MAX_N_DRAWS = 100_000
#: Customers scored at a time at most.
MAX_CHUNK_SIZE = 10_000_000
#: Prediction horizons at most (each adds a score column, three with intervals).
MAX_HORIZONS = 100
#: Draws, warm-up iterations and chains of the Bayesian comparison fits at most.
MAX_BAYES_DRAWS = 100_000
MAX_BAYES_CHAINS = 64
#: Largest frequency and number of reliability bins of the comparison's diagnostic tables.
MAX_DIAGNOSTIC_BINS = 1000

#: Customers whose CLV :func:`clvmodels.customer_lifetime_value` evaluates at a time.
CLV_CHUNK = 250_000
_CLV_TEMPORARIES = 5  # float64 arrays of (months x customers) alive at once (measured: 2 to 4.4)
_INTERVAL_CELLS = 20_000_000  # clvmodels.uncertainty evaluates this many draw x customer values at once
_BYTES_PER_DRAW = 16 << 10  # the models of one parameter draw (measured: about 15 KiB for two)
_SCORE_COLUMNS = 8  # p_alive, churn, expected spend, CLV and the summary's columns, besides horizons


def gib(n_bytes: float) -> str:
    """``n_bytes`` in words (``'3.2 GiB'``)."""
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20)):
        if n_bytes >= size:
            return f"{n_bytes / size:,.1f} {unit}"
    return f"{n_bytes / 1024:,.1f} KiB"


def chunk_memory(*, chunk_size: int, horizon_months: int | None, n_draws: int | None,
                 n_horizons: int) -> dict[str, float]:
    """Estimated working memory of one scoring chunk, by part (bytes); see the module docstring.

    Parameters
    ----------
    chunk_size : int
        Customers scored at a time (``engine.chunk_size``).
    horizon_months : int or None
        Months of CLV, or None when the job computes no CLV.
    n_draws : int or None
        Parameter draws of the intervals, or None without intervals.
    n_horizons : int
        Prediction horizons (score columns).
    """
    parts = {}
    if horizon_months is not None:
        months = horizon_months + 1
        parts["clv"] = _CLV_TEMPORARIES * 8.0 * months * min(chunk_size, CLV_CHUNK)
    if n_draws is not None:
        rows = min(chunk_size, max(1, _INTERVAL_CELLS // n_draws))
        grid = 0.0 if horizon_months is None else _CLV_TEMPORARIES * 8.0 * (horizon_months + 1) * rows
        parts["intervals"] = n_draws * _BYTES_PER_DRAW + 2 * 8.0 * n_draws * rows + grid
    columns = (_SCORE_COLUMNS + n_horizons) * (3 if n_draws is not None else 1)
    parts["scores"] = 2 * 8.0 * columns * chunk_size
    return parts


class TooBig(ValueError):
    """A config needs more memory than allowed; ``key`` names the key to lower."""

    def __init__(self, message: str, key: str):
        super().__init__(message)
        self.key = key


def check_chunk_memory(parts: dict[str, float], *, chunk_size: int,
                       chunk_key: str | None = "engine.chunk_size") -> None:
    """Refuse a config whose chunk estimate exceeds :data:`CHUNK_MEMORY_LIMIT` (:class:`TooBig`,
    naming the biggest part's key, the estimate and the remedy). ``chunk_key`` names the key that
    sets the chunk size (None where the config has none)."""
    total = sum(parts.values())
    if total <= CHUNK_MEMORY_LIMIT:
        return
    biggest = max(parts, key=parts.get)
    key = {"clv": "predictions.clv.horizon_months", "intervals": "predictions.intervals.n_draws",
           "scores": "engine.chunk_size"}[biggest]
    fits = max(1, int(chunk_size * CHUNK_MEMORY_LIMIT / total))
    at_a_time = f" ({chunk_key})" if chunk_key else ""
    if chunk_key is None:
        remedy = f"Lower {key}"
    elif key == chunk_key:
        remedy = f"Lower {key} (about {fits:,} customers fit)"
    else:
        remedy = f"Lower {key}, or lower {chunk_key} (about {fits:,} customers fit)"
    raise TooBig(
        f"scoring {chunk_size:,} customers at a time{at_a_time} would need about {gib(total)} of memory per "
        f"chunk, most of it ({gib(parts[biggest])}) for {key}; the limit is {gib(CHUNK_MEMORY_LIMIT)} per "
        f"chunk. {remedy}", key)


def check_output_dir(path: str | Path, *, key: str = "output.directory") -> Path:
    """Check that the output directory ``path`` exists as a writable directory or can be created.

    Nothing is created. ``key`` names where the path came from (``output.directory`` or
    ``--output-dir``) in the message.

    Raises
    ------
    ConfigError
        ``path`` (or a parent) is a file, or the directory (or its nearest existing parent) is
        not writable or on a kernel filesystem (:data:`PSEUDO_FILESYSTEMS`: /proc, /sys, /dev ...).
    """
    path = Path(path)
    existing = path
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():  # a dangling link
            raise ConfigError(f"{key} {str(path)!r}: {existing} is a broken symbolic link; remove it or give "
                              "another directory.")
        existing = existing.parent
    if not existing.is_dir():
        what = "is" if existing == path else f"is inside {existing}, which is"
        raise ConfigError(f"{key} {str(path)!r} {what} a file, not a directory; give a directory (it is "
                          "created when missing) or move the file away.")
    mount = filesystem_of(existing)
    if mount is not None and mount[1] in PSEUDO_FILESYSTEMS:
        where = "is" if existing == path else f"would be created in {existing}, which is"
        raise ConfigError(f"{key} {str(path)!r} {where} on the {mount[1]} filesystem mounted at {mount[0]}, an "
                          "interface of the kernel or of devices that cannot hold files (even where this user "
                          "may write there); give a directory on a disk, e.g. under your home or /srv.")
    if not os.access(existing, os.W_OK | os.X_OK):
        where = "" if existing == path else f" (it would be created in {existing})"
        raise ConfigError(f"{key} {str(path)!r} is not writable by this user{where}; give a directory you "
                          "can write to, or change its permissions.")
    return path


def create_output_dir(path: str | Path, *, key: str = "output.directory") -> Path:
    """:func:`check_output_dir`, then create the directory (and its parents); an error of the
    filesystem (no space, a read-only mount, permissions changed meanwhile) is a
    :class:`~clvmodels.exceptions.ConfigError` naming ``key``, not a traceback."""
    path = check_output_dir(path, key=key)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"{key} {str(path)!r} cannot be created: {err.strerror or err}; give a directory you "
                          "can write to.") from None
    return path


#: Filesystems of the kernel and of devices (Linux): their "files" are interfaces, so an output
#: directory there is refused even where this user (root) may write.
PSEUDO_FILESYSTEMS = frozenset({
    "proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "debugfs", "tracefs", "securityfs", "configfs",
    "pstore", "bpf", "mqueue", "fusectl", "binfmt_misc", "efivarfs", "autofs", "hugetlbfs", "rpc_pipefs", "nsfs"})


def filesystem_of(path: str | Path) -> tuple[str, str] | None:
    """The mount point and type of the filesystem that holds the existing ``path``, from
    ``/proc/self/mounts`` (Linux; None where it cannot be read)."""
    try:
        lines = Path("/proc/self/mounts").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    target = os.path.realpath(path)
    best = None
    for line in lines:  # in mount order: of two mounts on one point, the later one is seen
        fields = line.split()
        if len(fields) < 3:
            continue
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[1])  # '\040' is a space
        if target == point or target.startswith(point.rstrip("/") + "/"):
            if best is None or len(point) >= len(best[0]):
                best = (point, fields[2])
    return best
