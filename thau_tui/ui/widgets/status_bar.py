"""One line under the input: model, adapter, activity, speed, context, tool-call path, sandbox."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from ..visible import visible

SEPARATOR = "  ·  "


def fit_parts(parts: list[tuple[int, str]], width: int, separator: str = SEPARATOR) -> str:
    """Join, in their order, the parts that fit in `width`. Each comes with its rank (0:
    most useful); parts are taken most useful first, each if it still fits, so a short
    less useful part may stay where a long one went. Rank 0 stays, shortened if need be."""
    shown = [(i, text) for i, (rank, text) in enumerate(parts) if text and rank == 0]
    for i in sorted((i for i, (rank, text) in enumerate(parts) if text and rank), key=lambda i: parts[i][0]):
        trial = sorted(shown + [(i, parts[i][1])])
        if len(separator.join(text for _, text in trial)) <= width:
            shown = trial
    line = separator.join(text for _, text in shown)
    if len(line) > width > 0:
        line = line[: width - 1].rstrip() + "…"
    return line


class StatusBar(Static):
    """Shows what the model is doing. Updated by the app, never per token.

    It fits its width: the least useful parts go first (the sandbox, then the speed, the
    tool-call path, the adapter, the context, the model), and what the turn is doing stays."""

    model = reactive("loading model…")
    adapter = reactive("")
    speed = reactive("")
    context = reactive("")
    sandbox = reactive("")
    activity = reactive("")
    tools = reactive("")  # a server backend's tool-call path: "tools: native" or "tools: dialect (why)"

    def render(self) -> Content:
        parts = [
            (1, self.model),
            (3, f"adapter {self.adapter}" if self.adapter else ""),
            (0, self.activity),
            (5, self.speed),
            (2, self.context),
            (4, self.tools),
            (6, f"shell: {self.sandbox}" if self.sandbox else ""),
        ]
        width = self.content_size.width or 10_000
        line = fit_parts(parts, width)
        if self.adapter and f"adapter {self.adapter}" not in line:  # too narrow for its name: still
            # say one is on, or the bare model and the adapter read the same (keyboard review)
            parts[0] = (1, f"{self.model} +LoRA")
            line = fit_parts(parts, width)
        # visible(): the model and adapter names can be a server's own words (its model id)
        return Content(visible(line))
