"""`thau --message` and `thau doctor` with MCP servers configured."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import yaml
from mcp_support import HERE

from thau_tui import cli

ROOT = HERE.parent.parent


def write_config(path: Path, notes: Path) -> Path:
    config = {
        "generation": {"max_tokens": 8, "temperature": 0.0},
        "mcp": {
            "servers": [
                {
                    "name": "notes",
                    "command": sys.executable,
                    "args": [str(HERE / "notes_server.py")],
                    "env": {"NOTES_DIR": str(notes)},
                },
                {"name": "broken", "command": "thau-no-such-mcp-server"},
            ]
        },
    }
    path.write_text(yaml.safe_dump(config))
    return path


def test_one_answer_goes_on_when_a_server_cannot_start_and_says_so(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    config = write_config(tmp_path / "config.yaml", notes)
    done = subprocess.run(
        [sys.executable, "-m", "thau_tui.cli", "--config", str(config), "--message", "Say hi."],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "THAU_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    assert "mcp: MCP server 'notes': 8 tools" in done.stderr
    assert "mcp: MCP server 'broken' did not start: cannot run `thau-no-such-mcp-server`" in done.stderr


def test_doctor_has_a_line_per_server(tmp_path, monkeypatch, capsys):
    notes = tmp_path / "notes"
    notes.mkdir()
    config = write_config(tmp_path / "config.yaml", notes)
    monkeypatch.setattr(cli, "_decode_check", lambda config: "skipped in this test")
    args = argparse.Namespace(config=str(config), model=None, base_url=None, server_model=None)
    assert cli.run_doctor(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith("mcp notes: ready, 8 tools (notes__read_note, ") for line in out)
    assert (
        "mcp broken: FAILED: cannot run `thau-no-such-mcp-server`: no such program (is it installed and on PATH?)"
        in out
    )


def test_doctor_names_a_banner_on_stdout_without_the_sdks_traceback(tmp_path):
    """A server that prints a banner on stdout, then answers: doctor's stderr had an 11-line
    pydantic traceback ("Failed to parse JSONRPC message from server") and its line said
    only "ready" (MCP review). A process of its own: pytest's log capture hides what
    Python's last-resort handler writes."""
    banner = "Welcome to my server v1.2"
    server = {
        "name": "chatty",
        "command": sys.executable,
        "args": [str(HERE / "hostile_server.py")],
        "env": {"HOSTILE_BANNER": banner},
    }
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"mcp": {"servers": [server]}}))
    done = subprocess.run(
        [sys.executable, "-m", "thau_tui.cli", "--config", str(config), "doctor"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "THAU_HOME": str(tmp_path / "home")},
    )
    assert "Traceback" not in done.stderr and "JSONRPC" not in done.stderr, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("mcp chatty: "))
    assert line.startswith("mcp chatty: ready, ")
    assert line.endswith(
        f"; on its standard output it wrote {banner!r}, which is not an MCP message "
        "(a stdio server writes only protocol messages there, and its logs to stderr)"
    )
