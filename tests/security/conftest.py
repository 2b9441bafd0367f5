"""The attack suite's shared pieces: a workspace, and a canary outside it that no attack may touch."""

from __future__ import annotations

import hashlib

import pytest

from thau_tui.config import Config


@pytest.fixture
def workspace(tmp_path):
    folder = tmp_path / "workspace"
    folder.mkdir()
    return folder


@pytest.fixture
def canary(tmp_path):
    """A file beside the workspace (outside it). Every test checks it is unchanged at the end."""
    outside = tmp_path / "outside"
    outside.mkdir()
    path = outside / "canary.txt"
    path.write_text("the canary is untouched\n")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    yield path
    assert path.exists(), "an attack removed the canary outside the workspace"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before, "an attack changed the canary"
    assert sorted(p.name for p in outside.iterdir()) == ["canary.txt"], "an attack wrote beside the canary"


@pytest.fixture
def config():
    return Config()


@pytest.fixture
def dirs(tmp_path):
    """Two folders: one where an attack runs ungated (to show that it works), one where it
    runs gated the way thau gates a call."""
    ungated, gated = tmp_path / "ungated", tmp_path / "gated"
    ungated.mkdir()
    gated.mkdir()
    return ungated, gated
