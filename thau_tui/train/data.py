"""`thau data build`: a bilingual tool-calling data set from the tool registry's schemas.

Examples are drawn from phrasings.catalog: about half need no tool, the rest call
one (some as multi-turn conversations with the tool's result and the reply after
it). The system message is exactly what the chat shows (system prompt + the
dialect's compact tool block), calls are written in the target dialect, and every
call is validated against its tool's JSON Schema. Frames (templates) are split so
that no template appears on both sides of the train/eval split. Deterministic for
a given seed.
"""

from __future__ import annotations

import json
import random
import statistics
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from ..config import GenerationConfig
from ..engine.dialects import Dialect, get_dialect
from ..engine.prompt import system_content
from ..tools import Tool, ToolCall, ToolRegistry, builtin_tools
from .phrasings import Family, eval_frame_indexes
from .phrasings.catalog import call_families, chat_families

# Share of each kind of example; the rest are calls. About half need no tool.
NO_CALL_SHARE = 0.48
MULTI_TURN_SHARE = 0.15
PREFACES = {"en": ["Let me check.", "Sure.", "On it.", "I'll do that now."],
            "es": ["Voy a mirarlo.", "Claro.", "Enseguida.", "Lo hago ahora."]}
LANGS = ("en", "es")


class DatasetError(ValueError):
    """The data set could not be built as asked (the message says why and what to change)."""


def _weighted(rng: random.Random, families: list[Family]) -> Family:
    return rng.choices(families, weights=[f.weight for f in families], k=1)[0]


def _frames(family: Family, lang: str, split: str) -> list[int]:
    frames = family.frames[lang]
    held = eval_frame_indexes(len(frames))
    return sorted(held) if split == "eval" else [i for i in range(len(frames)) if i not in held]


class _Builder:
    def __init__(self, dialect: Dialect, tools: list[Tool], seed: int) -> None:
        self.dialect = dialect
        self.registry = ToolRegistry(tools)
        self.system = system_content(GenerationConfig().system_prompt, dialect, tools)
        self.rng = random.Random(seed)
        have = set(self.registry.names())
        self.calls = [f for f in call_families() if f.tool in have]
        self.chats = chat_families()
        missing = sorted({f.tool for f in call_families()} - have)
        if missing:
            raise DatasetError(f"the tool registry lacks {', '.join(missing)}; the data set needs every built-in tool "
                               "(check thau_tui.tools.builtin_tools())")

    def _draw(self, families: list[Family], split: str, lang: str):
        """A family with frames on this side of the split, a frame, and an item that fits it."""
        usable = [f for f in families if _frames(f, lang, split)]
        family = _weighted(self.rng, usable)
        index = self.rng.choice(_frames(family, lang, split))
        item = family.draw(self.rng, index)
        text = family.frames[lang][index].format(**item.words[lang])
        return family, family.template_id(lang, index), item, text

    def _call_message(self, call: ToolCall, lang: str) -> str:
        errors = self.registry.validate(call)
        if errors:
            raise DatasetError(f"a generated call does not fit its schema ({'; '.join(errors)}); "
                               "fix the phrasings in thau_tui/train/phrasings")
        body = self.dialect.format_call(call)
        if self.rng.random() < 0.2:
            return f"{self.rng.choice(PREFACES[lang])}\n{body}"
        return body

    def example(self, kind: str, split: str, lang: str) -> dict[str, Any]:
        """One example (train form: the whole conversation, assistant turns included)."""
        system = {"role": "system", "content": self.system}
        if kind == "no_call":
            family, template, item, text = self._draw(self.chats, split, lang)
            messages = [system, {"role": "user", "content": text}, {"role": "assistant", "content": item.answer[lang]}]
            return {"kind": kind, "tool": None, "template": template, "messages": messages, "expected_calls": []}
        family, template, item, text = self._draw(self.calls, split, lang)
        call = ToolCall(family.tool, item.arguments_for(lang))
        expected = [{"name": call.name, "arguments": call.arguments}]
        request = {"role": "user", "content": text}
        call_turn = {"role": "assistant", "content": self._call_message(call, lang)}
        if kind == "call":
            return {"kind": kind, "tool": call.name, "template": template, "messages": [system, request, call_turn],
                    "expected_calls": expected}
        if family.tool != "ask_user" and self.rng.random() < 0.7:
            # The call, its result, then the reply that uses it (and calls nothing).
            result = {"role": "tool", "content": self.dialect.render_result(call.name, item.output or "(no output)")}
            reply = {"role": "assistant", "content": item.answer[lang]}
            return {"kind": kind, "tool": call.name, "template": template, "shape": "result",
                    "messages": [system, request, call_turn, result, reply], "expected_calls": expected}
        # Small talk first (self.chats[0] is the greeting family), then the request: the call must still come.
        _f, _t, hello, hello_text = self._draw(self.chats[:1], "train", lang)
        history = [{"role": "user", "content": hello_text}, {"role": "assistant", "content": hello.answer[lang]}]
        return {"kind": kind, "tool": call.name, "template": template, "shape": "history",
                "messages": [system, *history, request, call_turn], "expected_calls": expected}


def _eval_case(example: dict[str, Any]) -> dict[str, Any]:
    """ARCHITECTURE's eval input: the conversation up to the assistant turn to predict."""
    messages = example["messages"]
    case = {key: example[key] for key in ("id", "lang", "kind", "tool", "template")}
    # The reply the data set would have given: the trainer's eval loss is measured on it.
    case["reference"] = messages[-1]["content"]
    if example.get("shape") == "result":
        # Predict the reply after the tool result: no further call is expected.
        case.update(messages=messages[:-1], expected_calls=[])
    else:
        case.update(messages=messages[:-1], expected_calls=example["expected_calls"])
    return case


def _kinds(n: int, rng: random.Random) -> list[str]:
    no_call = round(n * NO_CALL_SHARE)
    multi = round(n * MULTI_TURN_SHARE)
    kinds = ["no_call"] * no_call + ["multi_turn"] * multi + ["call"] * (n - no_call - multi)
    rng.shuffle(kinds)
    return kinds


def generate(n: int, split: str, *, dialect: Dialect, tools: list[Tool], seed: int) -> list[dict[str, Any]]:
    """`n` distinct examples (train form) from one side of the template split."""
    builder = _Builder(dialect, tools, seed + (0 if split == "train" else 7919))
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for index, kind in enumerate(_kinds(n, builder.rng)):
        lang = LANGS[index % 2]
        for _attempt in range(20):
            example = builder.example(kind, split, lang)
            key = json.dumps(example["messages"][1:], ensure_ascii=False)
            if key not in seen:
                break
        seen.add(key)
        out.append({"id": f"{split}-{index:05d}", "lang": lang, **example})
    return out


def _token_counter(model_path: Path | None):
    """Count tokens with the model's own tokenizer and chat template (vocab-only load: fast)."""
    from ..engine.prompt import ChatTemplate, read_gguf_metadata
    from ..paths import bundled_model

    path = model_path or bundled_model()
    if path is None:
        return None
    import llama_cpp

    meta = read_gguf_metadata(path)
    template = ChatTemplate(meta.get("tokenizer.chat_template"), meta.get("bos_token", ""), meta.get("eos_token", ""))
    vocab = llama_cpp.Llama(str(path), vocab_only=True, verbose=False)

    def count(messages: list[dict[str, Any]]) -> int:
        text = template.render(messages, add_generation_prompt=False)
        return len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    return count


def _summary(values: list[int]) -> dict[str, float]:
    ordered = sorted(values)
    return {"min": ordered[0], "mean": round(statistics.fmean(ordered), 1), "p50": ordered[len(ordered) // 2],
            "p95": ordered[int(len(ordered) * 0.95) - 1], "max": ordered[-1]}


def compute_stats(train: list[dict], eval_cases: list[dict], *, dialect: str, count_tokens=None) -> dict[str, Any]:
    """Counts per tool, language and kind, template overlap (must be 0), token lengths."""

    def counts(rows: Iterable[dict]) -> dict[str, Any]:
        rows = list(rows)
        return {
            "examples": len(rows),
            "by_kind": dict(Counter(r["kind"] for r in rows)),
            "by_lang": dict(Counter(r["lang"] for r in rows)),
            "by_tool": dict(sorted(Counter(c["name"] for r in rows for c in r["expected_calls"]).items())),
            "no_call": sum(1 for r in rows if not r["expected_calls"]),
            "call": sum(1 for r in rows if r["expected_calls"]),
            "templates": len({r["template"] for r in rows}),
        }

    stats = {"dialect": dialect, "train": counts(train), "eval": counts(eval_cases),
             "shared_templates": sorted({r["template"] for r in train} & {r["template"] for r in eval_cases})}
    if count_tokens is not None:
        stats["train"]["tokens"] = _summary([count_tokens(r["messages"]) for r in train])
        stats["eval"]["prompt_tokens"] = _summary([count_tokens(r["messages"]) for r in eval_cases])
    return stats


def build_dataset(out_dir: str | Path, *, dialect: str = "hermes", n_train: int = 2000, n_eval: int = 200,
                  seed: int = 0, tools: list[Tool] | None = None, model_path: Path | None = None,
                  count_tokens: bool = True) -> dict[str, Any]:
    """Write train.jsonl, eval.jsonl and stats.json to `out_dir`; return the stats.

    `tools` defaults to the built-in tools (what the chat shows); `model_path`
    (default: the bundled GGUF) only supplies the tokenizer for token lengths.
    """
    if n_train < 1 or n_eval < 0:
        raise DatasetError(f"n_train must be at least 1 and n_eval at least 0 (got {n_train}, {n_eval})")
    chosen = get_dialect(dialect)
    tools = builtin_tools() if tools is None else tools
    train = generate(n_train, "train", dialect=chosen, tools=tools, seed=seed)
    eval_cases = [_eval_case(e) for e in generate(n_eval, "eval", dialect=chosen, tools=tools, seed=seed)]
    stats = compute_stats(train, eval_cases, dialect=dialect,
                          count_tokens=_token_counter(model_path) if count_tokens else None)
    if stats["shared_templates"]:
        raise DatasetError(f"templates on both sides of the split: {stats['shared_templates'][:5]}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train.jsonl", train), ("eval.jsonl", eval_cases)):
        with (out / name).open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out / "stats.json").write_text(json.dumps(stats, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return stats


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Every JSON line of a file (blank lines skipped)."""
    with Path(path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
