"""`thau data build`: a bilingual tool-calling data set from the tool registry's schemas.

Kinds of example (shares in KIND_SHARES):
- no_call / call / multi_turn: single requests from phrasings.catalog (a third
  need no tool), the call, sometimes its result and the reply after it;
- conversation: 2-4 requests with 0-2 calls each, results, denials, cancels,
  follow-ups that refer back and language switches (conversations.py);
- schema: synthetic tools rendered with their full JSON Schema as the chat renders
  plugin tools, alone or beside the built-ins (schemas.py);
- python: run_python code checked by running it; ask: underspecified requests
  answered with ask_user (fidelity.py);
- named_command / stated / converted / extracted / written / prose (share 0 unless a
  recipe's kind_shares turns them on): a request naming its shell command
  (named_commands.py), stating values the call must copy exactly (stated_values.py),
  convert to the form its schema asks for ("at 4.5%" -> 0.045, converted_values.py) or
  pick out of longer words (every item of a list, "$2,400,000", a name without its
  article, extracted_values.py), or sounding like a task but answered in words
  (phrasings/writing.py: a poem, a name, a reworded line).
The system message is exactly what the chat shows for the example's tools, calls
are written in the target dialect, and every call is validated against its tool's
JSON Schema. Frames (templates) are split so that no template appears on both
sides of the train/eval split; held-out files (heldout.py) use their own frames,
values and schema vocabulary. Deterministic for a given seed. What the built set
looks like (counts, template overlap, token lengths: stats.json) is data_stats.py.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from ..config import GenerationConfig
from ..engine.dialects import Dialect, get_dialect
from ..engine.prompt import system_content
from ..paths import open_for_writing, replace_file
from ..tools import Tool, ToolCall, ToolRegistry, builtin_tools
from . import conversations, converted_values, extracted_values, fidelity, named_commands, schemas, stated_values
from .data_stats import compute_stats, token_counter
from .eval_cases import eval_case
from .heldout import build_heldout
from .phrasings import Family, eval_frame_indexes
from .phrasings.catalog import call_families, chat_families, family_ids, prose_families, written_families
from .schema_examples import schema_example

# Share of each kind of example; "call" takes the rest.
KIND_SHARES = {
    "no_call": 0.31,
    "multi_turn": 0.05,
    "conversation": 0.20,
    "schema": 0.18,
    "python": 0.04,
    "ask": 0.02,
    "named_command": 0.0,  # named_commands.py: a recipe's kind_shares turns it on
    "stated": 0.0,  # stated_values.py: likewise
    "written": 0.0,  # phrasings/writing.py: likewise
    "prose": 0.0,  # phrasings/writing.py too: likewise
    "converted": 0.0,  # converted_values.py: likewise
    "extracted": 0.0,  # extracted_values.py: likewise
}
# How often a conversation's first request about a file asks for two things (recipe: pair_share).
PAIR_SHARE = 0.3
# Kinds rendered like "schema" from a vocabulary of their own.
VOCABULARY_KINDS = {"converted": converted_values.CONVERTED, "extracted": extracted_values.EXTRACTED}
PREFACES = {
    "en": ["Let me check.", "Sure.", "On it.", "I'll do that now."],
    "es": ["Voy a mirarlo.", "Claro.", "Enseguida.", "Lo hago ahora."],
}
LANGS = ("en", "es")
# The recipe's max_seq_len (train/recipes/smollm2-tools.yaml): longer examples would be dropped by the trainer.
MAX_TOKENS = 640


class DatasetError(ValueError):
    """The data set could not be built as asked (the message says why and what to change)."""


def _weighted(rng: random.Random, families: list[Family], weights: tuple[dict, dict] = ({}, {})) -> Family:
    """A family, by its own weight times the recipe's tool_weights and family_weights."""
    by_tool, by_family = weights
    chances = [f.weight * by_tool.get(f.tool or "", 1.0) * by_family.get(f.id, 1.0) for f in families]
    return rng.choices(families, weights=chances, k=1)[0]


def _frames(family: Family, lang: str, split: str) -> list[int]:
    frames = family.frames[lang]
    held = eval_frame_indexes(len(frames))
    return sorted(held) if split == "eval" else [i for i in range(len(frames)) if i not in held]


class _Builder:
    def __init__(
        self,
        dialect: Dialect,
        tools: list[Tool],
        seed: int,
        tool_weights: dict[str, float] | None = None,
        family_weights: dict[str, float] | None = None,
        pair_share: float | None = None,
    ) -> None:
        self.dialect = dialect
        self.pair_share = PAIR_SHARE if pair_share is None else pair_share
        self.weights = (tool_weights or {}, family_weights or {})
        self.tools = list(tools)
        self.registry = ToolRegistry(tools)
        self.system = system_content(GenerationConfig().system_prompt, dialect, tools)
        self.rng = random.Random(seed)
        have = set(self.registry.names())
        self.calls = [f for f in call_families() if f.tool in have]
        self.chats = chat_families()
        self.written = written_families()
        self.prose = prose_families()
        missing = sorted({f.tool for f in call_families()} - have)
        if missing:
            raise DatasetError(
                f"the tool registry lacks {', '.join(missing)}; the data set needs every built-in tool "
                "(check thau_tui.tools.builtin_tools())"
            )

    def _draw(self, families: list[Family], split: str, lang: str):
        """A family with frames on this side of the split, a frame, and an item that fits it."""
        usable = [f for f in families if _frames(f, lang, split)]
        family = _weighted(self.rng, usable, self.weights)
        index = self.rng.choice(_frames(family, lang, split))
        item = family.draw(self.rng, index)
        text = family.frames[lang][index].format(**item.words[lang])
        return family, family.template_id(lang, index), item, text

    def _call_message(self, call: ToolCall, lang: str) -> str:
        errors = self.registry.validate(call)
        if errors:
            raise DatasetError(
                f"a generated call does not fit its schema ({'; '.join(errors)}); "
                "fix the phrasings in thau_tui/train/phrasings"
            )
        body = self.dialect.format_call(call)
        if self.rng.random() < 0.2:
            return f"{self.rng.choice(PREFACES[lang])}\n{body}"
        return body

    def example(self, kind: str, split: str, lang: str) -> dict[str, Any]:
        """One example (train form: the whole conversation, assistant turns included)."""
        if kind in VOCABULARY_KINDS:
            return self.schema(split, lang, VOCABULARY_KINDS[kind], kind)
        if kind in ("conversation", "schema", "python", "ask", "named_command", "stated"):
            return getattr(self, kind)(split, lang)
        system = {"role": "system", "content": self.system}
        if kind in ("no_call", "written", "prose"):
            answered_in_words = {"no_call": self.chats, "written": self.written, "prose": self.prose}
            family, template, item, text = self._draw(answered_in_words[kind], split, lang)
            messages = [system, {"role": "user", "content": text}, {"role": "assistant", "content": item.answer[lang]}]
            return {"kind": kind, "tool": None, "template": template, "messages": messages, "expected_calls": []}
        family, template, item, text = self._draw(self.calls, split, lang)
        call = ToolCall(family.tool, item.arguments_for(lang))
        expected = [{"name": call.name, "arguments": call.arguments}]
        request = {"role": "user", "content": text}
        call_turn = {"role": "assistant", "content": self._call_message(call, lang)}
        if kind == "call":
            return {
                "kind": kind,
                "tool": call.name,
                "template": template,
                "messages": [system, request, call_turn],
                "expected_calls": expected,
            }
        if family.tool != "ask_user" and self.rng.random() < 0.7:
            # The call, its result, then the reply that uses it (and calls nothing).
            result = {"role": "tool", "content": self.dialect.render_result(call.name, item.output or "(no output)")}
            reply = {"role": "assistant", "content": item.answer[lang]}
            return {
                "kind": kind,
                "tool": call.name,
                "template": template,
                "shape": "result",
                "messages": [system, request, call_turn, result, reply],
                "expected_calls": expected,
            }
        # Small talk first (self.chats[0] is the greeting family), then the request: the call must still come.
        _f, _t, hello, hello_text = self._draw(self.chats[:1], "train", lang)
        history = [{"role": "user", "content": hello_text}, {"role": "assistant", "content": hello.answer[lang]}]
        return {
            "kind": kind,
            "tool": call.name,
            "template": template,
            "shape": "history",
            "messages": [system, *history, request, call_turn],
            "expected_calls": expected,
        }

    # --- conversations, synthetic schemas, checked computations, ask_user -------------
    def _split(self, items: list, split: str) -> list[int]:
        held = eval_frame_indexes(len(items))
        return sorted(held) if split == "eval" else [i for i in range(len(items)) if i not in held]

    def _split_frames(self, frames: dict[str, list[str]], split: str) -> dict[str, list[str]]:
        return {lang: [frames[lang][i] for i in self._split(frames[lang], split)] for lang in frames}

    def _chat_turn(self, lang: str) -> tuple[str, str]:
        """A request that needs no tool (train frames only: it is context, not the template)."""
        _f, _t, item, text = self._draw(self.chats, "train", lang)
        return text, item.answer[lang]

    def conversation(self, split: str, lang: str) -> dict[str, Any]:
        maker = conversations.ConversationMaker(
            self.rng,
            self._split_frames(conversations.FRAMES, split),
            self._split_frames(conversations.PAIR_FRAMES, split),
            self._split_frames(conversations.COMMAND_FRAMES, split),
            (lambda n: self._split(list(range(n)), "train")) if split == "train" else (lambda n: list(range(n))),
            self._chat_turn,
            action_weights=conversations.ACTION_WEIGHTS,
            tool_turn=lambda lang: self._tool_turn(split, lang),
            shell_chat_share=0.06,
            pair_share=self.pair_share,
        )
        turns = maker.conversation(lang)
        calls = conversations.calls_of(turns)
        for call in calls:
            self._check(self.registry, call)
        first = turns[0].frame
        messages = [{"role": "system", "content": self.system}, *conversations.render(turns, self.dialect, self.rng)]
        return {
            "kind": "conversation",
            "tool": calls[0].name if calls else None,
            "template": f"conversation.{split}.{first}" if split == "eval" else f"conversation.{first}",
            "messages": messages,
            "expected_calls": [{"name": c.name, "arguments": c.arguments} for c in calls],
            "turns": len(turns),
            "turn_langs": [t.lang for t in turns],
        }

    def named_command(self, split: str, lang: str) -> dict[str, Any]:
        """A request that names its shell command, often after a cd (named_commands.py)."""
        turns = named_commands.named_conversation(
            self.rng,
            lang,
            self._split(named_commands.TASKS, split),
            self._split_frames(named_commands.FRAMES, split),
            self._split_frames(conversations.COMMAND_FRAMES, split),
        )
        calls = conversations.calls_of(turns)
        messages = [{"role": "system", "content": self.system}, *conversations.render(turns, self.dialect, self.rng)]
        return {
            "kind": "named_command",
            "tool": "run_shell",
            "template": f"named_command.{split}.{turns[-1].frame}" if split == "eval" else turns[-1].frame,
            "messages": messages,
            "expected_calls": [{"name": c.name, "arguments": c.arguments} for c in calls],
        }

    def stated(self, split: str, lang: str) -> dict[str, Any]:
        """A request whose values come from large word lists: the call copies them (stated_values.py)."""
        family, index, text, args = stated_values.stated_request(
            self.rng, lang, lambda f: self._split(f.frames[lang], split)
        )
        call = ToolCall(family.tool, args)
        self._check(self.registry, call)
        messages = [
            {"role": "system", "content": self.system},
            {"role": "user", "content": text},
            {"role": "assistant", "content": self._call_message(call, lang)},
        ]
        return {
            "kind": "stated",
            "tool": call.name,
            "template": f"stated.{family.id}.{lang}.{index}",
            "messages": messages,
            "expected_calls": [{"name": call.name, "arguments": call.arguments}],
        }

    def _tool_turn(self, split: str, lang: str) -> conversations.Turn:
        """A request for any built-in tool inside a conversation (the same families, frames and
        values as single requests), its result and the answer; now and then denied or cancelled."""
        family, template, item, text = self._draw([f for f in self.calls if f.tool != "ask_user"], split, lang)
        call = ToolCall(family.tool, item.arguments_for(lang))
        output = item.output or "(no output)"
        if call.name in ("run_shell", "run_python"):
            output = f"{item.output}\n[exit status 0]" if item.output else "[exit status 0]"
        roll = self.rng.random()
        if roll < 0.06:
            return conversations.Turn(
                lang, text, [(call, self.rng.choice(conversations.CANCELLED))], None, f"tool.{template}"
            )
        if roll < 0.12:
            reason = self.rng.choice(conversations.DENY_REASONS[lang])
            return conversations.Turn(
                lang, text, [(call, conversations.denial(reason))], conversations.AFTER_DENIAL[lang], f"tool.{template}"
            )
        return conversations.Turn(lang, text, [(call, output)], item.answer[lang], f"tool.{template}")

    def _check(self, registry: ToolRegistry, call: ToolCall) -> None:
        errors = registry.validate(call)
        if errors:
            raise DatasetError(
                f"a generated call does not fit its schema ({'; '.join(errors)}); fix the generator in thau_tui/train"
            )

    def schema(
        self, split: str, lang: str, vocab: schemas.Vocabulary = schemas.TRAIN, kind: str = "schema"
    ) -> dict[str, Any]:
        frames = self._split(vocab.frames[lang], split)
        made = schema_example(
            self.rng, self.dialect, vocab, frames, lang, self.tools, self._chat_turn, template_prefix=kind
        )
        return {**made, "kind": kind}

    def python(self, split: str, lang: str) -> dict[str, Any]:
        comp = fidelity.computation(self.rng)
        index = self.rng.choice(self._split(fidelity.PYTHON_FRAMES[lang], split))
        text = fidelity.PYTHON_FRAMES[lang][index].format(what=comp.en if lang == "en" else comp.es)
        call = ToolCall("run_python", {"code": comp.code})
        self._check(self.registry, call)
        messages = [
            {"role": "system", "content": self.system},
            {"role": "user", "content": text},
            {"role": "assistant", "content": self.dialect.format_call(call)},
            {"role": "tool", "content": self.dialect.render_result("run_python", f"{comp.expected}\n[exit status 0]")},
            {"role": "assistant", "content": fidelity.PYTHON_ANSWER[lang].format(out=comp.expected)},
        ]
        return {
            "kind": "python",
            "tool": "run_python",
            "template": f"python.{lang}.{index}",
            "messages": messages,
            "expected_calls": [{"name": call.name, "arguments": call.arguments}],
            "computation": comp.kind,
            "expected_output": comp.expected,
        }

    def ask(self, split: str, lang: str) -> dict[str, Any]:
        index = self.rng.choice(self._split(fidelity.UNDERSPECIFIED, split))
        req_en, q_en, req_es, q_es = fidelity.UNDERSPECIFIED[index]
        call = ToolCall("ask_user", {"question": q_en if lang == "en" else q_es})
        self._check(self.registry, call)
        messages = [
            {"role": "system", "content": self.system},
            {"role": "user", "content": req_en if lang == "en" else req_es},
            {"role": "assistant", "content": self.dialect.format_call(call)},
        ]
        return {
            "kind": "ask",
            "tool": "ask_user",
            "template": f"ask.{index}",
            "messages": messages,
            "expected_calls": [{"name": call.name, "arguments": call.arguments}],
        }


def _kinds(n: int, rng: random.Random, shares: dict[str, float] | None = None) -> list[str]:
    chosen = KIND_SHARES | (shares or {})
    kinds = [kind for kind, share in chosen.items() if kind != "call" for _ in range(round(n * share))][:n]
    kinds += ["call"] * (n - len(kinds))
    rng.shuffle(kinds)
    return kinds


def generate(
    n: int,
    split: str,
    *,
    dialect: Dialect,
    tools: list[Tool],
    seed: int,
    fits=None,
    tool_weights: dict[str, float] | None = None,
    kind_shares: dict[str, float] | None = None,
    family_weights: dict[str, float] | None = None,
    pair_share: float | None = None,
) -> list[dict[str, Any]]:
    """`n` distinct examples (train form) from one side of the template split.

    `tool_weights` multiplies how often a single request for that tool is drawn
    (a tool missed more often than others gets more examples); absent tools keep 1.
    `family_weights` does the same for one family of phrasings (catalog.family_ids()).
    `kind_shares` overrides KIND_SHARES for the kinds it names ("call" takes the rest).
    `pair_share` is how often a conversation's first request about a file asks for two
    things (default PAIR_SHARE).

    `fits(messages) -> bool` (optional) rejects examples too long to train on; a
    rejected example is drawn again, so the length cap shapes the mix, not the count.
    """
    builder = _Builder(
        dialect, tools, seed + (0 if split == "train" else 7919), tool_weights, family_weights, pair_share
    )
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for index, kind in enumerate(_kinds(n, builder.rng, kind_shares)):
        lang = LANGS[index % 2]
        for _attempt in range(40):
            example = builder.example(kind, split, lang)
            key = json.dumps(example["messages"][1:], ensure_ascii=False)
            if key not in seen and (fits is None or fits(example["messages"])):
                break
        seen.add(key)
        out.append({"id": f"{split}-{index:05d}", "lang": lang, **example})
    return out


def build_dataset(
    out_dir: str | Path,
    *,
    dialect: str = "hermes",
    n_train: int = 2000,
    n_eval: int = 200,
    seed: int = 0,
    tools: list[Tool] | None = None,
    model_path: Path | None = None,
    count_tokens: bool = True,
    max_tokens: int | None = MAX_TOKENS,
    tool_weights: dict[str, float] | None = None,
    kind_shares: dict[str, float] | None = None,
    family_weights: dict[str, float] | None = None,
    pair_share: float | None = None,
) -> dict[str, Any]:
    """Write train.jsonl, eval.jsonl, the held-out files and stats.json to `out_dir`; return the stats.

    `tools` defaults to the built-in tools (what the chat shows); `model_path`
    (default: the bundled GGUF) supplies the tokenizer for token lengths and for
    `max_tokens`, the longest example kept (the recipe's max_seq_len: the trainer
    drops longer ones). Without a tokenizer, or with max_tokens None, nothing is capped.
    """
    if n_train < 1 or n_eval < 0:
        raise DatasetError(f"n_train must be at least 1 and n_eval at least 0 (got {n_train}, {n_eval})")
    chosen = get_dialect(dialect)
    tools = builtin_tools() if tools is None else tools
    counter = token_counter(model_path) if count_tokens or max_tokens else None
    fits = (lambda messages: counter(messages) <= max_tokens) if counter and max_tokens else None
    unknown = sorted(set(tool_weights or {}) - {t.name for t in tools})
    if unknown:
        raise DatasetError(f"tool_weights names tools that are not in the data set: {', '.join(unknown)}")
    unknown = sorted(set(family_weights or {}) - set(family_ids()))
    if unknown:
        raise DatasetError(f"family_weights: no family {', '.join(unknown)} (they are {', '.join(family_ids())})")
    train = generate(
        n_train,
        "train",
        dialect=chosen,
        tools=tools,
        seed=seed,
        fits=fits,
        tool_weights=tool_weights,
        kind_shares=kind_shares,
        family_weights=family_weights,
        pair_share=pair_share,
    )
    eval_cases = [
        eval_case(e, chosen) for e in generate(n_eval, "eval", dialect=chosen, tools=tools, seed=seed, fits=fits)
    ]
    stats = compute_stats(train, eval_cases, dialect=dialect, count_tokens=counter if count_tokens else None)
    stats["max_tokens"] = max_tokens if fits else None
    if stats["shared_templates"]:
        raise DatasetError(f"templates on both sides of the split: {stats['shared_templates'][:5]}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train.jsonl", train), ("eval.jsonl", eval_cases)):
        with open_for_writing(out / name) as handle:  # never through a link a cloned repository left
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    heldout_files = build_heldout(chosen, builtin_tools(), seed)
    for name, rows in heldout_files.items():
        with open_for_writing(out / name) as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    stats["heldout"] = {
        name: {
            "cases": len(rows),
            "by_lang": dict(Counter(r["lang"] for r in rows)),
            "no_call": sum(1 for r in rows if not r["expected_calls"]),
        }
        for name, rows in heldout_files.items()
    }
    replace_file(out / "stats.json", json.dumps(stats, indent=2, ensure_ascii=False) + "\n")
    return stats


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Every JSON line of a file (blank lines skipped)."""
    with Path(path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
