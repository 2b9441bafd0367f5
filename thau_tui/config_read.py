"""Reading config.yaml's bytes into plain data, with every way that can go wrong said plainly.

Kept apart from the models in config.py: these steps know nothing of the settings, only of
files, text and YAML. A config.yaml is the user's own file, but it can be broken in ways
that must not stop thau or hang it: a byte that is not UTF-8, a YAML mistake, a folder in
its place, a few hundred bytes of anchors and aliases that expand to millions of values.
"""

from __future__ import annotations

import errno
import functools
import reprlib
from pathlib import Path
from typing import Any

import yaml

# A config holds a few hundred values (the default hidden_paths are most of them). Anchors
# and aliases (&a, *a) let a 500-byte file stand for 10**7 values that share memory until
# something walks them: pydantic's validation, an error message's repr, the salvage's
# search. Walking is refused beyond this many, so each of those costs milliseconds.
MAX_VALUES = 10_000
# A config.yaml is a few kilobytes; a 32 MB one took 95 s to parse before the first frame.
MAX_CONFIG_BYTES = 2**20

_short = reprlib.Repr()
_short.maxstring = 80
_short.maxother = 80
_short.maxlist = _short.maxtuple = _short.maxdict = _short.maxset = 6
_short.maxlevel = 3


class ConfigTooLarge(ValueError):
    """The YAML expands to more values than any config needs (an alias bomb, or a cycle)."""


def short(value: Any, limit: int = 200) -> str:
    """A repr of a setting's value for an error message, at most `limit` characters: the
    full repr of an aliased list was a 52 MB message."""
    text = _short.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def count_values(data: Any, limit: int = MAX_VALUES) -> int:
    """How many values `data` holds with every alias expanded, counted up to `limit` + 1 (so
    a bomb or a self-referencing list stops the count at once). No recursion: a deep file
    is the YAML parser's RecursionError, not this one's."""
    count = 0
    stack = [data]
    while stack and count <= limit:
        value = stack.pop()
        count += 1
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, (list, tuple, set)):
            stack.extend(value)
    return count


def count_nodes(node: Any, limit: int = MAX_VALUES) -> int:
    """count_values on the composed YAML, before anything is built: a merge key (<<: [*a, *a])
    is expanded while PyYAML builds the mapping, so a bomb of them cost its time and memory
    inside safe_load and left a small dict behind for count_values (review)."""
    count = 0
    stack = [node]
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        if isinstance(item, yaml.MappingNode):
            stack.extend(part for pair in item.value for part in pair)
        elif isinstance(item, yaml.SequenceNode):
            stack.extend(item.value)
    return count


@functools.lru_cache(maxsize=1)
def _one_key_once() -> type:
    """safe_load's loader, refusing a key written twice in one mapping: YAML keeps the last,
    so a second `tools:` further down dropped the first one's `run_shell: deny` without a
    word (config review). Keys a merge (<<: *a) brings in may be overridden, as YAML says.
    Made on first use, not at import: thau's start imports this module before it drops the
    workspace's entries from sys.path, and must not touch the yaml module there."""

    class OneKeyOnce(yaml.SafeLoader):
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            first: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    line = first.setdefault(key, key_node.start_mark.line)
                except TypeError:  # an unhashable key: SafeLoader says so itself
                    continue
                if line != key_node.start_mark.line:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"{key!r} is written twice (first on line {line + 1}), and the second would silently "
                        "replace the first; keep one",
                        key_node.start_mark,
                    )
            return super().construct_mapping(node, deep=deep)

    return OneKeyOnce


def load_yaml(text: str) -> Any:
    """yaml.safe_load, refusing data that expands past MAX_VALUES (ConfigTooLarge), counted
    on the composed nodes first (aliases and merge keys expanded) and on the data after."""
    if not text.strip():
        return {}
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    too_many = node is not None and count_nodes(node) > MAX_VALUES
    data = None if too_many else yaml.load(text, Loader=_one_key_once())  # noqa: S506 - a SafeLoader
    if too_many or count_values(data) > MAX_VALUES:
        if "*" in text or "<<" in text:  # the aliases are named only where there are some (crash review)
            raise ConfigTooLarge(
                f"more than {MAX_VALUES} values once its anchors and aliases (&name, *name) are expanded "
                "(a config needs a few hundred); write the repeated parts out once, or use fewer aliases"
            )
        raise ConfigTooLarge(
            f"more than {MAX_VALUES} values (a config needs a few hundred); keep only the settings you change"
        )
    return data


def yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error in one line: where (line, column) and what, without PyYAML's
    `in "<unicode string>"` and its caret drawing."""
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None:
        context = f"{context} (line {context_mark.line + 1})"
    return f"not valid YAML at {where}{problem}" + (f", {context}" if context else "")


def decode(raw: bytes) -> tuple[str, str | None]:
    """The file's text, and what was wrong with its encoding (None when it is UTF-8). A byte
    that is not UTF-8 is read as U+FFFD and the rest of the file still counts: refusing the
    whole file dropped the user's tools.policy and hidden_paths for one accented letter."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        problem = (
            f"line {line}, column {column}: byte 0x{raw[exc.start]:02x} is not UTF-8 (it was read as \ufffd); "
            "save the file as UTF-8 (in most editors: 'Save with encoding' or 'Reopen with encoding')"
        )
        return raw.decode("utf-8", errors="replace"), problem


def read_problem(path: Path, exc: OSError) -> str:
    """Why config.yaml could not be read, and what to do about it, in one line."""
    if isinstance(exc, IsADirectoryError) or exc.errno == errno.EISDIR:
        return (
            "is a folder, not a file: config.yaml must be a file "
            "(move the folder away, or name another file with --config)"
        )
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"cannot be read: permission denied (on the file or a folder above it); let yourself read it "
            f"(chmod u+r '{path}', and u+x on each folder above it) or name another file with --config"
        )
    reason = exc.strerror or str(exc)
    return f"cannot be read ({reason}); check the path, or name another file with --config"


def top_level_sections(text: str) -> list[tuple[int, str, str]]:
    """The file cut at each top-level key: (its first line, its key, its text). A YAML
    mistake in one section then costs only that section, not the user's tools.policy in
    another. (The sections were padded with empty lines once, to keep the file's line
    numbers: parsing each then cost the whole file, 45 s for 4,000 lines; review.)"""
    lines = text.splitlines(keepends=True)
    starts = [
        number
        for number, line in enumerate(lines)
        if line[:1] not in ("", " ", "\t", "#", "-", "\n", "\r", "]", "}", ".", "%")
    ]
    sections = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(lines)
        key = lines[start].split(":", 1)[0].strip()[:40]
        sections.append((start + 1, key, "".join(lines[start:end])))
    return sections
