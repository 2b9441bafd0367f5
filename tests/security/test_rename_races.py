"""A folder renamed between the file tools' checks and their open (kept.py).

A process an approved command leaves running in the sandbox can swap two ordinary folders
in a loop (no link involved, so opening without following links does not help). Whenever the
swap falls between the checks, which read names, and the open, the name checked led into a
kept folder: an approved write_file of 'decoy/.venv/.../x.pth' landed in the .venv thau runs
on (52 of 200 approved writes in a loop beside a real swapping process), and read_file
returned a hidden file without a card. Here the swap falls there every time."""

from __future__ import annotations

import subprocess

from thau_tui.config import Config
from thau_tui.tools import build_registry, file_search, files, sandbox
from thau_tui.tools.base import ToolContext


def swap(a, b):
    """Exchange two folders' names, as the background process does."""
    middle = a.with_name(a.name + ".swapping")
    a.rename(middle)
    b.rename(a)
    middle.rename(b)


def swapping_after(monkeypatch, module, name, a, b):
    """Make `module.name` (called between the checks and the open) swap `a` and `b` first."""
    original = getattr(module, name)

    def then_swap(*args, **kwargs):
        swap(a, b)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, then_swap)


def test_a_write_checked_on_a_decoy_does_not_land_in_the_venv_thau_runs_on(tmp_path, monkeypatch):
    workspace = tmp_path / "ws"
    real = workspace / "proj" / ".venv" / "lib" / "site-packages"
    real.mkdir(parents=True)
    (workspace / "decoy" / ".venv" / "lib" / "site-packages").mkdir(parents=True)
    monkeypatch.setattr(sandbox, "interpreter_folders", lambda: [(workspace / "proj" / ".venv").resolve()])
    real_id = real.stat().st_ino
    context = ToolContext(workspace=workspace, config=Config())
    write = build_registry().get("write_file")
    direct = write.run({"path": "proj/.venv/lib/site-packages/zz.pth", "content": "import os\n"}, context)
    assert not direct.ok and "runs on" in direct.output
    swapping_after(monkeypatch, files, "link_on_the_way", workspace / "proj", workspace / "decoy")
    written = write.run({"path": "decoy/.venv/lib/site-packages/zz.pth", "content": "import os\n"}, context)
    assert not written.ok and "the Python environment thau runs on" in written.output
    assert "renamed since the path was checked" in written.output
    (site,) = [p for p in workspace.rglob("site-packages") if p.stat().st_ino == real_id]
    assert list(site.iterdir()) == []
    monkeypatch.undo()
    swap(workspace / "proj", workspace / "decoy")  # back as they were: the decoy is no kept folder
    assert write.run({"path": "decoy/.venv/lib/site-packages/ok.txt", "content": "fine\n"}, context).ok


def test_a_write_checked_on_a_decoy_does_not_land_in_a_repositorys_own_folder(tmp_path, monkeypatch):
    """A repository whose folder is not called .git (git init --separate-git-dir): its config
    runs as code at the user's next git status (core.fsmonitor)."""
    workspace = tmp_path / "ws"
    (workspace / "app").mkdir(parents=True)
    (workspace / ".repo").mkdir()
    (workspace / "x" / "app.git").mkdir(parents=True)
    subprocess.run(
        ["git", "init", "-q", "--separate-git-dir", str(workspace / ".repo" / "app.git"), str(workspace / "app")],
        check=True,
    )
    config = (workspace / ".repo" / "app.git" / "config").read_text()
    context = ToolContext(workspace=workspace, config=Config())
    write = build_registry().get("write_file")
    swapping_after(monkeypatch, files, "link_on_the_way", workspace / ".repo", workspace / "x")
    hostile = "[core]\n\tfsmonitor = touch PWNED\n"
    written = write.run({"path": "x/app.git/config", "content": hostile}, context)
    assert not written.ok and "a git repository's own folder" in written.output
    (real,) = [p for p in workspace.rglob("app.git") if (p / "HEAD").exists()]
    assert (real / "config").read_text() == config


def test_a_hidden_file_is_not_read_through_a_decoy_renamed_after_the_check(tmp_path, monkeypatch):
    workspace = tmp_path / "ws"
    (workspace / "app").mkdir(parents=True)
    (workspace / "app" / ".env").write_text("DB_PASSWORD=SECRET-123\n")
    (workspace / "decoy").mkdir()
    (workspace / "decoy" / ".env").write_text("nothing here\n")
    config = Config()
    config.tools.shell.hidden_paths = [str(workspace / "app" / ".env")]
    context = ToolContext(workspace=workspace, config=config)
    registry = build_registry()
    read = registry.get("read_file")
    assert "hidden" in read.run({"path": "app/.env"}, context).output
    swapping_after(monkeypatch, files, "relative_name", workspace / "app", workspace / "decoy")
    result = read.run({"path": "decoy/.env"}, context)
    assert not result.ok and "SECRET" not in result.output
    assert "leads into a hidden credentials path" in result.output
    monkeypatch.undo()
    swap(workspace / "app", workspace / "decoy")  # back as they were
    original = file_search._text_files

    def walk_then_swap(*args):
        for found in original(*args):
            if found.parent.name == "decoy":
                swap(workspace / "app", workspace / "decoy")
            yield found

    monkeypatch.setattr(file_search, "_text_files", walk_then_swap)
    searched = registry.get("search_code").run({"pattern": "PASSWORD"}, context)
    assert "SECRET" not in searched.output
