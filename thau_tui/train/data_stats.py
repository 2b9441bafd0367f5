"""stats.json for a built data set: counts per kind, language and tool, template overlap, token lengths.

Plain functions over the rows data.py generated; token lengths use the model's
own tokenizer and chat template (`token_counter`), which data.py also uses to drop
examples longer than the recipe's max_seq_len.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def token_counter(model_path: Path | None):
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

    def pct(q: float) -> int:
        return ordered[max(0, int(len(ordered) * q) - 1)]

    return {
        "min": ordered[0],
        "mean": round(statistics.fmean(ordered), 1),
        "p50": ordered[len(ordered) // 2],
        "p90": pct(0.90),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "max": ordered[-1],
        "over_640": sum(1 for v in ordered if v > 640),
        "over_768": sum(1 for v in ordered if v > 768),
    }


def _synthetic_names(row: dict[str, Any]) -> set[str]:
    return {t["function"]["name"] for t in row.get("tools", []) if isinstance(t, dict)}


def compute_stats(train: list[dict], eval_cases: list[dict], *, dialect: str, count_tokens=None) -> dict[str, Any]:
    """Counts per tool, language and kind, template overlap (must be 0), token lengths."""

    def counts(rows: Iterable[dict]) -> dict[str, Any]:
        rows = list(rows)
        return {
            "examples": len(rows),
            "by_kind": dict(Counter(r["kind"] for r in rows)),
            "by_lang": dict(Counter(r["lang"] for r in rows)),
            # Synthetic tools are counted together: their names are many and each is rare.
            "by_tool": dict(
                sorted(
                    Counter(
                        c["name"] if c["name"] not in _synthetic_names(r) else "(synthetic)"
                        for r in rows
                        for c in r["expected_calls"]
                    ).items()
                )
            ),
            "no_call": sum(1 for r in rows if not r["expected_calls"]),
            "call": sum(1 for r in rows if r["expected_calls"]),
            "templates": len({r["template"] for r in rows}),
        }

    stats = {
        "dialect": dialect,
        "train": counts(train),
        "eval": counts(eval_cases),
        "shared_templates": sorted({r["template"] for r in train} & {r["template"] for r in eval_cases}),
    }
    stats["train"]["conversation_calls"] = dict(
        sorted(Counter(len(r["expected_calls"]) for r in train if r["kind"] == "conversation").items())
    )
    stats["train"]["conversation_turns"] = dict(
        sorted(Counter(r["turns"] for r in train if r["kind"] == "conversation").items())
    )
    synthetic = [t["function"] for r in train for t in r.get("tools", []) if isinstance(t, dict)]
    stats["train"]["synthetic_tool_names"] = len({t["name"] for t in synthetic})
    stats["train"]["synthetic_schemas"] = len({json.dumps(t, sort_keys=True) for t in synthetic})
    if count_tokens is not None:
        lengths = [count_tokens(r["messages"]) for r in train]
        stats["train"]["tokens"] = _summary(lengths)
        stats["train"]["tokens_by_kind"] = {
            kind: _summary([n for n, r in zip(lengths, train) if r["kind"] == kind])
            for kind in sorted({r["kind"] for r in train})
        }
        stats["eval"]["prompt_tokens"] = _summary([count_tokens(r["messages"]) for r in eval_cases])
    return stats
