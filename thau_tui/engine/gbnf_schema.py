"""A tool's JSON Schema made safe for llama-cpp-python's grammar converter (gbnf.py).

Plugin and MCP schemas are hostile input, and the converter has gaps that each broke
every call, hung the chat or crashed the app; a schema that hits one is rewritten so it
does not, or the tool gets the generic object rule (`tool_schema` returns None; the call's
arguments are still validated against the real schema after the model writes them):

- regex escapes it copies into the GBNF as they are (\\d, \\.), which llama.cpp refuses: a
  refused grammar crashed the process (segmentation fault) when the model opened a call;
- a bare `]` or `}` in a pattern, on which it loops forever;
- a required literal no token can write (U+0000): llama.cpp aborted the process;
- `$defs` names shared with its own rules (`space`, `root`) or another tool's (`Item`),
  or spelt with `_` (looked up unsanitised: a refused grammar, exponential time);
- property names, enum and const values it writes into the GBNF unescaped (quotes,
  backslashes, characters outside the BMP) or that JSON cannot hold (NaN, an empty enum);
- `allOf` over `$ref`s, which it copies: 36 MB of grammar from a 2 KB schema;
- `anyOf` nested deep, whose states double at each level inside llama.cpp's sampler.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .call_scanner import MAX_ITEMS

# A schema bound above this is left to validation: the GBNF spells every step of a bound out.
GRAMMAR_MAX_BOUND = 256
MAX_ANY_OF_DEPTH = 3  # anyOf/oneOf inside anyOf/oneOf, this many deep at most
MAX_INLINED_NODES = 4000  # schema nodes the converter would visit once allOf's $refs are copied in

_CLASSES = {"d": "0-9", "w": "a-zA-Z0-9_", "s": " "}  # \s as a space: a raw tab or newline is not JSON
# A raw quote or backslash would end or break the JSON string the value sits in; a raw
# control character is not JSON either.
_NOT_IN_JSON = "\\x22\\x5C\\x00-\\x1F"
# "Any character but these" in a JSON string: one written as itself, or a quote or backslash
# written as its escape (the value then holds it, as the pattern allows).
_ESCAPED_SIGN = "|[\\x5C][\\x22\\x5C])"
_HEX = re.compile(r"x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}")
_QUANTIFIER = re.compile(r"\{(\d*)(,(\d*))?\}")
MAX_REPEAT = 64  # a pattern's {n,m} above this is left to validation (llama.cpp parses each step deep)


def _any_but(body: str) -> str:
    """A pattern group for one character of a JSON string that `body` (a class's inside) does
    not hold."""
    return f"([^{_NOT_IN_JSON}{body}]{_ESCAPED_SIGN}"


def _escape(following: str, in_class: bool) -> str | None:
    """The GBNF-safe spelling of the regex escape `\\` + `following`, or None."""
    if following and following.lower() in _CLASSES:
        body = _CLASSES[following.lower()]
        if following.islower():
            return body if in_class else f"[{body}]"
        return None if in_class else _any_but(body)  # a negated class inside a class: no way
    if following and following.isascii() and not following.isalnum() and following not in '"\\':
        code = f"\\x{ord(following):02X}"
        return code if in_class else f"[{code}]"
    return None


def _quantifier(body: str, i: int) -> str | None:
    """The `{n}`, `{n,}`, `{n,m}` or `{,m}` at `i` as the converter reads it; "" where `{`
    is a plain character there; None where the bound is too large or the repeat ambiguous."""
    found = _QUANTIFIER.match(body, i)
    if found is None or not (found.group(1) or found.group(3)):
        return ""
    low, high = int(found.group(1) or 0), found.group(3)
    if max(low, int(high or 0)) > MAX_REPEAT:
        return None
    return f"{{{low}{',' + high if found.group(2) is not None else ''}}}"


def grammar_pattern(pattern: str) -> str | None:
    """A JSON Schema `pattern` spelt with only what the converter carries into GBNF intact,
    as ^(...)$ so that a top-level `|` stays inside the string: \\d \\w \\s as classes, an
    escaped or bare sign as its hex code in a class, "any character" as one a JSON string
    holds (a quote or backslash as its escape). None where that cannot be done (\\b,
    back-references, POSIX classes, a quote or control character the JSON string would
    have to escape, lazy or possessive repeats, a repeated group that repeats or can match nothing,
    bounds over MAX_REPEAT, an unanchored pattern): the string is then left free, and
    validation still checks the pattern."""
    if not (pattern.startswith("^") and pattern.endswith("$")) or pattern.endswith("\\$"):
        return None  # unanchored, JSON Schema's pattern matches anywhere: the converter refuses it
    body = pattern[1:-1]
    if re.search(r"[*+?}][*+?]|\(\)|\\\n", body):
        return None  # lazy or possessive (llama.cpp refuses them), an empty group
    out: list[str] = []
    in_class = negated = False
    groups: list[int] = []  # where each open group's text starts in `out`
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            hex_code = _HEX.match(body, i + 1)
            if hex_code:
                if ord(chr(int(hex_code.group()[1:], 16))) < 0x20 or chr(int(hex_code.group()[1:], 16)) in '"\\':
                    return None
                out.append(f"\\{hex_code.group()}" if in_class else f"[\\{hex_code.group()}]")
                i += 1 + len(hex_code.group())
                continue
            spelt = _escape(body[i + 1 : i + 2], in_class)
            if spelt is None:
                return None
            out.append(spelt)
            i += 2
            continue
        if char == '"' or ord(char) < 0x20:
            return None
        if in_class:
            if char == "]" and not out[-1].endswith(("[", f"[^{_NOT_IN_JSON}")):
                in_class = False
                out.append(f"]{_ESCAPED_SIGN}" if negated else char)
            elif char in "[]":
                if body.startswith("[:", i):
                    return None  # a POSIX class
                out.append(f"\\x{ord(char):02X}")
            else:
                out.append(char)
        elif char == "[":
            in_class, negated = True, body.startswith("[^", i)
            out.append(f"([^{_NOT_IN_JSON}" if negated else "[")
            i += 2 if negated else 1
            continue
        elif char == "{":
            quantifier = _quantifier(body, i)
            if quantifier is None:
                return None
            if quantifier:
                out.append(quantifier)
                i = body.index("}", i) + 1
                continue
            out.append("[\\x7B]")  # bare: the converter looped forever on a `}`; `{` likewise
        elif char in "]}":
            out.append(f"[\\x{ord(char):02X}]")
        elif char in "^$":
            return None  # an anchor inside: the converter takes it for a character
        elif char == ".":
            out.append(_any_but(""))
        elif char == "(":
            groups.append(len(out))
            out.append(char)
        elif char == ")":
            inside = "".join(out[groups.pop() + 1 :]) if groups else ""
            repeated = body[i + 1 : i + 2] in ("*", "+", "{")  # `?` is at most once: no harm
            if repeated and (re.search(r"[*+?{]", inside) or "|)" in inside + ")" or "(|" in "(" + inside):
                return None  # a repeat of a repeat, (a?){0,100}: its states multiply in the sampler
            out.append(char)
        else:
            out.append(char)
        i += 1
    return None if in_class or groups else "^(" + "".join(out) + ")$"


def bounded(schema: Any) -> Any:
    """A copy of a JSON Schema with the bounds the grammar enforces (MAX_ITEMS for an array
    that sets none, no bound so large that the GBNF would spell it out) and its patterns
    spelt by grammar_pattern."""
    if isinstance(schema, list):
        return [bounded(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in ("items", "additionalProperties", "not", "contains"):
        if isinstance(out.get(key), (dict, list)):
            out[key] = bounded(out[key])
    for key in ("properties", "$defs", "definitions"):
        if isinstance(out.get(key), dict):
            out[key] = {k: bounded(v) for k, v in out[key].items()}
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        if isinstance(out.get(key), list):
            out[key] = [bounded(v) for v in out[key]]
    if isinstance(out.get("pattern"), str):
        pattern = grammar_pattern(out["pattern"])
        if pattern is None:
            out.pop("pattern")
        else:
            out["pattern"] = pattern
    out.pop("patternProperties", None)  # its keys are patterns too; validation checks them
    kind = out.get("type")
    types = kind if isinstance(kind, list) else [kind]
    if "array" in types:
        out.setdefault("maxItems", MAX_ITEMS)
    for key in ("minItems", "maxItems", "minLength", "maxLength"):
        if not isinstance(out.get(key, 0), int) or out.get(key, 0) > GRAMMAR_MAX_BOUND:
            out.pop(key)
    return out


class _Odd(Exception):
    """The schema hits a gap of the converter: the tool gets the generic rule."""


def _renamed(schema: dict[str, Any], index: int) -> dict[str, Any]:
    """`$defs` and `definitions` as `$defs` named t{index}-d{n}: never one of the converter's
    own rule names, another tool's, or a name it sanitises. A `$ref` anywhere else is odd."""
    names: dict[str, str] = {}
    for table in ("$defs", "definitions"):
        for key in schema.get(table) or {}:
            names.setdefault(f"#/{table}/{key}", f"t{index}-d{len(names)}")

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("$defs", "definitions"):
                continue  # the root's are renamed below; a nested table no $ref here can reach
            if key in ("properties", "patternProperties") and isinstance(value, dict):
                out[key] = {name: walk(sub) for name, sub in value.items()}  # names, not keywords
            elif key in ("enum", "const", "default", "examples"):
                out[key] = value  # values, not schemas
            elif key != "$ref":
                out[key] = walk(value)
        if "$ref" in node:
            if node["$ref"] not in names:
                raise _Odd(f"a $ref it cannot follow: {str(node['$ref'])[:60]}")
            out["$ref"] = "#/$defs/" + names[node["$ref"]]
        return out

    out: dict[str, Any] = walk(schema)
    defs: dict[str, Any] = {}
    for table in ("$defs", "definitions"):
        for key, value in (schema.get(table) or {}).items():
            defs.setdefault(names[f"#/{table}/{key}"], walk(value))
    if defs:
        out["$defs"] = defs
    return out


def _unwritable(text: str) -> bool:
    """A name or value the converter writes into the GBNF wrongly, or no token can write."""
    return any(c in '"\\' or ord(c) < 0x20 or ord(c) > 0xFFFF for c in text)


def _check_value(value: Any) -> None:
    if isinstance(value, str) and _unwritable(value):
        raise _Odd("a value with a quote, backslash, control character or one outside the BMP")
    if isinstance(value, float) and not math.isfinite(value):
        raise _Odd("a value JSON cannot hold (NaN or infinity)")
    if isinstance(value, list):
        for item in value:
            _check_value(item)
    if isinstance(value, dict):
        for key, item in value.items():
            _check_value(key)
            _check_value(item)


def _check(schema: dict[str, Any]) -> None:
    """Raise _Odd where the converter would write a name or value wrongly, or anyOf/oneOf
    nests deeper than MAX_ANY_OF_DEPTH, `$ref`s followed (each target once per depth)."""
    defs = schema.get("$defs") or {}
    done: set[tuple[str, int]] = set()

    def walk(node: Any, depth: int) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, depth)
            return
        if not isinstance(node, dict):
            return
        for name in list(node.get("properties") or {}) + [r for r in node.get("required") or [] if isinstance(r, str)]:
            _check_value(name)
        if "enum" in node:
            if not isinstance(node["enum"], list) or not node["enum"]:
                raise _Odd("an enum with no values")
            _check_value(node["enum"])
        if "const" in node:
            _check_value(node["const"])
        deeper = depth + (1 if "anyOf" in node or "oneOf" in node else 0)
        if deeper > MAX_ANY_OF_DEPTH:
            raise _Odd(f"anyOf or oneOf nested more than {MAX_ANY_OF_DEPTH} deep")
        ref = node.get("$ref")
        if isinstance(ref, str) and (ref, deeper) not in done:
            done.add((ref, deeper))
            walk(defs.get(ref.removeprefix("#/$defs/")), deeper)
        for key, value in node.items():
            if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
                for sub in value.values():  # a map of names to schemas (a property may be named "enum")
                    walk(sub, deeper)
            elif key not in ("enum", "const", "default", "examples", "description", "title", "required", "$ref"):
                walk(value, deeper)

    walk(schema, 0)


def _check_inlined(schema: dict[str, Any]) -> None:
    """The converter copies the target of a `$ref` inside `allOf` in place: count the nodes
    it would visit, stopping at MAX_INLINED_NODES."""
    defs = schema.get("$defs") or {}
    seen = 0

    def visit(node: Any, depth: int) -> None:
        nonlocal seen
        seen += 1
        if seen > MAX_INLINED_NODES or depth > 64:
            raise _Odd("allOf copies more of the schema than a grammar should hold")
        if isinstance(node, list):
            for item in node:
                visit(item, depth + 1)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key == "allOf" and isinstance(value, list):
                    for part in value:
                        ref = part.get("$ref") if isinstance(part, dict) else None
                        target = defs.get(ref.removeprefix("#/$defs/")) if isinstance(ref, str) else None
                        visit(part if target is None else target, depth + 1)
                elif key not in ("$defs", "enum", "const", "default", "examples"):
                    visit(value, depth + 1)

    visit(schema, 0)
    for value in defs.values():
        visit(value, 0)


def tool_schema(parameters: dict[str, Any], index: int) -> dict[str, Any] | None:
    """The schema the converter gets for the `index`th tool, or None: give it the generic
    object rule instead."""
    try:
        schema = _renamed(bounded(dict(parameters)), index)
        _check(schema)
        _check_inlined(schema)
    except (_Odd, RecursionError, AttributeError, TypeError):
        return None
    schema.setdefault("additionalProperties", False)
    return schema
