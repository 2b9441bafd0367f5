"""ImagePane in a one-widget host app: show, caption, move between images, copy the path."""

from __future__ import annotations

import json

from PIL import Image as PILImage
from textual.app import App, ComposeResult
from textual.widgets import Static

from thau_tui.ui.widgets.image_pane import ImagePane


def make_png(folder, name, colour, prompt, seed):
    path = folder / f"{name}.png"
    PILImage.new("RGB", (32, 24), colour).save(path)
    sidecar = {
        "prompt": prompt,
        "negative_prompt": "",
        "width": 32,
        "height": 24,
        "steps": 2,
        "guidance": 0.0,
        "seed": seed,
        "model": "tiny",
        "device": "cpu",
        "dtype": "float32",
        "duration_s": 0.1,
        "created": "2025-01-01T00:00:00+00:00",
    }
    path.with_suffix(".json").write_text(json.dumps(sidecar), encoding="utf-8")
    return path


class Host(App):
    def compose(self) -> ComposeResult:
        yield ImagePane(id="images")


def same_image(shown, path) -> bool:
    """The pane draws an image it decoded itself: the same pixels as the file's."""
    with PILImage.open(path) as image:
        return shown is not None and shown.tobytes() == image.convert(shown.mode).tobytes()


def caption(app) -> str:
    return str(app.query_one("#image-caption", Static).render())


async def test_add_shows_image_and_caption_then_moves_and_copies(tmp_path):
    red = make_png(tmp_path, "red", (255, 0, 0), "a red square", 7)
    blue = make_png(tmp_path, "blue", (0, 0, 255), "a blue square", 8)
    app = Host()
    messages: dict[int, ImagePane.Shown] = {}  # by identity: the hook sees a message at each hop as it bubbles

    def hook(message):
        if isinstance(message, ImagePane.Shown):
            messages[id(message)] = message

    async with app.run_test(size=(60, 30), message_hook=hook) as pilot:
        pane = app.query_one(ImagePane)
        pane.add(red)
        await pilot.pause()
        view = pane.query_one("#image-view")
        assert same_image(view.image, red)
        assert "a red square" in caption(app) and "seed 7" in caption(app) and "32x24" in caption(app)

        pane.add(blue)
        await pilot.pause()
        assert same_image(view.image, blue) and "a blue square" in caption(app)
        assert "image 2/2" in str(pane.query_one("#image-position", Static).render())

        pane.focus()
        await pilot.press("left_square_bracket")
        assert same_image(view.image, red) and "a red square" in caption(app)
        await pilot.press("left_square_bracket")  # already first: stays
        assert pane.current == red
        await pilot.press("right_square_bracket")
        assert same_image(view.image, blue)

        await pilot.press("c")
        assert app.clipboard == str(blue)
        shown = [m.path for m in messages.values()]
        assert shown == [red, blue, red, blue]


async def test_add_twice_keeps_one_entry_and_missing_file_says_so(tmp_path):
    red = make_png(tmp_path, "red", (255, 0, 0), "a red square", 7)
    app = Host()
    async with app.run_test(size=(60, 30)) as pilot:
        pane = app.query_one(ImagePane)
        pane.add(red)
        pane.add(red)
        assert pane.images == [red]
        gone = tmp_path / "gone.png"
        pane.add(gone)
        await pilot.pause()
        assert pane.query_one("#image-view").image is None
        assert "the file is gone" in caption(app)


class GalleryHost(App):
    def __init__(self, folder):
        super().__init__()
        self.folder = folder
        self.received = []

    def on_mount(self) -> None:
        from thau_tui.ui.screens.gallery import GalleryScreen

        self.push_screen(GalleryScreen(self.folder))

    def on_gallery_screen_show(self, message) -> None:
        self.received.append(message)

    def on_gallery_screen_rerun(self, message) -> None:
        self.received.append(message)


async def test_gallery_lists_newest_first_previews_and_reruns(tmp_path):
    import os

    from thau_tui.ui.screens.gallery import GalleryScreen

    old = make_png(tmp_path, "old", (255, 0, 0), "an old red square", 7)
    new = make_png(tmp_path, "new", (0, 0, 255), "a new blue square", 8)
    for path, created in ((old, "2025-01-01T00:00:00+00:00"), (new, "2025-02-01T00:00:00+00:00")):
        data = json.loads(path.with_suffix(".json").read_text())
        data["created"] = created
        data["negative_prompt"] = "blur" if path == new else ""
        path.with_suffix(".json").write_text(json.dumps(data))
    app = GalleryHost(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, GalleryScreen)
        assert [r.prompt for r in screen.records] == ["a new blue square", "an old red square"]
        assert same_image(screen.query_one("#gallery-image").image, new)
        assert "a new blue square" in str(screen.query_one("#gallery-caption").render())

        await pilot.press("down")
        assert same_image(screen.query_one("#gallery-image").image, old)
        await pilot.press("up")
        await pilot.press("r")
        await pilot.pause()
        rerun = app.received[-1]
        assert isinstance(rerun, GalleryScreen.Rerun) and rerun.seed == 8
        assert rerun.arguments() == {
            "prompt": "a new blue square",
            "negative_prompt": "blur",
            "width": 32,
            "height": 24,
            "steps": 2,
            "guidance": 0.0,
            "seed": 8,
        }
        assert not isinstance(app.screen, GalleryScreen)

        app.push_screen(GalleryScreen(tmp_path))
        await pilot.pause()
        await pilot.press("down", "R")
        await pilot.pause()
        rerun = app.received[-1]
        assert rerun.prompt == "an old red square" and rerun.seed is None and "seed" not in rerun.arguments()

        app.push_screen(GalleryScreen(tmp_path))
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.received[-1], GalleryScreen.Show) and app.received[-1].path == new

        empty = tmp_path / "empty"
        os.mkdir(empty)
        app.push_screen(GalleryScreen(empty))
        await pilot.pause()
        assert "No images yet" in str(app.screen.query_one("#gallery-caption").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, GalleryScreen)


def png_claiming(path, width, height):
    """A few hundred bytes whose header says width x height (a decompression bomb's header)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)))
    return path


async def test_a_hostile_image_is_described_not_drawn_and_the_app_keeps_running(tmp_path):
    """An image an MCP tool returned (saved without approval): a header claiming 20000x20000
    raised PIL's DecompressionBombError out of the pane, and a prompt with '[/b]' in its PNG
    text raised a MarkupError; either ended the app."""
    from PIL.PngImagePlugin import PngInfo

    bomb = png_claiming(tmp_path / "bomb.png", 20000, 20000)
    info = PngInfo()
    info.add_text("prompt", "a cat [/b] \x1b]52;c;eA==\x07")
    marked = tmp_path / "marked.png"
    PILImage.new("RGB", (8, 8)).save(marked, pnginfo=info)
    app = Host()
    async with app.run_test() as pilot:
        pane = app.query_one(ImagePane)
        pane.add(bomb)
        await pilot.pause()
        assert "cannot be read" in caption(app) and "not drawn" in caption(app)
        assert pane.query_one("#image-view").image is None
        pane.add(marked)
        await pilot.pause()
        assert "a cat [/b] ␛]52;c;eA==␇" in caption(app)
        assert app.is_running


async def test_a_hand_edited_sidecar_lists_its_image_without_details(tmp_path):
    """ "model": null or "created": null in a sidecar raised TypeError in the gallery's
    preview and sort; such an image is listed without details (images review), the others
    as they are."""
    from thau_tui.tools.imaging.records import list_images

    good = make_png(tmp_path, "good", (0, 255, 0), "a green square", 1)
    odd = []
    for name, field, value in (("nulled", "model", None), ("dated", "created", None), ("sized", "width", "big")):
        path = make_png(tmp_path, name, (9, 9, 9), "odd", 2)
        sidecar = json.loads(path.with_suffix(".json").read_text())
        sidecar[field] = value
        path.with_suffix(".json").write_text(json.dumps(sidecar))
        odd.append(path)
    listed = {record.path: record for record in list_images(tmp_path)}
    assert set(listed) == {good, *odd}
    assert listed[good].prompt == "a green square"
    assert all(listed[path].prompt == "" and not listed[path].has_details for path in odd)


async def test_an_image_that_is_not_what_its_name_says_or_is_cut_short_is_not_drawn(tmp_path, monkeypatch):
    """An MCP tool's image is saved without approval under the name its MIME type gives.
    PostScript bytes named .png were decoded by Pillow's EPS plugin, which runs Ghostscript
    (a logging stand-in here); a PNG cut in half passed the header check and its decoding
    error, raised in textual-image's render, ended the app. The pane decodes only PNG, JPEG,
    GIF and WebP now, itself, before drawing."""
    import io
    import os

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ran = tmp_path / "gs-ran"
    (bin_dir / "gs").write_text(f'#!/bin/sh\necho "$@" >> {ran}\nexit 1\n')
    (bin_dir / "gs").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    eps = tmp_path / "mcp-eps.png"
    eps.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\n%%EndComments\nshowpage\n%%EOF\n")
    whole = io.BytesIO()
    PILImage.effect_noise((256, 256), 50).convert("RGB").save(whole, "PNG")
    cut = tmp_path / "mcp-cut.png"
    cut.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    app = Host()
    async with app.run_test(size=(80, 30)) as pilot:
        pane = app.query_one(ImagePane)
        for path in (eps, cut):
            pane.add(path)
            await pilot.pause(0.5)
            assert pane.query_one("#image-view").image is None, path.name
            assert "not drawn" in caption(app)
        assert app.is_running
    assert not ran.exists()  # before: Ghostscript was run on the file


async def test_the_pane_leaves_the_chat_room_on_a_narrow_terminal_and_f5_hides_it(tmp_path):
    """At 80 columns the 44-column pane and the chats panel left the chat 4 columns, and no
    key closed the pane (narrow-terminal review)."""
    from scripted import ScriptedBackend
    from test_app import make_app

    from thau_tui.ui.widgets.fitting_footer import FittingFooter

    picture = make_png(tmp_path, "red", "red", "a red square", 1)
    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(80, 24)) as pilot:
        pane, panel = app.query_one("#images"), app.query_one("#sessions")
        shown = {a.binding.action for a in app.screen.active_bindings.values() if a.enabled}
        assert "toggle_images" not in shown  # no image yet: no key for the pane
        await pilot.press("f5")  # yet F5 says why nothing opens: it did nothing, unsaid (UX review)
        await pilot.pause()
        assert any("No image in this chat yet" in str(n.message) for n in app._notifications), "F5 silent"
        assert not pane.display
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert panel.display
        app.show_image(str(picture))
        await pilot.pause(0.2)
        assert pane.display and not panel.display  # the chats panel made room
        assert pane.size.width <= 32 and app.chat.size.width >= 40, (pane.size.width, app.chat.size.width)
        assert "toggle_images" not in app.query_one(FittingFooter).hidden_actions()
        notes = len(app._notifications)
        await pilot.press("f5")
        await pilot.pause()
        assert not pane.display and app.chat.size.width >= 70
        assert len(app._notifications) == notes  # with an image, F5 toggles and says nothing
        await pilot.press("f5")
        await pilot.pause()
        assert pane.display
        await pilot.press("ctrl+b")  # the chats panel opened on a narrow terminal: the pane goes
        await pilot.pause()
        assert panel.display and not pane.display


def shown_text(widget) -> list[str]:
    """The lines the widget draws in its region: what is in sight, not its whole content."""
    from textual.geometry import Region

    return [strip.text.rstrip() for strip in widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))]


def proportions(widget) -> float:
    """Width over height of the widget's region in pixels (textual-image's cell size)."""
    from textual_image._terminal import get_cell_size

    cell = get_cell_size()
    return (widget.region.width * cell.width) / (widget.region.height * cell.height)


def sized_png(folder, name, width, height):
    path = folder / f"{name}.png"
    PILImage.new("RGB", (width, height), "orange").save(path)
    return path


async def test_the_pane_keeps_an_image_s_proportions(tmp_path):
    """#image-view at 100% x 1fr stretched a 400x100 picture to fill the pane's portrait box
    (images review)."""
    wide, tall = sized_png(tmp_path, "wide", 400, 100), sized_png(tmp_path, "tall", 100, 400)
    app = Host()
    async with app.run_test(size=(60, 30)) as pilot:
        pane = app.query_one(ImagePane)
        view = pane.query_one("#image-view")
        pane.add(wide)
        await pilot.pause()
        assert 3.5 <= proportions(view) <= 4.5, view.region
        pane.add(tall)
        await pilot.pause()
        assert 0.2 <= proportions(view) <= 0.3, view.region
        assert view.region.height > 10  # drawn as large as the pane allows, not shrunk to nothing


async def test_a_long_prompt_leaves_the_seed_line_in_sight_and_is_cut(tmp_path):
    """The caption shows six lines: a long prompt pushed "seed · size · steps" out of them
    (images review)."""
    path = make_png(tmp_path, "long", (1, 2, 3), "a lighthouse at dusk " * 5000, 7)
    app = Host()
    async with app.run_test(size=(60, 30)) as pilot:
        pane = app.query_one(ImagePane)
        pane.add(path)
        await pilot.pause()
        in_sight = shown_text(app.query_one("#image-caption"))
        assert in_sight[0] == "seed 7 · 32x24 · 2 steps", in_sight
        assert len(caption(app)) < 400 and caption(app).endswith("…")


async def test_a_new_chat_starts_without_the_last_chats_images(tmp_path):
    """After Ctrl+N the pane said "image 2/2" and [ showed the chat before's picture (images review)."""
    from PIL import Image as PILImage
    from scripted import ScriptedBackend

    from thau_tui.config import Config, ConfigResult
    from thau_tui.engine.store import Store
    from thau_tui.ui.app import ThauApp

    first, second = tmp_path / "first.png", tmp_path / "second.png"
    PILImage.new("RGB", (32, 32), "red").save(first)
    PILImage.new("RGB", (32, 32), "blue").save(second)
    config = Config()
    config.tools.workspace = str(tmp_path)
    app = ThauApp(
        ConfigResult(config, None), store=Store(tmp_path / "s.sqlite3"), backend=ScriptedBackend([]), watch=False
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.show_image(str(first))
        await pilot.pause()
        pane = app.query_one("#images")
        assert pane.display and pane.images == [first]
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert pane.images == [] and not pane.display
        app.show_image(str(second))
        await pilot.pause()
        assert pane.images == [second] and pane.display
        assert "image 1/1" in str(pane.query_one("#image-position").render())


async def test_enter_in_an_empty_gallery_says_there_is_no_image(tmp_path):
    """Enter in an empty gallery did nothing, unsaid (UX review); the screen stays open."""
    from thau_tui.ui.screens.gallery import GalleryScreen

    app = GalleryHost(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, GalleryScreen) and app.received == []
        assert any("no image to show" in str(n.message) for n in app._notifications)


async def test_f5_remapped_in_ui_keys_still_says_there_is_no_image(tmp_path):
    """With ui.keys moving toggle-images to F6, F5 and F6 both said nothing before any image:
    the keymap moved only one of F5's two bindings (diff review). Both move now."""
    from scripted import ScriptedBackend
    from test_app import make_app

    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(100, 30)) as pilot:
        app.set_keymap({"toggle-images": "f6"})
        await pilot.pause()
        await pilot.press("f6")
        await pilot.pause()
        assert any("No image in this chat yet" in str(n.message) for n in app._notifications), "F6 silent"
