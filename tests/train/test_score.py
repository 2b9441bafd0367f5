"""The scorer's figures on hand-made predictions, worked out by hand."""

from __future__ import annotations

import json

import pytest

from thau_tui.tools.base import Tool
from thau_tui.train.score import SCORE_KEYS, read_jsonl, score, score_case, tool_schemas


def _tool(name: str, properties: dict, required: list[str]) -> Tool:
    return Tool(
        name=name,
        description=name,
        parameters={"type": "object", "properties": properties, "required": required},
        risk="read",
        function=lambda args, ctx: "",
    )


TOOLS = [
    _tool("run_shell", {"command": {"type": "string"}}, ["command"]),
    _tool("list_directory", {"path": {"type": "string", "default": "."}}, []),
    _tool(
        "generate_image",
        {
            "prompt": {"type": "string"},
            "steps": {"type": "integer"},
            "guidance": {"type": "number"},
            "width": {"type": "integer", "default": 512},
        },
        ["prompt"],
    ),
]


def call(name, **arguments):
    return {"name": name, "arguments": arguments}


CASES = [
    {"id": "a", "expected_calls": [call("run_shell", command="ls -la")]},
    {"id": "b", "expected_calls": [call("generate_image", prompt="a cat", steps=5)]},
    {"id": "c", "expected_calls": [call("list_directory", path="src")]},
    {"id": "d", "expected_calls": [call("run_shell", command="pwd")]},
    {"id": "e", "expected_calls": []},
    {"id": "f", "expected_calls": []},
]

PREDICTIONS = [
    # a: right, with surrounding whitespace in the string (stripped before comparing)
    {"id": "a", "calls": [call("run_shell", command="  ls -la ")], "text": ""},
    # b: "5" for an integer: right name, wrong arguments
    {"id": "b", "calls": [call("generate_image", prompt="a cat", steps="5")], "text": ""},
    # c: right values plus an argument the tool does not have
    {"id": "c", "calls": [call("list_directory", path="src", recursive=True)], "text": ""},
    # d: wrong tool
    {"id": "d", "calls": [call("run_python", code="import os")], "text": ""},
    # e: no call when none was wanted
    {"id": "e", "calls": [], "text": "Hello!"},
    # f: tried to call with broken JSON when no call was wanted
    {"id": "f", "calls": [], "text": "<tool_call>{oops", "errors": ["could not read the tool call"]},
]


def test_scores_hand_made_predictions():
    result = score(PREDICTIONS, CASES, TOOLS)
    assert list(result) == list(SCORE_KEYS)
    assert result["n"] == 6 and result["call_cases"] == 4 and result["no_call_cases"] == 2
    assert result["name_accuracy"] == pytest.approx(3 / 4)  # a, b, c
    assert result["arguments_accuracy"] == pytest.approx(2 / 4)  # a, c (expected values all right)
    assert result["exact_match"] == pytest.approx(1 / 4)  # only a: c has an unexpected argument
    assert result["no_call_accuracy"] == pytest.approx(1 / 2)  # e
    assert result["json_valid_rate"] == pytest.approx(4 / 5)  # a, b, c, d valid; f broken
    assert result["unexpected_argument_rate"] == pytest.approx(1 / 4)  # c among 4 predicted calls
    assert result["overall"] == pytest.approx(2 / 6)  # a and e


def test_missing_prediction_is_wrong_and_order_of_predictions_does_not_matter():
    result = score(list(reversed(PREDICTIONS[:2])), CASES[:3], TOOLS)
    assert result["exact_match"] == pytest.approx(1 / 3)
    assert result["name_accuracy"] == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("expected", "got", "exact"),
    [
        ({"prompt": "a cat", "guidance": 7}, {"prompt": "a cat", "guidance": 7.0}, True),  # number: 7 == 7.0
        ({"prompt": "a cat", "steps": 5}, {"prompt": "a cat", "steps": 5.0}, False),  # integer wants an int
        ({"prompt": "a cat", "steps": 5}, {"prompt": "a cat", "steps": True}, False),  # bool is not an integer
        ({"prompt": "a cat"}, {"prompt": "a cat", "width": 512}, True),  # restating a default is harmless
        ({"prompt": "a cat"}, {"prompt": "a cat", "width": 640}, False),  # a value nobody asked for
        ({"prompt": "a cat"}, {"prompt": "A cat"}, False),  # strings compare exactly
        ({"prompt": "a cat", "steps": 5}, {"prompt": "a cat"}, False),  # a missing argument
    ],
)
def test_arguments_compared_with_the_schema_types(expected, got, exact):
    case = {"id": "x", "expected_calls": [call("generate_image", **expected)]}
    prediction = {"id": "x", "calls": [call("generate_image", **got)], "text": ""}
    result = score_case(prediction, case, tool_schemas(TOOLS))
    assert result.name_match
    assert result.exact is exact


def test_several_calls_must_come_in_order():
    case = {"id": "m", "expected_calls": [call("run_shell", command="ls"), call("list_directory", path=".")]}
    in_order = {"id": "m", "calls": case["expected_calls"], "text": ""}
    swapped = {"id": "m", "calls": list(reversed(case["expected_calls"])), "text": ""}
    schemas = tool_schemas(TOOLS)
    assert score_case(in_order, case, schemas).exact
    assert not score_case(swapped, case, schemas).name_match


def test_a_case_may_bring_its_own_tool_schema():
    weather = {
        "type": "function",
        "function": {
            "name": "weather",
            "parameters": {"type": "object", "properties": {"days": {"type": "integer"}}, "required": ["days"]},
        },
    }
    case = {"id": "w", "tools": [weather], "expected_calls": [call("weather", days=3)]}
    assert score([{"id": "w", "calls": [call("weather", days=3)]}], [case], TOOLS)["exact_match"] == 1.0
    assert score([{"id": "w", "calls": [call("weather", days="3")]}], [case], TOOLS)["exact_match"] == 0.0


def test_read_jsonl_names_the_bad_line(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps({"id": "1"}) + "\n\n{broken\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"cases.jsonl:3: not valid JSON"):
        read_jsonl(path)
    path.write_text(json.dumps({"id": "1"}) + "\n", encoding="utf-8")
    assert read_jsonl(path) == [{"id": "1"}]
