"""All-or-nothing outputs: every file of a run is written under a temporary name and renamed into
place only when the whole run has succeeded; a failed run leaves the previous outputs intact."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import pandas as pd


class Staging:
    """Temporary files beside their targets, renamed by :meth:`commit` or removed by :meth:`discard`."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.pending: list[tuple[Path, Path]] = []

    def path(self, name: str) -> Path:
        """A fresh temporary path for the output ``name`` (relative to the output directory)."""
        target = self.directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        self.pending.append((Path(tmp), target))
        return Path(tmp)

    def commit(self) -> list[str]:
        """Rename every staged file into place; returns the output names."""
        names = []
        for tmp, target in self.pending:
            os.replace(tmp, target)
            names.append(target.relative_to(self.directory).as_posix())
        self.pending = []
        return names

    def discard(self) -> None:
        for tmp, _ in self.pending:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self.pending = []


class ScoreWriter:
    """Append score chunks to ``scores.<format>`` files (staged), one chunk in memory at a time.

    Parameters
    ----------
    staging : Staging
    formats : list of {"parquet", "csv"}
    columns : list of str, optional
        Columns to keep after the customer id (``output.columns``); unknown names are an error.
    """

    def __init__(self, staging: Staging, formats, columns=None):
        self.targets = {fmt: staging.path(f"scores.{fmt}") for fmt in formats}
        self.columns = columns
        self.schema = None
        self._parquet = None
        self._first = True
        self.rows = 0

    def _select(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.columns is None:
            return frame
        unknown = [c for c in self.columns if c not in frame.columns]
        if unknown:
            from ..exceptions import DataError

            raise DataError(f"output.columns names {unknown}, which this run does not produce; its columns "
                            f"are {list(frame.columns[1:])}. Fix output.columns or leave it out for all.")
        return frame[[frame.columns[0], *[c for c in self.columns if c != frame.columns[0]]]]

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        frame = self._select(frame)
        if "parquet" in self.targets:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                self.schema = table.schema
                # Scores are nearly all distinct floats: dictionary encoding only costs time.
                self._parquet = pq.ParquetWriter(self.targets["parquet"], self.schema, use_dictionary=False)
            self._parquet.write_table(table.cast(self.schema))
        if "csv" in self.targets:
            frame.to_csv(self.targets["csv"], mode="w" if self._first else "a", header=self._first, index=False)
        self._first = False
        self.rows += len(frame)

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
