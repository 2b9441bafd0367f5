"""`thau train`: LoRA on the chat's own GGUF, with progress as JSON lines.

    python -m thau_tui.train.trainer --recipe train/recipes/smollm2-tools.yaml [--run-dir D] [--resume]

The GGUF is loaded into transformers with `gguf_file=` (dequantized to float32),
so the adapter learns on the very weights llama.cpp runs (`method: full` trains the
projections' own weights instead: full_tuning.py). Loss is on the
assistant's tokens only, and the head (576 x 49k for SmolLM2) is applied only
where there is a label. The system prompt, identical in every example, runs once
per batch and its keys/values are shared by the batch (`share_prefix`).

Control while running: SIGTERM/SIGINT (or `cancel_event`) saves a checkpoint and
the adapter, then stops cleanly; a file named PAUSE in the run folder pauses
between steps until it is removed. Every event is printed as one JSON line and
appended to RUN_DIR/metrics.jsonl.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

from ..paths import open_for_writing, replace_file
from .base_model import load_base
from .batching import Encoded, collate, epoch_batches, load_encoded, shared_prefix_length
from .checkpoints import alone_in, load_state, save_checkpoint
from .checkpoints import latest_checkpoint as latest_checkpoint  # re-exported: runs and tests read it here
from .recipe import Recipe, load_recipe
from .run_summary import forget_stale_outputs
from .training_run import read_summary

PAUSE_FILE = "PAUSE"


class TrainingError(RuntimeError):
    """Training cannot go on; the message says why and what to do."""


def pick_device(name: str) -> str:
    """ "auto" -> mps, then cuda, then cpu; an explicit device must exist."""
    import torch

    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available(),
        "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available(),
    }
    if name == "auto":
        return next(d for d in ("mps", "cuda", "cpu") if available[d])
    if not available[name]:
        raise TrainingError(f"device {name!r} is not available here; set device: auto (or cpu) in the recipe")
    return name


def _release_memory() -> None:
    """Hand freed heap pages back to the system (glibc keeps them after tensors of changing
    shapes are freed, and a run's RSS grew from 7.7 to 18 GB by step 241). A no-op where libc
    has no malloc_trim (macOS, musl)."""
    global _MALLOC_TRIM
    if _MALLOC_TRIM is None:
        _MALLOC_TRIM = False
        if sys.platform.startswith("linux"):
            import ctypes
            import ctypes.util

            try:
                _MALLOC_TRIM = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
            except (OSError, AttributeError):
                _MALLOC_TRIM = False
    if _MALLOC_TRIM:
        _MALLOC_TRIM(0)


_MALLOC_TRIM: Any = None
# Each trim makes the next steps fault their activations back in (8-14 GB: 30-60 s on 2 cores);
# between trims glibc reuses the heap (runs.MALLOC_TUNABLES). Every step: 7 -> 11 s a step.
TRIM_EVERY = 50


def rss_mb() -> float | None:
    """This process's resident memory in MB (Linux /proc), or None elsewhere."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return round(int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    except (OSError, ValueError, IndexError):
        return None


def default_threads() -> int:
    """One core fewer than the machine has: OpenMP threads that must wait for a busy core
    stall the whole step (measured on 2 shared cores: 7 s a step on 1 thread, 80 s on 2)."""
    return max(1, (os.cpu_count() or 2) - 1)


def add_lora(model, recipe: Recipe):
    """Wrap the model with a fresh LoRA adapter on the recipe's projections."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(recipe.seed)
    config = LoraConfig(
        r=recipe.rank,
        lora_alpha=recipe.alpha,
        lora_dropout=recipe.dropout,
        target_modules=list(recipe.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def _backbone(model):
    """The decoder stack (without the head) of a plain or PEFT-wrapped causal LM."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    return getattr(inner, inner.base_model_prefix), inner.get_output_embeddings()


def batch_loss(model, examples: list[Encoded], pad_id: int, device: str, share_prefix: bool = True):
    """Mean cross-entropy over the assistant tokens of a batch, and how many there were.

    With `share_prefix`, the leading tokens every example shares run once and their
    keys/values are expanded across the batch; gradients flow through both passes.
    """
    import torch
    import torch.nn.functional as F
    from transformers import DynamicCache

    backbone, head = _backbone(model)
    ids, labels, mask = (t.to(device) for t in collate(examples, pad_id))
    prefix = shared_prefix_length(examples) if share_prefix else 0
    if prefix:
        first = backbone(input_ids=ids[:1, :prefix], use_cache=True).past_key_values
        shared = DynamicCache()
        for index, layer in enumerate(first.layers):
            batch = ids.shape[0]
            shared.update(layer.keys.expand(batch, -1, -1, -1), layer.values.expand(batch, -1, -1, -1), index)
        positions = torch.arange(prefix, ids.shape[1], device=device).expand(ids.shape[0], -1)
        hidden = backbone(
            input_ids=ids[:, prefix:],
            attention_mask=mask,
            past_key_values=shared,
            position_ids=positions,
            use_cache=False,
        ).last_hidden_state
    else:
        hidden = backbone(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
    # hidden[:, j] (absolute position prefix + j) predicts the token at prefix + j + 1.
    targets = labels[:, prefix + 1 :]
    keep = targets != -100
    logits = head(hidden[:, :-1][keep])
    return F.cross_entropy(logits.float(), targets[keep]), int(keep.sum())


class _Events:
    """Send each event to metrics.jsonl and to the caller."""

    def __init__(self, run_dir: Path, on_event: Callable[[dict], None] | None) -> None:
        self.path = run_dir / "metrics.jsonl"
        self.on_event = on_event

    def __call__(self, event: str, **fields: Any) -> dict:
        record = {"event": event, **fields}
        with open_for_writing(self.path, append=True) as handle:  # never through a planted link
            handle.write(json.dumps(record) + "\n")
        if self.on_event:
            self.on_event(record)
        return record


def _load_adapter_weights(model, path: Path, recipe: Recipe | None = None) -> str | None:
    """`adapter_weights.load_adapter_weights`, its mismatch reported as a TrainingError."""
    from .adapter_weights import AdapterMismatch, load_adapter_weights

    try:
        return load_adapter_weights(model, path, recipe)
    except AdapterMismatch as exc:
        raise TrainingError(str(exc)) from exc


def _schedule(recipe: Recipe, total: int):
    """Linear warm-up, then cosine decay to zero."""
    warm = min(recipe.warmup_steps, max(total // 10, 1))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

    return factor


def _ensure_data(recipe: Recipe, emit) -> Path:
    data_dir = Path(recipe.data_dir)
    if not (data_dir / "train.jsonl").is_file():
        from .data import build_dataset

        emit("log", message=f"no data set in {data_dir}; building it (thau data build)")
        build_dataset(data_dir, **recipe.data_build_args())
    return data_dir


def evaluate_loss(model, examples: list[Encoded], pad_id: int, device: str, batch_size: int, share: bool) -> float:
    """Mean assistant-token loss over `examples` (no gradients)."""
    import torch

    total, count = 0.0, 0
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for at in range(0, len(examples), batch_size):
            loss, n = batch_loss(model, examples[at : at + batch_size], pad_id, device, share)
            total += loss.item() * n
            count += n
    model.train(was_training)
    return total / max(count, 1)


def train(
    recipe: Recipe,
    run_dir: Path,
    *,
    resume: bool = False,
    on_event: Callable[[dict], None] | None = None,
    cancel_event: threading.Event | None = None,
) -> Path:
    """Train a LoRA adapter as the recipe says; returns RUN_DIR/adapter.

    Resume continues from the newest checkpoint in `run_dir`. Setting `cancel_event`
    stops after the current step, saving a checkpoint and the adapter first. TrainingError
    when another trainer works in `run_dir`: two on one run (the screen's, and `thau train
    --resume` taking the newest run) each deleted the other's checkpoints and left an
    adapter/ of one and an adapter.gguf of the other (training review).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    with alone_in(run_dir):
        if resume:  # left by a trainer that died paused: it held the resumed one before its first step
            (run_dir / PAUSE_FILE).unlink(missing_ok=True)
        return _train(recipe, run_dir, resume, on_event, cancel_event)


def _train(
    recipe: Recipe,
    run_dir: Path,
    resume: bool,
    on_event: Callable[[dict], None] | None,
    cancel_event: threading.Event | None,
) -> Path:
    import torch

    emit = _Events(run_dir, on_event)
    cancel_event = cancel_event or threading.Event()
    if not resume or not (run_dir / "recipe.yaml").exists():
        replace_file(run_dir / "recipe.yaml", recipe.to_yaml())  # a link there is replaced, not written through
    checkpoint = latest_checkpoint(run_dir) if resume else None
    # A resumed run continues from its checkpoint; init_adapter is checked before the slow loads.
    start_from = recipe.init_adapter_path() if checkpoint is None else None
    torch.set_num_threads(recipe.threads or default_threads())
    torch.manual_seed(recipe.seed)
    device = pick_device(recipe.device)
    data_dir = _ensure_data(recipe, emit)

    model, tokenizer, template = load_base(recipe.base_model_path(), device)
    base_weights: dict = {}
    if recipe.method == "full":
        from .full_tuning import start_weights

        try:
            model, base_weights = start_weights(model, recipe, start_from)
        except ValueError as exc:  # AdapterMismatch, ExportError: the message says the fix
            raise TrainingError(str(exc)) from exc
        if start_from is not None:
            emit("log", message=f"starting from the adapter in {start_from}, merged into the weights")
            start_from = None
    else:
        model = add_lora(model, recipe)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    train_set, dropped = load_encoded(
        data_dir / "train.jsonl", template, tokenizer, recipe.max_seq_len, recipe.train_examples
    )
    if not train_set:
        raise TrainingError(
            f"no usable examples in {data_dir / 'train.jsonl'} (longer than max_seq_len="
            f"{recipe.max_seq_len}, or without an assistant turn); rebuild the data or raise max_seq_len"
        )
    eval_set: list[Encoded] = []
    if recipe.eval_examples and (data_dir / "eval.jsonl").is_file():
        eval_set, _ = load_encoded(
            data_dir / "eval.jsonl", template, tokenizer, recipe.max_seq_len, recipe.eval_examples
        )
    if dropped:
        emit("log", message=f"left out {dropped} examples longer than max_seq_len={recipe.max_seq_len}")

    lengths = [len(e.input_ids) for e in train_set]
    orders = {0: epoch_batches(lengths, recipe.batch_size, recipe.seed, 0)}  # one epoch's batch order at a time
    n_batches = len(orders[0])
    total = recipe.max_steps or max(1, math.ceil(recipe.epochs * n_batches / recipe.grad_accum))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=recipe.learning_rate, weight_decay=recipe.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _schedule(recipe, total))

    step, losses = 0, []
    if start_from is not None:
        changed = _load_adapter_weights(model, start_from, recipe)
        emit("log", message=f"starting from the adapter in {start_from}")
        if changed:
            emit("log", message=changed)
    if resume:
        if checkpoint is not None:
            if base_weights:
                from .full_tuning import load_projections

                load_projections(model, checkpoint)
            else:
                _load_adapter_weights(model, checkpoint)
            state = load_state(checkpoint)
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            torch.set_rng_state(state["rng"])
            step, losses = state["step"], state.get("losses", [])
            emit("log", message=f"resumed from {checkpoint.name}")

    emit(
        "start",
        run_dir=str(run_dir),
        total_steps=total,
        device=device,
        examples=len(train_set),
        resumed_from=step if resume else None,
        parameters=sum(p.numel() for p in params),
    )
    model.train()
    started, tokens_seen = time.monotonic(), 0
    start_step = step
    eval_loss = None
    paused = False

    def checkpoint_now() -> None:
        path = save_checkpoint(model, optimizer, scheduler, step, run_dir, recipe.keep_checkpoints, {"losses": losses})
        emit("checkpoint", step=step, path=str(path))

    while step < total:
        if (run_dir / PAUSE_FILE).exists() and not cancel_event.is_set():
            if not paused:
                paused = True
                emit("paused", step=step)
            time.sleep(0.3)
            continue
        if paused:
            paused = False
            emit("resumed", step=step)
        if cancel_event.is_set():
            break
        step_start = time.monotonic()
        optimizer.zero_grad(set_to_none=True)
        step_loss, step_tokens = 0.0, 0
        for micro in range(recipe.grad_accum):
            index = step * recipe.grad_accum + micro
            epoch, offset = divmod(index, n_batches)
            if epoch not in orders:
                orders.clear()
                orders[epoch] = epoch_batches(lengths, recipe.batch_size, recipe.seed, epoch)
            batch = [train_set[i] for i in orders[epoch][offset]]
            loss, _n = batch_loss(model, batch, pad_id, device, recipe.share_prefix)
            (loss / recipe.grad_accum).backward()
            step_loss += loss.item() / recipe.grad_accum
            step_tokens += sum(len(e.input_ids) for e in batch)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        step += 1
        losses.append(step_loss)
        del loss, batch
        if step % TRIM_EVERY == 0:
            _release_memory()
        tokens_seen += step_tokens
        elapsed = time.monotonic() - started
        rate = (step - start_step) / elapsed
        emit(
            "step",
            step=step,
            total_steps=total,
            epoch=round(step * recipe.grad_accum / n_batches, 4),
            loss=round(step_loss, 5),
            lr=scheduler.get_last_lr()[0],
            tokens_per_s=round(tokens_seen / elapsed, 1),
            eta_s=round((total - step) / rate, 1),
            elapsed_s=round(elapsed, 1),
            step_s=round(time.monotonic() - step_start, 3),
            rss_mb=rss_mb(),
        )
        if eval_set and recipe.eval_every and step % recipe.eval_every == 0 and step < total:
            eval_loss = evaluate_loss(model, eval_set, pad_id, device, recipe.batch_size, recipe.share_prefix)
            emit("eval", step=step, eval_loss=round(eval_loss, 5))
        if recipe.checkpoint_every and step % recipe.checkpoint_every == 0 and step < total:
            checkpoint_now()

    cancelled = step < total
    if eval_set and not cancelled:
        eval_loss = evaluate_loss(model, eval_set, pad_id, device, recipe.batch_size, recipe.share_prefix)
        emit("eval", step=step, eval_loss=round(eval_loss, 5))
    if step > 0 and latest_checkpoint(run_dir) != run_dir / "checkpoints" / f"step-{step}":
        checkpoint_now()
    adapter = run_dir / "adapter"
    # what was exported and scored before steps trained now is stale; after a resume that trained
    # nothing, an adapter.gguf (maybe the default) and its scores are kept (re-review)
    summary = forget_stale_outputs(run_dir) if step > start_step else read_summary(run_dir) or {}
    kept = None
    if base_weights:
        from .full_tuning import save_as_lora

        kept = round(save_as_lora(model, base_weights, recipe, adapter), 5)
        emit("log", message=f"the trained change, cut to rank {recipe.rank} by SVD, keeps {kept:.1%} of its norm²")
    else:
        model.save_pretrained(adapter)
    tail = losses[-20:]
    if kept is not None:
        summary["svd_kept"] = kept
    summary.update(
        steps=step,
        total_steps=total,
        cancelled=cancelled,
        eval_loss=eval_loss,
        train_loss=round(sum(tail) / len(tail), 5) if tail else None,
        first_loss=round(losses[0], 5) if losses else None,
        device=device,
        examples=len(train_set),
        base_model=str(recipe.base_model_path()),
    )
    replace_file(run_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    if cancelled:
        emit("cancelled", step=step, adapter=str(adapter))
    else:
        emit("done", run_dir=str(run_dir), adapter=str(adapter), summary=summary)
    return adapter


def new_run_dir(recipe: Recipe, runs_dir: str | Path = "train/runs") -> Path:
    """train/runs/<name>-<timestamp>/ (a new folder each call): runs.new_run_dir, the one naming rule."""
    from .runs import new_run_dir as named_run_dir

    return named_run_dir(runs_dir, recipe.name)


def latest_run_dir(recipe: Recipe, runs_dir: str | Path = "train/runs") -> Path | None:
    """The newest run folder of this recipe's name, for --resume without --run-dir."""
    from .runs import latest_run_dir as newest

    return newest(runs_dir, recipe.name)


def main(argv: list[str] | None = None) -> int:
    """Command line: train, printing one JSON event per line on stdout."""
    parser = argparse.ArgumentParser(prog="python -m thau_tui.train.trainer", description=__doc__.split("\n")[0])
    parser.add_argument("--recipe", default="train/recipes/smollm2-tools.yaml")
    parser.add_argument("--run-dir", default=None, help="default: train/runs/<name>-<timestamp>")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint")
    args = parser.parse_args(argv)

    from .runs import follow_parent

    cancel = threading.Event()
    say = follow_parent(cancel)  # stops with a checkpoint when asked, or when thau is gone
    run_dir: Path | None = None
    try:
        recipe = load_recipe(args.recipe)
        run_dir = Path(args.run_dir) if args.run_dir else None
        if run_dir is None and args.resume:
            run_dir = latest_run_dir(recipe)
        run_dir = run_dir or new_run_dir(recipe)
        train(recipe, run_dir, resume=args.resume, on_event=say, cancel_event=cancel)
    except Exception as exc:  # the parent reads one error event, not a traceback
        record = {"event": "error", "message": f"{type(exc).__name__}: {exc}"}
        say(record)
        if run_dir is not None and run_dir.is_dir():
            with contextlib.suppress(OSError), open_for_writing(run_dir / "metrics.jsonl", append=True) as handle:
                handle.write(json.dumps(record) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
