"""train/bfcl_simple.py: BFCL's simple-function rules and its schema mapping, on functions
written here in BFCL's format (no BFCL data in the repository or the tests)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "train" / "bfcl_simple.py"
spec = importlib.util.spec_from_file_location("bfcl_simple", SCRIPT)
assert spec and spec.loader
bfcl = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bfcl)

FUNCTION = {
    "name": "geo.distance",
    "description": "Distance between two cities.",
    "parameters": {
        "type": "dict",
        "properties": {
            "origin": {"type": "string", "description": "Start city."},
            "destination": {"type": "string", "description": "End city."},
            "speed": {"type": "float", "description": "Average speed."},
            "stops": {"type": "array", "items": {"type": "string"}, "description": "Stops on the way."},
            "legs": {"type": "array", "items": {"type": "dict", "properties": {"km": {"type": "integer"}}}},
            "unit": {"type": "string", "enum": ["km", "miles"], "description": "Unit."},
            "weights": {"type": "array", "items": {"type": "float"}, "description": "Leg weights."},
        },
        "required": ["origin", "destination"],
    },
}
ANSWER = {
    "geo.distance": {
        "origin": ["New York", "NYC"],
        "destination": ["Los Angeles"],
        "speed": [60.0, ""],
        "stops": [["Chicago", "Denver"], ""],
        "legs": [[{"km": [10]}, {"km": [20]}], ""],
        "unit": ["km"],
    }
}


def call(**arguments):
    return [
        {"name": "geo.distance", "arguments": {"origin": "NYC", "destination": "Los Angeles", "unit": "km"} | arguments}
    ]


def test_a_call_that_keeps_bfcls_rules_passes_with_its_allowances():
    assert bfcl.check(FUNCTION, call(), ANSWER) == ""
    # strings: case, spaces and ,./-_*^ do not count; an int passes for a float
    assert bfcl.check(FUNCTION, call(destination="los-angeles", speed=60), ANSWER) == ""
    assert bfcl.check(FUNCTION, call(stops=["chicago", "DENVER"]), ANSWER) == ""
    assert bfcl.check(FUNCTION, call(legs=[{"km": 10}, {"km": 20}]), ANSWER) == ""


@pytest.mark.parametrize(
    ("calls", "miss"),
    [
        ([], "no call"),
        (call() * 2, "wrong count"),
        ([{"name": "geo_distance", "arguments": call()[0]["arguments"]}], "wrong name"),
        ([{"name": "geo.distance", "arguments": {"origin": "NYC", "unit": "km"}}], "missing required"),
        (call(avoid_tolls=True), "unexpected parameter"),
        (call(speed="fast"), "wrong type"),
        (call(speed=55.5), "wrong value"),
        (call(destination="San Francisco"), "wrong value"),
        (call(stops=["Denver", "Chicago"]), "wrong value"),  # order counts in a list
        (call(legs=[{"km": 10}]), "wrong value"),
        ([{"name": "geo.distance", "arguments": {"origin": "NYC", "destination": "Los Angeles"}}], "optional left out"),
    ],
)
def test_each_kind_of_miss_is_named(calls, miss):
    assert bfcl.check(FUNCTION, calls, ANSWER) == miss


def test_the_function_reaches_the_model_as_json_schema_like_a_plugin_tool():
    tool = bfcl.to_tool(FUNCTION)["function"]
    params = tool["parameters"]
    assert tool["name"] == "geo.distance" and params["type"] == "object"
    assert params["required"] == ["origin", "destination"]
    assert params["properties"]["speed"]["type"] == "number"
    assert params["properties"]["speed"]["description"].endswith("This is a float type value.")
    assert params["properties"]["weights"]["items"] == {"type": "number"}  # BFCL notes floats on properties only
    assert params["properties"]["legs"]["items"]["type"] == "object"
    assert params["properties"]["legs"]["items"]["properties"]["km"]["type"] == "integer"
    assert FUNCTION["parameters"]["type"] == "dict"  # the source is not changed


def test_cases_and_score_read_bfcls_files(tmp_path):
    data = tmp_path / "data"
    (data / "possible_answer").mkdir(parents=True)
    question = {"id": "simple_python_0", "question": [[{"role": "user", "content": "NYC to LA in km?"}]]}
    (data / bfcl.QUESTIONS).write_text(json.dumps(question | {"function": [FUNCTION]}) + "\n")
    (data / bfcl.ANSWERS).write_text(json.dumps({"id": "simple_python_0", "ground_truth": [ANSWER]}) + "\n")
    (case,) = bfcl.to_cases(bfcl.data_folder(str(data)))
    assert case["messages"] == [{"role": "user", "content": "NYC to LA in km?"}]
    assert case["expected_calls"][0]["arguments"]["speed"] == 60.0
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text(json.dumps({"id": "simple_python_0", "calls": call(unit="miles")}) + "\n")
    assert bfcl.score(data, predictions) == {"cases": 1, "right": 0, "accuracy": 0.0, "misses": {"wrong value": 1}}
    with pytest.raises(bfcl.BfclError, match="lacks"):
        bfcl.data_folder(str(tmp_path))


def test_leaks_finds_a_questions_values_in_a_training_set(tmp_path):
    """The converted and extracted kinds once drew coordinates, a date and a list of readings
    that BFCL's questions hold; `leaks` names such values, and stays quiet on common ones."""
    data = tmp_path / "data"
    (data / "possible_answer").mkdir(parents=True)
    text = "Distance from 33.4484 N to 34.0522 N on May 12, 2022, readings 12.4, 15.6, 11.2 and 18.9, for 2 hours."
    question = {"id": "simple_python_7", "question": [[{"role": "user", "content": text}]], "function": [FUNCTION]}
    (data / bfcl.QUESTIONS).write_text(json.dumps(question) + "\n")

    def row(content):
        return {"messages": [{"role": "user", "content": content}]}

    rows = [
        row("Log the trip at latitude 34.0522° N"),  # one distinctive coordinate
        row("Due May 12, 2022, please"),  # a date in words
        row("for the readings 18.9, 11.2 and 12.4"),  # three of its numbers in one example
        row("two readings 12.4 and 15.6 for 2 hours at 4.5%"),  # common numbers: no leak
    ]
    found = bfcl.leaks(data, rows)
    assert [(f["example"], f["values"]) for f in found] == [
        (0, ["34.0522"]),
        (1, ["May 12, 2022"]),
        (2, ["11.2", "12.4", "18.9"]),
    ]
    assert all(f["bfcl"] == "simple_python_7" for f in found)
