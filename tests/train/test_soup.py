"""train/soup.py: the exact mean of adapters' weight changes, checked on the shipped adapter."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

from thau_tui.paths import bundled_adapter, bundled_model
from thau_tui.train.export import read_lora_gguf, write_lora_gguf

SCRIPT = Path(__file__).resolve().parents[2] / "train" / "soup.py"
spec = importlib.util.spec_from_file_location("soup", SCRIPT)
assert spec and spec.loader
soup = importlib.util.module_from_spec(spec)
spec.loader.exec_module(soup)


def updates(path: Path) -> dict[str, np.ndarray]:
    """Each projection's change (alpha / rank * B @ A) of a GGUF adapter."""
    found = read_lora_gguf(path, bundled_model())
    scale, weights = found["alpha"] / found["rank"], found["weights"]
    return {
        key: scale * weights[key.replace(".lora_A.", ".lora_B.")] @ weights[key] for key in weights if ".lora_A." in key
    }


def scaled_copy(source: Path, factor: float, out: Path, folder: Path) -> Path:
    """`source` with every change times `factor` (its B factors scaled), as a GGUF adapter."""
    from safetensors.numpy import save_file

    found = read_lora_gguf(source, bundled_model())
    weights = {k: (v * factor if ".lora_B." in k else v).astype(np.float32) for k, v in found["weights"].items()}
    folder.mkdir()
    save_file(weights, str(folder / "adapter_model.safetensors"))
    config = {"r": found["rank"], "lora_alpha": found["alpha"], "target_modules": found["modules"]}
    (folder / "adapter_config.json").write_text(json.dumps(config))
    write_lora_gguf(folder, bundled_model(), out, tensor_type="f32")
    return out


def test_the_soup_is_the_mean_of_the_adapters_changes(tmp_path):
    shipped = bundled_adapter()
    assert shipped is not None
    original = updates(shipped)
    half = scaled_copy(shipped, 0.5, tmp_path / "half.gguf", tmp_path / "peft")
    assert soup.main([str(tmp_path / "mean.gguf"), str(shipped), str(half), "--type", "f32"]) == 0
    mean = updates(tmp_path / "mean.gguf")
    assert set(mean) == set(original) and len(mean) == 30 * 7
    for key, change in original.items():  # (1 + 0.5) / 2 of each change
        assert np.linalg.norm(mean[key] - 0.75 * change) <= 0.01 * np.linalg.norm(change), key


def test_one_adapters_change_scaled(tmp_path):
    shipped = bundled_adapter()
    assert shipped is not None
    original = updates(shipped)
    assert soup.main([str(tmp_path / "more.gguf"), str(shipped), "--scale", "1.2", "--type", "f32"]) == 0
    more = updates(tmp_path / "more.gguf")
    for key, change in original.items():
        assert np.linalg.norm(more[key] - 1.2 * change) <= 0.01 * np.linalg.norm(change), key
