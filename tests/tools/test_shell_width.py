"""The persistent shell's terminal is 100 columns wide: at 200, a pytest failure's rules were
200 characters each, twice the context through run_shell (tools review)."""

from __future__ import annotations

from thau_tui.tools.shell import run_shell


def test_the_shell_reports_100_columns(ctx):
    out = run_shell({"command": "stty size"}, ctx).output
    assert out.split()[:2] == ["40", "100"], out
