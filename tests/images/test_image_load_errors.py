"""How a broken image model is reported: the message the user reads in the card."""

from __future__ import annotations

import shutil
import threading

from thau_tui import paths
from thau_tui.config import Config, ImagesConfig
from thau_tui.tools import ToolContext
from thau_tui.tools.images import TOOLS


def test_a_broken_unet_config_reads_as_one_sentence(tmp_path, tiny_sd):
    """diffusers' message ends in a full stop, and load_pipeline added ". ": "...is not a valid
    JSON file.. Check the folder" (images review)."""
    broken = tmp_path / "broken-config-sd"
    shutil.copytree(tiny_sd, broken)
    (broken / "unet" / "config.json").write_text("{not json", encoding="utf-8")
    context = ToolContext(
        workspace=paths.data_dir(),
        config=Config(images=ImagesConfig(model=str(broken))),
        cancel_event=threading.Event(),
    )
    result = TOOLS[0].run({"prompt": "x", "steps": 1}, context)
    assert not result.ok and "could not load the image model" in result.output
    assert "not a valid JSON file. Check the folder" in result.output, result.output
    assert ".." not in result.output.replace(str(broken), "")
