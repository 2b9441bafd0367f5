"""`thau data build` and `thau train` run headless, as in CI (headless review): an existing
data set is replaced only when asked, a cancelled run exits non-zero with the step it
stopped and how to go on, and its lines are not cut at 80 columns in a log.

The signal tests run `thau train` in a child process with scripted children standing in
for the trainer and the scorer (as test_cli.py's headless run does), and signal it for real.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from thau_tui.train.cli import main

# The `thau train` under test: its run's children are scripted, its recipe is the test's.
DRIVER = """
import signal, sys
from pathlib import Path
import thau_tui.train.cli as cli
child, runs, recipe, stages = sys.argv[1:5]
def scripted(recipe, run_dir, **kwargs):
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    return [[sys.executable, child, str(run_dir), recipe, stage, "--stage", stage] for stage in stages.split(",")]
cli.run_commands = scripted
cli._config_train_settings = lambda _f=None: (recipe, runs)
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even if pytest ignores SIGINT
sys.exit(cli.main(["train", "--recipe", recipe]))
"""

# A trainer that saves and reports `cancelled` on SIGTERM, as the real one does; a scorer
# that dies of it, as the real one does. READY: the signal may come now.
CHILD = """
import json, pathlib, signal, sys, time
run, recipe, stage = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
def say(**event):
    print(json.dumps(event), flush=True)
deadline = time.monotonic() + 60  # never left running by a failed test
if stage.startswith("train"):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    (run / "recipe.yaml").write_text(recipe.read_text())
    say(event="start", run_dir=str(run), total_steps=4, device="cpu", examples=4)
    say(event="step", step=1, total_steps=4, epoch=0.25, loss=1.0, tokens_per_s=50.0, eta_s=3)
    if stage == "train-until-cancelled":
        say(event="log", message="READY")
        while not stop and time.monotonic() < deadline:
            time.sleep(0.05)
        say(event="cancelled", step=1)
        sys.exit(0)
    (run / "adapter.gguf").write_bytes(b"GGUF")
    say(event="done", run_dir=str(run), adapter=str(run / "adapter"), summary={})
else:
    say(event="log", message="scoring the eval split after training...")
    say(event="eval_progress", stage="after", done=1, total=4, eta_s=3.0)
    say(event="log", message="READY")
    time.sleep(max(0.0, deadline - time.monotonic()))
"""


def _signalled_train(tmp_path: Path, stages: str, signum: int) -> tuple[int, str, str, Path]:
    """Run `thau train` with scripted children, send it `signum` once a child says READY;
    (exit code, stdout, stderr, run folder)."""
    (tmp_path / "child.py").write_text(CHILD, encoding="utf-8")
    (tmp_path / "driver.py").write_text(DRIVER, encoding="utf-8")
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(f"name: tiny\nbase_model: bundled\ndata_dir: {tmp_path / 'data'}\neval_examples: 4\n")
    runs = tmp_path / "runs"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "80"}
    command = [sys.executable, str(tmp_path / "driver.py"), str(tmp_path / "child.py"), str(runs), str(recipe), stages]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in process.stdout:
            lines.append(line)
            if "READY" in line:
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(60), "".join(lines) + process.stderr.read()
        process.send_signal(signum)
        code = process.wait(timeout=60)
        reader.join(timeout=10)
        err = process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
    (run_dir,) = runs.iterdir()
    return code, "".join(lines), err, run_dir


def test_data_build_replaces_a_data_set_only_with_force(tmp_path, monkeypatch, capsys):
    """A bare `thau data build --n-train 20` replaced the checkout's 3,840 tracked examples
    without a word. Here the default folder is a checkout's train/data in tmp_path."""
    from thau_tui import paths

    checkout = tmp_path / "checkout"
    data = checkout / "train" / "data"
    data.mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("[project]\nname = 'thau'\n")
    monkeypatch.setattr(paths, "__file__", str(checkout / "thau_tui" / "paths.py"))
    assert paths.train_data_dir() == data  # the default the finding hit, not an --out
    (data / "train.jsonl").write_text('{"messages": []}\n' * 3)
    (data / "eval.jsonl").write_text('{"id": "a"}\n{"id": "b"}\n')

    assert main(["data", "build", "--n-train", "4", "--n-eval", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{data} already holds a data set (3 training examples, 2 eval cases)" in err, err
    assert "--force" in err and "--out" in err
    assert (data / "train.jsonl").read_text() == '{"messages": []}\n' * 3  # before: 4 new lines
    assert not (data / "stats.json").exists()

    assert main(["data", "build", "--n-train", "4", "--n-eval", "1", "--force"]) == 0
    out = capsys.readouterr().out
    assert f"Replaced the data set in {data} (it held 3 training examples, 2 eval cases)" in out
    assert len((data / "train.jsonl").read_text().splitlines()) == 4


def test_a_train_cancelled_by_sigterm_exits_143_with_the_resume_hint(tmp_path):
    """`timeout` ending `thau train` exited 0: a timed-out CI job looked green."""
    code, out, err, run_dir = _signalled_train(tmp_path, "train-until-cancelled", signal.SIGTERM)
    assert code == 143, (code, out, err)  # before: 0
    assert "Cancelling training: the trainer saves a checkpoint first" in out
    assert f"Cancelled training at step 1. Resume with: thau train --resume {run_dir}" in " ".join(out.split())


def test_ctrl_c_while_scoring_after_training_says_so_and_keeps_the_adapter(tmp_path):
    """Ctrl-C while scoring after training said the trainer saves a checkpoint, then
    "scoring after training failed: " with nothing after the colon, exit 1."""
    code, out, err, run_dir = _signalled_train(tmp_path, "train,after", signal.SIGINT)
    assert code == 130, (code, out, err)  # before: 1
    assert "Cancelling scoring after training: the trained adapter is kept" in out
    assert "saves a checkpoint" not in out and "failed" not in err, err
    flat = " ".join(out.split())
    assert "Cancelled scoring after training; the adapter is kept. Score it later with: thau eval " in flat
    assert f"{tmp_path / 'data' / 'eval.jsonl'} --model " in flat and f"--adapter {run_dir} " in flat
    assert f"--limit 4 --output {run_dir / 'eval-after.jsonl'}" in flat
    assert (run_dir / "adapter.gguf").is_file()


def test_training_lines_are_not_cut_at_80_columns_in_a_log(tmp_path):
    """In a CI log the resume hint was split as `thau train --resume \\n/tmp/...`: a long run
    folder, not a terminal, COLUMNS=80."""
    deep = tmp_path / ("a-folder-with-a-long-name-" * 3)
    deep.mkdir()
    code, out, err, run_dir = _signalled_train(deep, "train-until-cancelled", signal.SIGTERM)
    assert len(f"Resume with: thau train --resume {run_dir}") > 80
    hint = [line for line in out.splitlines() if line.startswith("Cancelled training")]
    assert hint == [f"Cancelled training at step 1. Resume with: thau train --resume {run_dir}"], out
