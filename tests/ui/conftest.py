"""What the UI tests share as fixtures: what the app told the user."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from textual.app import App


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
