"""The smallest real training run the tests share: the real trainer on the bundled model over a
data set of a few built examples (the headless CLI, the training screen, cancels and resumes)."""

from __future__ import annotations

from pathlib import Path


def tiny_recipe(tmp_path: Path, *, max_steps: int = 2, eval_every: int = 1, n_train: int = 4) -> Path:
    """A recipe of `max_steps` LoRA steps (rank 2, batch 1) on the bundled SmolLM2 over
    `n_train` built examples in tmp_path/data, written to tmp_path/tiny.yaml."""
    from thau_tui.train.data import build_dataset

    build_dataset(tmp_path / "data", n_train=n_train, n_eval=1, seed=3, count_tokens=False)
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(
        f"name: tiny\nbase_model: bundled\ndata_dir: {tmp_path / 'data'}\nrank: 2\nalpha: 4\n"
        f"max_steps: {max_steps}\nbatch_size: 1\nmax_seq_len: 512\neval_every: {eval_every}\n"
        "eval_examples: 1\ncheckpoint_every: 0\nwarmup_steps: 0\ndevice: cpu\n",
        encoding="utf-8",
    )
    return recipe
