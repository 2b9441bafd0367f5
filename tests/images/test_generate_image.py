"""generate_image end to end on a tiny real diffusers pipeline (CPU, seconds)."""

from __future__ import annotations

import json
import threading

import numpy as np
from PIL import Image

from thau_tui import paths
from thau_tui.config import Config, ImagesConfig
from thau_tui.tools import ToolCall, ToolContext, ToolRegistry
from thau_tui.tools.images import TOOLS
from thau_tui.tools.imaging import clear_cache, family_defaults, generate, list_images

TOOL = TOOLS[0]


def context(model, cancel=None, progress=None, **images):
    config = Config(images=ImagesConfig(model=str(model) if model is not None else None, **images))
    return ToolContext(
        workspace=paths.data_dir(),
        config=config,
        cancel_event=cancel or threading.Event(),
        on_progress=progress,
    )


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_png_sidecar_and_text_chunks(tiny_sd):
    result = TOOL.run({"prompt": "a red cat", "width": 64, "height": 48, "steps": 2, "seed": 7}, context(tiny_sd))
    assert result.ok, result.output
    path = result.data["image_path"]
    assert path in result.output and "64x48" in result.output
    image = Image.open(path)
    assert image.size == (64, 48)
    assert str(paths.images_dir()) in path  # honours THAU_HOME
    sidecar = json.loads(open(result.data["sidecar"], encoding="utf-8").read())
    assert sidecar["seed"] == 7 and sidecar["steps"] == 2 and sidecar["prompt"] == "a red cat"
    assert sidecar["width"] == 64 and sidecar["height"] == 48 and sidecar["model"] == str(tiny_sd)
    assert sidecar["device"] == "cpu" and sidecar["dtype"] == "float32" and sidecar["duration_s"] > 0
    assert image.text["prompt"] == "a red cat" and image.text["seed"] == "7"
    assert json.loads(image.text["parameters"])["guidance"] == sidecar["guidance"]


def test_same_seed_same_pixels_and_random_seed_recorded(tiny_sd):
    args = {"prompt": "a tree", "width": 32, "height": 32, "steps": 2}
    first = TOOL.run({**args, "seed": 11}, context(tiny_sd))
    again = TOOL.run({**args, "seed": 11}, context(tiny_sd))
    other = TOOL.run({**args, "seed": 12}, context(tiny_sd))
    assert first.data["image_path"] != again.data["image_path"]
    assert np.array_equal(pixels(first.data["image_path"]), pixels(again.data["image_path"]))
    assert not np.array_equal(pixels(first.data["image_path"]), pixels(other.data["image_path"]))

    unseeded = TOOL.run(args, context(tiny_sd))
    seed = unseeded.data["seed"]
    assert isinstance(seed, int) and f"seed {seed}" in unseeded.output
    replay = TOOL.run({**args, "seed": seed}, context(tiny_sd))
    assert np.array_equal(pixels(unseeded.data["image_path"]), pixels(replay.data["image_path"]))


def test_progress_reports_loading_then_each_step(tiny_sd):
    clear_cache()
    events = []
    result = TOOL.run(
        {"prompt": "a boat", "width": 32, "height": 32, "steps": 3, "seed": 1},
        context(tiny_sd, progress=lambda done, total, label: events.append((done, total, label))),
    )
    assert result.ok, result.output
    assert events[0] == (0, 1, "loading pipeline…")
    steps = [e for e in events if e[2].startswith("step")]
    assert steps == [(1, 3, "step 1/3"), (2, 3, "step 2/3"), (3, 3, "step 3/3")]


def test_cancel_between_steps_saves_nothing(tiny_sd):
    cancel = threading.Event()
    seen = []

    def progress(done, total, label):
        seen.append(label)
        if label == "step 2/5":
            cancel.set()

    result = TOOL.run(
        {"prompt": "a house", "width": 32, "height": 32, "steps": 5, "seed": 3},
        context(tiny_sd, cancel=cancel, progress=progress),
    )
    assert not result.ok
    assert result.output == "cancelled at step 2/5"
    assert result.data == {"cancelled": True, "step": 2, "steps": 5}
    assert list(paths.images_dir().glob("*.png")) == []
    assert list_images() == []


def test_config_overrides_family_defaults_and_call_overrides_config(tiny_sd):
    defaults = family_defaults(tiny_sd)
    assert (defaults.family, defaults.width, defaults.steps, defaults.guidance) == ("sd", 64, 25, 7.5)
    configured = context(tiny_sd, width=32, height=40, steps=2, guidance=1.5)
    from_config = TOOL.run({"prompt": "a hill", "seed": 5}, configured)
    assert (from_config.data["width"], from_config.data["height"]) == (32, 40)
    assert (from_config.data["steps"], from_config.data["guidance"]) == (2, 1.5)
    from_call = TOOL.run({"prompt": "a hill", "seed": 5, "width": 36, "steps": 1, "guidance": 0}, configured)
    assert from_call.data["width"] == 32  # rounded down to a multiple of 8
    assert (from_call.data["height"], from_call.data["steps"], from_call.data["guidance"]) == (40, 1, 0.0)


def test_plain_function_and_listing_newest_first(tiny_sd):
    settings = ImagesConfig(model=str(tiny_sd), width=32, height=32, steps=1)
    older = generate(settings, "first picture", seed=9)
    newer = generate(settings, "second picture", seed=2, negative_prompt="blur")
    listed = list_images()
    assert [r.prompt for r in listed] == ["second picture", "first picture"]
    assert listed[0].path == newer.path and listed[1].sidecar == older.sidecar
    assert listed[0].negative_prompt == "blur" and listed[0].params()["steps"] == 1
    (paths.images_dir() / "junk.json").write_text("{not json", encoding="utf-8")
    older.path.unlink()
    assert [r.prompt for r in list_images()] == ["second picture"]


def test_not_configured_says_what_to_set():
    result = TOOL.run({"prompt": "x"}, context(None))
    assert not result.ok
    assert "images.model" in result.output and "config.yaml" in result.output and "models/" in result.output


def test_missing_path_names_it(tmp_path):
    missing = tmp_path / "nowhere" / "sd-turbo"
    result = TOOL.run({"prompt": "x"}, context(missing))
    assert not result.ok
    assert str(missing) in result.output and "config.yaml" in result.output


def test_folder_without_model_index(tmp_path):
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    result = TOOL.run({"prompt": "x"}, context(folder))
    assert not result.ok and "model_index.json" in result.output


def test_broken_folder_reports_load_failure(tmp_path, tiny_sd):
    import shutil

    broken = tmp_path / "broken-sd"
    shutil.copytree(tiny_sd, broken)
    (broken / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"truncated download")
    result = TOOL.run({"prompt": "x", "steps": 1}, context(broken))
    assert not result.ok
    assert "could not load the image model" in result.output and str(broken) in result.output


def test_schema_rejects_unknown_arguments():
    registry = ToolRegistry(TOOLS)
    errors = registry.validate(ToolCall("generate_image", {"prompt": "x", "style": "oil"}))
    assert errors and "style" in errors[0]
    assert registry.validate(ToolCall("generate_image", {"prompt": "x", "seed": 3, "guidance": 2.5})) == []


def test_single_checkpoint_file_draws_what_the_folder_draws(tiny_sd, tiny_single_file):
    args = {"prompt": "a red cat", "width": 32, "height": 32, "steps": 2, "seed": 21}
    from_folder = TOOL.run(args, context(tiny_sd))
    from_file = TOOL.run(args, context(tiny_single_file))
    assert from_file.ok, from_file.output
    assert from_file.data["model"] == str(tiny_single_file)
    assert np.array_equal(pixels(from_folder.data["image_path"]), pixels(from_file.data["image_path"]))
    assert family_defaults(tiny_single_file).width == 64  # read from the configs beside it


def test_single_file_without_configs_says_where_they_go(tmp_path, tiny_single_file):
    import shutil

    lonely = tmp_path / "lonely.safetensors"
    shutil.copy(tiny_single_file, lonely)
    result = TOOL.run({"prompt": "x", "steps": 1}, context(lonely))
    assert not result.ok
    assert str(tmp_path / "lonely") + "/" in result.output and "model_index.json" in result.output


def test_unknown_file_type_is_refused(tmp_path):
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"\0" * 16)
    result = TOOL.run({"prompt": "x"}, context(weights))
    assert not result.ok and ".safetensors" in result.output and "diffusers folder" in result.output
