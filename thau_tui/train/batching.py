"""From data set lines to training tensors: chat-template rendering, assistant-only labels, batches.

Examples are rendered with the model's own chat template (the one the chat
uses), tokenized in one piece, and labelled only where the assistant speaks
(its content and its end-of-turn token); everything else is -100.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine.prompt import ChatTemplate

IGNORE = -100


@dataclass
class Encoded:
    """One tokenized example; labels are IGNORE outside the assistant's turns."""

    input_ids: list[int]
    labels: list[int]

    @property
    def trained_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE)


def assistant_spans(messages: list[dict[str, Any]], template: ChatTemplate) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character spans the model must learn to write."""
    spans = []
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        start = len(template.render(messages[:index], add_generation_prompt=True))
        end = len(template.render(messages[: index + 1], add_generation_prompt=False))
        full = template.render(messages[: index + 1], add_generation_prompt=False)
        # Train the end-of-turn token (so the model learns to stop) but not the newline after it.
        end -= len(full[:end]) - len(full[:end].rstrip())
        spans.append((start, end))
    return template.render(messages, add_generation_prompt=False), spans


def encode(messages: list[dict[str, Any]], template: ChatTemplate, tokenizer) -> Encoded:
    """Tokenize a conversation; label the tokens that start inside an assistant span."""
    text, spans = assistant_spans(messages, template)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    labels = []
    for token, (start, _end) in zip(enc["input_ids"], enc["offset_mapping"]):
        inside = any(a <= start < b for a, b in spans)
        labels.append(token if inside else IGNORE)
    return Encoded(list(enc["input_ids"]), labels)


def conversation(row: dict[str, Any]) -> list[dict[str, Any]]:
    """A training line's messages; an eval line gets its reference reply appended."""
    messages = list(row["messages"])
    if messages and messages[-1]["role"] != "assistant" and row.get("reference"):
        messages.append({"role": "assistant", "content": row["reference"]})
    return messages


def load_encoded(
    path: Path, template: ChatTemplate, tokenizer, max_seq_len: int, limit: int | None = None
) -> tuple[list[Encoded], int]:
    """Encode a JSONL file; examples longer than max_seq_len are left out (and counted)."""
    kept: list[Encoded] = []
    dropped = 0
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                encoded = encode(conversation(json.loads(line)), template, tokenizer)
            except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
                # a hand-edited or broken file: say where, not "KeyError: 'messages'"
                raise ValueError(
                    f"{path}:{number}: not a training example ({type(exc).__name__}: {exc}); each line is "
                    '{"messages": [{"role": ..., "content": ...}, ...]} as thau data build writes it'
                ) from exc
            if len(encoded.input_ids) > max_seq_len or not encoded.trained_tokens:
                dropped += 1
                continue
            kept.append(encoded)
            if limit is not None and len(kept) >= limit:
                break
    return kept, dropped


def epoch_batches(lengths: list[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Batches of example indexes for one epoch: shuffled, with similar lengths grouped (less padding)."""
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    group = batch_size * 16
    batches = []
    for at in range(0, len(order), group):
        chunk = sorted(order[at : at + group], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def collate(examples: list[Encoded], pad_id: int):
    """Right-padded (input_ids, labels, attention_mask) tensors."""
    import torch

    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        ids[row, :n] = torch.tensor(example.input_ids)
        labels[row, :n] = torch.tensor(example.labels)
        mask[row, :n] = 1
    return ids, labels, mask


def shared_prefix_length(examples: list[Encoded]) -> int:
    """How many leading tokens every example shares and none of them trains on.

    Capped so the token before the first trained one is still computed per example.
    """
    if len(examples) < 2:
        return 0
    first = examples[0].input_ids
    length = min(len(e.input_ids) for e in examples) - 1
    for example in examples[1:]:
        ids = example.input_ids
        n = 0
        while n < length and ids[n] == first[n]:
            n += 1
        length = n
    first_trained = min(next(i for i, label in enumerate(e.labels) if label != IGNORE) for e in examples)
    return max(0, min(length, first_trained - 1))
