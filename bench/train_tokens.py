"""Training tokens/s: thau's trainer step vs a plain transformers + peft loop, same model, data and batches.

    python bench/train_tokens.py [--steps 4] [--batch-size 8] [--threads 1] [--data train/data]

Both loops train the same fresh LoRA (recipe defaults: r16 on all seven
projections) on the bundled SmolLM2 over the same batches of train.jsonl. The
plain loop is what the peft docs show: `model(input_ids, attention_mask,
labels)` with full logits. thau's step computes the head only where there is a
label and runs the shared system prompt once per batch. Prints both rates and
their ratio (goal >= 1.0); one run, no assertions.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=4, help="timed steps per loop (after one warm-up step)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: the trainer's choice)")
    parser.add_argument("--data", default="train/data", help="folder with train.jsonl (built if missing)")
    args = parser.parse_args()

    import torch

    from thau_tui.train.batching import collate, epoch_batches, load_encoded
    from thau_tui.train.data import build_dataset
    from thau_tui.train.recipe import Recipe
    from thau_tui.train.trainer import add_lora, batch_loss, default_threads, load_base

    torch.set_num_threads(args.threads or default_threads())
    data = Path(args.data)
    if not (data / "train.jsonl").is_file():
        build_dataset(data)
    recipe = Recipe(batch_size=args.batch_size, dropout=0.0)
    model, tokenizer, template = load_base(recipe.base_model_path())
    model = add_lora(model, recipe)
    examples, _ = load_encoded(data / "train.jsonl", template, tokenizer, recipe.max_seq_len)
    lengths = [len(e.input_ids) for e in examples]
    batches = [[examples[i] for i in b] for b in epoch_batches(lengths, args.batch_size, 0, 0)[: args.steps + 1]]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    params = [p for p in model.parameters() if p.requires_grad]

    def plain_step(batch) -> None:
        ids, labels, mask = collate(batch, pad)
        model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()

    def thau_step(batch) -> None:
        loss, _n = batch_loss(model, batch, pad, "cpu", share_prefix=True)
        loss.backward()

    def rate(step) -> float:
        optimizer = torch.optim.AdamW(params, lr=1e-5)
        step(batches[0])  # warm-up: allocator, kernels
        optimizer.zero_grad()
        tokens, started = 0, time.perf_counter()
        for batch in batches[1:]:
            step(batch)
            optimizer.step()
            optimizer.zero_grad()
            tokens += sum(len(e.input_ids) for e in batch)
        return tokens / (time.perf_counter() - started)

    plain = rate(plain_step)
    thau = rate(thau_step)
    print(f"batches: {args.steps} x {args.batch_size} examples, {torch.get_num_threads()} threads")
    print(f"plain transformers+peft: {plain:8.1f} tokens/s")
    print(f"thau trainer step:       {thau:8.1f} tokens/s")
    print(f"ratio thau / plain:      {thau / plain:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
