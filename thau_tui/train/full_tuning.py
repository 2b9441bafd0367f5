"""`method: full`: fine-tune the projections' own weights, and ship the change as a LoRA.

Every entry of the recipe's target projections trains (the embeddings, which SmolLM2
ties to its output head, and the norms stay frozen, as with LoRA). A run that starts
from an adapter (`init_adapter`) merges it into the weights first. At the end each
projection's change from the base model, W_trained - W_base, is cut to the recipe's rank
by SVD (the best rank-r approximation) and saved as an ordinary PEFT LoRA in the run's
adapter/ folder: `thau export` writes it as a GGUF LoRA and the chat loads it like any
other. The summary says how much of the change the rank kept (`svd_kept`, the share of
its squared Frobenius norm). Checkpoints hold the trained projections themselves
(projections.safetensors), so a run resumes and can be cut again at another rank.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

PROJECTIONS_FILE = "projections.safetensors"


def projection_names(model, targets: list[str]) -> list[str]:
    """The weight names of the target projections, in the model's order."""
    return [n for n, _ in model.named_parameters() if n.endswith(".weight") and n.split(".")[-2] in targets]


def start_weights(model, recipe, start_from: Path | None):
    """The plain model ready to train: `start_from`'s LoRA merged in (when given), every
    parameter frozen but the target projections. Returns (model, the base model's own
    projection weights, copied before any merge)."""
    names = projection_names(model, list(recipe.target_modules))
    params = dict(model.named_parameters())
    base = {n: params[n].detach().clone() for n in names}
    if start_from is not None:
        from .adapter_weights import load_adapter_weights
        from .trainer import add_lora

        rank, alpha = adapter_shape(start_from, recipe)
        wrapped = add_lora(model, recipe.model_copy(update={"rank": rank, "alpha": alpha}))
        load_adapter_weights(wrapped, start_from, recipe.model_copy(update={"rank": rank, "alpha": alpha}))
        model = wrapped.merge_and_unload()
    wanted = set(names)
    for name, param in model.named_parameters():
        param.requires_grad = name in wanted
    return model, base


def adapter_shape(path: Path, recipe) -> tuple[int, float]:
    """(rank, alpha) of a saved adapter: a GGUF LoRA or a PEFT folder."""
    if Path(path).suffix == ".gguf":
        from .export import read_lora_gguf

        found = read_lora_gguf(path, recipe.base_model_path())
        return int(found["rank"]), float(found["alpha"])
    config = json.loads((Path(path) / "adapter_config.json").read_text(encoding="utf-8"))
    return int(config["r"]), float(config["lora_alpha"])


def save_projections(model, folder: Path) -> None:
    from safetensors.torch import save_file

    save_file(
        {n: p.detach().contiguous() for n, p in model.named_parameters() if p.requires_grad},
        str(folder / PROJECTIONS_FILE),
    )


def load_projections(model, folder: Path) -> None:
    """A checkpoint's trained projections back into the model; any missing one is an error."""
    from safetensors.torch import load_file

    weights = load_file(str(folder / PROJECTIONS_FILE))
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    if set(weights) != trainable:
        raise ValueError(
            f"{folder / PROJECTIONS_FILE} does not hold this recipe's projections "
            f"({len(set(weights) ^ trainable)} differ); resume with the recipe that started the run"
        )
    model.load_state_dict(weights, strict=False)


def extract_lora(trained: dict, base: dict, rank: int, alpha: float) -> tuple[dict, float]:
    """PEFT LoRA weights whose update (alpha / rank) * B @ A is the best rank-`rank`
    approximation of each trained - base, and the share of the change's squared norm kept."""
    import torch

    scale = alpha / rank
    weights, kept, total = {}, 0.0, 0.0
    for name, start in base.items():
        delta = (trained[name].detach().float() - start.float()).cpu()
        u, s, vh = torch.linalg.svd(delta, full_matrices=False)
        b, a = lora_factors(u, s, vh, rank, scale)
        stem = "base_model.model." + name[: -len(".weight")]
        weights[f"{stem}.lora_A.weight"], weights[f"{stem}.lora_B.weight"] = a, b
        kept += float((s[:rank] ** 2).sum())
        total += float((s**2).sum())
    return weights, (kept / total if total else 1.0)


def lora_factors(u, s, vh, rank: int, scale: float):
    """(B, A) of a LoRA at `rank` whose scale * B @ A is u @ diag(s) @ vh cut to its first
    `rank` singular values, split evenly between the two; zero-padded past min(rank, len(s))."""
    import torch

    r = min(rank, s.numel())
    root = s[:r].sqrt() / math.sqrt(scale)
    b = torch.zeros(u.shape[0], rank, dtype=u.dtype)
    a = torch.zeros(rank, vh.shape[1], dtype=vh.dtype)
    b[:, :r] = u[:, :r] * root
    a[:r] = root[:, None] * vh[:r]
    return b, a


def save_as_lora(model, base: dict, recipe, out: Path) -> float:
    """Cut the trained projections to a LoRA of the recipe's rank and save it as a PEFT
    folder at `out`; returns the share kept. The model's projections go back to the base
    weights (the trained ones are in the last checkpoint)."""
    import torch
    from peft import set_peft_model_state_dict

    from .trainer import add_lora

    params = dict(model.named_parameters())
    weights, kept = extract_lora({n: params[n] for n in base}, base, recipe.rank, recipe.alpha)
    with torch.no_grad():
        for name, start in base.items():
            params[name].copy_(start)
    wrapped = add_lora(model, recipe)
    result = set_peft_model_state_dict(wrapped, weights)
    if [k for k in getattr(result, "missing_keys", []) if "lora_" in k]:
        raise ValueError("the extracted LoRA does not cover every target projection")
    wrapped.save_pretrained(out)
    return kept


def cut_again(run_dir: Path, rank: int, alpha: float | None = None) -> tuple[Path, float]:
    """A full run's newest checkpoint cut to another rank: RUN/adapter-rank-R/ as a PEFT
    LoRA. `alpha` only sets how the update is split between scale and weights (default:
    the recipe's alpha/rank scale); a recipe that goes on from this adapter must name it.
    Returns the folder and the share kept."""
    from .base_model import load_base
    from .checkpoints import latest_checkpoint
    from .recipe import load_recipe

    run_dir = Path(run_dir)
    recipe = load_recipe(run_dir / "recipe.yaml")
    if recipe.method != "full":
        raise ValueError(
            f"{run_dir} trained LoRA weights of rank {recipe.rank}; only a method: full run can be cut again"
        )
    checkpoint = latest_checkpoint(run_dir)
    if checkpoint is None or not (checkpoint / PROJECTIONS_FILE).is_file():
        raise ValueError(f"{run_dir} has no checkpoint with trained projections; resume or finish the run first")
    model, _tokenizer, _template = load_base(recipe.base_model_path())
    model, base = start_weights(model, recipe, None)
    load_projections(model, checkpoint)
    out = run_dir / f"adapter-rank-{rank}"
    cut = recipe.model_copy(update={"rank": rank, "alpha": alpha or recipe.alpha * rank / recipe.rank})
    return out, save_as_lora(model, base, cut, out)
