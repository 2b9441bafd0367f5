"""The one tool the real-model and server tests offer: get_weather(city), which records
each call and answers with a fixed sentence (or `answer`, e.g. one carrying template tokens)."""

from __future__ import annotations

from thau_tui.tools import Tool, ToolRegistry

SUNNY = "It is sunny and 21 degrees in {city}."


def weather_registry(
    calls: list, answer: str = SUNNY, summary: str | None = "current weather for a city"
) -> ToolRegistry:
    def weather(args, ctx):
        calls.append(args)
        return answer.format(city=args["city"])

    return ToolRegistry(
        [
            Tool(
                "get_weather",
                "Get the current weather for a city",
                {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                    "additionalProperties": False,
                },
                "exec",
                weather,
                **({"summary": summary} if summary is not None else {}),
            )
        ]
    )
