"""Synthetic function schemas: tools the adapter never saw, built from vocabularies.

A tool is a verb x an object of a domain (`book_flight`, `send_invoice`) with 1-5
typed parameters (string, integer, number, boolean, enum, array, nested object),
required ones and optional ones with defaults. A request (English or Spanish)
states every value the call needs, so the model learns to read a JSON Schema and
copy the user's values into it rather than memorise twelve tools. Tools are
`Tool` objects with a non-builtin source, so `system_content` renders them with
their full JSON Schema exactly as the chat renders plugin tools.

`TRAIN` and `HELDOUT` are disjoint vocabularies (domains, verbs, objects,
parameter names): held-out schemas share nothing with training. What a vocabulary
is made of is schema_vocabulary.py; the two vocabularies are schema_vocab_train.py
and schema_vocab_heldout.py (both re-exported here, with the vocabulary types).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from ..tools.base import Tool, ToolError
from .schema_vocab_heldout import HELDOUT as HELDOUT
from .schema_vocab_train import TRAIN as TRAIN
from .schema_vocabulary import Obj as Obj
from .schema_vocabulary import Param as Param
from .schema_vocabulary import Verb as Verb
from .schema_vocabulary import Vocabulary as Vocabulary


def _not_runnable(arguments: dict[str, Any], context: Any) -> str:
    raise ToolError("synthetic tools are described to the model, never run")


@dataclass
class Synthetic:
    """A generated tool and the parameter kinds behind it."""

    tool: Tool
    verb: Verb
    obj: Obj
    params: list[Param]
    required: list[str]


def make_tool(rng: random.Random, vocab: Vocabulary) -> Synthetic:
    """A random verb x object with 1-5 of the object's parameters, some optional with defaults."""
    verb = vocab.verbs[rng.randrange(len(vocab.verbs))]
    obj = vocab.objects[rng.randrange(len(vocab.objects))]
    names = rng.sample(obj.params, rng.randint(1, min(5, len(obj.params))))
    params = [vocab.params[n] for n in names]
    n_required = rng.randint(1, len(params))
    required = names[:n_required]
    properties: dict[str, Any] = {}
    for index, param in enumerate(params):
        schema = dict(param.schema)
        if index >= n_required and schema["type"] in ("string", "integer", "number", "boolean"):
            schema["default"] = param.draw(rng)
        properties[param.name] = schema
    description = f"{verb.en.capitalize()} {obj.en} in the {vocab.domains[obj.domain]}"
    tool = Tool(
        name=f"{verb.id}_{obj.id}",
        description=description,
        parameters={"type": "object", "properties": properties, "required": required},
        risk="read",
        function=_not_runnable,
        source="synthetic",
    )
    return Synthetic(tool, verb, obj, params, required)


def openai_schema(tool: Tool) -> dict[str, Any]:
    """The form eval cases carry in "tools" (evaluate.case_tools reads it back)."""
    return tool.schema()


@dataclass
class Request:
    text: str
    arguments: dict[str, Any]
    missing: Param | None  # a required value the request leaves out (ask the user)


def request(
    rng: random.Random, vocab: Vocabulary, synth: Synthetic, lang: str, frame: int, leave_out_required: bool = False
) -> Request:
    """A request stating every required value and some optional ones; the call's arguments."""
    optional = [p for p in synth.params if p.name not in synth.required]
    stated = [p for p in synth.params if p.name in synth.required] + [p for p in optional if rng.random() < 0.5]
    missing = None
    if leave_out_required:
        missing = stated[rng.randrange(len(synth.required))]
        stated = [p for p in stated if p is not missing]
    values = {p.name: p.draw(rng) for p in stated}
    phrases = [(p.en if lang == "en" else p.es)(values[p.name]) for p in stated]
    rng.shuffle(phrases)
    mention = " ".join(phrases)
    o = synth.obj.en if lang == "en" else synth.obj.es
    text = (
        vocab.frames[lang][frame]
        .format(
            V=(synth.verb.en if lang == "en" else synth.verb.es_imp).capitalize(),
            v=synth.verb.en,
            v_imp=synth.verb.es_imp,
            v_inf=synth.verb.es_inf,
            o=o,
            m=mention,
        )
        .replace(" .", ".")
        .replace(" ?", "?")
        .replace(" ,", ",")
    )
    # The call lists arguments in schema order (required first), as a careful model would.
    arguments = {name: values[name] for name in synth.tool.parameters["properties"] if name in values}
    return Request(text, arguments, missing)


def ask_question(param: Param, lang: str) -> str:
    """What to ask when a required value is missing."""
    en, es = param.label
    return f"Which {en} should I use?" if lang == "en" else f"¿Qué {es} uso?"


def vocabulary_words(vocab: Vocabulary) -> set[str]:
    """Every identifier a vocabulary uses (domains, verbs, objects, parameters): for the disjointness check."""
    return (
        {f"domain:{d}" for d in vocab.domains}
        | {f"verb:{v.id}" for v in vocab.verbs}
        | {f"object:{o.id}" for o in vocab.objects}
        | {f"param:{p}" for p in vocab.params}
    )
