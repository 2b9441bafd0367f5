"""load_config's steps: read config.yaml, keep every setting that is valid, and fail safe.

A broken file never stops thau, and it must not make thau less careful than the user asked:
a stricter setting that cannot be read (tools.policy `read_file: ask`, an extra hidden path)
would otherwise be at a default that lets more run. So what can be read is kept, and when
part of the file could not be read at all, every tool asks before it runs until it is fixed.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .config import Config, ConfigResult, _describe
from .config_read import (
    MAX_CONFIG_BYTES,
    ConfigTooLarge,
    decode,
    load_yaml,
    read_problem,
    top_level_sections,
    yaml_problem,
)

MAX_PROBLEMS = 20  # lines of errors reported for one file

# The tools.policy of a file thau could not read whole: "*" is every tool not named.
ASK_EVERY_TOOL = "every tool asks before it runs until the file is fixed"


def _valid(data: dict) -> bool:
    try:
        Config.model_validate(data)
    except ValidationError:
        return False
    return True


def _nest(where: list[str], value: Any) -> dict:
    for key in reversed(where):
        value = {key: value}
    return value


def _put(kept: dict, path: list[str], value: Any) -> None:
    target = kept
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def _keep_valid(node: dict, where: list[str], kept: dict) -> None:
    """Copy into `kept` every setting under `node` that is valid on its own; a section with
    a bad entry is searched entry by entry, and a list item by item (one bad hidden path
    must not drop the others), so only the bad entries are left out. The data was counted
    (config_read.MAX_VALUES), so this walk is bounded even where aliases repeat a node."""
    for key, value in node.items():
        path = [*where, str(key)]
        if _valid(_nest(path, value)):
            _put(kept, path, value)
        elif isinstance(value, dict):
            _keep_valid(value, path, kept)
        elif isinstance(value, list):
            items = [item for item in value if _valid(_nest(path, [item]))]
            if items and _valid(_nest(path, items)):
                _put(kept, path, items)


def _salvage(data: dict) -> Config | None:
    """The config with every valid setting of `data` (each bad one at its default, a bad
    tools.policy entry at "ask"); None when the kept parts clash."""
    kept: dict = {}
    _keep_valid(data, [], kept)
    # A bad tools.policy value ("dney") asks: its default (a read tool runs unasked) could be
    # the opposite of what the user wrote.
    tools = data.get("tools")
    policy = tools.get("policy") if isinstance(tools, dict) else None
    if isinstance(policy, dict):
        for tool in policy:
            if isinstance(tool, str) and tool not in kept.get("tools", {}).get("policy", {}):
                _put(kept, ["tools", "policy", tool], "ask")
    try:
        return Config.model_validate(kept)
    except ValidationError:
        return None


def salvage_config(text: str) -> Config | None:
    """The config with every valid setting of a file that has bad ones: a typo in
    tools.shell must not drop the user's tools.policy denials or hidden_paths. None when
    the text is not a YAML mapping or the kept parts clash."""
    try:
        data = load_yaml(text)
    except (yaml.YAMLError, RecursionError, ConfigTooLarge):
        return None
    return _salvage(data) if isinstance(data, dict) else None


def _ask_every_tool(config: Config | None) -> Config:
    """`config` with every tool asking: denials and asks the file holds stay, an "auto" asks
    (the part not read may have said otherwise), and "*" covers the tools not named."""
    safe = (config or Config()).model_copy(deep=True)
    policy = {tool: "ask" if value == "auto" else value for tool, value in safe.tools.policy.items()}
    safe.tools.policy = {**policy, "*": "ask"}
    return safe


def _by_section(text: str) -> tuple[Config, list[str], list[str], int]:
    """A file YAML cannot read whole, read one top-level section at a time: (every valid
    setting of the sections that read, the sections that did not, the readable sections'
    own problems, how many sections there are)."""
    data: dict = {}
    unread = []
    sections = top_level_sections(text)
    for line, key, section in sections:
        try:
            part = load_yaml(section)
        except (yaml.YAMLError, RecursionError, ConfigTooLarge):
            unread.append(f"{key} (line {line})")
            continue
        if isinstance(part, dict):
            _merge(data, part)  # a section written twice: both count, so the first's denials stay
        elif part is not None:  # a line YAML could not join to the key above it
            unread.append(f"{key} (line {line})")
    problems: list[str] = []
    try:
        Config.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(e) for e in exc.errors()]
    return _salvage(data) or Config(), unread, problems, len(sections)


def _merge(into: dict, part: dict) -> None:
    """`part`'s settings into `into`, mapping by mapping (the later value wins where both set one)."""
    for key, value in part.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _why_unread(exc: BaseException) -> str:
    if isinstance(exc, yaml.YAMLError):
        return yaml_problem(exc)
    if isinstance(exc, RecursionError):  # the YAML parser recurses once per level of nesting
        return "nested too deeply to read (thousands of levels of lists or mappings); config.yaml needs only a few"
    return str(exc)


def load(path: Path | None, last_good: Config | None = None) -> ConfigResult:
    """config.load_config (see there)."""
    fallback = last_good or Config()
    if path is None:
        return ConfigResult(fallback, path)
    try:
        if not path.exists():  # raises for a folder above it thau may not enter
            if path.is_symlink():  # a dangling link is not "no config": its policy may deny tools
                try:
                    os.stat(path)
                except OSError as exc:
                    if exc.errno == errno.ELOOP:  # exists() is False for a loop too (config review)
                        raise OSError(errno.ELOOP, "a loop of links that never reaches a file") from exc
                raise FileNotFoundError(errno.ENOENT, f"a link to {os.readlink(path)}, which does not exist")
            return ConfigResult(fallback, path)
        if (size := path.stat().st_size) > MAX_CONFIG_BYTES:
            too_big = (
                f"is {size / 2**20:.1f} MB, and thau reads at most {MAX_CONFIG_BYTES // 2**20} MB of config "
                "(a config.yaml needs a few kilobytes: keep only the settings you change)"
            )
            if last_good is not None:
                return _result(path, last_good, [too_big])
            return _result(path, _ask_every_tool(None), [f"{too_big}; {ASK_EVERY_TOOL}"])
        raw = path.read_bytes()
    except OSError as exc:
        if last_good is not None:
            return _result(path, last_good, [read_problem(path, exc)])
        return _result(path, _ask_every_tool(None), [f"{read_problem(path, exc)}; {ASK_EVERY_TOOL}"])
    text, encoding_problem = decode(raw)
    problems = [encoding_problem] if encoding_problem else []
    kept: Config | None = None
    try:
        data = load_yaml(text)
    except (yaml.YAMLError, RecursionError, ConfigTooLarge) as exc:
        if last_good is not None:
            return ConfigResult(last_good, path, [f"{path}: {line}" for line in [*problems, _why_unread(exc)]])
        kept, unread, more, sections = _by_section(text)
        if unread and len(unread) < sections:
            outcome = f"not read: {', '.join(unread)}; the other sections apply, and {ASK_EVERY_TOOL}"
        elif unread:
            outcome = f"none of its settings were read: thau uses the defaults, and {ASK_EVERY_TOOL}"
        else:
            outcome = f"each section was read on its own, and {ASK_EVERY_TOOL}"
        problems += [f"{_why_unread(exc)}. Fix that and save (thau reloads it); {outcome}", *more]
        return _result(path, _ask_every_tool(kept), problems)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.append(
            "config.yaml must be a mapping of sections (model:, generation:, tools:, ...); "
            f"none of its settings were read: thau uses the defaults, and {ASK_EVERY_TOOL}"
        )
        return _result(path, last_good or _ask_every_tool(None), problems)
    try:
        kept = Config.model_validate(data)
    except ValidationError as exc:
        problems += [_describe(e) for e in exc.errors()]
    if not problems:
        return ConfigResult(kept or fallback, path)
    if last_good is not None:
        return _result(path, last_good, problems)
    kept = kept or _salvage(data) or Config()
    if encoding_problem is None:
        return _result(path, kept, problems)
    # A byte that is not UTF-8 could have been anywhere, a tool's name in tools.policy too.
    problems[0] += f"; {ASK_EVERY_TOOL}"
    return _result(path, _ask_every_tool(kept), problems)


def _result(path: Path, config: Config, problems: list[str]) -> ConfigResult:
    if len(problems) > MAX_PROBLEMS:  # one notice, not thousands of lines for a list of bad items
        problems = [*problems[:MAX_PROBLEMS], f"and {len(problems) - MAX_PROBLEMS} more problems like these"]
    return ConfigResult(config, path, [f"{path}: {line}" for line in problems])


def ignored_local_config(read: Path | None, folder: Path | None = None) -> str | None:
    """What to tell the user when `folder` (the current one) holds a config.yaml that thau
    does not read, having read `read`, the default config, instead; None when there is none
    to mention. The chat shows it as a notice, `thau -m` on stderr (docs review: -m was silent)."""
    from .paths import default_config_file

    try:
        local = (folder or Path.cwd()) / "config.yaml"
        seen = local.is_file()
    except OSError:  # the current folder was deleted under the shell
        return None
    if not (seen and read == default_config_file() != local):
        return None
    return (
        f"{local} is not read: this folder is the workspace, where tools write, and a config "
        f"can start programs. thau reads {read}; to use this one: thau --config config.yaml"
    )


def say_errors(console: Any, errors: list[str]) -> None:
    """config.yaml's errors on a rich `console` (stderr), one `config:` line each, as the
    commands without a screen say them (`thau -m`, `thau eval`, `thau train`)."""
    from rich.text import Text

    from .visible_text import visible

    for error in errors:
        said = f" {visible(error)} (not applied: the default, or 'ask' for a tools.policy entry)"
        console.print(Text.assemble(("config:", "yellow"), said))
