"""An example of the data set as an eval case: the conversation up to the assistant turn a
model must predict, and what it should say there (ARCHITECTURE.md's eval format)."""

from __future__ import annotations

from typing import Any

from ..engine.dialects import Dialect


def eval_case(example: dict[str, Any], dialect: Dialect | None = None) -> dict[str, Any]:
    """ARCHITECTURE's eval input: the conversation up to the assistant turn to predict."""
    messages = example["messages"]
    case = {key: example[key] for key in ("id", "lang", "kind", "tool", "template")}
    if "tools" in example:
        case["tools"] = example["tools"]
    if example["kind"] == "conversation":
        # Stop before a call that follows a tool result (the chat's 2nd or 3rd request), else before the first call.
        calls = [i for i, m in enumerate(messages) if m["role"] == "assistant" and dialect.parse_calls(m["content"])]
        later = [i for i in calls if any(m["role"] == "tool" for m in messages[:i])]
        cut = later[-1] if later else calls[0]
        parsed = dialect.parse_calls(messages[cut]["content"])
        case.update(
            messages=messages[:cut],
            reference=messages[cut]["content"],
            expected_calls=[{"name": p.call.name, "arguments": p.call.arguments} for p in parsed],
        )
        return case
    if example["kind"] in ("python", "schema") and example["expected_calls"]:
        # Predict the call itself (the reply after the result is trained, not scored).
        case.update(messages=messages[:2], reference=messages[2]["content"], expected_calls=example["expected_calls"])
        return case
    # The reply the data set would have given: the trainer's eval loss is measured on it.
    case["reference"] = messages[-1]["content"]
    if example.get("shape") == "result":
        # Predict the reply after the tool result: no further call is expected.
        case.update(messages=messages[:-1], expected_calls=[])
    else:
        case.update(messages=messages[:-1], expected_calls=example["expected_calls"])
    return case
