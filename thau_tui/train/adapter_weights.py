"""Start a run from LoRA weights trained before: a run's adapter/ or checkpoint folder
(safetensors, as the trainer saves them) or a GGUF LoRA file such as the shipped adapter
(read back by export.read_lora_gguf). Weights that do not fit are refused, never ignored.

An adapter of a lower rank and the same scale (alpha / rank) starts a recipe of a higher
rank exactly: its A rows and B columns fill the first places, the new B columns are zero
(so the update is unchanged at step 0) and the new A rows keep PEFT's random start, as a
fresh LoRA's do, so they learn from the first step.

A GGUF adapter of a higher rank (the shipped one is rank 64) starts a lower-rank recipe
from its best approximation at that rank: each projection's update is cut by SVD to the
recipe's rank and scale, and the trainer logs the share of the update kept."""

from __future__ import annotations

from pathlib import Path

from .recipe import Recipe


class AdapterMismatch(ValueError):
    """The weights cannot start this recipe's LoRA layers; the message says why and the fix."""


def load_adapter_weights(model, folder: Path, recipe: Recipe | None = None) -> str | None:
    """LoRA weights into `model`: a folder saved by this trainer (adapter/ or a checkpoint),
    or a GGUF LoRA file (needs the recipe: its base model, rank and alpha). Weights that do
    not fit this model's LoRA layers are an error, not a silent no-op. Returns a line for
    the log when the adapter's rank was changed to the model's (grown or cut, see the
    module's doc), else None."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    note = None
    if folder.suffix == ".gguf":
        weights, note = gguf_adapter_weights(folder, recipe)
        rank = _rank_of(weights)
        found = {"r": rank, "lora_alpha": _alpha_for(rank, recipe)}
    else:
        weights = load_file(str(folder / "adapter_model.safetensors"))
        found = _folder_config(folder)
    grown = _grow(model, weights, found, folder)
    if grown:
        note = f"its rank {grown} grown to {_model_rank(model)}: the same update at step 0, more room"
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
    return note


def _model_rank(model) -> int | None:
    config = getattr(model, "peft_config", {}).get("default")
    return None if config is None else int(config.r)


def _rank_of(weights: dict) -> int | None:
    return next((int(w.shape[0]) for k, w in weights.items() if ".lora_A." in k), None)


def _alpha_for(rank: int | None, recipe: Recipe | None) -> float | None:
    """A GGUF adapter's alpha as gguf_adapter_weights checked it: the recipe's scale at its rank."""
    if rank is None or recipe is None:
        return None
    return recipe.alpha * rank / recipe.rank


def _folder_config(folder: Path) -> dict:
    import json

    try:
        return json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _grow(model, weights: dict, found: dict, folder: Path) -> int | None:
    """Pad a lower-rank adapter's weights (in place) to the model's rank when the scales agree."""
    import torch
    from peft import get_peft_model_state_dict

    config = getattr(model, "peft_config", {}).get("default")
    rank, alpha = found.get("r"), found.get("lora_alpha")
    if config is None or not rank or not alpha or rank >= config.r:
        return None
    if abs(alpha / rank - config.lora_alpha / config.r) > 1e-9:
        raise AdapterMismatch(
            f"the adapter in {folder} (rank {rank}, alpha {alpha:g}) can start a rank-{config.r} recipe only at "
            f"the same scale alpha/rank ({alpha / rank:g}); set alpha: {alpha / rank * config.r:g}, or use rank {rank}"
        )
    current = get_peft_model_state_dict(model)
    for key, value in weights.items():
        start = current.get(key)
        if start is None or start.shape == value.shape:
            continue  # left for set_peft_model_state_dict to report
        if ".lora_A." in key and start.shape[1:] == value.shape[1:]:
            grown = start.detach().clone()
            grown[: value.shape[0]] = value
        elif ".lora_B." in key and start.shape[:1] == value.shape[:1]:
            grown = torch.zeros_like(start)
            grown[:, : value.shape[1]] = value
        else:
            continue
        weights[key] = grown
    return int(rank)


def gguf_adapter_weights(path: Path, recipe: Recipe | None) -> tuple[dict, str | None]:
    """A GGUF LoRA's weights as PEFT tensors, checked against the recipe's rank, alpha and
    targets; a higher-rank adapter comes back cut to the recipe's rank and scale. Returns
    (weights, a line for the log when it was cut)."""
    import torch

    from .export import ExportError, read_lora_gguf

    if recipe is None:
        raise AdapterMismatch(f"{path}: a GGUF adapter needs the recipe (base model, rank, alpha) to load")
    try:
        found = read_lora_gguf(path, recipe.base_model_path())
    except ExportError as exc:
        raise AdapterMismatch(str(exc)) from exc
    wanted = sorted(recipe.target_modules)
    same_scale = abs(found["alpha"] / found["rank"] - recipe.alpha / recipe.rank) < 1e-9
    fits = found["rank"] == recipe.rank and found["alpha"] == recipe.alpha
    higher = found["rank"] > recipe.rank
    if not (fits or higher or (found["rank"] < recipe.rank and same_scale)) or found["modules"] != wanted:
        raise AdapterMismatch(
            f"the adapter in {path} (rank {found['rank']}, alpha {found['alpha']:g}, {', '.join(found['modules'])}) "
            f"does not fit this recipe (rank {recipe.rank}, alpha {recipe.alpha:g}, {', '.join(wanted)}); "
            "use the same rank, alpha and target_modules as the run that made it (or a higher rank "
            "at the same alpha/rank)"
        )
    weights = {key: torch.from_numpy(array) for key, array in found["weights"].items()}
    if not higher:
        return weights, None
    weights, kept = cut_lora(weights, found["alpha"] / found["rank"], recipe.rank, recipe.alpha)
    return weights, (
        f"its rank {found['rank']} cut to {recipe.rank} (alpha {recipe.alpha:g}): keeps {kept:.1%} of its update"
    )


def cut_lora(weights: dict, scale: float, rank: int, alpha: float) -> tuple[dict, float]:
    """PEFT LoRA weights (update scale * B @ A per projection) as the best rank-`rank`
    LoRA at alpha / rank, and the share of the update's squared norm kept. The SVD runs
    on the factors (QR of B and A^T), never on the full projection."""
    import torch

    from .full_tuning import lora_factors

    out, kept, total = {}, 0.0, 0.0
    for key in [k for k in weights if ".lora_A." in k]:
        b_key = key.replace(".lora_A.", ".lora_B.")
        a, b = weights[key].double(), weights[b_key].double()
        qb, rb = torch.linalg.qr(b)
        qa, ra = torch.linalg.qr(a.T)
        u, s, vh = torch.linalg.svd(scale * rb @ ra.T)
        new_b, new_a = lora_factors(qb @ u, s, vh @ qa.T, rank, alpha / rank)
        out[key], out[b_key] = new_a.float(), new_b.float()
        kept += float((s[:rank] ** 2).sum())
        total += float((s**2).sum())
    return out, (kept / total if total else 1.0)
