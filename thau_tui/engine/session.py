"""A conversation as the agent holds it (Agent.new_session, Agent.load_session)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NEW_CHAT = "New chat"  # a chat's title until its first question names it, or the user does


@dataclass
class ChatSession:
    """A conversation: its messages (no system message: that is rendered per turn) and
    per-session resources such as the persistent shell."""

    id: str
    title: str = NEW_CHAT
    messages: list[dict[str, Any]] = field(default_factory=list)
    resources: dict[str, Any] = field(default_factory=dict)
    view_start: int = 0  # messages[view_start:] is what the model sees (older ones were trimmed)
    # the room (tokens) view_start was found for: with another (a larger n_ctx after a restart,
    # another model) the view is found again from the chat's start (rereview2)
    view_budget: int | None = None

    def view_for(self, budget: int) -> int:
        """Where the view starts for a prompt of `budget` tokens: where it was, unless it was found
        for another room; the room is remembered."""
        if self.view_budget is not None and self.view_budget != budget:
            self.view_start = 0
        self.view_budget = budget
        return self.view_start

    def close(self) -> None:
        shell = self.resources.pop("shell", None)
        if shell is not None and hasattr(shell, "close"):
            shell.close()


def title_from(question: str, size: int = 60) -> str:
    """A new chat's title: its first question's first line, cut at a word with "…" when long
    (it was cut mid-word, "…with many secti": chats review)."""
    line = " ".join((question.strip().splitlines() or [""])[0].split())
    if len(line) > size:
        cut = line[: size - 1]
        line = (cut.rsplit(" ", 1)[0] if " " in cut[size // 2 :] else cut).rstrip(" ,;:.") + "…"
    return line or NEW_CHAT
