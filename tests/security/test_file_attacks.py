"""Attacks on the file tools: each one is refused and a canary outside the workspace keeps its bytes.

The tools run through the registry, as the agent runs them, so a refusal is a
failed ToolResult with a plain message and a bug shows up as "crashed". The
workspace, canary and config fixtures come from this folder's conftest.py.
"""

from __future__ import annotations

import os
import threading

import pytest

from thau_tui.tools import build_registry, file_search
from thau_tui.tools import files as files_module
from thau_tui.tools.base import ToolContext, ToolResult

MB = 1024 * 1024


@pytest.fixture
def ctx(workspace, config):
    return ToolContext(workspace=workspace, config=config)


@pytest.fixture
def registry():
    return build_registry()


def call(registry, ctx, tool: str, **args) -> ToolResult:
    return registry.get(tool).run(args, ctx)


def assert_refused(result: ToolResult, message: str) -> None:
    assert not result.ok, result.output
    assert "crashed" not in result.output
    assert message in result.output, result.output


def test_write_through_a_hard_link_to_an_outside_file_is_refused(registry, ctx, workspace, canary):
    before = canary.read_bytes()
    os.link(canary, workspace / "notes.txt")
    for mode in ("overwrite", "append"):
        result = call(registry, ctx, "write_file", path="notes.txt", content="pwned", mode=mode)
        assert_refused(result, "'notes.txt' is a hard link (2 names for one file")
    assert canary.read_bytes() == before
    # the refusal did not truncate it either (the link is still there, still the canary's bytes)
    assert (workspace / "notes.txt").read_bytes() == before


def test_a_hard_link_to_a_hidden_file_is_neither_read_nor_searched(registry, ctx, workspace, tmp_path):
    """Hidden folders (thau's approvals, ~/.ssh) are checked by path: a hard link in the
    workspace to a file there was read by read_file and search_code, with no card."""
    secret = tmp_path / "outside" / "approvals.json"
    secret.parent.mkdir(exist_ok=True)
    secret.write_text('{"note": "SECRET-IN-HIDDEN-FOLDER"}\n')
    os.link(secret, workspace / "notes.json")
    result = call(registry, ctx, "read_file", path="notes.json")
    assert_refused(result, "'notes.json' is a hard link (2 names for one file")
    assert "SECRET" not in result.output
    found = call(registry, ctx, "search_code", pattern="SECRET-IN")
    assert "SECRET-IN-HIDDEN-FOLDER" not in found.output
    (workspace / "plain.json").write_text('{"note": "SECRET-IN-PLAIN-SIGHT"}\n')
    assert "SECRET-IN-PLAIN-SIGHT" in call(registry, ctx, "search_code", pattern="SECRET-IN").output


def test_symlink_as_last_component_to_an_outside_file_is_refused(registry, ctx, workspace, canary):
    before = canary.read_bytes()
    os.symlink(canary, workspace / "notes.txt")
    result = call(registry, ctx, "write_file", path="notes.txt", content="pwned")
    assert_refused(result, "is a link")
    assert canary.read_bytes() == before


def test_symlink_swapped_in_after_the_path_check_is_refused(registry, ctx, workspace, canary, monkeypatch):
    """The race: the path checks out, then a link to the canary replaces the file before the open."""
    before = canary.read_bytes()
    (workspace / "notes.txt").write_text("inside")
    checked = files_module.resolve_in_workspace

    def check_then_swap(root, path, config=None):
        resolved = checked(root, path, config)
        os.unlink(resolved)
        os.symlink(canary, resolved)
        return resolved

    monkeypatch.setattr(files_module, "resolve_in_workspace", check_then_swap)
    result = call(registry, ctx, "write_file", path="notes.txt", content="pwned")
    assert_refused(result, "'notes.txt' or a folder on its way is a link; write_file does not write through links")
    assert canary.read_bytes() == before


def _swap_folder_after_the_check(monkeypatch, workspace, target):
    """The race on a folder: the path checks out (sub/ is a real folder inside), then a
    process the shell left running replaces sub/ with a link to `target` before the open."""
    (workspace / "sub").mkdir()
    checked = files_module.resolve_in_workspace

    def check_then_swap(root, path, config=None):
        resolved = checked(root, path, config)
        sub = workspace / "sub"
        for leftover in sub.iterdir():
            leftover.unlink()
        sub.rmdir()
        os.symlink(target, sub)
        return resolved

    monkeypatch.setattr(files_module, "resolve_in_workspace", check_then_swap)


@pytest.mark.parametrize("mode", ["overwrite", "append"])
def test_a_folder_swapped_for_a_link_after_the_check_does_not_lead_a_write_outside(
    registry, ctx, workspace, canary, monkeypatch, mode
):
    before = canary.read_bytes()
    _swap_folder_after_the_check(monkeypatch, workspace, canary.parent)
    result = call(registry, ctx, "write_file", path="sub/canary.txt", content="pwned", mode=mode)
    assert_refused(result, "'sub/canary.txt' or a folder on its way is a link; write_file does not write through")
    assert canary.read_bytes() == before


def test_a_folder_swapped_for_a_link_after_the_check_does_not_lead_a_new_file_outside(
    registry, ctx, workspace, canary, monkeypatch
):
    _swap_folder_after_the_check(monkeypatch, workspace, canary.parent)
    result = call(registry, ctx, "write_file", path="sub/new.txt", content="pwned")
    assert_refused(result, "or a folder on its way is a link")
    # the canary fixture checks that nothing new appeared beside the canary


@pytest.mark.parametrize("tool", ["read_file", "list_directory"])
def test_a_folder_swapped_for_a_link_after_the_check_does_not_lead_a_read_outside(
    registry, ctx, workspace, canary, monkeypatch, tool
):
    _swap_folder_after_the_check(monkeypatch, workspace, canary.parent)
    path = "sub/canary.txt" if tool == "read_file" else "sub"
    result = call(registry, ctx, tool, path=path)
    assert_refused(result, f"'{path}' or a folder on its way is a link now")
    assert "canary" not in result.output.replace(f"'{path}'", "")


def test_search_code_does_not_read_through_a_folder_swapped_for_a_link(registry, ctx, workspace, canary, monkeypatch):
    (workspace / "sub").mkdir()
    (workspace / "sub" / "canary.txt").write_text("inside\n")

    def walk_then_swap(workspace_, root, context):
        (workspace / "sub" / "canary.txt").unlink()
        (workspace / "sub").rmdir()
        os.symlink(canary.parent, workspace / "sub")  # after the walk listed sub/canary.txt
        yield workspace / "sub" / "canary.txt"

    monkeypatch.setattr(file_search, "_text_files", walk_then_swap)
    result = call(registry, ctx, "search_code", pattern="untouched")
    assert "the canary is untouched" not in result.output, result.output


@pytest.mark.parametrize("mode", ["overwrite", "append"])  # append opens read-write, to see the last byte
def test_a_fifo_is_refused_without_hanging(registry, ctx, workspace, canary, mode):
    before = canary.read_bytes()
    os.mkfifo(workspace / "pipe")  # nobody reads it: a plain open() for writing waits forever
    outcome: list[ToolResult] = []
    worker = threading.Thread(
        target=lambda: outcome.append(call(registry, ctx, "write_file", path="pipe", content="x", mode=mode))
    )
    worker.start()
    worker.join(timeout=60)  # a guard that ends a hang, not a measure of speed
    blocked = worker.is_alive()
    if blocked:  # give the blocked open() a reader, so the thread ends
        os.close(os.open(workspace / "pipe", os.O_RDONLY | os.O_NONBLOCK))
        worker.join()
    assert not blocked, "write_file blocked on the FIFO"
    assert_refused(outcome[0], "'pipe' is not a regular file")
    assert canary.read_bytes() == before


def test_an_11_mb_write_is_refused_by_default_and_accepted_when_the_cap_is_raised(
    registry, ctx, workspace, config, canary
):
    before = canary.read_bytes()
    big = "x" * (11 * MB)
    result = call(registry, ctx, "write_file", path="big.txt", content=big)
    assert_refused(result, "over the 10 MB cap on written files; raise tools.files.max_write_mb")
    assert not (workspace / "big.txt").exists()
    config.tools.files.max_write_mb = 12
    result = call(registry, ctx, "write_file", path="big.txt", content=big)
    assert result.ok, result.output
    assert (workspace / "big.txt").stat().st_size == 11 * MB
    assert canary.read_bytes() == before


def test_the_cap_counts_utf8_bytes_not_characters(registry, ctx, workspace, config):
    config.tools.files.max_write_mb = 1
    wide = "é" * (MB // 2 + 1)  # fewer characters than the cap, more bytes
    result = call(registry, ctx, "write_file", path="wide.txt", content=wide)
    assert_refused(result, "over the 1 MB cap")
    assert not (workspace / "wide.txt").exists()


def test_an_append_that_pushes_the_file_over_the_cap_is_refused(registry, ctx, workspace, config, canary):
    before = canary.read_bytes()
    config.tools.files.max_write_mb = 1
    log = workspace / "log.txt"
    log.write_bytes(b"a" * (MB - 100))
    result = call(registry, ctx, "write_file", path="log.txt", content="b" * 200, mode="append")
    assert_refused(result, "would make it 1.0 MB, over the 1 MB cap")
    assert log.read_bytes() == b"a" * (MB - 100)
    # 99 characters and the newline the append puts first (the file does not end with one): exactly 1 MB
    assert call(registry, ctx, "write_file", path="log.txt", content="b" * 99, mode="append").ok
    assert log.stat().st_size == MB and log.read_bytes().endswith(b"a\n" + b"b" * 99)
    assert canary.read_bytes() == before


@pytest.fixture
def git_folders(workspace):
    """A repository with a nested one, and a link and a dotted path that lead into .git."""
    for folder in (workspace / ".git", workspace / "sub" / ".git" / "hooks", workspace / "a"):
        folder.mkdir(parents=True, exist_ok=True)
    (workspace / ".git" / "config").write_text("[core]\n")
    os.symlink(workspace / ".git", workspace / "gitlink")
    return workspace


GIT_PATHS = [".git/config", "sub/.git/hooks/pre-commit", "a/../.git/config", "gitlink/config", "sub/.git"]


@pytest.mark.parametrize("path", GIT_PATHS)
def test_writes_into_a_git_folder_are_refused(registry, ctx, git_folders, canary, path):
    before = canary.read_bytes()
    planted = "[core]\n\tfsmonitor = touch PWNED\n"
    for mode in ("overwrite", "append"):
        result = call(registry, ctx, "write_file", path=path, content=planted, mode=mode)
        assert_refused(result, "is inside a .git folder; git runs hooks and config there")
        assert "tools.files.allow_git_writes" in result.output
    assert (git_folders / ".git" / "config").read_text() == "[core]\n"
    assert not (git_folders / "sub" / ".git" / "hooks" / "pre-commit").exists()
    assert canary.read_bytes() == before


@pytest.mark.parametrize("path", [".git/config", "sub/.git/hooks/pre-commit", "./.git/config"])
def test_git_writes_are_allowed_when_the_config_says_so(registry, ctx, git_folders, config, path):
    config.tools.files.allow_git_writes = True
    result = call(registry, ctx, "write_file", path=path, content="[user]\n")
    assert result.ok, result.output
    assert (git_folders / os.path.normpath(path)).read_text() == "[user]\n"


@pytest.mark.parametrize("path", [".hg/hgrc", "sub/.hg/hgrc", ".HG/hgrc", ".jj/repo/config.toml"])
def test_writes_into_another_version_control_folder_are_refused(registry, ctx, workspace, path):
    """Mercurial runs .hg/hgrc's [hooks] (and loads its [extensions]) on the host at the
    user's next hg command: write_file wrote `pre-status = touch ...` there and plain
    `hg status` ran it (attacker review). Jujutsu's repo config names a pager and an editor."""
    folder = (workspace / path).parent
    folder.mkdir(parents=True, exist_ok=True)
    result = call(registry, ctx, "write_file", path=path, content="[hooks]\npre-status = touch PWNED\n")
    assert_refused(result, "runs the hooks and commands its config names as code outside the sandbox")
    assert "tools.files.allow_git_writes" in result.output
    assert not (workspace / path).exists()


def test_a_folder_named_like_git_is_not_refused(registry, ctx, workspace):
    for path in ("my.git/config", ".github/workflows/ci.yml", "docs/.gitignore"):
        assert call(registry, ctx, "write_file", path=path, content="ok\n").ok


@pytest.mark.parametrize("content", ["lone \ud800 surrogate", "escaped \udcff byte", "nul \0 inside"])
def test_odd_strings_are_written_not_crashed_on(registry, ctx, workspace, content):
    result = call(registry, ctx, "write_file", path="odd.txt", content=content)
    assert result.ok, result.output
    assert (workspace / "odd.txt").read_bytes() == content.encode("utf-8", errors="replace")


@pytest.mark.parametrize("tool", ["read_file", "write_file", "list_directory"])
@pytest.mark.parametrize("path", ["notes\0.txt", "a" * 5000, "/".join(["abcdefghij"] * 500)])
def test_nul_bytes_and_over_long_paths_are_an_invalid_path(registry, ctx, canary, tool, path):
    before = canary.read_bytes()
    args = {"path": path, "content": "x"} if tool == "write_file" else {"path": path}
    result = call(registry, ctx, tool, **args)
    assert_refused(result, "invalid path")
    assert canary.read_bytes() == before


TRAVERSALS = [
    "../outside/canary.txt",
    "sub/../../outside/canary.txt",
    "./../outside/canary.txt",
    "sub/./../../outside/./canary.txt",
    "..//outside//canary.txt",
    "{canary}",  # absolute
    "{workspace}/../outside/canary.txt",  # absolute, starts inside
    "/proc/self/root{canary}",
    "~/../../../../../..{canary}",
    "out-link/canary.txt",  # a folder link inside that points outside
    "chain-link/canary.txt",  # a link to a link that points outside
]


@pytest.mark.parametrize("template", TRAVERSALS)
@pytest.mark.parametrize("tool", ["read_file", "write_file", "list_directory", "search_code"])
def test_every_form_of_traversal_is_refused(registry, ctx, workspace, canary, template, tool):
    (workspace / "sub").mkdir()
    os.symlink(canary.parent, workspace / "out-link")
    os.symlink(workspace / "out-link", workspace / "chain-link")
    path = template.format(canary=canary, workspace=workspace)
    if tool == "list_directory":
        path = path.rsplit("/", 1)[0] or "/"
    args = {"pattern": "canary", "path": path} if tool == "search_code" else {"path": path}
    if tool == "write_file":
        args["content"] = "pwned"
    result = call(registry, ctx, tool, **args)
    assert_refused(result, "outside the workspace")
    assert "the canary is untouched" not in result.output


def test_links_that_stay_inside_the_workspace_work(registry, ctx, workspace):
    (workspace / "real").mkdir()
    (workspace / "real" / "a.txt").write_text("inside")
    os.symlink(workspace / "real", workspace / "alias")
    assert call(registry, ctx, "read_file", path="alias/a.txt").output == "inside"
    assert call(registry, ctx, "list_directory", path="alias").ok


def test_run_tests_does_not_write_its_snippet_through_a_planted_thau_link(registry, ctx, workspace, canary):
    """A .thau folder planted as a link to a folder outside: the test code must not land there."""
    os.symlink(canary.parent, workspace / ".thau")
    result = call(registry, ctx, "run_tests", code="def test_ok():\n    assert True\n")
    assert_refused(result, "cannot write the test code to .thau/tests")
    assert "must be plain folders in the workspace" in result.output
    # the canary fixture checks that nothing appeared beside the canary


def test_a_home_folder_workspace_keeps_credentials_and_thau_folders_from_the_file_tools(
    workspace, registry, ctx, monkeypatch
):
    """The sandbox hides ~/.ssh and thau's own folders from commands; with the workspace at
    the home folder, read_file (which runs without asking) read the key and write_file could
    plant a config.yaml or plugin where thau reads them."""
    monkeypatch.setenv("HOME", str(workspace))
    monkeypatch.setenv("THAU_HOME", str(workspace / ".thau"))
    (workspace / ".ssh").mkdir()
    (workspace / ".ssh" / "id_ed25519").write_text("PRIVATE KEY")
    (workspace / "notes.txt").write_text("PRIVATE is a word here too")
    for path in (".ssh/id_ed25519", "~/.ssh/id_ed25519", str(workspace / ".ssh")):
        result = call(registry, ctx, "read_file", path=path)
        assert not result.ok and "PRIVATE KEY" not in result.output and "hidden credentials" in result.output, path
    listing = call(registry, ctx, "list_directory", path=".ssh")
    assert not listing.ok and "id_ed25519" not in listing.output
    for path in (".ssh/authorized_keys", ".thau/config/config.yaml", ".thau/config/tools/evil.py"):
        result = call(registry, ctx, "write_file", path=path, content="planted")
        assert not result.ok and "neither read nor write" in result.output, path
        assert not (workspace / path).exists()
    found = call(registry, ctx, "search_code", pattern="PRIVATE", path=".")
    assert found.ok and "notes.txt" in found.output and "id_ed25519" not in found.output
    assert call(registry, ctx, "read_file", path="notes.txt").ok


def test_a_home_folder_workspace_keeps_its_startup_files_from_the_file_tools(workspace, registry, ctx, monkeypatch):
    """With the workspace at the home folder, write_file could append to ~/.bashrc or create
    ~/.zshenv (run by the next terminal, outside the sandbox), and read_file (no approval)
    read ~/.bash_history."""
    monkeypatch.setenv("HOME", str(workspace))
    monkeypatch.setenv("THAU_HOME", str(workspace / ".thau"))
    (workspace / ".bashrc").write_text("# mine\n")
    (workspace / ".bash_history").write_text("export TOKEN=hunter2\n")
    (workspace / "bin").mkdir()
    for path in (".bashrc", ".zshenv", ".config/autostart/x.desktop", "bin/ls", "~/.profile"):
        result = call(registry, ctx, "write_file", path=path, content="touch PWNED")
        assert not result.ok and "startup and settings files" in result.output, path
    read = call(registry, ctx, "read_file", path=".bash_history")
    assert not read.ok and "hunter2" not in read.output
    found = call(registry, ctx, "search_code", pattern="hunter2", path=".")
    assert ".bash_history" not in found.output
    assert (workspace / ".bashrc").read_text() == "# mine\n" and not (workspace / ".zshenv").exists()
    assert call(registry, ctx, "write_file", path="notes.txt", content="fine").ok
    assert call(registry, ctx, "write_file", path="projects/app.py", content="print(1)").ok


def test_a_home_folder_workspace_keeps_linked_dotfiles_and_any_case_from_the_file_tools(
    workspace, registry, ctx, monkeypatch
):
    """~/.config/nvim linked to ~/dotfiles/nvim: the resolved path's first folder is
    'dotfiles', so the check let both names through; and 'BIN' or 'library' is the same
    folder as bin or Library where names ignore case (macOS)."""
    monkeypatch.setenv("HOME", str(workspace))
    monkeypatch.setenv("THAU_HOME", str(workspace / ".thau"))
    (workspace / "dotfiles" / "nvim").mkdir(parents=True)
    (workspace / ".config").mkdir()
    (workspace / ".config" / "nvim").symlink_to(workspace / "dotfiles" / "nvim")
    for path in (".config/nvim/init.lua", "dotfiles/nvim/init.lua", "BIN/ls", "library/LaunchAgents/x.plist"):
        result = call(registry, ctx, "write_file", path=path, content="os.execute('touch PWNED')")
        assert not result.ok and "startup and settings files" in result.output, path
    assert list((workspace / "dotfiles" / "nvim").iterdir()) == []
    assert call(registry, ctx, "write_file", path="dotfiles/README", content="mine").ok


@pytest.mark.parametrize(
    ("link", "target", "path"),
    [
        ("notes.txt", ".vscode/tasks.json", "notes.txt"),  # the file itself is a link
        ("docs", ".vscode", "docs/settings.json"),  # a folder on the way is one
        ("docs", ".vscode", "docs/../docs/settings.json"),
        # fourth review: a link back to the workspace, one above it, a link then `..`
        ("docs", ".", "docs/.vscode/tasks.json"),
        ("up", "..", "up/workspace/.vscode/tasks.json"),
        ("L", ".vscode/a/b", "L/../../tasks.json"),
    ],
)
def test_a_write_through_a_link_in_the_workspace_is_refused_naming_the_real_file(
    registry, ctx, workspace, link, target, path
):
    """The card said `notes.txt`; write_file followed the link and wrote .vscode/tasks.json,
    which VS Code runs when the folder opens (attacker review)."""
    (workspace / ".vscode" / "a" / "b").mkdir(parents=True)
    (workspace / ".vscode" / "tasks.json").write_text("{}")
    os.symlink(target, workspace / link)
    result = call(registry, ctx, "write_file", path=path, content='{"runOn": "folderOpen"}')
    assert_refused(result, "leads through a link (or out and back in) to '.vscode/")
    assert (workspace / ".vscode" / "tasks.json").read_text() == "{}"
    assert not (workspace / ".vscode" / "settings.json").exists()
    assert call(registry, ctx, "write_file", path=".vscode/notes.md", content="x").ok  # the real path works
    assert call(registry, ctx, "write_file", path=str(workspace / "plain.txt"), content="x").ok
    # the workspace named through a link above it (macOS's /var, a linked project folder)
    alias = workspace.parent / "alias"
    alias.symlink_to(workspace)
    result = call(registry, ctx, "write_file", path=str(alias / path), content='{"runOn": "folderOpen"}')
    assert_refused(result, "leads through a link (or out and back in) to '.vscode/")
    assert (workspace / ".vscode" / "tasks.json").read_text() == "{}"
    assert call(registry, ctx, "write_file", path=str(alias / "plain2.txt"), content="x").ok
    # `..` past real folders: the card would show a path that names another folder (attacker review, 2026-12-07 night)
    assert_refused(
        call(registry, ctx, "write_file", path=".vscode/a/../plain3.txt", content="x"),
        "write it as '.vscode/plain3.txt'",
    )


def test_a_tree_of_empty_folders_does_not_hold_a_search_past_its_bound(registry, ctx, workspace, monkeypatch):
    """The time bound was checked once a file: 40,000 empty folders held search_code (a
    tool that runs without asking) for 28 s against its 10 s (second attacker review)."""
    for a in range(40):
        for b in range(25):
            (workspace / f"d{a}" / f"e{b}").mkdir(parents=True)
    walked: list[str] = []
    real_walk = os.walk

    def counting_walk(top, *args, **kwargs):
        for entry in real_walk(top, *args, **kwargs):
            walked.append(entry[0])
            yield entry

    monkeypatch.setattr(file_search.os, "walk", counting_walk)
    monkeypatch.setattr(file_search, "SEARCH_SECONDS", 0.0)
    result = call(registry, ctx, "search_code", pattern="x")
    assert "stopped after 0 s" in result.output, result.output
    assert len(walked) <= 2, len(walked)  # it stopped at once, not after all 1,041 folders
    monkeypatch.setattr(file_search, "SEARCH_SECONDS", 60.0)
    assert "stopped" not in call(registry, ctx, "search_code", pattern="x").output  # a whole walk says nothing


def test_a_newline_in_a_file_name_forges_no_match_or_entry(registry, ctx, workspace):
    """A file named "x.txt\\nsecrets.env:1: API_KEY=needle-forged" made search_code show a
    match in secrets.env, which does not exist, and list_directory two entries and a size
    (attacker review of 2026-12-07). Its newline is a stand-in (␊) now, as ESC is."""
    forged = "x.txt\nsecrets.env:1: API_KEY=needle-forged"
    (workspace / forged).write_text("needle here\n")
    (workspace / "tab\tname").write_text("")
    found = call(registry, ctx, "search_code", pattern="needle")
    assert "x.txt\u240asecrets.env:1: API_KEY=needle-forged:1: needle here" in found.output, found.output
    assert not any(line.startswith("secrets.env") for line in found.output.splitlines()), found.output
    listed = call(registry, ctx, "list_directory", path=".")
    assert "x.txt\u240asecrets.env:1: API_KEY=needle-forged  (12 B)" in listed.output, listed.output
    assert "tab\u2409name  (0 B)" in listed.output
    assert not any(line.startswith("secrets.env") for line in listed.output.splitlines()), listed.output
    # the shown name reads the file it stands for: it said "does not exist" (diff review)
    read = call(registry, ctx, "read_file", path="x.txt\u240asecrets.env:1: API_KEY=needle-forged")
    assert read.ok and read.output.startswith("needle here"), read.output
    assert call(registry, ctx, "list_directory", path="tab\u2409name").ok is False  # a file, not a folder
    assert "does not exist" not in call(registry, ctx, "read_file", path="tab\u2409name").output
    # and write_file writes it: it said the shown name led "through a link" to itself (attacker review)
    written = call(registry, ctx, "write_file", path="tab\u2409name", content="kept")
    assert written.ok, written.output
    assert (workspace / "tab\tname").read_text() == "kept"
