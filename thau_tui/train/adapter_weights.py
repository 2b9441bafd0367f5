"""Start a run from LoRA weights trained before: a run's adapter/ or checkpoint folder
(safetensors, as the trainer saves them) or a GGUF LoRA file such as the shipped adapter
(read back by export.read_lora_gguf). Weights that do not fit are refused, never ignored."""

from __future__ import annotations

from pathlib import Path

from .recipe import Recipe


class AdapterMismatch(ValueError):
    """The weights cannot start this recipe's LoRA layers; the message says why and the fix."""


def load_adapter_weights(model, folder: Path, recipe: Recipe | None = None) -> None:
    """LoRA weights into `model`: a folder saved by this trainer (adapter/ or a checkpoint),
    or a GGUF LoRA file (needs the recipe: its base model, rank and alpha). Weights that do
    not fit this model's LoRA layers are an error, not a silent no-op."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    if folder.suffix == ".gguf":
        weights = gguf_adapter_weights(folder, recipe)
    else:
        weights = load_file(str(folder / "adapter_model.safetensors"))
    try:
        result = set_peft_model_state_dict(model, weights)
    except RuntimeError as exc:  # tensor shapes differ: another rank
        raise AdapterMismatch(
            f"the adapter in {folder} does not fit this recipe's LoRA layers ({str(exc).splitlines()[0]}); "
            "use the same rank and target_modules as the run that made it"
        ) from exc
    missing = [k for k in getattr(result, "missing_keys", []) if "lora_" in k]
    unexpected = list(getattr(result, "unexpected_keys", []))
    if missing or unexpected:
        raise AdapterMismatch(
            f"the adapter in {folder} does not fit this recipe's LoRA layers "
            f"({len(missing)} missing, {len(unexpected)} unexpected tensors); use the same rank and "
            "target_modules as the run that made it"
        )


def gguf_adapter_weights(path: Path, recipe: Recipe | None) -> dict:
    """A GGUF LoRA's weights as PEFT tensors, checked against the recipe's rank, alpha and targets."""
    import torch

    from .export import ExportError, read_lora_gguf

    if recipe is None:
        raise AdapterMismatch(f"{path}: a GGUF adapter needs the recipe (base model, rank, alpha) to load")
    try:
        found = read_lora_gguf(path, recipe.base_model_path())
    except ExportError as exc:
        raise AdapterMismatch(str(exc)) from exc
    wanted = sorted(recipe.target_modules)
    if found["rank"] != recipe.rank or found["alpha"] != recipe.alpha or found["modules"] != wanted:
        raise AdapterMismatch(
            f"the adapter in {path} (rank {found['rank']}, alpha {found['alpha']:g}, {', '.join(found['modules'])}) "
            f"does not fit this recipe (rank {recipe.rank}, alpha {recipe.alpha:g}, {', '.join(wanted)}); "
            "use the same rank, alpha and target_modules as the run that made it"
        )
    return {key: torch.from_numpy(array) for key, array in found["weights"].items()}
