"""The turn renderer on a one-widget host: engine events in, the chat and the host's screen parts out."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

from scripted import ScriptedBackend
from test_app import make_app
from textual.app import App

from thau_tui.config import Config
from thau_tui.engine.events import (
    ApprovalRequested,
    Decision,
    TextDelta,
    ToolCallProposed,
    ToolFinished,
    ToolStarted,
    TurnDone,
    TurnStats,
)
from thau_tui.tools import build_registry
from thau_tui.tools.base import ToolCall, ToolResult
from thau_tui.ui import turn
from thau_tui.ui.turn import TurnHost, TurnRenderer
from thau_tui.ui.widgets.chat import AssistantMessage, ChatView, NoteMessage, UserMessage


class Host(App):
    """The smallest TurnHost: a chat, and a record of what the renderer asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.config = Config()
        self.registry = build_registry()
        self.thinking = "thinking…"
        self.asked: list[tuple[str, object]] = []

    def compose(self):
        yield ChatView()

    def show_activity(self, text: str) -> None:
        self.asked.append(("activity", text))

    def focus_input(self) -> None:
        self.asked.append(("focus", None))

    def show_image(self, path: str) -> None:
        self.asked.append(("image", path))

    def show_stats(self, stats: TurnStats) -> None:
        self.asked.append(("stats", stats.tokens))

    def give_back(self, text: str) -> None:
        self.asked.append(("give back", text))


async def test_a_turn_is_drawn_on_any_host():
    host = Host()
    assert isinstance(host, TurnHost)
    async with host.run_test(size=(100, 30)) as pilot:
        chat = host.query_one(ChatView)
        renderer = TurnRenderer(host, chat)
        await renderer.ask("draw a cat")
        call = ToolCall("generate_image", {"prompt": "a cat"})
        future = asyncio.get_running_loop().create_future()
        for event in (
            TextDelta("Here "),
            TextDelta("it comes."),
            ToolCallProposed(call, "write"),
            ApprovalRequested(call, "write", future),
        ):
            await renderer.handle(event)
        # no image model configured: the card denies at once rather than asking
        assert future.done() and future.result().kind == "deny" and "images.model" in future.result().reason
        for event in (
            ToolStarted(call),
            ToolFinished(call, ToolResult("made", data={"image_path": "/tmp/cat.png"})),
            TurnDone(TurnStats(tokens=7)),
        ):
            await renderer.handle(event)
        await pilot.pause()
        assert [type(w) for w in chat.children[:2]] == [UserMessage, AssistantMessage]
        assert chat.children[1].text == "Here it comes." == renderer.text
        assert renderer.cards[call.id].state == "done"
        assert ("activity", "writing…") in host.asked and ("activity", "running generate_image…") in host.asked
        assert ("image", "/tmp/cat.png") in host.asked and host.asked[-1] == ("stats", 7)


async def test_a_card_that_ran_unasked_says_why_to_its_end():
    """A command a remembered approval let run looked like one the user had just allowed."""
    host = Host()
    async with host.run_test(size=(120, 30)) as pilot:
        renderer = TurnRenderer(host, host.query_one(ChatView))
        await renderer.ask("list and read")
        shell, read = ToolCall("run_shell", {"command": "ls"}), ToolCall("read_file", {"path": "a"})
        for event in (
            ToolCallProposed(shell, "exec"),
            ToolStarted(shell, Decision("once", reason="allowed for this chat", by="auto")),
            ToolFinished(shell, ToolResult("a.txt")),
            ToolCallProposed(read, "read"),
            ToolStarted(read, Decision("once", by="auto")),
            ToolFinished(read, ToolResult("hello")),
        ):
            await renderer.handle(event)
        await pilot.pause()
        label = str(renderer.cards[shell.id].query_one(".state-label").render())
        assert label == "done · ran unasked: allowed for this chat"
        assert str(renderer.cards[read.id].query_one(".state-label").render()) == "done"


async def test_a_failure_is_a_note_in_the_chat_and_an_empty_answer_goes():
    host = Host()
    async with host.run_test(size=(100, 30)) as pilot:
        chat = host.query_one(ChatView)
        renderer = TurnRenderer(host, chat)
        await renderer.ask("hi")
        await renderer.failed(RuntimeError("the screen broke"))
        await pilot.pause()
        assert [type(w) for w in chat.children] == [UserMessage, NoteMessage]  # no empty answer left
        assert "(RuntimeError: the screen broke)" in str(chat.children[-1].render())


def test_the_app_is_a_turn_host_and_turn_py_does_not_import_it(tmp_path):
    assert isinstance(make_app(tmp_path, ScriptedBackend([])), TurnHost)
    imported = set()
    for node in ast.walk(ast.parse(Path(turn.__file__).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):  # turn.py is in thau_tui.ui: level 1 is that package
            package = ".".join(["thau_tui", "ui"][: 3 - node.level]) if node.level else ""
            module = ".".join(part for part in (package, node.module) if part)
            imported |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    assert "thau_tui.ui.widgets.chat" in imported  # the walk reads relative imports
    assert "thau_tui.ui.app" not in imported
