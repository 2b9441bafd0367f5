"""ask_user: the model asks the user a question and waits for the typed answer."""

from __future__ import annotations

from typing import Any

from .base import Tool, ToolContext, ToolError


def ask_user(args: dict[str, Any], ctx: ToolContext) -> str:
    ask = ctx.resources.get("ask")
    if ask is None:
        raise ToolError("no one is there to answer (non-interactive run)")
    answer = ask(args["question"])
    if answer is None:
        raise ToolError("the user dismissed the question")
    return str(answer)


TOOLS = [
    Tool(
        name="ask_user",
        description="Ask the user a question and wait for their answer.",
        summary="ask the user a question",
        parameters={
            "type": "object",
            "properties": {"question": {"type": "string", "description": "The question to ask"}},
            "required": ["question"],
        },
        risk="read",
        function=ask_user,
    )
]
