"""What a synthetic-schema vocabulary is made of, and the builders for its parameters.

A `Vocabulary` is domains, verbs, objects, parameter kinds and request frames;
schemas.py draws tools and requests from one. A `Param` is a parameter kind: its
JSON Schema, how a value is drawn, and how a request states it in English and
Spanish. The two vocabularies themselves are schema_vocab_train.py (`TRAIN`) and
schema_vocab_heldout.py (`HELDOUT`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    """A parameter kind: its schema, a value drawer and how a request mentions it."""

    name: str
    schema: dict[str, Any]
    draw: Callable[[random.Random], Any]
    en: Callable[[Any], str]  # value -> phrase stating it ("for 3 passengers")
    es: Callable[[Any], str]
    label: tuple[str, str]  # what to ask for when it is missing (en, es)


@dataclass(frozen=True)
class Verb:
    id: str
    en: str  # imperative / infinitive (English uses one form)
    es_imp: str
    es_inf: str


@dataclass(frozen=True)
class Obj:
    id: str
    en: str  # with its article: "a flight"
    es: str
    domain: str
    params: tuple[str, ...]  # parameter names this object can take


@dataclass
class Vocabulary:
    domains: dict[str, str]  # id -> description
    verbs: list[Verb]
    objects: list[Obj]
    params: dict[str, Param]
    frames: dict[str, list[str]]  # lang -> frames over {V} {v} {o} {m}


def draw_choice(values: list) -> Callable[[random.Random], Any]:
    """A drawer: one of `values`."""
    return lambda rng: values[rng.randrange(len(values))]


def draw_int(lo: int, hi: int) -> Callable[[random.Random], int]:
    """A drawer: an integer from `lo` to `hi`, both included."""
    return lambda rng: rng.randint(lo, hi)


def _pair(values: list[str]) -> Callable[[random.Random], list[str]]:
    return lambda rng: rng.sample(values, 2)


def _and(items: list[str], lang: str) -> str:
    return f"{items[0]} {'and' if lang == 'en' else 'y'} {items[1]}"


def string_param(name, desc, values, en, es, label):
    """A string drawn from `values`; `en` and `es` state it ("in {v}")."""
    return Param(
        name,
        {"type": "string", "description": desc},
        draw_choice(values),
        lambda v: en.format(v=v),
        lambda v: es.format(v=v),
        label,
    )


def integer_param(name, desc, lo, hi, en, es, label):
    """An integer from `lo` to `hi` (the schema says so too)."""
    return Param(
        name,
        {"type": "integer", "description": desc, "minimum": lo, "maximum": hi},
        draw_int(lo, hi),
        lambda v: en.format(v=v),
        lambda v: es.format(v=v),
        label,
    )


def number_param(name, desc, values, en, es, label):
    """A number drawn from `values`."""
    return Param(
        name,
        {"type": "number", "description": desc},
        draw_choice(values),
        lambda v: en.format(v=v),
        lambda v: es.format(v=v),
        label,
    )


def enum_param(name, desc, values, en, es, label):
    """A string from a JSON Schema enum of `values`."""
    return Param(
        name,
        {"type": "string", "enum": values, "description": desc},
        draw_choice(values),
        lambda v: en.format(v=v),
        lambda v: es.format(v=v),
        label,
    )


def boolean_param(name, desc, en_true, en_false, es_true, es_false, label):
    """A boolean, stated by one phrase for true and one for false."""
    return Param(
        name,
        {"type": "boolean", "description": desc},
        draw_choice([True, False]),
        lambda v: en_true if v else en_false,
        lambda v: es_true if v else es_false,
        label,
    )


def array_param(name, desc, values, en, es, label):
    """An array of two distinct strings from `values` ("x and y")."""
    return Param(
        name,
        {"type": "array", "items": {"type": "string"}, "description": desc},
        _pair(values),
        lambda v: en.format(v=_and(v, "en")),
        lambda v: es.format(v=_and(v, "es")),
        label,
    )


def object_param(name, desc, fields: dict[str, tuple[str, Callable]], en, es, label):
    """A nested object; `fields` maps each name to its JSON type and drawer, all required."""
    props = {k: {"type": t} for k, (t, _d) in fields.items()}
    schema = {
        "type": "object",
        "description": desc,
        "properties": props,
        "required": list(fields),
        "additionalProperties": False,
    }
    return Param(
        name,
        schema,
        lambda rng: {k: d(rng) for k, (_t, d) in fields.items()},
        lambda v: en.format(**v),
        lambda v: es.format(**v),
        label,
    )


def _join(items: list[Any], lang: str) -> str:
    """ "a", "a and b", "a, b and c" (Spanish "y")."""
    words = [str(i) for i in items]
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} {'and' if lang == 'en' else 'y'} {words[-1]}"


def _sample(values: list, lo: int, hi: int) -> Callable[[random.Random], list]:
    return lambda rng: rng.sample(values, rng.randint(lo, hi))


def list_param(name, desc, values, item_type, en, es, label, lo=1, hi=3):
    """An array of `lo` to `hi` distinct items (strings or integers) from `values`, "x, y and z"."""
    return Param(
        name,
        {
            "type": "array",
            "items": {"type": item_type},
            "minItems": lo,
            "maxItems": hi,
            "uniqueItems": True,
            "description": desc,
        },
        _sample(values, lo, hi),
        lambda v: en.format(v=_join(v, "en")),
        lambda v: es.format(v=_join(v, "es")),
        label,
    )


def pattern_param(name, desc, values, pattern, en, es, label):
    """A string in a fixed format (a JSON Schema `pattern`) drawn from `values`."""
    return Param(
        name,
        {"type": "string", "pattern": pattern, "description": desc},
        draw_choice(values),
        lambda v: en.format(v=v),
        lambda v: es.format(v=v),
        label,
    )


def ranged_number_param(name, desc, values, lo, hi, en, es, label):
    """A number drawn from `values`, with the schema's `minimum` and `maximum`."""
    return Param(
        name,
        {"type": "number", "description": desc, "minimum": lo, "maximum": hi},
        draw_choice(values),
        lambda v: en.format(v=v),
        lambda v: es.format(v=v),
        label,
    )
