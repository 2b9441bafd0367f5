"""End to end: the model asks for an image, the user approves on the card, the tiny
pipeline draws it, and the picture appears in the app's image pane."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripted import ScriptedBackend  # noqa: E402
from waiting import wait_until  # noqa: E402

from thau_tui.config import Config, ConfigResult  # noqa: E402
from thau_tui.engine.store import Store  # noqa: E402
from thau_tui.ui.app import ThauApp  # noqa: E402


async def test_generated_image_shows_in_the_pane(tmp_path, tiny_sd):
    args = {"prompt": "un gato espacial", "width": 64, "height": 64, "steps": 2, "seed": 7}
    call = "<tool_call>" + json.dumps({"name": "generate_image", "arguments": args}) + "</tool_call>"
    config = Config()
    config.images.model = str(tiny_sd)
    config.tools.workspace = str(tmp_path)
    app = ThauApp(
        ConfigResult(config, None),
        store=Store(tmp_path / "db"),
        backend=ScriptedBackend([call, "Aquí está tu gato espacial."]),
        watch=False,
    )
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.press(*"Genera una imagen de un gato espacial")
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: app.query("ToolCard") and app.query_one("ToolCard").state == "awaiting",
            what="the image call's card",
        )
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.turn_running, timeout=180, what="the image", step=0.1)
        card = app.query_one("ToolCard")
        assert card.state == "done"
        pane = app.query_one("#images")
        assert pane.display and len(pane.images) == 1
        image = pane.images[0]
        assert image.suffix == ".png" and image.is_file()
        from PIL import Image

        assert Image.open(image).size == (64, 64)
        sidecar = json.loads(image.with_suffix(".json").read_text())
        assert sidecar["seed"] == 7 and sidecar["prompt"] == "un gato espacial"


async def test_gallery_rerun_draws_again_with_the_same_seed(tmp_path, tiny_sd):
    from thau_tui.ui.screens.gallery import GalleryScreen

    config = Config()
    config.images.model = str(tiny_sd)
    config.tools.workspace = str(tmp_path)
    app = ThauApp(ConfigResult(config, None), store=Store(tmp_path / "db"), backend=ScriptedBackend([]), watch=False)
    async with app.run_test(size=(140, 45)) as pilot:
        params = {"width": 64, "height": 64, "steps": 2}
        app.post_message(GalleryScreen.Rerun("un gato espacial", params, 11))
        await wait_until(
            pilot,
            lambda: app.query("ToolCard") and app.query_one("ToolCard").state in ("done", "failed"),
            timeout=120,
            what="the image drawn again",
            step=0.1,
        )
        assert app.query_one("ToolCard").state == "done"
        pane = app.query_one("#images")
        sidecar = json.loads(pane.images[0].with_suffix(".json").read_text())
        assert sidecar["seed"] == 11 and sidecar["width"] == 64
        calls = app.store.tool_calls(app.session.id)
        assert calls[0]["name"] == "generate_image" and calls[0]["status"] == "done"
