"""`thau doctor` names what stops thau starting (headless review): it said "(found)" and
exited 0 for a model `thau -m` then refused, an adapter that was missing or made for
another architecture, and a data folder thau could not write."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from thau_tui.cli import main
from thau_tui.paths import bundled_model

# doctor's decode check loads the model in a child process
pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def doctor(capsys, *args: str) -> tuple[int, str, str]:
    """`thau [ARGS] doctor` in this process: (exit code, its output, the problems line)."""
    code = main([*args, "doctor"])
    out = capsys.readouterr().out
    last = out.strip().splitlines()[-1]
    return code, out, last if last.startswith("problems: ") else ""


def test_a_model_thau_cannot_load_is_a_problem(tmp_path, capsys):
    model = bundled_model()
    assert model is not None
    data = model.read_bytes()
    cases = {
        "text.gguf": (b"not a model\n", "text.gguf is not a readable GGUF file"),
        "cut-header.gguf": (data[:500_000], "cut-header.gguf is not a readable GGUF file"),
        # the header reads whole; llama.cpp finds the tensors cut off (what -m says too)
        "cut-tensors.gguf": (data[: len(data) // 2], "llama.cpp could not load cut-tensors.gguf"),
    }
    for name, (content, said) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        code, out, problems = doctor(capsys, "--model", str(path))
        assert code == 1 and said in problems, (name, out)
        assert f"model {path} (NOT LOADABLE)" in out
        # the build is not blamed for the model: it is checked on the bundled model (docs review)
        assert "llama.cpp decode check: ok (on the bundled model: the configured one did not load)" in out, out
        path.unlink()


def test_an_adapter_thau_cannot_apply_is_a_problem(tmp_path, capsys):
    import gguf
    import numpy as np

    other = tmp_path / "gemma.lora.gguf"  # a sound adapter, for another architecture
    writer = gguf.GGUFWriter(str(other), "gemma3")
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", 16.0)
    writer.add_tensor("blk.0.attn_q.weight.lora_a", np.ones((4, 576), dtype=np.float32))
    writer.add_tensor("blk.0.attn_q.weight.lora_b", np.ones((576, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    for adapter, said, tag in (
        (tmp_path / "gone.lora.gguf", f"LoRA adapter not found: {tmp_path / 'gone.lora.gguf'}", "MISSING"),
        (
            other,
            "the LoRA adapter gemma.lora.gguf was made for a gemma3 model, and SmolLM2-135M-Instruct",
            "NOT LOADABLE",
        ),
    ):
        config = tmp_path / "config.yaml"
        config.write_text(f"model:\n  lora_path: {adapter}\n")
        code, out, problems = doctor(capsys, "--config", str(config))
        assert code == 1 and said in problems, out
        # its own line is tagged as the model's is: only the problems line named it (docs review)
        assert f"\nadapter {adapter} ({tag})\n" in out, out


def test_a_data_folder_thau_cannot_write_is_a_problem(tmp_path):
    home = tmp_path / "home"
    for folder in ("config", "data", "cache"):
        (home / folder).mkdir(parents=True)
    code = "import sys\nfrom thau_tui.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    command = [sys.executable, "-c", code, "doctor"]
    if os.geteuid() == 0:  # root writes through chmod: a read-only mount for real
        assert shutil.which("bwrap"), "this test needs bubblewrap when run as root (CI installs it)"
        command = ["bwrap", "--bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--ro-bind", str(home), str(home)]
        command += [sys.executable, "-c", code, "doctor"]
    else:
        for folder in (home, *home.iterdir()):
            folder.chmod(0o500)
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "THAU_HOME": str(home)},
            cwd=ROOT,
        )
    finally:
        for folder in (home, *home.iterdir()):
            folder.chmod(0o700)
    problems = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 1, (done.returncode, done.stdout[-800:], done.stderr[-800:])
    assert problems.startswith("problems: ") and f"cannot write thau's data dir {home / 'data'}" in problems
