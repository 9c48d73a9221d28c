"""One commit per job: a job writes a complete generation of outputs, and one atomic rename publishes it.

The layout of an output directory (the idea of Kubernetes' atomic volume writer)::

    out/
      current -> .clvmodels/generations/<id>     the published generation (one symlink)
      scores.parquet -> current/scores.parquet   every published name, through ``current``
      models -> current/models
      manifest.json -> current/manifest.json     the last job's manifest (see below)
      .clvmodels/
        lock                                     held by the job writing here (flock)
        generations/<id>/...                     complete outputs of one job; at most the
                                                 current one and the one before it
        failed/manifest.json                     the manifest of a job that failed

A job writes its files into a new generation directory, carries over from the current generation
the files its command does not own (``fit`` owns ``models/``; ``score`` owns everything else;
``run`` and ``compare`` own everything), and publishes by replacing the ``current`` symlink in one
``os.replace``: a reader sees the old outputs or the new ones, never a mix, and names the new job
did not write disappear with the old generation. A job that fails (or is killed) publishes nothing;
its manifest goes to ``.clvmodels/failed/manifest.json``, and the top-level ``manifest.json`` points
at it, so it says how the last job ended while the outputs beside it stay those of the last
successful one (``current/manifest.json``). What a killed job leaves (an unfinished generation) is
removed by the next job, which counts it in its manifest.

To read several files of one generation while jobs may publish, resolve ``out/current`` once
(``os.path.realpath``) and read below it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import re
import shutil
import time
from pathlib import Path

from ..exceptions import ConfigError, JobInterrupted

logger = logging.getLogger("clvmodels.batch")

STATE = ".clvmodels"
CURRENT = "current"
_GENERATION = re.compile(r"\d{20}-\d+")  # the names new_generation gives
#: The top-level names older versions wrote as plain files; moved aside (never deleted) on first use.
LEGACY = ("models", "kpis", "scores.parquet", "scores.csv", "manifest.json", "report.html", "metrics.csv",
          "metrics.json")
#: What a job carries over from the published generation: ``fit`` all but ``models/``, ``score`` only
#: ``models/``, ``run`` and ``compare`` nothing (they own every name).
ONLY_OWNS = {"fit": {"models"}}
KEEPS = {"score": {"models"}}


def _carried(command: str, name: str) -> bool:
    if command in ONLY_OWNS:
        return name not in ONLY_OWNS[command]
    return name in KEEPS.get(command, set())


class OutputDirectory:
    """An output directory whose published outputs change in one atomic step (see the module docstring).

    Use it as a context manager: entering locks the directory against other jobs and removes what
    dead jobs left behind (counted in :attr:`cleaned`).

    Parameters
    ----------
    root : path
        The output directory (created if missing).
    command : str
        The job's command (``fit``, ``score``, ``run`` or ``compare``): which names it owns.
    """

    def __init__(self, root, command: str):
        self.root = Path(root).absolute()  # generations are compared as paths: one spelling for all
        self.command = command
        self.state = self.root / STATE
        self.generations = self.state / "generations"
        self.cleaned: dict = {}
        self._lock = None

    # -- locking and cleaning -------------------------------------------------------------------
    def __enter__(self) -> "OutputDirectory":
        for folder in (self.state, self.generations):
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                raise ConfigError(f"{folder} is a symbolic link or a file; clvmodels keeps its outputs' state in a "
                                  "real directory there and removes what it finds inside, so it will not follow "
                                  "a link. Remove it (the outputs are published again by the next job).")
        self.generations.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.state / "lock", "a+", encoding="utf-8")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            self._lock.seek(0)
            holder = self._lock.read().strip() or "another process"
            self._lock.close()
            self._lock = None
            raise ConfigError(f"the output directory {self.root} is in use by another clvmodels job ({holder}); "
                              "two jobs writing into one directory would mix their outputs. Wait for that job to "
                              "finish, or give this job another output directory (output.directory or "
                              "--output-dir).") from None
        self._lock.seek(0)
        self._lock.truncate()
        self._lock.write(f"pid {os.getpid()}, clvmodels {self.command}, started "
                         f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n")
        self._lock.flush()
        self.cleaned = self._remove_leftovers()
        return self

    def __exit__(self, *exc) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def current_generation(self) -> Path | None:
        """The published generation directory, or None before the first publish."""
        link = self.root / CURRENT
        if not link.is_symlink():
            return None
        target = (self.root / os.readlink(link)).resolve()
        return target if target.is_dir() else None

    def _previous_name(self) -> str | None:
        with contextlib.suppress(OSError):
            return (self.state / "previous").read_text(encoding="utf-8").strip() or None
        return None

    def _remove_leftovers(self) -> dict:
        """Remove unfinished generations and older versions' temporary files; say how much."""
        current = self.current_generation()
        keep = {current.name if current else None, self._previous_name()}
        generations = files = size = 0
        link = self.root / CURRENT
        unsure = os.path.lexists(link) and current is None  # e.g. `current` copied as a plain folder
        for entry in self.generations.iterdir():
            if unsure or entry.name in keep or not _GENERATION.fullmatch(entry.name) or entry.is_symlink() \
                    or not entry.is_dir():
                continue  # only what this module creates is removed
            size += _tree_size(entry)
            _remove(entry)
            generations += 1
        for tmp in self.state.glob(".link-*"):  # a link of a job killed while publishing
            with contextlib.suppress(OSError):
                tmp.unlink()
        for folder in (self.root, self.root / "models", self.root / "kpis"):
            if folder.is_dir() and not folder.is_symlink():
                for tmp in folder.glob(".*.tmp"):  # the temporary files of versions before generations
                    with contextlib.suppress(OSError):
                        size += tmp.stat().st_size
                        tmp.unlink()
                        files += 1
        return {"leftover_generations": generations, "temporary_files": files, "bytes": size} \
            if generations or files else {}

    # -- writing a generation ----------------------------------------------------------------------
    def new_generation(self) -> "Generation":
        """A fresh, empty generation directory for this job's files."""
        name = f"{time.time_ns():020d}-{os.getpid()}"
        path = self.generations / name
        path.mkdir()
        return Generation(self, path)

    def abandon(self, generation: "Generation") -> str:
        """Drop a failed job's generation; returns what is published now, in words, for its manifest."""
        generation.discard()
        return ("unchanged: those of the last successful job (current/manifest.json)"
                if self.current_generation() is not None else "none")

    def write_failed_manifest(self, text: str) -> Path:
        """Write a failed job's manifest beside the published outputs (which stay as they are) and
        point the top-level ``manifest.json`` at it."""
        path = self.state / "failed" / "manifest.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, text)
        top = self.root / "manifest.json"
        if top.exists() and not top.is_symlink():  # an older version's manifest: kept, not overwritten
            aside = self.state / f"legacy-{time.time_ns():020d}"
            aside.mkdir(parents=True, exist_ok=True)
            os.replace(top, aside / "manifest.json")
        _point(self.root / "manifest.json", os.path.relpath(path, self.root), self.state)
        return path


class Generation:
    """The files of one job, written in a directory of their own until :meth:`publish`.

    It offers the interface of a staging area: :meth:`path` gives the path to write an output to,
    :meth:`publish` commits them all, :meth:`discard` drops them.
    """

    def __init__(self, directory: OutputDirectory, path: Path):
        self.directory = directory
        self.dir = path
        self.kept: list[str] = []
        self.moved_aside: dict = {}

    def path(self, name: str) -> Path:
        """Where to write the output ``name`` (relative, e.g. ``models/bgnbd.json``)."""
        target = self.dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def files(self) -> list[str]:
        """Every file of this generation, relative and sorted."""
        return sorted(p.relative_to(self.dir).as_posix() for p in self.dir.rglob("*") if p.is_file())

    def written(self) -> list[str]:
        """The files this job wrote (not those carried over from the previous generation)."""
        kept = set(self.kept)
        return [name for name in self.files() if name not in kept]

    def checksums(self, names) -> dict:
        """``{name: {"bytes": ..., "sha256": ...}}`` of the given files."""
        out = {}
        for name in names:
            with open(self.dir / name, "rb") as f:
                digest = hashlib.file_digest(f, "sha256").hexdigest()
            out[name] = {"bytes": (self.dir / name).stat().st_size, "sha256": digest}
        return out

    def carry_over(self) -> list[str]:
        """Hard-link (or copy) into this generation the published files this job's command does not
        own; returns their names (also in :attr:`kept`)."""
        root, source = self.directory.root, self.directory.current_generation()
        if source is not None:
            entries = {p.name: p for p in source.iterdir()}
        else:  # outputs of a version before generations: plain files at the top level
            entries = {n: root / n for n in LEGACY if (root / n).exists() and not (root / n).is_symlink()}
        carried = {name for name in entries if _carried(self.directory.command, name)}
        for name in sorted(carried):
            src, dst = entries[name], self.dir / name
            if src.is_dir():
                shutil.copytree(src, dst, copy_function=_link_or_copy)
            else:
                _link_or_copy(src, dst)
        self.kept = [n for n in self.files() if _top(n) in carried]
        return self.kept

    def publish(self, manifest_name: str) -> None:
        """Make this generation the published one in one atomic step.

        ``manifest_name`` is the job's manifest inside the generation (``manifest.json``, or
        ``models/manifest.json`` for ``fit``); the top-level ``manifest.json`` points at it.
        """
        d, root = self.directory, self.directory.root
        for p in [*self.dir.rglob("*"), self.dir]:  # the data on disk before the switch names it
            if p.is_file():
                _fsync(p)
        old = d.current_generation()
        names = {p.name for p in self.dir.iterdir()}
        legacy = sorted(n for n in names | set(LEGACY) if (root / n).exists() and not (root / n).is_symlink())
        for name in sorted(names - set(legacy) - {"manifest.json"}):  # dangling until the switch
            _point(root / name, f"{CURRENT}/{name}", d.state)
        if (self.dir / manifest_name).is_file() and "manifest.json" not in legacy:
            _point(root / "manifest.json", f"{CURRENT}/{manifest_name}", d.state)
        if os.path.lexists(root / CURRENT) and not (root / CURRENT).is_symlink():  # a plain copy: keep it
            aside = d.state / f"legacy-{self.dir.name}"
            aside.mkdir(parents=True, exist_ok=True)
            os.replace(root / CURRENT, aside / CURRENT)
        _point(root / CURRENT, os.path.relpath(self.dir, root), d.state)  # the commit
        _fsync(root)
        try:
            self._after_switch(old, legacy, manifest_name)
        except (OSError, JobInterrupted) as err:  # the outputs are published; tidying can wait
            logger.warning("published, but tidying %s stopped (%s); the next job tidies up", root, err)

    def _after_switch(self, old: Path | None, legacy: list[str], manifest_name: str) -> None:
        d, root = self.directory, self.directory.root
        if legacy:  # first publish over an older version's plain files: move them aside, never delete
            aside = d.state / f"legacy-{self.dir.name}"
            aside.mkdir(parents=True, exist_ok=True)
            for name in legacy:
                os.replace(root / name, aside / name)
                target = f"{CURRENT}/{manifest_name}" if name == "manifest.json" else f"{CURRENT}/{name}"
                _point(root / name, target, d.state)
            self.moved_aside = {"names": legacy, "to": aside.relative_to(root).as_posix()}
        for entry in root.iterdir():  # names of the old generation this one does not have
            if entry.is_symlink() and not entry.exists() and os.readlink(entry).startswith(f"{CURRENT}/"):
                entry.unlink()
        if old is not None and old != self.dir:
            _write_atomic(d.state / "previous", old.name + "\n")
        keep = {self.dir.name, old.name if old is not None else None}
        for entry in d.generations.iterdir():  # keep the new generation and the one before
            if entry.name not in keep and _GENERATION.fullmatch(entry.name) and not entry.is_symlink():
                _remove(entry)

    @property
    def published(self) -> bool:
        """Whether ``current`` names this generation (read from the link: a signal may interrupt
        the job right after the switch, before any flag could be set)."""
        return self.directory.current_generation() == self.dir.resolve()

    def discard(self) -> None:
        """Remove this generation's files (the job failed); the published outputs are untouched."""
        _remove(self.dir)


def _top(name: str) -> str:
    return name.split("/", 1)[0]


def _link_or_copy(src, dst) -> None:
    """A hard link (no bytes copied; both generations name one file), or a copy across devices."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _point(link: Path, target: str, state: Path) -> None:
    """Make ``link`` a symlink to ``target`` in one atomic step (a new link renamed over it)."""
    if link.is_symlink() and os.readlink(link) == target:
        return
    tmp = state / f".link-{os.getpid()}-{link.name}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(target, tmp)
    try:
        os.replace(tmp, link)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()



def published_files(root) -> list[str]:
    """The files of the published generation in the output directory ``root``, relative and sorted
    (empty before the first job succeeds): what a reader of ``root`` sees."""
    generation = OutputDirectory(root, "run").current_generation()
    if generation is None:
        return []
    return sorted(p.relative_to(generation).as_posix() for p in generation.rglob("*") if p.is_file())
