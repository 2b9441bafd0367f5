"""`thau doctor` names a LoRA adapter made for another model of the same architecture
(known-left review): its architecture matched, so doctor passed it, and the chat then
failed to load it. The shapes come from the GGUF headers; no weights are loaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from thau_tui.cli import main
from thau_tui.engine.gguf_header import lora_misfit, tensor_shapes
from thau_tui.paths import bundled_adapter, bundled_model

RANK = 4


def write_adapter(path: Path, pairs: dict[str, tuple[int, int]], architecture: str = "llama") -> Path:
    """A LoRA GGUF: for each base tensor, lora_a and lora_b of a matrix (ne0 x ne1), as llama.cpp lays them out."""
    import gguf

    writer = gguf.GGUFWriter(str(path), architecture)
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", 8.0)
    for base, (ne0, ne1) in pairs.items():  # numpy's shape is ggml's read backwards
        writer.add_tensor(f"{base}.lora_a", np.zeros((RANK, ne0), dtype=np.float32))
        writer.add_tensor(f"{base}.lora_b", np.zeros((ne1, RANK), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.fixture
def adapters(tmp_path):
    """(name, adapter, what doctor says or None): SmolLM2-135M is llama, 576 wide, 30 layers."""
    return [
        ("narrow", write_adapter(tmp_path / "narrow.lora.gguf", {"blk.0.attn_q.weight": (64, 64)}),
         "blk.0.attn_q.weight is 576 x 576 in the model and 64 x 64 in the adapter"),
        ("deeper", write_adapter(tmp_path / "deeper.lora.gguf", {"blk.30.attn_q.weight": (576, 576)}),
         "it changes blk.30.attn_q.weight, which the model does not have"),
        ("fits", write_adapter(tmp_path / "fits.lora.gguf", {"blk.0.attn_k.weight": (576, 192)}), None),
    ]  # fmt: skip


def test_tensor_shapes_are_the_gguf_packages_read_from_the_header():
    import gguf

    model = bundled_model()
    assert model is not None
    read = {t.name: tuple(int(n) for n in t.shape) for t in gguf.GGUFReader(str(model)).tensors}
    assert tensor_shapes(model) == read and read["blk.0.attn_k.weight"] == (576, 192)


def test_an_adapter_of_another_width_or_depth_is_named_and_a_fitting_one_is_not(adapters):
    model = bundled_model()
    for name, adapter, said in adapters:
        found = lora_misfit(adapter, model)
        assert found == said if said is None else said in (found or ""), (name, found)
    assert lora_misfit(bundled_adapter(), model) is None  # the shipped adapter fits the shipped model
    assert lora_misfit(Path("/nonexistent.gguf"), model) is None  # a missing file is another check's to say


@pytest.mark.slow  # doctor decodes in a child, and llama.cpp loads the model for each adapter
def test_doctor_says_what_llama_cpp_then_refuses(adapters, tmp_path, capsys):
    config = tmp_path / "config.yaml"
    for name, adapter, said in adapters:
        config.write_text(f"model:\n  lora_path: {adapter}\n")
        code = main(["--config", str(config), "doctor"])
        out = capsys.readouterr().out
        last = out.strip().splitlines()[-1]
        if said is None:
            assert code == 0 and not last.startswith("problems: "), (name, out)
        else:
            assert code == 1 and last.startswith("problems: the LoRA adapter ") and said in last, (name, out)
            assert f"does not fit {bundled_model().name}" in last
        # the chat's own loader agrees: llama.cpp refuses what doctor names, and applies the rest
        probe = (
            "import sys\nfrom thau_tui.engine.backend import LlamaBackend, ModelLoadError\n"
            "try:\n    LlamaBackend(sys.argv[1], n_ctx=256, lora_path=sys.argv[2]).llm.close()\n"
            "except ModelLoadError as exc:\n    print(exc)\n    sys.exit(3)\n"
        )
        loaded = subprocess.run(
            [sys.executable, "-c", probe, str(bundled_model()), str(adapter)],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert loaded.returncode == (0 if said is None else 3), (name, loaded.stdout, loaded.stderr[-2000:])


def test_a_hostile_tensor_name_is_a_damaged_file_not_a_crash(tmp_path):
    """A tensor name of 5,000 digits made int() raise past the checks (Python's limit on digits)
    and a name's length was read unbounded; ggml names are at most 64 bytes (review of the diff)."""
    long_layer = write_adapter(tmp_path / "digits.lora.gguf", {f"blk.{'9' * 5000}.attn_q.weight": (576, 576)})
    with pytest.raises(ValueError, match="name"):
        tensor_shapes(long_layer)
    assert lora_misfit(long_layer, bundled_model()) is None  # doctor's other checks say what is wrong
