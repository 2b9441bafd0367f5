"""The LoRA trainer on a tiny llama GGUF: loss falls, checkpoints, resume, cancel, pause, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from thau_tui.train.batching import IGNORE, encode, shared_prefix_length
from thau_tui.train.recipe import RecipeError, parse_recipe
from thau_tui.train.trainer import PAUSE_FILE, batch_loss, latest_checkpoint, load_base, train


def read_events(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]


REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, tiny_gguf, tiny_data):
    """Six uninterrupted steps: the reference the other tests compare against."""
    recipe = _recipe(tiny_gguf, tiny_data)
    run_dir = tmp_path_factory.mktemp("full")
    events: list[dict] = []
    adapter = train(recipe, run_dir, on_event=events.append)
    return recipe, run_dir, adapter, events


def _recipe(tiny_gguf, tiny_data, **changes):
    from thau_tui.train.recipe import Recipe

    base = dict(
        name="tiny",
        base_model=str(tiny_gguf),
        data_dir=str(tiny_data),
        rank=4,
        alpha=8,
        dropout=0.0,
        max_steps=6,
        learning_rate=2e-2,
        warmup_steps=0,
        batch_size=8,
        max_seq_len=1024,
        seed=0,
        eval_every=3,
        eval_examples=4,
        checkpoint_every=2,
        keep_checkpoints=2,
        device="cpu",
        threads=1,
    )
    base.update(changes)
    return Recipe(**base)


def test_training_runs_and_the_loss_falls(full_run):
    _recipe_, run_dir, adapter, events = full_run
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done", [e for e in events if e["event"] == "log"]
    steps = [e for e in events if e["event"] == "step"]
    assert [e["step"] for e in steps] == [1, 2, 3, 4, 5, 6]
    for key in ("total_steps", "epoch", "loss", "lr", "tokens_per_s", "eta_s", "elapsed_s"):
        assert key in steps[0]
    # Every step sees the same 8 examples (batch_size 8), so the losses compare directly.
    losses = [e["loss"] for e in steps]
    assert losses[-1] < losses[0] * 0.8 and sum(losses[3:]) < sum(losses[:3]), losses
    assert [e["step"] for e in events if e["event"] == "eval"] == [3, 6]
    # The same events went to metrics.jsonl, and the run folder is complete.
    assert read_events(run_dir) == events
    assert (run_dir / "recipe.yaml").is_file() and (adapter / "adapter_model.safetensors").is_file()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["steps"] == 6 and summary["eval_loss"] > 0 and summary["cancelled"] is False
    # Only the newest keep_checkpoints=2 checkpoints stay.
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["step-4", "step-6"]


def test_cancel_leaves_a_usable_run_then_resume_continues(tmp_path, full_run, tiny_gguf, tiny_data):
    recipe, _full_dir, _adapter, full_events = full_run
    cancel = threading.Event()
    events: list[dict] = []

    def on_event(event: dict) -> None:
        events.append(event)
        if event["event"] == "step" and event["step"] == 3:
            cancel.set()

    run_dir = tmp_path / "run"
    adapter = train(recipe, run_dir, on_event=on_event, cancel_event=cancel)
    assert events[-1] == {"event": "cancelled", "step": 3, "adapter": str(adapter)}
    assert latest_checkpoint(run_dir).name == "step-3"
    assert json.loads((run_dir / "summary.json").read_text())["cancelled"] is True

    # The adapter left behind loads with peft and changes the model's output.
    from peft import PeftModel

    model, tokenizer, _template = load_base(tiny_gguf)
    ids = torch.tensor([tokenizer("<|im_start|>user\nhello<|im_end|>\n").input_ids])
    before = model(ids).logits
    tuned = PeftModel.from_pretrained(model, str(adapter))
    assert not torch.allclose(tuned(ids).logits, before)

    # the cancelled run's adapter exported (thau export RUN): the resumed run must not keep it,
    # or it is scored and offered as the finished run's (training review)
    (run_dir / "adapter.gguf").write_bytes(b"the step-3 export")
    resumed: list[dict] = []
    train(recipe, run_dir, resume=True, on_event=resumed.append)
    assert not (run_dir / "adapter.gguf").exists()
    start = next(e for e in resumed if e["event"] == "start")
    assert start["resumed_from"] == 3
    assert any(e["event"] == "log" and "resumed from step-3" in e["message"] for e in resumed)
    steps = [e for e in resumed if e["event"] == "step"]
    assert [e["step"] for e in steps] == [4, 5, 6]
    # Same weights, optimizer state and data order: the resumed steps match the uninterrupted run.
    reference = {e["step"]: e["loss"] for e in full_events if e["event"] == "step"}
    for event in steps:
        assert event["loss"] == pytest.approx(reference[event["step"]], rel=1e-3, abs=1e-4)
    assert resumed[-1]["event"] == "done"
    # a resume of the finished run trains nothing: its exported adapter (perhaps the promoted
    # default) stays (re-review)
    (run_dir / "adapter.gguf").write_bytes(b"the finished run's export")
    train(recipe, run_dir, resume=True, on_event=lambda e: None)
    assert (run_dir / "adapter.gguf").read_bytes() == b"the finished run's export"


def test_resume_never_unpickles_a_planted_trainer_state(tmp_path, full_run):
    """A run folder can be within the tools' reach (train/runs of a checkout that is the
    workspace). trainer_state.pt was loaded with weights_only=False: a protocol-0 pickle,
    plain text that write_file can write, ran a command as the user on resume."""
    from thau_tui.train.checkpoints import CheckpointError

    recipe = full_run[0]
    cancel = threading.Event()
    run_dir = tmp_path / "run"
    train(
        recipe,
        run_dir,
        on_event=lambda e: e["event"] == "step" and e["step"] == 2 and cancel.set(),
        cancel_event=cancel,
    )
    canary = tmp_path / "PICKLE_RAN"
    state = latest_checkpoint(run_dir) / "trainer_state.pt"
    state.write_text(f"cos\nsystem\n(S'touch {canary}'\ntR.")
    with pytest.raises(CheckpointError, match="not a trainer state thau wrote.*Delete step-2"):
        train(recipe, run_dir, resume=True, on_event=lambda e: None)
    assert not canary.exists()


def test_pause_file_pauses_between_steps(tmp_path, tiny_gguf, tiny_data):
    run_dir = tmp_path / "paused"
    events: list[dict] = []

    def on_event(event: dict) -> None:
        events.append(event)
        if event["event"] == "step" and event["step"] == 1:
            (run_dir / PAUSE_FILE).touch()
            threading.Timer(1.0, (run_dir / PAUSE_FILE).unlink).start()

    train(_recipe(tiny_gguf, tiny_data, max_steps=2, eval_every=0, checkpoint_every=0), run_dir, on_event=on_event)
    kinds = [e["event"] for e in events]
    assert kinds.index("paused") < kinds.index("resumed") < len(kinds) - 1
    assert [e["step"] for e in events if e["event"] in ("paused", "resumed")] == [1, 1]
    assert kinds[-1] == "done"


def test_cli_prints_json_lines_and_sigterm_cancels_cleanly(tmp_path, tiny_gguf, tiny_data):
    recipe_file = tmp_path / "r.yaml"
    recipe_file.write_text(_recipe(tiny_gguf, tiny_data, max_steps=50, eval_every=0).to_yaml())
    run_dir = tmp_path / "cli-run"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "thau_tui.train.trainer", "--recipe", str(recipe_file), "--run-dir", str(run_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    events = []
    for line in proc.stdout:
        events.append(json.loads(line))
        if events[-1]["event"] == "step" and events[-1]["step"] == 2:
            proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    assert events[0]["event"] == "start" and events[0]["total_steps"] == 50
    assert events[-1]["event"] == "cancelled" and events[-1]["step"] in (2, 3)
    assert (run_dir / "adapter" / "adapter_model.safetensors").is_file()


def test_cli_bad_recipe_is_one_error_event(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rank: 8\nlearning_rat: 0.1\n")
    out = subprocess.run(
        [sys.executable, "-m", "thau_tui.train.trainer", "--recipe", str(bad)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert out.returncode == 1
    event = json.loads(out.stdout.strip().splitlines()[-1])
    assert event["event"] == "error" and "learning_rat: unknown key" in event["message"]


def test_recipe_rejects_embeddings_with_a_fix():
    with pytest.raises(RecipeError, match="embed_tokens cannot be trained.*choose from q_proj"):
        parse_recipe("target_modules: [q_proj, embed_tokens]")


def test_labels_cover_only_the_assistant_reply(tiny_gguf):
    _model, tokenizer, template = load_base(tiny_gguf)
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hola"},
        {"role": "assistant", "content": "¡Hola! ¿Qué necesitas?"},
    ]
    encoded = encode(messages, template, tokenizer)
    trained = tokenizer.decode([t for t in encoded.labels if t != IGNORE])
    assert trained == "¡Hola! ¿Qué necesitas?<|im_end|>"


def test_shared_prefix_gives_the_same_loss_and_gradients(tiny_gguf, tiny_data):
    from thau_tui.train.batching import load_encoded
    from thau_tui.train.trainer import add_lora

    recipe = _recipe(tiny_gguf, tiny_data)
    model, tokenizer, template = load_base(tiny_gguf)
    model = add_lora(model, recipe)
    for name, param in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.05)  # B = 0 would hide a wrong prefix path
    examples, _ = load_encoded(Path(tiny_data) / "train.jsonl", template, tokenizer, 640, limit=4)
    assert shared_prefix_length(examples) > 100  # the system prompt
    results = []
    for share in (False, True):
        model.zero_grad()
        loss, count = batch_loss(model, examples, 2, "cpu", share)
        loss.backward()
        grads = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
        results.append((loss.item(), count, grads))
    assert results[0][1] == results[1][1]
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-5)
    assert torch.allclose(results[0][2], results[1][2], rtol=1e-3, atol=1e-6)


def test_train_examples_limits_what_the_trainer_reads(tmp_path, tiny_gguf, tiny_data, monkeypatch):
    """A smoke run trains two steps: it must not tokenize the whole data set first."""
    from thau_tui.train import batching

    encoded: list[int] = []
    real_encode = batching.encode

    def counting_encode(messages, template, tokenizer):
        encoded.append(1)
        return real_encode(messages, template, tokenizer)

    monkeypatch.setattr(batching, "encode", counting_encode)
    recipe = _recipe(tiny_gguf, tiny_data, train_examples=3, max_steps=1, batch_size=2, eval_examples=0)
    events: list[dict] = []
    train(recipe, tmp_path / "run", on_event=events.append)
    start = next(e for e in events if e["event"] == "start")
    assert start["examples"] == 3 and len(encoded) == 3  # tiny_data holds 8


def test_init_adapter_starts_from_a_trained_adapter(tmp_path, full_run, tiny_gguf, tiny_data):
    """A second pass starts where the first ended: its first loss is the trained one, not
    the base model's, with a fresh schedule (warm-up from step 1)."""
    _recipe_, _run_dir, adapter, full_events = full_run
    first_pass = [e["loss"] for e in full_events if e["event"] == "step"]
    recipe = _recipe(tiny_gguf, tiny_data, init_adapter=str(adapter), max_steps=1, warmup_steps=1, eval_examples=0)
    events: list[dict] = []
    train(recipe, tmp_path / "second", on_event=events.append)
    assert any(e["event"] == "log" and "starting from the adapter" in e["message"] for e in events)
    (step,) = [e for e in events if e["event"] == "step"]
    # Same batch every step (batch_size 8 of 8 examples): the trained adapter's loss is
    # below the last step of the first pass, and nearer it than the base model's (how far
    # below the base model a 6-step first pass gets depends on the data set's phrasings).
    loss = step["loss"]
    assert loss < first_pass[-1] and first_pass[0] - loss > 3 * (first_pass[-1] - loss), (step, first_pass)
    assert step["lr"] == pytest.approx(recipe.learning_rate)
    # Resuming continues from the run's own checkpoint: the first pass's folder may be gone by then.
    moved = recipe.model_copy(update={"init_adapter": str(tmp_path / "gone")})
    resumed: list[dict] = []
    train(moved, tmp_path / "second", resume=True, on_event=resumed.append)
    assert resumed[-1]["event"] == "done" and not any("starting from" in e.get("message", "") for e in resumed)

    from thau_tui.train.trainer import TrainingError

    with pytest.raises(TrainingError, match="only at the same scale alpha/rank .2.; set alpha: 16, or use rank 4"):
        train(_recipe(tiny_gguf, tiny_data, init_adapter=str(adapter), rank=8, alpha=8), tmp_path / "other-rank")
    with pytest.raises(TrainingError, match="same rank and target_modules"):
        train(_recipe(tiny_gguf, tiny_data, init_adapter=str(adapter), rank=2, alpha=4), tmp_path / "lower-rank")
    with pytest.raises(RecipeError, match="no adapter_model.safetensors"):
        train(_recipe(tiny_gguf, tiny_data, init_adapter=str(tmp_path)), tmp_path / "no-adapter")


def test_init_adapter_starts_from_a_gguf_adapter_as_from_its_folder(tmp_path, full_run, tiny_gguf, tiny_data):
    """The shipped adapter exists only as GGUF: a run started from the exported GGUF takes the
    same first step as one started from the safetensors folder it was exported from."""
    from thau_tui.train.export import write_lora_gguf
    from thau_tui.train.trainer import TrainingError

    _recipe_, _run_dir, adapter, _events = full_run
    gguf_file = tmp_path / "first.lora.gguf"
    write_lora_gguf(adapter, tiny_gguf, gguf_file)
    first_steps = []
    for start in (adapter, gguf_file):
        recipe = _recipe(tiny_gguf, tiny_data, init_adapter=str(start), max_steps=1, warmup_steps=1, eval_examples=0)
        events: list[dict] = []
        train(recipe, tmp_path / start.name.replace(".", "-"), on_event=events.append)
        first_steps.append(next(e["loss"] for e in events if e["event"] == "step"))
    assert first_steps[1] == pytest.approx(first_steps[0], rel=1e-5)
    # Unpermuted q/k rows (what a reader that forgot llama.cpp's row order would load) start elsewhere.
    wrong = tmp_path / "unpermuted.lora.gguf"
    write_lora_gguf(adapter, tiny_gguf, wrong, permute_qk=False)
    events = []
    train(
        _recipe(tiny_gguf, tiny_data, init_adapter=str(wrong), max_steps=1, eval_examples=0),
        tmp_path / "w",
        on_event=events.append,
    )
    assert next(e["loss"] for e in events if e["event"] == "step") != pytest.approx(first_steps[0], rel=1e-4)
    with pytest.raises(TrainingError, match="rank 4, alpha 8.*does not fit this recipe .rank 8, alpha 8"):
        train(_recipe(tiny_gguf, tiny_data, init_adapter=str(gguf_file), rank=8, alpha=8), tmp_path / "other")
    with pytest.raises(RecipeError, match="no such GGUF file"):
        train(_recipe(tiny_gguf, tiny_data, init_adapter=str(tmp_path / "gone.gguf")), tmp_path / "gone")


def test_a_higher_rank_gguf_adapter_is_cut_to_a_lower_rank_recipe(tmp_path, full_run, tiny_gguf, tiny_data):
    """The shipped adapter is rank 64 and older recipes are rank 16. A rank-8 GGUF whose
    update is the rank-4 adapter's (padded with zero B columns, same scale) starts a rank-4
    recipe at the same first loss as the rank-4 adapter itself: the cut keeps all of it."""
    import json

    import torch
    from safetensors.torch import load_file, save_file

    from thau_tui.train.export import write_lora_gguf

    _recipe_, _run_dir, adapter, _events = full_run
    weights = load_file(str(adapter / "adapter_model.safetensors"))
    padded = {}
    for key, value in weights.items():
        if ".lora_A." in key:
            padded[key] = torch.cat([value, torch.randn(4, value.shape[1])])
        else:
            padded[key] = torch.cat([value, torch.zeros(value.shape[0], 4)], dim=1)
    folder = tmp_path / "rank8"
    folder.mkdir()
    save_file(padded, str(folder / "adapter_model.safetensors"))
    config = json.loads((adapter / "adapter_config.json").read_text())
    (folder / "adapter_config.json").write_text(json.dumps({**config, "r": 8, "lora_alpha": config["lora_alpha"] * 2}))
    high, low = tmp_path / "rank8.lora.gguf", tmp_path / "rank4.lora.gguf"
    write_lora_gguf(folder, tiny_gguf, high)
    write_lora_gguf(adapter, tiny_gguf, low)
    firsts, logs = [], []
    for start in (low, high):
        events: list[dict] = []
        recipe = _recipe(tiny_gguf, tiny_data, init_adapter=str(start), max_steps=1, warmup_steps=1, eval_examples=0)
        train(recipe, tmp_path / start.stem.replace(".", "-"), on_event=events.append)
        firsts.append(next(e["loss"] for e in events if e["event"] == "step"))
        logs.append([e.get("message", "") for e in events if e["event"] == "log"])
    assert firsts[1] == pytest.approx(firsts[0], rel=1e-4)
    assert any("its rank 8 cut to 4 (alpha 8): keeps 100.0% of its update" in m for m in logs[1]), logs[1]
    assert not any("cut to" in m for m in logs[0])


def test_cutting_a_lora_keeps_its_best_lower_rank_approximation():
    """cut_lora works on the factors only; its product is the truncated SVD of the whole
    update (Eckart-Young), at the new scale, and it says how much of the update it kept."""
    import torch

    from thau_tui.train.adapter_weights import cut_lora

    torch.manual_seed(0)
    key = "base_model.model.model.layers.0.self_attn.q_proj.lora_{}.weight"
    a, b = torch.randn(8, 24), torch.randn(16, 8)
    cut, kept = cut_lora({key.format("A"): a, key.format("B"): b}, 0.5, 3, 6.0)
    assert cut[key.format("A")].shape == (3, 24) and cut[key.format("B")].shape == (16, 3)
    update = 0.5 * b.double() @ a.double()
    u, s, vh = torch.linalg.svd(update)
    best = u[:, :3] @ torch.diag(s[:3]) @ vh[:3]
    got = (6.0 / 3) * cut[key.format("B")].double() @ cut[key.format("A")].double()
    assert torch.allclose(got, best, atol=1e-4)
    assert kept == pytest.approx(float((s[:3] ** 2).sum() / (s**2).sum()), rel=1e-6) and kept < 1


def _first_loss_and_eval(recipe, run_dir: Path) -> tuple[float, float, list[dict]]:
    events: list[dict] = []
    train(recipe, run_dir, on_event=events.append)
    step = next(e["loss"] for e in events if e["event"] == "step")
    evals = [e["eval_loss"] for e in events if e["event"] == "eval"]
    return step, (evals[-1] if evals else float("nan")), events


def test_a_lower_rank_adapter_grows_into_a_higher_rank_recipe_unchanged(tmp_path, full_run, tiny_gguf, tiny_data):
    """Rank 4 (alpha 8) starts a rank-8 recipe at the same scale (alpha 16): the same first
    loss as a rank-4 start, and the new room learns (the next step differs from rank 4's)."""
    _recipe_, _run_dir, adapter, _events = full_run
    same = _recipe(tiny_gguf, tiny_data, init_adapter=str(adapter), max_steps=2, warmup_steps=0, eval_examples=0)
    grown = same.model_copy(update={"rank": 8, "alpha": 16.0})
    _loss, _, same_events = _first_loss_and_eval(same.model_copy(update={"eval_examples": 4}), tmp_path / "same")
    _loss, _, grown_events = _first_loss_and_eval(grown.model_copy(update={"eval_examples": 4}), tmp_path / "grown")
    assert any("rank 4 grown to 8" in e.get("message", "") for e in grown_events)
    losses = [[e["loss"] for e in events if e["event"] == "step"] for events in (same_events, grown_events)]
    assert losses[1][0] == pytest.approx(losses[0][0], rel=1e-5)
    assert losses[1][1] != pytest.approx(losses[0][1], rel=1e-4), losses
    from safetensors.torch import load_file

    weights = load_file(str(tmp_path / "grown" / "adapter" / "adapter_model.safetensors"))
    a = next(w for k, w in weights.items() if ".lora_A." in k)
    assert a.shape[0] == 8


def test_full_method_trains_the_projections_and_ships_them_as_a_lora(tmp_path, tiny_gguf, tiny_data):
    """method: full trains the projections' own weights (faster than rank-4 LoRA here), and
    the run's adapter/ is their change as a LoRA: at a rank that holds all of it (64 >= every
    projection's smaller side), a LoRA run started from it scores the full run's eval loss."""
    lora = [
        e["loss"]
        for e in _first_loss_and_eval(_recipe(tiny_gguf, tiny_data), tmp_path / "lora")[2]
        if e["event"] == "step"
    ]
    recipe = _recipe(tiny_gguf, tiny_data, method="full", rank=64, alpha=64, learning_rate=1e-2, eval_every=0)
    _first, full_eval, events = _first_loss_and_eval(recipe, tmp_path / "full")
    losses = [e["loss"] for e in events if e["event"] == "step"]
    assert losses[0] == pytest.approx(lora[0]) and losses[-1] < lora[-1] * 0.8, (losses, lora)
    start = next(e for e in events if e["event"] == "start")
    assert start["parameters"] == 2 * (64 * 64 * 2 + 32 * 64 * 2 + 128 * 64 * 3)  # projections only
    summary = json.loads((tmp_path / "full" / "summary.json").read_text())
    assert summary["svd_kept"] == pytest.approx(1.0, abs=1e-5)
    from safetensors.torch import load_file

    trained = load_file(str(latest_checkpoint(tmp_path / "full") / "projections.safetensors"))
    assert sorted({k.split(".")[-2] for k in trained}) == sorted(recipe.target_modules) and len(trained) == 14
    back = _recipe(tiny_gguf, tiny_data, init_adapter=str(tmp_path / "full" / "adapter"), rank=64, alpha=64)
    _first, back_eval, _ = _first_loss_and_eval(
        back.model_copy(update={"max_steps": 1, "learning_rate": 1e-12}), tmp_path / "back"
    )
    assert back_eval == pytest.approx(full_eval, rel=1e-4)
    # Cut to rank 2 the change is approximate, and the summary says how much it kept.
    cut = recipe.model_copy(update={"rank": 2, "alpha": 2.0})
    _first, _eval, _ = _first_loss_and_eval(cut, tmp_path / "cut")
    kept = json.loads((tmp_path / "cut" / "summary.json").read_text())["svd_kept"]
    assert 0.05 < kept < 0.95, kept


def test_export_rank_cuts_a_full_run_again(tmp_path, tiny_gguf, tiny_data, capsys):
    """`thau export RUN --rank R` cuts a full run's last checkpoint again: at the run's own
    rank it writes the very adapter the run saved; lower, it says how much it kept; a LoRA
    run is refused with the reason."""
    import gguf
    from safetensors.torch import load_file

    from thau_tui.train.cli import main

    recipe = _recipe(tiny_gguf, tiny_data, method="full", rank=64, alpha=64, learning_rate=1e-2, eval_examples=0)
    train(recipe, tmp_path / "full")
    assert main(["export", str(tmp_path / "full"), "--rank", "64"]) == 0
    again = load_file(str(tmp_path / "full" / "adapter-rank-64" / "adapter_model.safetensors"))
    saved = load_file(str(tmp_path / "full" / "adapter" / "adapter_model.safetensors"))
    assert again.keys() == saved.keys() and all(torch.equal(again[k], saved[k]) for k in saved)
    assert (tmp_path / "full" / "adapter-rank-64.gguf").is_file()
    assert main(["export", str(tmp_path / "full"), "--rank", "2", "--out", str(tmp_path / "two.gguf")]) == 0
    out = capsys.readouterr().out
    assert "two.gguf (rank 2: keeps" in out and "100.00%" not in out.splitlines()[-1], out
    assert (tmp_path / "two.gguf").is_file()
    # --alpha changes how the update is split, not the update: the same loss from either file.
    assert (
        main(["export", str(tmp_path / "full"), "--rank", "2", "--alpha", "16", "--out", str(tmp_path / "a16.gguf")])
        == 0
    )
    from thau_tui.train.export import read_lora_gguf

    two, a16 = (read_lora_gguf(tmp_path / name, tiny_gguf) for name in ("two.gguf", "a16.gguf"))
    assert (two["alpha"], a16["alpha"]) == (2.0, 16.0)
    for key in (k for k in two["weights"] if ".lora_A." in k):
        b_key = key.replace(".lora_A.", ".lora_B.")
        update = two["weights"][b_key] @ two["weights"][key] * 1.0
        assert update == pytest.approx(a16["weights"][b_key] @ a16["weights"][key] * 8.0, abs=1e-5)
    # --type q8_0 stores the 64-wide rows as 8-bit blocks: a smaller file, the same tensors.
    assert (
        main(["export", str(tmp_path / "full"), "--rank", "64", "--type", "q8_0", "--out", str(tmp_path / "q8.gguf")])
        == 0
    )
    assert (tmp_path / "q8.gguf").stat().st_size < (tmp_path / "full" / "adapter-rank-64.gguf").stat().st_size / 2
    assert {t.tensor_type.name for t in gguf.GGUFReader(str(tmp_path / "q8.gguf")).tensors} == {"Q8_0"}
    train(_recipe(tiny_gguf, tiny_data, max_steps=1, eval_examples=0), tmp_path / "lora")
    assert main(["export", str(tmp_path / "lora"), "--type", "f16"]) == 0
    assert {t.tensor_type.name for t in gguf.GGUFReader(str(tmp_path / "lora" / "adapter.gguf")).tensors} == {"F16"}
    assert main(["export", str(tmp_path / "lora"), "--rank", "2"]) == 2
    assert "only a method: full run can be cut again" in capsys.readouterr().err


def test_extract_lora_is_the_best_low_rank_cut():
    """B @ A * (alpha / rank) is the truncated SVD of the change; the share kept is its norm²."""
    from thau_tui.train.full_tuning import extract_lora

    generator = torch.Generator().manual_seed(0)
    base = {"model.layers.0.mlp.up_proj.weight": torch.randn(12, 8, generator=generator)}
    change = torch.randn(12, 3, generator=generator) @ torch.randn(3, 8, generator=generator)
    change += 0.01 * torch.randn(12, 8, generator=generator)
    trained = {name: weight + change for name, weight in base.items()}
    weights, kept = extract_lora(trained, base, rank=4, alpha=8)
    a = weights["base_model.model.model.layers.0.mlp.up_proj.lora_A.weight"]
    b = weights["base_model.model.model.layers.0.mlp.up_proj.lora_B.weight"]
    assert a.shape == (4, 8) and b.shape == (12, 4)
    u, s, vh = torch.linalg.svd(change)
    assert torch.allclose(b @ a * 2, (u[:, :4] * s[:4]) @ vh[:4], atol=1e-5)
    assert kept == pytest.approx(float((s[:4] ** 2).sum() / (s**2).sum()), rel=1e-5) and kept > 0.99
    _weights, kept_one = extract_lora(trained, base, rank=1, alpha=1)
    assert kept_one < kept


def test_full_method_starts_from_an_adapter_and_resumes(tmp_path, full_run, tiny_gguf, tiny_data):
    """init_adapter is merged into the weights (the first loss is the adapter's), and a run
    cancelled after a checkpoint resumes with the same losses as one never stopped."""
    _recipe_, _run_dir, adapter, _events = full_run
    from_lora = _recipe(tiny_gguf, tiny_data, init_adapter=str(adapter), max_steps=1, eval_examples=0)
    lora_first = _first_loss_and_eval(from_lora, tmp_path / "lora")[0]
    recipe = from_lora.model_copy(update={"method": "full", "max_steps": 4, "learning_rate": 1e-3})
    reference = [e["loss"] for e in _first_loss_and_eval(recipe, tmp_path / "whole")[2] if e["event"] == "step"]
    assert reference[0] == pytest.approx(lora_first, rel=1e-5)
    cancel = threading.Event()

    def stop_after_two(event: dict) -> None:
        if event["event"] == "step" and event["step"] == 2:
            cancel.set()

    train(recipe, tmp_path / "stopped", on_event=stop_after_two, cancel_event=cancel)
    assert latest_checkpoint(tmp_path / "stopped").name == "step-2"
    events: list[dict] = []
    train(recipe, tmp_path / "stopped", resume=True, on_event=events.append)
    resumed = [e["loss"] for e in events if e["event"] == "step"]
    assert resumed == pytest.approx(reference[2:], rel=1e-4), (resumed, reference)


def test_init_adapter_bundled_is_the_shipped_adapter():
    """`init_adapter: bundled` continues from the adapter the chat uses; it reads back (from
    q8_0) as the rank-64 LoRA over all seven projections of the bundled model's 30 blocks,
    and a rank-16 recipe gets it cut to rank 16, keeping most of its update."""
    from thau_tui.paths import bundled_adapter, bundled_model
    from thau_tui.train.adapter_weights import gguf_adapter_weights
    from thau_tui.train.export import read_lora_gguf
    from thau_tui.train.recipe import parse_recipe

    recipe = parse_recipe("init_adapter: bundled\nrank: 64\nalpha: 64\n")
    assert recipe.init_adapter_path() == bundled_adapter() is not None
    found = read_lora_gguf(recipe.init_adapter_path(), bundled_model())
    assert (found["rank"], found["alpha"], len(found["weights"])) == (64, 64.0, 30 * 7 * 2)
    assert all(array.any() for array in found["weights"].values())  # trained, not peft's zero init
    weights, note = gguf_adapter_weights(recipe.init_adapter_path(), recipe)
    assert note is None and len(weights) == 30 * 7 * 2
    small = parse_recipe("init_adapter: bundled\nrank: 16\nalpha: 32\n")
    weights, note = gguf_adapter_weights(small.init_adapter_path(), small)
    assert {tuple(w.shape)[0] for k, w in weights.items() if ".lora_A." in k} == {16}
    kept = float(note.split("keeps ")[1].split("%")[0])
    assert note.startswith("its rank 64 cut to 16 (alpha 32)") and 50 < kept < 100, note


def test_recipe_builds_its_data_set_as_it_says(tmp_path):
    recipe = parse_recipe(
        "data_examples: 300\ndata_seed: 4\nseed: 1\ntool_weights: {debug_code: 3}\nmax_seq_len: 512\n"
    )
    assert recipe.data_build_args() == {
        "dialect": "hermes",
        "seed": 4,
        "max_tokens": 512,
        "tool_weights": {"debug_code": 3.0},
        "n_train": 300,
    }
    assert parse_recipe("seed: 2").data_build_args()["seed"] == 2
    with pytest.raises(RecipeError, match="tool_weights: .*above 0"):
        parse_recipe("tool_weights: {debug_code: 0}")
    assert parse_recipe("kind_shares: {conversation: 0.3}").data_build_args()["kind_shares"] == {"conversation": 0.3}
    assert "kind_shares" not in parse_recipe("seed: 2").data_build_args()
    assert parse_recipe("pair_share: 0.6").data_build_args()["pair_share"] == 0.6
    assert "pair_share" not in parse_recipe("seed: 2").data_build_args()
    with pytest.raises(RecipeError, match="pair_share"):
        parse_recipe("pair_share: 1.5")
    family = parse_recipe("family_weights: {write_file_append: 3}").data_build_args()["family_weights"]
    assert family == {"write_file_append": 3.0}
    with pytest.raises(RecipeError, match="family_weights: .*above 0"):
        parse_recipe("family_weights: {write_file_append: -1}")
    with pytest.raises(RecipeError, match="tool_weights: .*finite"):  # random.choices fails on it mid-build
        parse_recipe("tool_weights: {debug_code: .inf}")
    with pytest.raises(RecipeError, match="kind_shares: .*kinds are no_call"):
        parse_recipe("kind_shares: {chat: 0.3}")
    with pytest.raises(RecipeError, match="kind_shares: .*add up to 1.420, more than 1"):
        parse_recipe("kind_shares: {conversation: 0.6, schema: 0.4}")
    # Shares that make 1 in decimals but 1.0000000000000002 in floating point are accepted.
    exact = {"stated": 0.14, "conversation": 0.38, "schema": 0.11, "no_call": 0.14, "written": 0.05}
    exact |= {"prose": 0.04, "multi_turn": 0.08, "python": 0.02, "ask": 0.01, "named_command": 0.03}
    from thau_tui.train.data import KIND_SHARES

    assert sum((KIND_SHARES | exact).values()) > 1  # in the order the recipe adds them
    text = "kind_shares: {" + ", ".join(f"{k}: {v}" for k, v in exact.items()) + "}"
    assert parse_recipe(text).data_build_args()["kind_shares"] == exact


def test_a_checkpoint_half_saved_when_the_run_was_killed_does_not_block_the_resume(tmp_path):
    """From the training review: a second Ctrl-C killed the trainer while it wrote
    checkpoints/step-6.tmp, and every resume then stopped with "ValueError: invalid literal
    for int() with base 10: '6.tmp'"; step-4 beside it could not be reached. An empty or cut
    trainer_state.pt is a CheckpointError that says what to delete, not an IndexError."""
    from thau_tui.train.checkpoints import CheckpointError, load_state

    checkpoints = tmp_path / "checkpoints"
    for name in ("step-4", "step-6.tmp", "step-10.tmp"):
        (checkpoints / name).mkdir(parents=True)
        (checkpoints / name / "trainer_state.pt").write_bytes(b"")
    assert latest_checkpoint(tmp_path).name == "step-4"
    with pytest.raises(CheckpointError, match="Delete step-4"):
        load_state(checkpoints / "step-4")  # empty: before, an IndexError with no advice


def test_a_broken_line_in_the_training_data_says_where(tiny_gguf, tmp_path):
    """From the training review: a hand-edited train.jsonl stopped the trainer with
    "KeyError: 'messages'" or a bare JSONDecodeError, naming neither the file nor the line."""
    from thau_tui.train.batching import load_encoded

    _model, tokenizer, template = load_base(tiny_gguf)
    data = tmp_path / "train.jsonl"
    good = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    for bad in ('{"text": "no messages"}', "not json at all"):
        data.write_text(json.dumps(good) + "\n\n" + bad + "\n", encoding="utf-8")
        with pytest.raises(ValueError, match=f"{data}:3: not a training example"):
            load_encoded(data, template, tokenizer, 640)


def test_a_runs_metrics_are_never_appended_through_a_planted_link(tmp_path):
    """`thau train --resume RUN` on a run folder from a cloned repository appended its
    metrics through metrics.jsonl -> any file (third attacker review)."""
    from thau_tui.train.trainer import _Events

    victim = tmp_path / "victim"
    victim.write_text("the user's file\n")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "metrics.jsonl").symlink_to(victim)
    with pytest.raises(OSError, match="is a link or not a plain file"):
        _Events(run_dir, None)("step", loss=1.0)
    assert victim.read_text() == "the user's file\n"
    (run_dir / "metrics.jsonl").unlink()
    _Events(run_dir, None)("step", loss=1.0)
    _Events(run_dir, None)("step", loss=0.5)
    assert [json.loads(line)["loss"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()] == [1.0, 0.5]


def test_a_second_trainer_on_the_same_run_is_refused(tmp_path, tiny_gguf, tiny_data):
    """The screen's run and `thau train --resume` (the newest run: the screen's) both trained
    one folder: each deleted the other's checkpoints, and adapter/ came from one and
    adapter.gguf from the other (training review)."""
    from run_lock import held_by_another

    from thau_tui.train.checkpoints import RunBusy

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with held_by_another(run_dir):  # the other trainer
        with pytest.raises(RunBusy, match="being trained by another process"):
            train(_recipe(tiny_gguf, tiny_data, max_steps=1), run_dir, on_event=lambda e: None)
        assert not (run_dir / "metrics.jsonl").exists() and not (run_dir / "checkpoints").exists()
    # once the other has gone (killed: the system lets go of its lock), the run can be trained
    train(
        _recipe(tiny_gguf, tiny_data, max_steps=1, eval_every=0, checkpoint_every=0), run_dir, on_event=lambda e: None
    )
    assert (run_dir / "adapter").is_dir()


def test_a_trainer_whose_parent_dies_saves_a_checkpoint_and_stops_even_paused(tmp_path, tiny_gguf, tiny_data):
    """thau killed (or its terminal closed) while its trainer was paused: the trainer waited
    forever, orphaned, holding gigabytes; running, it died at its next line with nothing saved
    since the last checkpoint. Then a resume stayed paused on the PAUSE file left behind
    (training review)."""
    recipe_file = tmp_path / "r.yaml"
    recipe_file.write_text(_recipe(tiny_gguf, tiny_data, max_steps=50, eval_every=0, checkpoint_every=0).to_yaml())
    run_dir = tmp_path / "run"
    parent = (
        "import json, subprocess, sys\n"
        "from pathlib import Path\n"
        "child = subprocess.Popen([sys.executable, '-m', 'thau_tui.train.trainer', '--recipe', sys.argv[1],"
        " '--run-dir', sys.argv[2]], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)\n"
        "print(child.pid, flush=True)\n"
        "for line in child.stdout:\n"
        "    event = json.loads(line)\n"
        "    if event['event'] == 'step' and event['step'] == 2:\n"
        "        (Path(sys.argv[2]) / 'PAUSE').touch()\n"
        "    print(event['event'], flush=True)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", parent, str(recipe_file), str(run_dir)], stdout=subprocess.PIPE, text=True, env=env
    )
    trainer = int(proc.stdout.readline())
    for line in proc.stdout:
        if line.strip() == "paused":
            break
    proc.kill()  # thau is gone, as with kill -9 or a closed terminal
    proc.wait()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(trainer, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        os.kill(trainer, signal.SIGKILL)
        raise AssertionError("the orphaned trainer was still running a minute later")
    events = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "cancelled", events[-3:]
    assert latest_checkpoint(run_dir) is not None and (run_dir / "adapter").is_dir()
    # the PAUSE it left does not hold the resumed run
    resumed: list[dict] = []
    train(_recipe(tiny_gguf, tiny_data, max_steps=6, eval_every=0), run_dir, resume=True, on_event=resumed.append)
    assert resumed[-1]["event"] == "done" and not (run_dir / "PAUSE").exists()


def test_a_read_only_view_of_the_run_cannot_hold_the_trainer_off(tmp_path, tiny_gguf, tiny_data):
    """A tool's command sees the runs folder read-only, and flock works through a read-only
    file: `flock -x RUN/.trainer sleep 60` in the sandbox made every resume fail with 'being
    trained by another process' (re-review). The trainer's lock needs the file open for writing."""
    import subprocess
    import sys

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / ".trainer").write_text("")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time\nh = open(sys.argv[1], 'r')\nfcntl.flock(h, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\ntime.sleep(60)",
            str(run_dir / ".trainer"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        recipe = _recipe(tiny_gguf, tiny_data, max_steps=1, eval_every=0, checkpoint_every=0)
        train(recipe, run_dir, on_event=lambda e: None)
        assert (run_dir / "adapter").is_dir()
    finally:
        holder.kill()
        holder.wait()
