"""Unseen-schema examples: synthetic tools rendered with their full JSON Schema as the chat
renders plugin tools, a request for one of them and its call (data.py's "schema" kind, and
heldout.py's unseen-schema file with its own vocabulary)."""

from __future__ import annotations

import json
import random
from typing import Any

from ..config import GenerationConfig
from ..engine.dialects import Dialect
from ..engine.prompt import system_content
from ..tools import Tool, ToolCall, ToolRegistry
from . import schemas

SCHEMA_RESULT = {"en": "Done: the reference is {ref}.", "es": "Hecho: la referencia es {ref}."}


def tools_field(tools: list[Tool]) -> list[Any]:
    """ARCHITECTURE's eval "tools": built-in names, synthetic tools as OpenAI function schemas."""
    return [t.name if t.source == "builtin" else schemas.openai_schema(t) for t in tools]


def schema_example(
    rng: random.Random,
    dialect: Dialect,
    vocab: schemas.Vocabulary,
    frames: list[int],
    lang: str,
    builtins: list[Tool],
    chat_turn,
    *,
    template_prefix: str,
    allow_result: bool = True,
    allow_ask: bool = True,
    alone: float = 0.3,
) -> dict[str, Any]:
    """Synthetic tools (1-2 beside the built-ins, or 1-4 alone), a request for one of them and its call.

    Some requests need no tool (a plain question with the tools shown); beside the
    built-ins, some leave out a required value and get an ask_user call. `alone` is
    the share without the built-ins: kept small in training because the trainer
    shares only the token prefix common to a whole batch, and the built-in block
    is most of it.
    """
    with_builtins = rng.random() >= alone
    count = rng.randint(1, 2) if with_builtins else rng.randint(1, 4)
    synths: list[schemas.Synthetic] = []
    taken = {t.name for t in builtins}
    while len(synths) < count:
        synth = schemas.make_tool(rng, vocab)
        if synth.tool.name not in taken:
            taken.add(synth.tool.name)
            synths.append(synth)
    tools = (list(builtins) if with_builtins else []) + [s.tool for s in synths]
    registry = ToolRegistry(tools)
    system = {"role": "system", "content": system_content(GenerationConfig().system_prompt, dialect, tools)}
    target = synths[rng.randrange(len(synths))]
    index = rng.choice(frames)
    template = f"{template_prefix}.{lang}.{index}"
    roll = rng.random()
    base = {"kind": "schema", "template": template, "tools": tools_field(tools), "n_synthetic": len(synths)}
    if roll < 0.12:
        question, answer = chat_turn(lang)
        return {
            **base,
            "tool": None,
            "shape": "no_call",
            "expected_calls": [],
            "messages": [system, {"role": "user", "content": question}, {"role": "assistant", "content": answer}],
        }
    ask = allow_ask and with_builtins and roll < 0.22
    req = schemas.request(rng, vocab, target, lang, index, leave_out_required=ask)
    if ask:
        call = ToolCall("ask_user", {"question": schemas.ask_question(req.missing, lang)})
    else:
        call = ToolCall(target.tool.name, req.arguments)
    errors = registry.validate(call)
    if errors:
        from .data import DatasetError

        raise DatasetError(
            f"a synthetic call does not fit its schema ({'; '.join(errors)}); fix thau_tui/train/schemas.py"
        )
    messages = [
        system,
        {"role": "user", "content": req.text},
        {"role": "assistant", "content": dialect.format_call(call)},
    ]
    if allow_result and not ask and rng.random() < 0.25:
        ref = f"{target.obj.id[:2].upper()}-{rng.randint(1000, 9999)}"
        messages += [
            {"role": "tool", "content": dialect.render_result(call.name, json.dumps({"ok": True, "id": ref}))},
            {"role": "assistant", "content": SCHEMA_RESULT[lang].format(ref=ref)},
        ]
    return {
        **base,
        "tool": call.name,
        "shape": "ask" if ask else "call",
        "messages": messages,
        "expected_calls": [{"name": call.name, "arguments": call.arguments}],
    }
