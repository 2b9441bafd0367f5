"""The gallery screen in a host app: proportions, footer keys, captions of odd images."""

from __future__ import annotations

import io
import json
import os

from PIL import Image as PILImage
from test_image_pane import GalleryHost, make_png, png_claiming, proportions, shown_text, sized_png

from thau_tui.ui.screens.gallery import GalleryScreen

NOT_DRAWN = "(not drawn: unreadable, or over 40 million pixels)"  # the pane's words


def sidecar_for(png, **fields):
    """A sidecar with only `fields`: what a hand-written or older one may hold."""
    png.with_suffix(".json").write_text(json.dumps(fields), encoding="utf-8")
    return png


async def open_gallery(app, pilot):
    await pilot.pause()
    assert isinstance(app.screen, GalleryScreen)
    return app.screen


def preview_caption(screen) -> str:
    return str(screen.query_one("#gallery-caption").render())


async def test_the_gallery_keeps_an_image_s_proportions(tmp_path):
    """#gallery-image at 100% x 1fr stretched a 400x100 picture to fill the preview (images review)."""
    sidecar_for(sized_png(tmp_path, "wide", 400, 100), prompt="wide", created="2025-02-01T00:00:00+00:00")
    sidecar_for(sized_png(tmp_path, "tall", 100, 400), prompt="tall", created="2025-01-01T00:00:00+00:00")
    app = GalleryHost(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_gallery(app, pilot)
        image = screen.query_one("#gallery-image")
        assert 3.5 <= proportions(image) <= 4.5, image.region
        await pilot.press("down")
        await pilot.pause()
        assert 0.2 <= proportions(image) <= 0.3, image.region


async def test_the_footer_shows_enter_and_enter_shows_the_image(tmp_path):
    """The focused list's own hidden Enter shadowed the screen's, so the footer never said
    Enter shows the image, though it did (images review)."""
    path = make_png(tmp_path, "red", (255, 0, 0), "a red square", 7)
    app = GalleryHost(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_gallery(app, pilot)
        keys = {key.key: key.description for key in screen.query("FooterKey") if key.display}
        assert keys.get("enter") == "Show", keys
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.received[-1], GalleryScreen.Show) and app.received[-1].path == path
        assert not isinstance(app.screen, GalleryScreen)


async def test_a_long_prompt_is_cut_and_the_details_stay_in_sight(tmp_path):
    """A 2 MB prompt took the gallery 3.6 s to open, and any long one hid the lines after it
    (images review). Cut to what is shown, the details first."""
    make_png(tmp_path, "long", (1, 2, 3), "a lighthouse at dusk " * 40_000, 7)  # 840 kB: still read
    app = GalleryHost(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_gallery(app, pilot)
        text = preview_caption(screen)
        assert len(text) < 1000 and "…" in text
        in_sight = shown_text(screen.query_one("#gallery-caption"))
        assert in_sight[0].startswith("seed 7 · 32x24 · 2 steps"), in_sight


async def test_an_unreadable_image_says_why_it_is_not_drawn(tmp_path):
    """The preview went blank without a reason for a PNG claiming 100000x100000, one cut short,
    and text named .png (images review); the pane's note says why."""
    whole = io.BytesIO()
    PILImage.effect_noise((64, 64), 50).convert("RGB").save(whole, "PNG")
    bomb = png_claiming(tmp_path / "bomb.png", 100_000, 100_000)
    (tmp_path / "cut.png").write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    (tmp_path / "text.png").write_text("not a picture at all\n", encoding="utf-8")
    for path in (bomb, tmp_path / "cut.png", tmp_path / "text.png"):
        sidecar_for(path, prompt=path.stem, seed=1, width=64, height=64, steps=2)
    app = GalleryHost(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_gallery(app, pilot)
        seen = set()
        for _ in screen.records:
            assert screen.query_one("#gallery-image").image is None
            assert NOT_DRAWN in preview_caption(screen), preview_caption(screen)
            seen.add(screen.selected.path.stem)
            await pilot.press("down")
            await pilot.pause()
        assert seen == {"bomb", "cut", "text"}


async def test_empty_fields_are_left_out_of_the_caption(tmp_path):
    """A sidecar without model or device read " on  () · 0.0 s" (images review)."""
    sidecar_for(make_png(tmp_path, "bare", (0, 9, 0), "x", 1), prompt="a bare one", seed=4)
    app = GalleryHost(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_gallery(app, pilot)
        text = preview_caption(screen)
        assert "a bare one" in text and "seed 4" in text, text
        assert " on " not in text and "()" not in text and "0.0 s" not in text, text


async def test_an_image_whose_sidecar_is_broken_is_listed_but_not_rerun(tmp_path):
    """A broken sidecar leaves its image in the gallery without details (images review); with
    no prompt on record, r says so instead of re-running nothing."""
    make_png(tmp_path, "good", (0, 9, 0), "a good one", 1)
    broken = make_png(tmp_path, "broken", (9, 0, 0), "x", 2)
    broken.with_suffix(".json").write_text("{half a sidecar", encoding="utf-8")
    os.utime(broken, (1_600_000_000, 1_600_000_000))  # older than the good one's "created"
    app = GalleryHost(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_gallery(app, pilot)
        assert [record.path.stem for record in screen.records] == ["good", "broken"]
        await pilot.press("down")
        await pilot.pause()
        assert "(no details" in preview_caption(screen) and str(broken) in preview_caption(screen)
        await pilot.press("r")
        await pilot.pause()
        assert app.received == [] and isinstance(app.screen, GalleryScreen)  # nothing re-run
