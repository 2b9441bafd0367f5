"""Fixtures for the image tests: a tiny Stable Diffusion pipeline, built once, offline."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from tiny_sd import build_tiny_sd, save_single_file  # noqa: E402  (tests/images is on sys.path: no __init__.py)


@pytest.fixture(scope="session")
def tiny_sd(tmp_path_factory):
    """A folder holding a tiny SD 1.x pipeline in diffusers' save_pretrained layout."""
    return build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-sd")


@pytest.fixture(scope="session")
def tiny_single_file(tiny_sd, tmp_path_factory):
    """The tiny pipeline as one original-layout checkpoint, with its configs (no weights) beside it
    as models/tiny-sd/ — the layout thau documents for single-file models."""
    import shutil

    models = tmp_path_factory.mktemp("single")
    shutil.copytree(tiny_sd, models / "tiny-sd", ignore=shutil.ignore_patterns("*.safetensors"))
    return save_single_file(tiny_sd, models / "tiny-sd.safetensors")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The tiny model gains nothing from threads, and on a busy 2-core machine torch's
    spinning worker threads make it ~10x slower; restored after each test."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def thau_home(tmp_path, monkeypatch):
    """Each test gets its own THAU_HOME, so images land in a fresh folder."""
    monkeypatch.setenv("THAU_HOME", str(tmp_path / "home"))
    return tmp_path / "home"
