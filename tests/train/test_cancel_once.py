"""A cancelled `thau train` says how to resume once (known-left review): the run model's log
line "cancelled at step N; resume with: ..." was printed, then finish_train's own line.

A tiny real training (the bundled model, as test_cli.py's headless run) in a child process,
stopped with SIGTERM as `timeout` stops it in CI.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

from tiny_training import tiny_recipe


def test_a_cancelled_training_prints_its_resume_line_once(tmp_path):
    recipe = tiny_recipe(tmp_path, max_steps=500, eval_every=0, n_train=8)
    runs = tmp_path / "runs"
    config = tmp_path / "config.yaml"
    config.write_text(f"train:\n  runs_dir: {runs}\n", encoding="utf-8")
    env = {**os.environ, "THAU_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    command = [sys.executable, "-m", "thau_tui.cli", "--config", str(config), "train", "--recipe", str(recipe)]
    process = subprocess.Popen(
        [*command, "--no-score"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=tmp_path
    )
    lines: list[str] = []
    started = threading.Event()

    def read() -> None:
        for line in process.stdout:
            lines.append(line)
            if line.startswith("started:"):  # the trainer's first event: its SIGTERM handler is set
                started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert started.wait(240), "".join(lines)
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=120)
        reader.join(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    out = "".join(lines)
    (run_dir,) = runs.iterdir()
    assert code == 128 + signal.SIGTERM, out
    said = [line.strip() for line in out.splitlines() if "thau train --resume" in line.lower()]
    assert len(said) == 1, out  # before: the log's lowercase line too
    assert said[0].startswith("Cancelled training at step ") and said[0].endswith(
        f"Resume with: thau train --resume {run_dir}"
    )
