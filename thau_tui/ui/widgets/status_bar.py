"""One line under the input: model, adapter, speed, context, sandbox."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static


class StatusBar(Static):
    """Shows what the model is doing. Updated by the app, never per token."""

    model = reactive("loading model…")
    adapter = reactive("")
    speed = reactive("")
    context = reactive("")
    sandbox = reactive("")
    activity = reactive("")

    def render(self) -> str:
        parts = [self.model]
        if self.adapter:
            parts.append(f"adapter {self.adapter}")
        if self.activity:
            parts.append(self.activity)
        if self.speed:
            parts.append(self.speed)
        if self.context:
            parts.append(self.context)
        if self.sandbox:
            parts.append(f"shell: {self.sandbox}")
        return "  ·  ".join(parts)
