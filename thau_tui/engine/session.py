"""A conversation as the agent holds it (Agent.new_session, Agent.load_session)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ChatSession:
    """A conversation: its messages (no system message: that is rendered per turn) and
    per-session resources such as the persistent shell."""

    id: str
    title: str = "New chat"
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
