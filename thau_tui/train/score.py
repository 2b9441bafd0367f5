"""A BFCL-style scorer for tool calling: predictions against expected calls.

Per case it checks the call names (in order), the arguments by value with the
types the tool's JSON Schema declares ("5" is not 5 for an integer; strings are
compared exactly after stripping), arguments the schema does not know, and
whether a case that wants no call got none. The figures are plain fractions in
[0, 1]; `overall` is the share of cases fully right (exact match on call cases,
no call on no-call cases).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..tools.base import Tool

SCORE_KEYS = (
    "n",
    "call_cases",
    "no_call_cases",
    "name_accuracy",
    "arguments_accuracy",
    "exact_match",
    "no_call_accuracy",
    "json_valid_rate",
    "unexpected_argument_rate",
    "overall",
)

Schemas = dict[str, dict[str, Any]]  # tool name -> JSON Schema of its arguments


@dataclass
class CaseScore:
    """How one prediction fared against one case."""

    id: str
    wants_call: bool
    name_match: bool = False
    arguments_match: bool = False
    exact: bool = False
    no_call_ok: bool = False
    attempted: bool = False  # the model tried to call something (read or not)
    json_valid: bool = True
    calls: int = 0
    calls_with_unexpected: int = 0

    @property
    def correct(self) -> bool:
        return self.exact if self.wants_call else self.no_call_ok


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _typed_equal(expected: Any, got: Any, schema: dict[str, Any] | None) -> bool:
    """Compare one argument value the way its schema types it."""
    kind = (schema or {}).get("type")
    if isinstance(kind, list):  # ["string", "null"]: accept whichever the expected value is
        kind = None
    if kind == "integer":
        return isinstance(got, int) and not isinstance(got, bool) and _is_number(expected) and got == expected
    if kind == "number":
        return _is_number(got) and _is_number(expected) and float(got) == float(expected)
    if kind == "boolean":
        return isinstance(got, bool) and got is expected
    if kind == "string":
        return isinstance(got, str) and isinstance(expected, str) and got.strip() == expected.strip()
    if kind == "array":
        items = (schema or {}).get("items")
        return (
            isinstance(got, list)
            and isinstance(expected, list)
            and len(got) == len(expected)
            and all(_typed_equal(e, g, items) for e, g in zip(expected, got))
        )
    if kind == "object":
        props = (schema or {}).get("properties", {})
        return (
            isinstance(got, dict)
            and isinstance(expected, dict)
            and set(got) == set(expected)
            and all(_typed_equal(expected[k], got[k], props.get(k)) for k in expected)
        )
    # No schema: the JSON types must agree (numbers may be int or float).
    if isinstance(expected, str):
        return isinstance(got, str) and got.strip() == expected.strip()
    if _is_number(expected):
        return _is_number(got) and float(got) == float(expected)
    if isinstance(expected, list):
        return (
            isinstance(got, list)
            and len(got) == len(expected)
            and all(_typed_equal(e, g, None) for e, g in zip(expected, got))
        )
    if isinstance(expected, dict):
        return (
            isinstance(got, dict)
            and set(got) == set(expected)
            and all(_typed_equal(expected[k], got[k], None) for k in expected)
        )
    return type(got) is type(expected) and got == expected


def _unexpected_keys(
    arguments: dict[str, Any], schema: dict[str, Any] | None, expected: dict[str, Any] | None
) -> set[str]:
    """Argument names the tool does not declare (or, with no schema, the case did not expect)."""
    if schema is not None and "properties" in schema:
        return set(arguments) - set(schema["properties"])
    if expected is not None:
        return set(arguments) - set(expected)
    return set()


def _call_matches(expected: dict[str, Any], got: dict[str, Any], schema: dict[str, Any] | None) -> tuple[bool, bool]:
    """(every expected argument right, and nothing more than harmless defaults)."""
    want = expected.get("arguments") or {}
    have = got.get("arguments")
    if not isinstance(have, dict):
        return False, False
    props = (schema or {}).get("properties", {})
    values_ok = all(k in have and _typed_equal(v, have[k], props.get(k)) for k, v in want.items())
    # An extra argument is fine only when it restates the schema's default for an optional one.
    required = set((schema or {}).get("required", []))
    extras_ok = all(
        k in props and k not in required and "default" in props[k] and _typed_equal(props[k]["default"], v, props[k])
        for k, v in have.items()
        if k not in want
    )
    return values_ok, values_ok and extras_ok


def _as_calls(value: Any) -> list[dict[str, Any]]:
    return [c for c in value if isinstance(c, dict)] if isinstance(value, list) else []


def score_case(prediction: dict[str, Any] | None, case: dict[str, Any], schemas: Schemas) -> CaseScore:
    """Score one prediction (None when the model produced nothing for the case)."""
    expected = _as_calls(case.get("expected_calls"))
    result = CaseScore(id=str(case.get("id")), wants_call=bool(expected))
    prediction = prediction or {}
    if prediction.get("skipped"):  # not run (too long for the context): wrong, but no unreadable call
        return result
    got = _as_calls(prediction.get("calls"))
    errors = prediction.get("errors") or []
    result.calls = len(got)
    result.attempted = bool(got or errors)
    result.json_valid = not errors and all(isinstance(c.get("arguments", {}), dict) for c in got)
    for index, call in enumerate(got):
        schema = schemas.get(str(call.get("name")))
        # With no schema, only the same tool's expected arguments say what is unexpected.
        same = index < len(expected) and expected[index].get("name") == call.get("name")
        want = expected[index].get("arguments") if same else None
        args = call.get("arguments") if isinstance(call.get("arguments"), dict) else {}
        if _unexpected_keys(args, schema, want):
            result.calls_with_unexpected += 1
    if not expected:
        result.no_call_ok = not result.attempted
        return result
    result.name_match = [c.get("name") for c in got] == [c.get("name") for c in expected]
    if result.name_match and result.json_valid:
        pairs = [_call_matches(e, g, schemas.get(str(e.get("name")))) for e, g in zip(expected, got)]
        result.arguments_match = all(values for values, _ in pairs)
        result.exact = all(exact for _, exact in pairs)
    return result


def tool_schemas(tools: Iterable[Tool] | None = None) -> Schemas:
    """Argument schemas by tool name: the given tools, else the built-ins."""
    if tools is None:
        from ..tools import builtin_tools

        tools = builtin_tools()
    return {tool.name: tool.parameters for tool in tools}


def _case_schemas(case: dict[str, Any], default: Schemas) -> Schemas:
    """A case may carry its own OpenAI-style tool schemas; they win over the defaults."""
    own = {}
    for entry in case.get("tools") or []:
        if isinstance(entry, dict):
            fn = entry.get("function", entry)
            if isinstance(fn, dict) and fn.get("name"):
                own[fn["name"]] = fn.get("parameters") or {}
    return {**default, **own} if own else default


def case_correct(prediction: dict[str, Any] | None, case: dict[str, Any], tools: list[Tool] | None = None) -> bool:
    """One case right or wrong, as score() counts it (for paired comparisons of two adapters)."""
    return score_case(prediction, case, _case_schemas(case, tool_schemas(tools))).correct


def _rate(hits: int, total: int, empty: float = 0.0) -> float:
    return hits / total if total else empty


def score(
    predictions: list[dict[str, Any]], cases: list[dict[str, Any]], tools: list[Tool] | None = None
) -> dict[str, Any]:
    """Score predictions against cases (matched by id); a case with no prediction counts as wrong.

    `tools` gives the argument schemas for typed comparison; None means the built-in tools.
    `json_valid_rate` is over cases where the model tried a call (1.0 when it never tried);
    `unexpected_argument_rate` is over every predicted call.
    """
    schemas = tool_schemas(tools)
    by_id = {str(p.get("id")): p for p in predictions}
    scores = [score_case(by_id.get(str(c.get("id"))), c, _case_schemas(c, schemas)) for c in cases]
    call_cases = [s for s in scores if s.wants_call]
    no_call_cases = [s for s in scores if not s.wants_call]
    attempted = [s for s in scores if s.attempted]
    total_calls = sum(s.calls for s in scores)
    return {
        "n": len(scores),
        "call_cases": len(call_cases),
        "no_call_cases": len(no_call_cases),
        "name_accuracy": _rate(sum(s.name_match for s in call_cases), len(call_cases)),
        "arguments_accuracy": _rate(sum(s.arguments_match for s in call_cases), len(call_cases)),
        "exact_match": _rate(sum(s.exact for s in call_cases), len(call_cases)),
        "no_call_accuracy": _rate(sum(s.no_call_ok for s in no_call_cases), len(no_call_cases)),
        "json_valid_rate": _rate(sum(s.json_valid for s in attempted), len(attempted), empty=1.0),
        "unexpected_argument_rate": _rate(sum(s.calls_with_unexpected for s in scores), total_calls),
        "overall": _rate(sum(s.correct for s in scores), len(scores)),
    }


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read a JSONL file; a bad line raises ValueError naming the file and line."""
    return [row for _, row in read_numbered_jsonl(path)]


def read_numbered_jsonl(path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    """read_jsonl's rows with their line numbers (blank lines skipped), so a check of a row
    can name its line."""
    rows = []
    path = Path(path)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{path}:{number}: not valid JSON ({exc.msg}); each line must be one JSON object"
            ) from None
        if not isinstance(row, dict):
            raise ValueError(f"{path}:{number}: each line must be a JSON object, got {type(row).__name__}")
        rows.append((number, row))
    return rows
