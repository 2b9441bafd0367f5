"""config.yaml files broken in ways that must neither stop nor hang thau (review)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from thau_tui.config import Config, load_config, parse_config
from thau_tui.engine.approvals import ApprovalBook
from thau_tui.tools.base import ToolCall

ROOT = Path(__file__).resolve().parents[2]


def _list_bomb(levels: int, where: str) -> str:
    """~500 bytes whose anchors and aliases stand for 10**levels strings."""
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "x:\n" + "\n".join("  " + line for line in lines) + f"\ntools:\n  {where}: *a{levels - 1}\n"


def test_an_alias_bomb_is_refused_quickly_with_a_short_message(tmp_path):
    """Seven levels cost minutes and a MemoryError; at five the one error was 522 kB (the
    full repr of the aliased list)."""
    path = tmp_path / "config.yaml"
    for where in ("policy:\n    run_shell", "shell:\n    hidden_paths"):
        for levels in (5, 7):
            path.write_text(_list_bomb(levels, where))
            started = time.monotonic()
            result = load_config(path)
            assert time.monotonic() - started < 5
            assert not result.ok and sum(map(len, result.errors)) < 1500, result.errors
            assert "more than 10000 values once its anchors and aliases" in result.errors[0]
            assert result.config.tools.policy.get("run_shell") in (None, "ask")
    # Mappings of aliased mappings (each key an alias): refused the same way.
    lines = ["d0: &d0 {" + ",".join(f"k{j}: 1" for j in range(10)) + "}"]
    lines += [f"d{i}: &d{i} {{" + ",".join(f"k{j}: *d{i - 1}" for j in range(10)) + "}" for i in range(1, 6)]
    path.write_text("bomb:\n" + "\n".join("  " + line for line in lines) + "\n")
    last_good = parse_config("generation:\n  temperature: 0.7\n")
    result = load_config(path, last_good)
    assert result.config is last_good and "anchors and aliases" in result.errors[0]
    # A list that holds itself is refused too (it never ends).
    path.write_text("tools:\n  shell:\n    hidden_paths: &me [~/a, *me]\n")
    assert "anchors and aliases" in load_config(path).errors[0]


def test_a_merge_key_bomb_is_refused_before_it_is_built(tmp_path):
    """<<: [*a, *a, ...] is expanded while PyYAML builds the mapping, so the count of the
    built data never saw it: 6 levels (405 bytes) took 0.6 s, 9 would take all the memory."""
    lines = ["m0: &m0 {k: v}"]
    lines += [f"m{n}: &m{n} {{<<: [" + ", ".join([f"*m{n - 1}"] * 10) + "]}" for n in range(1, 10)]
    path = tmp_path / "config.yaml"
    path.write_text("bomb:\n" + "\n".join("  " + line for line in lines) + "\n")
    started = time.monotonic()
    result = load_config(path)
    assert time.monotonic() - started < 2
    assert "anchors and aliases" in result.errors[0]


def test_a_long_broken_file_is_read_section_by_section_in_linear_time(tmp_path):
    """Each section was padded with the file's earlier lines, so 4,000 lines took 45 s."""
    path = tmp_path / "config.yaml"
    path.write_text("tools: {policy: {run_shell: deny}\n" + "".join(f"key{i}: {i}\n" for i in range(4000)))
    started = time.monotonic()
    result = load_config(path)
    assert time.monotonic() - started < 5
    assert not result.ok and result.config.tools.policy.get("*") == "ask"


def test_a_huge_config_is_not_parsed_and_the_message_says_what_is_wrong(tmp_path):
    """A 32 MB config.yaml of plain keys left the screen blank for 95 s (up to 728 MB), and a
    plain long list was blamed on anchors and aliases it did not have (crash review)."""
    path = tmp_path / "config.yaml"
    path.write_text("tools: {policy: {run_shell: deny}}\n" + "".join(f"k{i}: {'x' * 40}\n" for i in range(30_000)))
    started = time.monotonic()
    result = load_config(path)
    assert time.monotonic() - started < 1
    (error,) = result.errors
    assert "thau reads at most 1 MB" in error and "keep only the settings you change" in error
    assert result.config.tools.policy.get("*") == "ask"  # not read: every tool asks
    last_good = Config()
    assert load_config(path, last_good).config is last_good  # a reload keeps what ran
    path.write_text("ui:\n  items:\n" + "".join(f"    - {i}\n" for i in range(10_500)))
    (error,) = load_config(path).errors
    assert "more than 10000 values" in error and "aliases" not in error


def test_a_long_bad_value_is_cut_short_in_the_message(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("tools:\n  policy:\n    run_shell: [" + ", ".join(["y" * 500] * 40) + "]\n")
    result = load_config(path)
    (error,) = result.errors
    assert error.startswith(f"{path}: tools.policy.run_shell: Input should be 'ask', 'auto' or 'deny' (got ['yyy")
    assert len(error) < 400, len(error)
    assert result.config.tools.policy == {"run_shell": "ask"}


def test_thousands_of_bad_entries_make_one_short_report(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("tools:\n  policy:\n" + "".join(f"    t{i}: dney\n" for i in range(3000)))
    result = load_config(path)
    assert len(result.errors) == 21 and result.errors[-1] == f"{path}: and 2980 more problems like these"
    assert result.config.tools.policy["t2999"] == "ask"


# The user's stricter settings, and a mistake somewhere else in the same file.
STRICT = (
    "tools:\n  policy:\n    read_file: ask\n    run_shell: deny\n    write_file: auto\n"
    "  shell:\n    hidden_paths: ['~/.secret-vault']\n"
)


def _asks(config, tool: str) -> str:
    return ApprovalBook(None, config.tools.policy).decide(ToolCall(tool, {}), "read", "s1")


def test_a_byte_that_is_not_utf8_costs_nothing_else(tmp_path):
    """One Latin-1 letter made load_config return Config(): read_file ran unasked and
    ~/.secret-vault was readable."""
    path = tmp_path / "config.yaml"
    path.write_bytes('generation:\n  system_prompt: "Eres thau, r\xe1pido"\n'.encode("latin-1") + STRICT.encode())
    result = load_config(path)
    (error,) = result.errors
    assert error.startswith(f"{path}: line 2, column 31: byte 0xe1 is not UTF-8") and "save the file as UTF-8" in error
    assert error.endswith("; every tool asks before it runs until the file is fixed")
    config = result.config
    assert config.generation.system_prompt == "Eres thau, r\ufffdpido"
    assert config.tools.shell.hidden_paths == ["~/.secret-vault"]
    # What the bad byte was cannot be known (it could be in a tool's name): nothing runs unasked.
    assert config.tools.policy == {"read_file": "ask", "run_shell": "deny", "write_file": "ask", "*": "ask"}
    assert _asks(config, "read_file") == _asks(config, "word_count") == "ask"
    assert _asks(config, "run_shell") == "deny"


def test_a_yaml_mistake_in_one_section_keeps_the_others_and_every_tool_asks(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text('generation:\n  system_prompt: "It\'s "fine""\n' + STRICT)
    result = load_config(path)
    (error,) = result.errors
    assert error.startswith(f"{path}: not valid YAML at line 2, column 25: ")
    assert "not read: generation (line 1)" in error and "every tool asks before it runs" in error, error
    assert "fix" in error and "\n" not in error
    config = result.config
    assert config.tools.shell.hidden_paths == ["~/.secret-vault"]
    assert config.generation.system_prompt == Config().generation.system_prompt
    assert config.tools.policy == {"read_file": "ask", "run_shell": "deny", "write_file": "ask", "*": "ask"}
    assert _asks(config, "list_files") == "ask" and _asks(config, "run_shell") == "deny"


def test_a_yaml_mistake_in_the_tools_section_asks_for_every_tool(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("ui:\n  sidebar: false\n" + STRICT.replace("run_shell: deny", "run_shell: [deny"))
    result = load_config(path)
    (error,) = result.errors
    assert "not read: tools (line 3)" in error
    config = result.config
    assert config.ui.sidebar is False and config.tools.shell.hidden_paths == Config().tools.shell.hidden_paths
    assert config.tools.policy == {"*": "ask"}
    assert _asks(config, "read_file") == "ask"
    # Nothing readable at all, or not a mapping: the defaults, and still every tool asks.
    for text in ("tools: [\n", "- a list\n", "just words\n"):
        path.write_text(text)
        result = load_config(path)
        assert result.config.tools.policy == {"*": "ask"} and "every tool asks" in result.errors[0], text
    # While thau runs, a broken edit keeps the running config, as before.
    last_good = parse_config(STRICT)
    assert load_config(path, last_good).config is last_good


def test_a_line_yaml_cannot_join_to_a_section_is_reported_not_dropped(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("ui:\n  sidebar: false\n  render_hz: 10\nextra words here\n" + STRICT)
    (error,) = load_config(path).errors
    assert "not read: extra words here (line 4)" in error, error


def _as_a_plain_user(code: str) -> subprocess.CompletedProcess:
    """Run `code` where file permissions apply: root reads through chmod 000, so as root it
    runs in a user namespace as uid 1000 (bubblewrap), where the files are its own."""
    argv = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        assert shutil.which("bwrap"), "this test needs bubblewrap when run as root (CI installs it)"
        argv = ["bwrap", "--unshare-user", "--uid", "1000", "--gid", "1000", "--bind", "/", "/"]
        argv += ["--dev", "/dev", "--proc", "/proc", sys.executable, "-c", code]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)


def test_a_config_that_cannot_be_opened_says_what_to_do(tmp_path):
    """path.exists() raised PermissionError for a config in a folder thau may not enter (a
    traceback at start); a folder named config.yaml said only '[Errno 21] Is a directory'."""
    locked = tmp_path / "locked"
    locked.mkdir()
    unreadable = tmp_path / "unreadable.yaml"
    unreadable.write_text("tools:\n  policy:\n    run_shell: deny\n")
    for path in (locked / "config.yaml", unreadable):
        path.parent.chmod(0o700)
    locked.chmod(0)
    unreadable.chmod(0)
    try:
        code = (
            "from pathlib import Path\nfrom thau_tui.config import load_config\n"
            f"for p in ({str(locked / 'config.yaml')!r}, {str(unreadable)!r}):\n"
            "    r = load_config(Path(p))\n    print(r.config.tools.policy, r.errors)\n"
        )
        done = _as_a_plain_user(code)
    finally:
        locked.chmod(0o700)
        unreadable.chmod(0o600)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2, done.stdout
    for line, path in zip(lines, (locked / "config.yaml", unreadable)):
        assert line.startswith("{'*': 'ask'}"), line
        assert f"{path}: cannot be read: permission denied" in line and f"chmod u+r '{path}'" in line
        assert "every tool asks" in line
    # A name too long for the file system made exists() raise as well.
    result = load_config(tmp_path / ("x" * 300) / "config.yaml")
    assert "cannot be read (File name too long)" in result.errors[0]
    # A folder in the file's place.
    folder = tmp_path / "config.yaml"
    folder.mkdir()
    (error,) = load_config(folder).errors
    assert error.startswith(f"{folder}: is a folder, not a file: config.yaml must be a file (move the folder away")


def test_numbers_too_large_to_work_are_refused_by_name():
    """tools.python.memory_mb: 10**20 validated, then every run_python failed with
    'Exception occurred in preexec_fn' (setrlimit overflowed)."""
    for section, key, value in (
        ("tools.python", "memory_mb", 10**20),
        ("tools.shell", "memory_mb", 10**20),
        ("tools.shell", "max_processes", 10**12),
        ("tools.shell", "timeout", 1e300),
        ("tools.python", "timeout", 1e300),
        ("tools", "approval_timeout", 1e300),
        ("model", "n_ctx", 2**40),
        ("generation", "max_tokens", 2**40),
    ):
        first, *rest = section.split(".")
        body = f"{key}: {value}"
        for part in reversed(rest):
            body = f"{part}: {{{body}}}"
        with pytest.raises(ValueError, match=rf"^{section}\.{key}: Input should be less than or equal to"):
            parse_config(f"{first}: {{{body}}}\n")


def test_a_key_written_twice_is_named_and_the_first_sections_denials_stay(tmp_path):
    """YAML keeps the last of two equal keys: a second `tools:` further down dropped the
    first one's denials, and doctor said the file was fine (config review)."""
    path = tmp_path / "config.yaml"
    path.write_text(
        "tools:\n  policy: {run_shell: deny, write_file: deny}\nmodel:\n  n_ctx: 2048\n"
        "tools:\n  shell: {network: false}\n"
    )
    result = load_config(path)
    assert not result.ok
    assert "line 5, column 1: 'tools' is written twice (first on line 1)" in result.errors[0]
    policy = result.config.tools.policy
    assert policy["run_shell"] == "deny" and policy["write_file"] == "deny" and policy["*"] == "ask"
    assert result.config.model.n_ctx == 2048 and result.config.tools.shell.network is False

    path.write_text("generation:\n  temperature: 0.1\n  temperature: 4\n")
    result = load_config(path)
    assert "line 3, column 3: 'temperature' is written twice (first on line 2)" in result.errors[0]
    assert result.config.tools.policy["*"] == "ask"


def test_a_merge_key_may_still_be_overridden(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("generation:\n  <<: {temperature: 0.2, top_p: 0.5}\n  temperature: 0.3\n")
    result = load_config(path)
    assert result.ok, result.errors
    assert result.config.generation.temperature == 0.3 and result.config.generation.top_p == 0.5


def test_a_loop_of_links_is_called_one(tmp_path):
    """It read "a link to config.yaml, which does not exist" (config review)."""
    path = tmp_path / "config.yaml"
    path.symlink_to("config.yaml")
    result = load_config(path)
    assert "a loop of links that never reaches a file" in result.errors[0]
    assert result.config.tools.policy["*"] == "ask"


def test_a_server_address_without_http_is_named_when_the_file_is_read(tmp_path):
    """ "notaurl" was found out only when a message was sent: "no server at notaurl
    (UnsupportedProtocol)" (headless review)."""
    path = tmp_path / "config.yaml"
    for bad in ("notaurl", "127.0.0.1:8080/v1", "ftp://host/v1", "http://"):
        path.write_text(f"model:\n  backend: openai\n  base_url: {bad!r}\n")
        result = load_config(path)
        said = "model.base_url: give the server's address with http:// or https://, like http://127.0.0.1:8080/v1"
        assert f"{said} (got {bad!r})" in result.errors[0]
        assert result.config.model.base_url == "http://127.0.0.1:8080/v1"
    path.write_text("model:\n  base_url: https://llm.example/v1\n")
    assert load_config(path).ok


def test_every_tool_auto_is_an_error_named_by_its_key(tmp_path):
    """`"*": auto` was accepted (doctor said ok) though the approvals ignore it, so the chat
    asked while `thau -m` refused naming the tool's own entry (docs review). It is a bad
    value now, named by key: "*" asks, and the file's other entries stay."""
    path = tmp_path / "config.yaml"
    path.write_text('tools:\n  policy:\n    "*": auto\n    read_file: deny\n    write_file: auto\n')
    result = load_config(path)
    assert result.errors == [f"{path}: tools.policy.*: auto is not allowed: \"*\" may be ask or deny (got 'auto')"]
    assert result.config.tools.policy == {"*": "ask", "read_file": "deny", "write_file": "auto"}
    assert _asks(result.config, "run_shell") == "ask"  # nothing runs unasked while the file is wrong
    with pytest.raises(ValueError, match=r"tools\.policy\.\*: auto is not allowed"):
        parse_config('tools:\n  policy: {"*": auto}\n')
    for allowed in ("ask", "deny"):  # the values "*" may take still read
        assert parse_config(f'tools:\n  policy: {{"*": {allowed}}}\n').tools.policy == {"*": allowed}
