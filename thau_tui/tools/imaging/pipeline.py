"""Finding, loading and caching the local diffusers pipeline.

torch and diffusers are imported inside functions: the tool registry imports
every tool module at start-up and must stay fast when no image is ever made.
"""

from __future__ import annotations

import json
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ... import paths
from ..base import ToolError

SINGLE_FILE_SUFFIXES = (".safetensors", ".ckpt")

HOW_TO_SET = (
    "Set it in config.yaml, for example:\n"
    "  images:\n"
    "    model: models/sd-turbo        # a diffusers folder (has model_index.json)\n"
    "or a single checkpoint file such as models/dreamshaper.safetensors. "
    "A relative name is looked up in thau's models folder (`thau doctor` prints it), never in "
    "the folder thau started in; anywhere else, give an absolute path. "
    "thau never downloads them."
)


class ImageModelError(ToolError):
    """The image model is not configured, missing, or cannot be loaded."""


@dataclass(frozen=True)
class FamilyDefaults:
    """What a model family draws best with when neither config nor the call says."""

    family: str
    width: int
    height: int
    steps: int
    guidance: float


@dataclass
class LoadedPipeline:
    """A ready pipeline plus what it runs on. `lock` serialises generations on it."""

    pipe: Any
    model: Path
    device: str
    dtype: str
    defaults: FamilyDefaults
    lock: threading.Lock


def resolve_model(setting: str | None) -> Path:
    """The model file or folder images.model names; ImageModelError says how to fix it."""
    if not setting:
        raise ImageModelError(f"no image model is configured (images.model is empty). {HOW_TO_SET}")
    candidates = paths.model_setting_candidates(setting)  # never the current folder (the workspace)
    for candidate in candidates:
        if candidate.exists():
            return candidate.resolve()
    looked = ", ".join(str(c) for c in candidates)
    raise ImageModelError(f"images.model is {setting!r}, but nothing is there (looked at {looked}). {HOW_TO_SET}")


def _sentence(text: str) -> str:
    """`text` ending in one full stop: diffusers' own messages end in one, and joining one
    with ". " read "...is not a valid JSON file.. Check the folder" (images review)."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def family_defaults(model: Path) -> FamilyDefaults:
    """Size, steps and guidance for the model's family, read from its configs or file name."""
    name = model.name.lower()
    configs = model if model.is_dir() else _single_file_config(model)
    if configs is not None:
        index = _read_json(configs / "model_index.json")
        unet = _read_json(configs / "unet" / "config.json")
        vae = _read_json(configs / "vae" / "config.json")
        scale = 2 ** (len(vae.get("block_out_channels", [0, 0, 0, 0])) - 1)
        sample = unet.get("sample_size")
        xl = "XL" in str(index.get("_class_name", ""))
    else:
        scale, sample, xl = 8, None, "xl" in name
    size = int(sample * scale) if isinstance(sample, int) else (1024 if xl else 512)
    if "turbo" in name or "lightning" in name or "lcm" in name:
        # Distilled models: one to four steps, no classifier-free guidance; SDXL-Turbo draws at 512.
        return FamilyDefaults("sdxl-turbo" if xl else "sd-turbo", min(size, 512), min(size, 512), 1, 0.0)
    if xl:
        return FamilyDefaults("sdxl", size, size, 30, 5.0)
    return FamilyDefaults("sd", size, size, 25, 7.5)


def pick_device(setting: str = "auto") -> str:
    """MPS, then CUDA, then CPU, unless config.images.device names one."""
    import torch

    if setting != "auto":
        if setting == "cuda" and not torch.cuda.is_available():
            raise ImageModelError("images.device is 'cuda' but torch sees no CUDA GPU; set images.device: auto or cpu")
        if setting == "mps" and not torch.backends.mps.is_available():
            raise ImageModelError("images.device is 'mps' but this torch has no MPS; set images.device: auto or cpu")
        return setting
    if torch.backends.mps.is_available():
        return "mps"
    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def pick_dtype(setting: str, device: str) -> str:
    """fp16 on a GPU (MPS/CUDA), fp32 on CPU (half precision is slow or unsupported there)."""
    if setting != "auto":
        return setting
    return "float32" if device == "cpu" else "float16"


_cache: dict[tuple[str, str, str], LoadedPipeline] = {}
_cache_lock = threading.Lock()


def _single_file_config(model: Path) -> Path | None:
    """A diffusers config folder for a single checkpoint: models/<name>/ beside models/<name>.safetensors."""
    beside = model.with_suffix("")
    return beside if (beside / "model_index.json").is_file() else None


def _load(model: Path, device: str, dtype: str, defaults: FamilyDefaults) -> Any:
    # Newer diffusers call `torch_dtype` deprecated in favour of `dtype`, which older ones ignore.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
        return _load_quietly(model, device, dtype, defaults)


def _load_quietly(model: Path, device: str, dtype: str, defaults: FamilyDefaults) -> Any:
    import torch
    from diffusers import AutoPipelineForText2Image, DiffusionPipeline

    torch_dtype = getattr(torch, dtype)
    if model.is_dir():
        if not (model / "model_index.json").is_file():
            raise ImageModelError(
                f"{model} is a folder but not a diffusers pipeline (no model_index.json). {HOW_TO_SET}"
            )
        try:
            return AutoPipelineForText2Image.from_pretrained(model, torch_dtype=torch_dtype, local_files_only=True)
        except ValueError:
            # Pipelines AutoPipeline does not map (community ones) still load generically.
            return DiffusionPipeline.from_pretrained(model, torch_dtype=torch_dtype, local_files_only=True)
    if model.suffix.lower() not in SINGLE_FILE_SUFFIXES:
        raise ImageModelError(
            f"{model} is neither a diffusers folder nor a .safetensors/.ckpt checkpoint. {HOW_TO_SET}"
        )
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    cls = StableDiffusionXLPipeline if defaults.family.startswith("sdxl") else StableDiffusionPipeline
    config = _single_file_config(model)
    try:
        return cls.from_single_file(
            str(model), config=str(config) if config else None, torch_dtype=torch_dtype, local_files_only=True
        )
    except Exception as exc:
        if config is not None:
            raise
        # Without configs diffusers looks for the base model in the Hugging Face cache, offline.
        raise ImageModelError(
            f"{model.name} is a single checkpoint; loading it offline needs its base model's pipeline "
            f"configs (model_index.json, tokenizer/, unet/config.json, ...). Put that diffusers config "
            f"folder beside it as {model.with_suffix('')}/ (weights not needed there), or set images.model "
            f"to a diffusers folder. ({type(exc).__name__}: {exc})"
        ) from exc


def load_pipeline(settings: Any, on_progress: Callable[[float, float, str], None] | None = None) -> LoadedPipeline:
    """The pipeline for settings.model on the chosen device, loaded once and reused.

    One pipeline is kept at a time (they take gigabytes); asking for another model
    or device replaces it.
    """
    model = resolve_model(getattr(settings, "model", None))
    device = pick_device(getattr(settings, "device", "auto"))
    dtype = pick_dtype(getattr(settings, "dtype", "auto"), device)
    key = (str(model), device, dtype)
    with _cache_lock:
        loaded = _cache.get(key)
        if loaded is not None:
            return loaded
        if on_progress:
            on_progress(0, 1, "loading pipeline…")
        defaults = family_defaults(model)
        try:
            pipe = _load(model, device, dtype, defaults)
        except ImageModelError:
            raise
        except Exception as exc:  # a corrupt or partial folder: say which and how to fix it
            raise ImageModelError(
                f"could not load the image model at {model}: {_sentence(f'{type(exc).__name__}: {exc}')} "
                f"Check the folder is a complete diffusers download, or point images.model elsewhere. {HOW_TO_SET}"
            ) from exc
        pipe = pipe.to(device)
        slicing = getattr(settings, "attention_slicing", "auto")
        if slicing == "on" or (slicing == "auto" and device == "mps"):
            pipe.enable_attention_slicing()
        # tqdm would scribble over the full-screen UI; progress goes through callbacks instead.
        pipe.set_progress_bar_config(disable=True)
        _cache.clear()
        loaded = _cache[key] = LoadedPipeline(pipe, model, device, dtype, defaults, threading.Lock())
        if on_progress:
            on_progress(1, 1, "pipeline loaded")
        return loaded


def clear_cache() -> None:
    """Drop the cached pipeline (config changed, or to free memory)."""
    with _cache_lock:
        _cache.clear()
