"""Fixtures for the image tests: a tiny Stable Diffusion pipeline, built once, offline."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from tiny_sd import build_tiny_sd  # noqa: E402  (tests/images is on sys.path: no __init__.py)


@pytest.fixture(scope="session")
def tiny_sd(tmp_path_factory):
    """A folder holding a tiny SD 1.x pipeline in diffusers' save_pretrained layout."""
    return build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-sd")


@pytest.fixture(autouse=True)
def thau_home(tmp_path, monkeypatch):
    """Each test gets its own THAU_HOME, so images land in a fresh folder."""
    monkeypatch.setenv("THAU_HOME", str(tmp_path / "home"))
    return tmp_path / "home"
