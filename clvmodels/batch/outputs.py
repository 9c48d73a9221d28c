"""All-or-nothing outputs: every file of a run is written under a temporary name and renamed into
place only when the whole run has succeeded; a failed run leaves the previous outputs intact."""

from __future__ import annotations

import contextlib
import os
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
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

    Parquet chunks are encoded and written on a background thread (Arrow releases the GIL), so
    writing one chunk overlaps with scoring the next; at most one chunk waits to be written, and
    :meth:`close` waits for it. A failed write is raised by the next :meth:`write` or by
    :meth:`close`. A frame must not be changed after it is passed to :meth:`write` (its columns
    may be shared with the table being written).

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
        self._thread: ThreadPoolExecutor | None = None
        self._pending: Future | None = None
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
            table = table.cast(self.schema)
            self._wait()  # one chunk in flight at most, so memory stays bounded
            if self._thread is None:
                self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clvmodels-write")
            self._pending = self._thread.submit(self._parquet.write_table, table)
        if "csv" in self.targets:
            frame.to_csv(self.targets["csv"], mode="w" if self._first else "a", header=self._first, index=False)
        self._first = False
        self.rows += len(frame)

    def _wait(self) -> None:
        """Wait for the chunk being written; raise its error if the write failed."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Finish writing (raising a failed write's error) and close the files."""
        try:
            self._wait()
        finally:
            if self._thread is not None:
                self._thread.shutdown()
                self._thread = None
            if self._parquet is not None:
                self._parquet.close()
                self._parquet = None
