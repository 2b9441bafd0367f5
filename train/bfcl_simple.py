"""Issue 16's third target, measured the way the issue measured it: the public BFCL "simple"
Python category (400 functions, each with its own schema, none seen in training), the
bundled model calling through thau's own eval path, scored by BFCL's rules.

    pip install --no-deps bfcl-eval        # the data only; its many dependencies are not needed
    python train/bfcl_simple.py run [--adapter A.gguf|none] [--threads 1] [--limit N] [--out DIR]
    python train/bfcl_simple.py cases OUT.jsonl          # BFCL -> thau eval cases
    python train/bfcl_simple.py score PREDICTIONS.jsonl  # thau eval's predictions, BFCL's rules
    python train/bfcl_simple.py leaks TRAIN.jsonl        # BFCL's values found in a training set

`run` writes the cases, runs `thau eval` on them (the chat's default adapter unless
--adapter is given) and scores. Each function is offered alone, rendered with its JSON
Schema exactly as the chat renders a plugin tool (BFCL's types mapped to JSON Schema as
BFCL itself maps them for OpenAI-style models: dict -> object, float -> number, tuple ->
array, any -> string). This is an evaluation only: nothing here feeds training, and no
training file may be built from it.

The checker follows BFCL's simple-function rules (bfcl_eval/eval_checker/ast_eval/
ast_checker.py, which cannot be imported without BFCL's ~30 dependencies): exactly one
call; the right name; every required parameter; no parameter outside the schema or the
possible answers; the value's type as the schema's BFCL type (an int passes for a float,
a string stands for a variable where the answer is one); strings, lists and dicts compared
after BFCL's standardisation (case, spaces and ,./-_*^ ignored); an optional parameter
may be left out only where its possible answers include "".
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

QUESTIONS = "BFCL_v4_simple_python.json"
ANSWERS = "possible_answer/BFCL_v4_simple_python.json"
TO_JSON_SCHEMA = {
    "integer": "integer", "number": "number", "float": "number", "string": "string", "boolean": "boolean",
    "bool": "boolean", "array": "array", "list": "array", "dict": "object", "object": "object",
    "tuple": "array", "any": "string",
}  # fmt: skip
PYTHON_TYPES: dict[str, type] = {
    "string": str, "integer": int, "float": float, "boolean": bool, "array": list, "tuple": list,
    "dict": dict, "any": str,
}  # fmt: skip


class BfclError(RuntimeError):
    """The BFCL data is missing or not what this script reads."""


def data_folder(given: str | None = None) -> Path:
    """bfcl_eval's data/ folder (found without importing the package) or the one given."""
    if given:
        folder = Path(given)
    else:
        spec = importlib.util.find_spec("bfcl_eval")
        if spec is None or not spec.submodule_search_locations:
            raise BfclError("bfcl_eval is not installed: pip install --no-deps bfcl-eval (or pass --data FOLDER)")
        folder = Path(list(spec.submodule_search_locations)[0]) / "data"
    if not (folder / QUESTIONS).is_file() or not (folder / ANSWERS).is_file():
        raise BfclError(f"{folder} lacks {QUESTIONS} or {ANSWERS}; this script reads BFCL v4's files")
    return folder


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _json_schema(properties: dict[str, Any]) -> dict[str, Any]:
    """BFCL's property types as JSON Schema, nested properties and items included."""
    out = {}
    for name, prop in properties.items():
        prop = dict(prop)
        kind = prop.get("type", "string")
        if kind == "float":
            prop["description"] = (prop.get("description", "") + " This is a float type value.").strip()
        prop["type"] = TO_JSON_SCHEMA.get(kind, "string")
        if isinstance(prop.get("properties"), dict):
            prop["properties"] = _json_schema(prop["properties"])
        if isinstance(prop.get("items"), dict):  # BFCL maps an item's type, and its properties' in full
            items = dict(prop["items"])
            items["type"] = TO_JSON_SCHEMA.get(items.get("type", "string"), "string")
            if isinstance(items.get("properties"), dict):
                items["properties"] = _json_schema(items["properties"])
            prop["items"] = items
        out[name] = prop
    return out


def to_tool(function: dict[str, Any]) -> dict[str, Any]:
    """One BFCL function as an OpenAI-style tool schema (what a plugin or MCP tool gives thau)."""
    params = copy.deepcopy(function.get("parameters") or {})
    schema = {"type": "object", "properties": _json_schema(params.get("properties") or {})}
    if params.get("required"):
        schema["required"] = list(params["required"])
    return {
        "type": "function",
        "function": {"name": function["name"], "description": function.get("description", ""), "parameters": schema},
    }


def to_cases(folder: Path) -> list[dict[str, Any]]:
    """thau eval cases: the question, the function alone, and a representative expected call
    (thau eval's own score; the BFCL figure is `check`'s)."""
    answers = {row["id"]: row["ground_truth"] for row in _lines(folder / ANSWERS)}
    cases = []
    for row in _lines(folder / QUESTIONS):
        turns = row["question"][0]
        (name, possible), *_rest = answers[row["id"]][0].items()
        arguments = {k: next(v for v in values if v != "") for k, values in possible.items() if values != [""]}
        cases.append(
            {
                "id": row["id"],
                "lang": "en",
                "kind": "bfcl_simple",
                "tools": [to_tool(f) for f in row["function"]],
                "messages": [{"role": t["role"], "content": t["content"]} for t in turns],
                "expected_calls": [{"name": name, "arguments": arguments}],
            }
        )
    return cases


# --- BFCL's simple-function rules ----------------------------------------------------------
def standardize(text: str) -> str:
    return re.sub(r"[ \,\.\/\-\_\*\^]", "", text).lower().replace("'", '"')


def _std(value: Any) -> Any:
    return standardize(value) if isinstance(value, str) else value


def _type_ok(value: Any, possible: list, kind: str, nested: str | None) -> tuple[bool, bool]:
    """(valid, is_variable) as BFCL's type_checker decides them."""
    expected = PYTHON_TYPES.get(kind, str)
    answer_type = next((type(a) for a in possible if a != ""), None)
    is_variable = answer_type is not None and answer_type is not expected
    if type(value) is expected:
        if nested is None:
            return True, is_variable
        for option in possible:
            if not isinstance(option, list) or all(_type_ok(item, option, nested, None)[0] for item in value):
                return True, is_variable
        return False, is_variable
    if answer_type is not None and type(value) is answer_type:
        return True, True
    return False, is_variable


def _dict_ok(value: dict, options: list) -> bool:
    for option in options:
        if option == "" or not isinstance(option, dict):
            continue
        if all(k in option and _std(v) in [_std(o) for o in option[k]] for k, v in value.items()) and all(
            k in value or "" in v for k, v in option.items()
        ):
            return True
    return False


def check(function: dict[str, Any], calls: list[dict[str, Any]], answer: dict[str, Any]) -> str:
    """'' when the calls pass BFCL's simple-function rules, else the kind of miss."""
    if len(calls) != 1:
        return "no call" if not calls else "wrong count"
    (name, possible), *_rest = answer.items()
    call = calls[0]
    if call.get("name") != name:
        return "wrong name"
    args, props = call.get("arguments") or {}, function["parameters"].get("properties", {})
    if any(p not in args for p in function["parameters"].get("required", [])):
        return "missing required"
    for param, value in args.items():
        if param not in props or param not in possible:
            return "unexpected parameter"
        kind = props[param].get("type", "string")
        nested = (props[param].get("items") or {}).get("type") if kind in ("array", "tuple") else None
        if kind == "float" and type(value) is int:
            value = float(value)
        valid, is_variable = _type_ok(value, possible[param], kind, nested)
        if not valid:
            return "wrong type"
        expected = PYTHON_TYPES.get(kind, str)
        if not is_variable and expected is dict:
            ok = _dict_ok(value, possible[param])
        elif not is_variable and expected is list and nested == "dict":
            ok = any(
                isinstance(o, list) and len(o) == len(value) and all(_dict_ok(v, [d]) for v, d in zip(value, o))
                for o in possible[param]
            )
        elif not is_variable and expected is str:
            ok = standardize(value) in [standardize(o) for o in possible[param] if isinstance(o, str)]
        elif not is_variable and expected is list:
            ok = [_std(v) for v in value] in [[_std(x) for x in o] for o in possible[param] if isinstance(o, list)]
        else:
            ok = value in possible[param]
        if not ok:
            return "wrong value"
    if any(p not in args and "" not in values for p, values in possible.items()):
        return "optional left out"
    return ""


def score(folder: Path, predictions_path: Path) -> dict[str, Any]:
    functions = {row["id"]: row["function"][0] for row in _lines(folder / QUESTIONS)}
    answers = {row["id"]: row["ground_truth"][0] for row in _lines(folder / ANSWERS)}
    misses: Counter[str] = Counter()
    rows = _lines(predictions_path)
    for row in rows:
        misses[check(functions[row["id"]], row.get("calls") or [], answers[row["id"]])] += 1
    right = misses.pop("", 0)
    return {"cases": len(rows), "right": right, "accuracy": right / len(rows) if rows else 0.0, "misses": dict(misses)}


# --- leaks: BFCL's own values in a training set ------------------------------------------
NUMBER = re.compile(r"(?<![\w.,])-?\d+(?:[.,]\d+)+(?![\w])|(?<![\w.,])\d{4,}(?![\w.,])")
DATE_IN_WORDS = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2},? \d{4}")


def _numbers(text: str) -> set[str]:
    """Numbers with a decimal part or thousands groups ("34.0522", "2,000,000") and whole
    numbers of four digits or more, as written."""
    return {m.group().lstrip("-") for m in NUMBER.finditer(text)}


def leaks(folder: Path, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """BFCL questions whose distinctive values a training set repeats: a date in words, a
    number of five digits or more with a decimal part, or three of the question's numbers in
    one example (a list of readings). The vocabularies must make their own values; this
    finds the ones lifted from the benchmark (the converted and extracted kinds had some)."""
    found = []
    texts = [json.dumps(row.get("messages", row), ensure_ascii=False) for row in rows]
    numbers_of = [_numbers(text) for text in texts]  # once per example, not once per question
    for question in _lines(folder / QUESTIONS):
        text = " ".join(turn["content"] for turn in question["question"][0])
        numbers = _numbers(text)
        single = {n for n in numbers if "." in n and len(n.replace(".", "")) >= 5}
        dates = set(DATE_IN_WORDS.findall(text))
        for index, (example, mine) in enumerate(zip(texts, numbers_of)):
            shared = sorted((single & mine) | {d for d in dates if d in example})
            many = sorted(numbers & mine) if len(numbers & mine) >= 3 else []
            if shared or many:
                found.append({"bfcl": question["id"], "example": index, "values": sorted(set(shared + many))})
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["run", "cases", "score", "leaks"])
    parser.add_argument(
        "path", nargs="?", help="cases: the file to write; score: thau eval's predictions; leaks: a train.jsonl"
    )
    parser.add_argument("--data", help="BFCL's data/ folder (default: the installed bfcl_eval's)")
    parser.add_argument("--adapter", help="run: thau eval's --adapter (default: the chat's adapter)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--out", default="bfcl-simple", help="run: the folder for cases, predictions, score")
    args = parser.parse_args(argv)
    try:
        folder = data_folder(args.data)
    except BfclError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.command == "leaks":
        if not args.path:
            parser.error("leaks needs a training set (train.jsonl)")
        found = leaks(folder, _lines(Path(args.path)))
        for row in found:
            print(json.dumps(row))
        print(f"{len(found)} BFCL values found in {args.path}", file=sys.stderr)
        return 1 if found else 0
    if args.command == "cases" or args.command == "run":
        out = Path(args.path) if args.command == "cases" else Path(args.out) / "cases.jsonl"
        out.parent.mkdir(parents=True, exist_ok=True)
        cases = to_cases(folder)[: args.limit]
        out.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
        print(f"{len(cases)} cases -> {out}")
        if args.command == "cases":
            return 0
        predictions = Path(args.out) / "predictions.jsonl"
        command = [sys.executable, "-m", "thau_tui.cli", "eval", str(out), "--output", str(predictions)]
        command += ["--threads", str(args.threads)] + (["--adapter", args.adapter] if args.adapter else [])
        if subprocess.run(command).returncode != 0:
            return 1
    else:
        if not args.path:
            parser.error("score needs thau eval's predictions file")
        predictions = Path(args.path)
    result = score(folder, predictions)
    print(json.dumps(result, indent=2))
    if args.command == "run":
        (Path(args.out) / "score.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
