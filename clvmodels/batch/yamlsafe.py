"""Reading a YAML config safely: ``yaml.safe_load`` semantics with limits against hostile files.

:func:`read_yaml` reads a config file through :class:`LimitedSafeLoader`, a subclass of PyYAML's
``SafeLoader`` (the same tags and objects as ``yaml.safe_load``; no Python object is ever built)
that also refuses, each with a :class:`~clvmodels.exceptions.ConfigError` naming the file and the
limit:

- a file larger than :data:`MAX_BYTES` (1 MiB: a config is a few kilobytes);
- bytes that are not UTF-8;
- nesting deeper than :data:`MAX_DEPTH` (50) levels, counted after aliases are expanded;
- more than :data:`MAX_NODES` (100,000) values once aliases are expanded (an "alias bomb" or
  "billion laughs" document expands a few lines into billions of values: it is refused while
  still a few lines, before anything walks the expanded tree); an alias that contains itself;
- the same key twice in one mapping (at any level): YAML would keep the last one and silently
  drop the first section, so the message names the key and both lines.

One extension of the scalars: numbers in exponent notation (``1e9``, ``1.5e3``, ``2E-3``) are
numbers, as in YAML 1.2 and JSON; PyYAML follows YAML 1.1, where most of them are text, and a
config saying ``n_draws: 1e9`` would be refused as "not a valid integer" rather than for its size.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from ..exceptions import ConfigError

#: Largest config file read, in bytes.
MAX_BYTES = 1 << 20
#: Deepest nesting of mappings and lists, aliases expanded.
MAX_DEPTH = 50
#: Most values (mapping keys and values, list items, scalars) in a document, aliases expanded.
MAX_NODES = 100_000

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Refused(Exception):
    """A limit of :class:`LimitedSafeLoader` was reached; :func:`read_yaml` adds the file name."""


class LimitedSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with the limits of this module (depth, expanded size, duplicate keys).

    The limits are checked on the composed node graph, before any Python value is built.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent, index):
        # The composer recurses once per level: stop before Python's recursion limit does.
        self._depth += 1
        self._nodes += 1
        try:
            if self._nodes > MAX_NODES:
                mark = self.peek_event().start_mark
                raise _Refused(f"it holds more than {MAX_NODES:,} values (line {mark.line + 1}); a config needs "
                               "a few hundred")
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refused(f"it nests deeper than {MAX_DEPTH} levels (line {mark.line + 1}); a config "
                               "needs a handful of levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self):
        node = super().compose_document()
        _check_expanded(node)
        return node


# YAML 1.2 / JSON numbers with an exponent (1e9, 1.5e3, -2E-3), which YAML 1.1 reads as text unless
# they have a dot and a signed exponent (1.5e+3).
LimitedSafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"),
    list("-+.0123456789"))


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expanded(node: Node | None) -> None:
    """Refuse a document whose alias-expanded tree is too deep, too large or cyclic, or that
    repeats a key in a mapping.

    Aliases share their node, so the expanded size and height of each node are computed once
    (memoised); the walk never goes deeper than :data:`MAX_DEPTH` and never visits a node twice.
    """
    if node is None:
        return
    seen: dict[int, tuple[int, int]] = {}  # id -> (expanded values, expanded height)
    active: set[int] = set()

    def too_deep(n: Node) -> _Refused:
        return _Refused(f"its aliases expand to values nested deeper than {MAX_DEPTH} levels "
                        f"(line {n.start_mark.line + 1})")

    def walk(n: Node, depth: int) -> tuple[int, int]:
        key = id(n)
        if key in seen:  # an alias: the same values again, maybe deeper
            if depth + seen[key][1] - 1 > MAX_DEPTH:
                raise too_deep(n)
            return seen[key]
        if key in active:
            raise _Refused(f"an alias refers to a value that contains it (line {n.start_mark.line + 1}), "
                           "an endless value")
        if depth > MAX_DEPTH:
            raise too_deep(n)
        if isinstance(n, MappingNode):
            _check_duplicates(n)
        active.add(key)
        below = [walk(child, depth + 1) for child in _children(n)]
        active.discard(key)
        total = 1 + sum(size for size, _ in below)
        height = 1 + max((h for _, h in below), default=0)
        if total > MAX_NODES:
            raise _Refused(f"its aliases (*name) expand to more than {MAX_NODES:,} values (line "
                           f"{n.start_mark.line + 1}); a config needs a few hundred, so write the values out "
                           "or use fewer aliases")
        seen[key] = (total, height)
        return seen[key]

    walk(node, 1)


def _check_duplicates(node: MappingNode) -> None:
    """Refuse a key given twice in one mapping (merge keys ``<<`` may be overridden, as YAML says)."""
    seen: dict[tuple[str, str], int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
            continue
        key, line = (key_node.tag, key_node.value), key_node.start_mark.line + 1
        if key in seen:
            raise _Refused(f"the key {key_node.value!r} appears twice in one section, on lines {seen[key]} and "
                           f"{line}; YAML would silently keep only the last one. Merge the two into one "
                           "(or remove one)")
        seen[key] = line


def loads_yaml(text: str, *, source: str = "config") -> Any:
    """Parse YAML ``text`` with :class:`LimitedSafeLoader`; ``source`` names it in messages.

    Raises
    ------
    ConfigError
        Invalid YAML, or a limit of this module reached.
    """
    if len(text.encode("utf-8", errors="surrogatepass")) > MAX_BYTES:
        raise ConfigError(f"{source} is larger than {MAX_BYTES / 2**20:g} MiB, the limit for a config file "
                          "(a config is a few kilobytes): is it the right file?")
    try:
        loader = LimitedSafeLoader(text)  # the reader refuses control characters here, before parsing
    except yaml.reader.ReaderError as err:
        raise ConfigError(_unacceptable(err, text, source)) from None
    loader.name = source  # named in the marks of syntax errors
    try:
        return loader.get_single_data()
    except yaml.reader.ReaderError as err:
        raise ConfigError(_unacceptable(err, text, source)) from None
    except _Refused as err:
        raise ConfigError(f"{source} is refused: {err}.") from None
    except RecursionError:
        raise ConfigError(f"{source} is refused: it nests too deeply to read (the limit is {MAX_DEPTH} "
                          "levels).") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{source} is not valid YAML: {err}") from None
    finally:
        loader.dispose()


def _unacceptable(err: yaml.reader.ReaderError, text: str, source: str) -> str:
    """Where a character YAML does not allow (a control character such as NUL, BEL or DEL, or
    U+FFFE/U+FFFF) is, and what to do."""
    position = err.position if isinstance(err.position, int) and 0 <= err.position <= len(text) else 0
    code = err.character if isinstance(err.character, int) else ord(text[position]) if position < len(text) else 0
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    count = len(yaml.reader.Reader.NON_PRINTABLE.findall(text))
    more = f" ({count} such characters in the file)" if count > 1 else ""
    return (f"{source} is refused: line {line}, column {column} holds the character U+{code:04X}, which YAML does "
            f"not allow in a file (control characters other than tab and line breaks, and U+FFFE/U+FFFF){more}. "
            "Remove it: the file may have been damaged or saved by a binary tool; an editor that shows "
            "invisible characters (or `cat -A`) finds it.")


def read_yaml(path: str | Path) -> Any:
    """Read the YAML file at ``path`` with :func:`loads_yaml`, after the size and UTF-8 checks.

    Raises
    ------
    ConfigError
        The file is missing, a directory or not a regular file (a FIFO, a device), unreadable, too large, not UTF-8 or not valid YAML, or
        breaks a limit of this module.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"config {path} is a directory; give the YAML file itself "
                          f"(e.g. {path / 'config.yaml'}).")
    try:
        if path.exists() and not path.is_file():  # a FIFO, a device, /dev/stdin: reading could block or never end
            raise ConfigError(f"config {path} is not a regular file (it is a pipe, a device or a socket); save the "
                              "configuration to a file and give that file's path.")
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist (paths are relative to the working directory "
                          f"{Path.cwd()}). `clvmodels example-config {path}` writes a documented example "
                          "there.") from None
    except OSError as err:
        raise ConfigError(f"cannot read config {path}: {err.strerror or err}.") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"config {path} is larger than {MAX_BYTES / 2**20:g} MiB, the limit for a config "
                          "file (a config is a few kilobytes): is it the right file?")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"config {path} is not UTF-8 text (byte {err.start} is {data[err.start]:#04x}); "
                          "save it as UTF-8 (most editors offer it under 'encoding').") from None
    return loads_yaml(text.removeprefix("\ufeff"), source=str(path))
