"""`thau export RUN`: a trained PEFT adapter as a llama.cpp GGUF LoRA, plus an Ollama Modelfile;
and the way back (`read_lora_gguf`), so a recipe's init_adapter can start from a GGUF
adapter such as the shipped one.

The GGUF follows llama.cpp's convert_lora_to_gguf.py: general.architecture of the
base, general.type "adapter", adapter.type "lora", adapter.lora.alpha (float),
tensors blk.{i}.{attn_q,...}.weight.lora_a / .lora_b holding PEFT's arrays as they
are (lora_a: rank x in, lora_b: out x rank).

One trap: llama.cpp keeps llama q and k weights with their rows permuted (for its
rope layout) and transformers un-permutes them when it loads a GGUF. The adapter
was trained in transformers' layout, so lora_b of q_proj and k_proj gets the same
row permutation here, or the adapter loads fine and quietly works worse.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from ..paths import replace_file, replacing

# PEFT module name -> llama.cpp tensor name inside blk.{i}.
GGUF_NAMES = {
    "q_proj": "attn_q",
    "k_proj": "attn_k",
    "v_proj": "attn_v",
    "o_proj": "attn_output",
    "gate_proj": "ffn_gate",
    "up_proj": "ffn_up",
    "down_proj": "ffn_down",
}
_KEY = re.compile(r"layers\.(\d+)\.(?:self_attn|mlp)\.(\w+_proj)\.lora_([AB])\.weight$")


class ExportError(ValueError):
    """The run cannot be exported; the message says what is missing."""


def permute_rows(weight, n_head: int):
    """llama.cpp's q/k row order (convert_hf_to_gguf's `permute`) for a matrix with heads along its rows."""
    rows = weight.shape[0]
    return weight.reshape(n_head, 2, rows // n_head // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def unpermute_rows(weight, n_head: int):
    """The inverse of `permute_rows`: transformers' row order back from llama.cpp's."""
    rows = weight.shape[0]
    return weight.reshape(n_head, rows // n_head // 2, 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def _base_info(base: Path) -> dict[str, Any]:
    import struct

    from ..engine.gguf_header import read_header

    try:  # the header alone: the gguf package decodes the whole vocabulary first (5 s on a busy machine)
        header = read_header(base)
    except (ValueError, struct.error):
        return _base_info_slowly(base)
    arch = header.get("general.architecture")
    n_head = header.get(f"{arch}.attention.head_count")
    return {"arch": arch, "n_head": n_head, "n_head_kv": header.get(f"{arch}.attention.head_count_kv") or n_head}


def _base_info_slowly(base: Path) -> dict[str, Any]:
    import gguf

    reader = gguf.GGUFReader(str(base))
    arch = reader.fields["general.architecture"].contents()

    def field(key: str) -> Any:
        value = reader.fields.get(f"{arch}.{key}")
        return None if value is None else value.contents()

    n_head = field("attention.head_count")
    return {"arch": arch, "n_head": n_head, "n_head_kv": field("attention.head_count_kv") or n_head}


def _run_base_model(run_dir: Path) -> Path:
    from .recipe import load_recipe

    recipe_file = run_dir / "recipe.yaml"
    if not recipe_file.is_file():
        raise ExportError(f"{run_dir} has no recipe.yaml; is it a training run folder (train/runs/NAME-TIME)?")
    return load_recipe(recipe_file).base_model_path()


TENSOR_TYPES = ("f32", "f16", "q8_0")


def write_lora_gguf(
    adapter_dir: Path, base: Path, out: Path, *, permute_qk: bool = True, tensor_type: str = "f32"
) -> dict[str, Any]:
    """Convert a PEFT adapter folder to a GGUF LoRA for `base`; returns what was written.

    `tensor_type` "f16" halves the file; "q8_0" (llama.cpp's 8-bit blocks of 32, as its
    own converter writes with --outtype q8_0) quarters it. A tensor whose rows are not
    a whole number of 32-blocks (lora_b at rank 16) stays f16 under q8_0.
    `permute_qk=False` writes q/k as transformers holds them: wrong for llama.cpp,
    kept only so a test can show the difference the permutation makes.
    """
    import gguf
    from safetensors.numpy import load_file

    config_file, weights_file = adapter_dir / "adapter_config.json", adapter_dir / "adapter_model.safetensors"
    if not config_file.is_file() or not weights_file.is_file():
        raise ExportError(
            f"{adapter_dir} holds no PEFT adapter (adapter_config.json + adapter_model.safetensors); "
            "finish or resume the run first"
        )
    if tensor_type not in TENSOR_TYPES:
        raise ExportError(f"unknown tensor type {tensor_type!r}; choose one of {', '.join(TENSOR_TYPES)}")
    config = json.loads(config_file.read_text(encoding="utf-8"))
    if config.get("use_rslora") or config.get("use_dora"):
        raise ExportError("rsLoRA and DoRA adapters cannot be exported to llama.cpp; train with plain LoRA")
    info = _base_info(base)
    if info["arch"] != "llama":
        raise ExportError(f"exporting for architecture {info['arch']!r} is not supported yet (llama only)")
    weights = load_file(str(weights_file))
    with replacing(out) as temp:  # a link at `out` is replaced, and an interrupted export keeps the old file
        return _write_gguf(gguf.GGUFWriter(str(temp), info["arch"]), config, weights, info, permute_qk, tensor_type)


def _write_gguf(
    writer: Any,
    config: dict[str, Any],
    weights: dict[str, Any],
    info: dict[str, Any],
    permute_qk: bool,
    tensor_type: str,
) -> dict[str, Any]:
    import gguf
    import numpy as np

    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(config["lora_alpha"]))
    count = 0
    for key in sorted(weights, key=lambda k: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", k)]):
        match = _KEY.search(key)
        if not match:
            raise ExportError(
                f"unexpected tensor {key!r} in the adapter (only q,k,v,o,gate,up,down LoRA weights export)"
            )
        layer, module, which = int(match.group(1)), match.group(2), match.group(3)
        array = weights[key].astype(np.float32)
        if permute_qk and which == "B" and module in ("q_proj", "k_proj"):
            array = permute_rows(array, info["n_head"] if module == "q_proj" else info["n_head_kv"])
        name = f"blk.{layer}.{GGUF_NAMES[module]}.weight.lora_{which.lower()}"
        _add_tensor(writer, name, np.ascontiguousarray(array), tensor_type)
        count += 1
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return {
        "tensors": count,
        "alpha": float(config["lora_alpha"]),
        "rank": int(config["r"]),
        "arch": info["arch"],
        "tensor_type": tensor_type,
    }


def _add_tensor(writer: Any, name: str, array: Any, tensor_type: str) -> None:
    import gguf
    import numpy as np

    if tensor_type == "q8_0" and array.shape[-1] % gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType.Q8_0][0] == 0:
        kind = gguf.GGMLQuantizationType.Q8_0
        writer.add_tensor(name, gguf.quants.quantize(array, kind), raw_dtype=kind)
    elif tensor_type in ("f16", "q8_0"):
        writer.add_tensor(name, array.astype(np.float16))
    else:
        writer.add_tensor(name, array)


_GGUF_KEY = re.compile(r"^blk\.(\d+)\.(\w+)\.weight\.lora_([ab])$")
_PEFT_NAMES = {gguf_name: module for module, gguf_name in GGUF_NAMES.items()}


def read_lora_gguf(path: Path, base: Path) -> dict[str, Any]:
    """A GGUF LoRA (as `write_lora_gguf` or llama.cpp's converter writes it) back as PEFT
    weights for `base`: {"weights": {peft key: float32 array}, "alpha", "rank", "modules"}.

    q/k lora_b rows go back to transformers' order; f16 and q8_0 tensors come back as
    float32 (q8_0 within its rounding); other quantized types are refused.
    """
    import gguf
    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise ExportError(f"no GGUF adapter at {path}")
    try:
        reader = gguf.GGUFReader(str(path))
    except (ValueError, OSError) as exc:
        raise ExportError(f"{path} is not a readable GGUF file ({exc})") from exc

    def field(key: str) -> Any:
        value = reader.fields.get(key)
        return None if value is None else value.contents()

    if field(gguf.Keys.General.TYPE) != "adapter" or field(gguf.Keys.Adapter.TYPE) != "lora":
        raise ExportError(f"{path} is not a LoRA adapter GGUF (general.type 'adapter', adapter.type 'lora')")
    alpha = field(gguf.Keys.Adapter.LORA_ALPHA)
    if alpha is None:
        raise ExportError(f"{path} does not say its LoRA alpha (adapter.lora.alpha)")
    info = _base_info(base)
    arch = field(gguf.Keys.General.ARCHITECTURE)
    if arch != info["arch"]:
        raise ExportError(f"{path} is an adapter for {arch!r}, not for {base.name} ({info['arch']!r})")
    weights: dict[str, Any] = {}
    ranks: set[int] = set()
    for tensor in reader.tensors:
        match = _GGUF_KEY.match(tensor.name)
        if not match or match.group(2) not in _PEFT_NAMES:
            raise ExportError(f"unexpected tensor {tensor.name!r} in {path} (only q,k,v,o,gate,up,down LoRA weights)")
        kinds = gguf.GGMLQuantizationType
        if tensor.tensor_type not in (kinds.F32, kinds.F16, kinds.Q8_0):
            raise ExportError(
                f"{path} holds LoRA weights of type {tensor.tensor_type.name}; thau reads F32, F16 and Q8_0"
            )
        layer, module, which = int(match.group(1)), _PEFT_NAMES[match.group(2)], match.group(3).upper()
        if tensor.tensor_type == kinds.Q8_0:
            array = gguf.quants.dequantize(tensor.data, kinds.Q8_0).astype(np.float32)
        else:
            array = np.array(tensor.data, dtype=np.float32)
        if which == "B" and module in ("q_proj", "k_proj"):
            array = unpermute_rows(array, info["n_head"] if module == "q_proj" else info["n_head_kv"])
        ranks.add(array.shape[0] if which == "A" else array.shape[1])
        block = "self_attn" if module in ("q_proj", "k_proj", "v_proj", "o_proj") else "mlp"
        weights[f"base_model.model.model.layers.{layer}.{block}.{module}.lora_{which}.weight"] = array
    if not weights or len(ranks) != 1:
        raise ExportError(f"{path} holds no LoRA weights of one rank (ranks found: {sorted(ranks)})")
    modules = sorted({key.split(".")[-3] for key in weights})
    return {"weights": weights, "alpha": float(alpha), "rank": ranks.pop(), "modules": modules}


def modelfile_text(base: Path, adapter: Path) -> str:
    """An Ollama Modelfile: the base GGUF, the adapter, and ChatML's stop token. A path with a
    line break or another control character is refused: a run's recipe.yaml names the base
    model, and a line break there wrote lines of its own into the file (third attacker review)."""
    for what, path in (("base model", base), ("adapter", adapter)):
        if any(ord(c) < 32 or ord(c) == 127 for c in str(path)):
            raise ExportError(f"the {what}'s path holds a line break or control character: {str(path)!r}")
    return f'FROM {base}\nADAPTER {adapter}\nPARAMETER stop "<|im_end|>"\nPARAMETER temperature 0.2\n'


def _read_summary(path: Path) -> dict[str, Any]:
    """The run's summary.json, never read through a link (it is written back, beside the run)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return {}
    with os.fdopen(fd, encoding="utf-8") as handle:
        try:
            found = json.load(handle) if stat.S_ISREG(os.fstat(fd).st_mode) else {}
        except (OSError, ValueError):
            return {}
    return found if isinstance(found, dict) else {}


def export_adapter(run_dir: Path, out: Path | None = None, *, tensor_type: str = "f32") -> Path:
    """Write RUN_DIR/adapter as a GGUF LoRA (default RUN_DIR/adapter.gguf) and RUN_DIR/Modelfile."""
    run_dir = Path(run_dir)
    base = _run_base_model(run_dir)
    out = Path(out) if out else run_dir / "adapter.gguf"
    out.parent.mkdir(parents=True, exist_ok=True)
    # Where the GGUF will be, its folder resolved but not the file: a link planted there is
    # replaced, and resolving it named the link's target in the Modelfile (data review). Absolute
    # in the summary too, which the chat and the training screen read from another folder.
    written = out.parent.resolve() / out.name
    modelfile = modelfile_text(base, written)  # refused before anything is written
    write_lora_gguf(run_dir / "adapter", base, out, tensor_type=tensor_type)
    # Replaced, never written through: a run folder from a cloned repository may hold
    # Modelfile -> ~/.bashrc (third attacker review).
    replace_file(run_dir / "Modelfile", modelfile)
    summary = _read_summary(run_dir / "summary.json")
    summary["adapter_gguf"] = str(written)
    replace_file(run_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    return out
