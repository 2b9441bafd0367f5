"""ImagePane: the images made in this chat, one at a time, with prompt, seed and size.

textual-image picks Kitty graphics, Sixel or Unicode half-blocks for the
terminal. It asks the terminal what it supports when first imported, which is
only possible before Textual takes over the screen: import this module before
`App.run()`.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image as PILImage
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static
from textual_image.widget import Image

from ...host_programs import host_program
from ...tools.imaging.records import ImageRecord
from ..visible import visible

# Beyond this many pixels an image is not drawn: a PNG's header can claim 20000x20000 in a
# few bytes (an MCP tool's image, saved without approval), and decoding it takes gigabytes.
MAX_SHOWN_PIXELS = 40_000_000
# The formats the pane decodes: the ones generate_image writes and an MCP image may be
# (tools/mcp_tools.py saves png, jpeg, gif and webp). Pillow opens many more by their
# bytes, whatever the file is called: an EPS file named .png ran Ghostscript.
SHOWN_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
# Said under an image that is there but not drawn; the gallery says it too (images review).
NOT_DRAWN = f"(not drawn: unreadable, or over {MAX_SHOWN_PIXELS // 1_000_000} million pixels)"
# Of a prompt, the caption shows this much: a 2 MB prompt took the gallery 3.6 s to lay out,
# and a long one pushed the seed and size out of the pane's six lines (images review).
SHOWN_PROMPT_CHARS = 300


def cut(text: str, limit: int = SHOWN_PROMPT_CHARS) -> str:
    """`text` up to `limit` characters, ending in "…" where it was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def describe(path: Path) -> str:
    """Seed and size, then the prompt (cut) of an image: from its sidecar, else its PNG text,
    else its name. The short line comes first, so a long prompt cannot push it out of sight.
    Never raises: a broken or hostile file says it cannot be read."""
    sidecar = path.with_suffix(".json")
    try:
        record = ImageRecord.from_sidecar(sidecar)  # reads only a regular file, and a bounded one
        return f"seed {record.seed} · {record.width}x{record.height} · {record.steps} steps\n{cut(record.prompt)}"
    except ValueError:
        pass
    try:
        with PILImage.open(path, formats=SHOWN_FORMATS) as image:
            text = getattr(image, "text", {}) or {}
            size = f"{image.width}x{image.height}"
        if "prompt" in text:
            return f"seed {cut(str(text.get('seed', '?')), 24)} · {size}\n{cut(text['prompt'])}"
        return f"{path.name}\n{size}"
    except Exception as exc:  # OSError, PIL's DecompressionBombError, a broken chunk...
        return f"{path.name}\n(cannot be read: {type(exc).__name__})"


def loaded(path: Path) -> PILImage.Image | None:
    """The image decoded, for the pane to draw, or None: not one of SHOWN_FORMATS, over
    MAX_SHOWN_PIXELS (checked from the header, before decoding), or broken. Decoded here,
    where a failure is caught: a PNG cut short passed a header check and then raised in
    textual-image's render, which ended the app."""
    try:
        with PILImage.open(path, formats=SHOWN_FORMATS) as image:
            if image.width * image.height > MAX_SHOWN_PIXELS:
                return None
            image.load()
            return image.copy()
    except Exception:  # OSError (truncated), PIL's DecompressionBombError, UnidentifiedImageError...
        return None


def viewer_command(workspace: Path | None = None) -> list[str] | None:
    """The system image viewer launcher: `open` on macOS, `xdg-open` elsewhere; None if absent
    (or only in the workspace: host_programs)."""
    name = "open" if sys.platform == "darwin" else "xdg-open"
    found = host_program(name, workspace)
    return [found] if found else None


class ImagePane(Widget, can_focus=True):
    """Shows one image of this session's list, its caption below; `[`/`]` move through them."""

    DEFAULT_CSS = """
    ImagePane { layout: vertical; height: 1fr; padding: 0 1; }
    ImagePane #image-frame { height: 1fr; align: center middle; }
    ImagePane #image-view { width: auto; height: auto; }
    ImagePane #image-caption { height: auto; max-height: 6; color: $text-muted; }
    ImagePane #image-position { height: 1; color: $text-muted; text-style: italic; }
    ImagePane:focus-within #image-position { color: $text; }
    """

    BINDINGS = [
        Binding("o", "open_image", "Open", id="image-open", tooltip="Open the image in the system viewer"),
        Binding("c", "copy_path", "Copy path", id="image-copy-path", tooltip="Copy the image's file path"),
        Binding("left_square_bracket", "previous_image", "Prev", id="image-previous", tooltip="Previous image"),
        Binding("right_square_bracket", "next_image", "Next", id="image-next", tooltip="Next image"),
    ]

    index: reactive[int] = reactive(-1, init=False)

    @dataclass
    class Shown(Message):
        """An image is now on display."""

        pane: "ImagePane"
        path: Path

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.images: list[Path] = []

    def compose(self) -> ComposeResult:
        yield Static("no images yet", id="image-position")
        # Sized by its frame, the image keeps its proportions: 100% x 1fr stretched a 400x100
        # picture to fill a portrait box (images review).
        with Container(id="image-frame"):
            yield Image(None, id="image-view")
        yield Static("", id="image-caption")

    @property
    def current(self) -> Path | None:
        """The image on display, if any."""
        return self.images[self.index] if 0 <= self.index < len(self.images) else None

    def add(self, path: str | Path) -> None:
        """Append an image to this session's list (once) and show it."""
        path = Path(path)
        if path not in self.images:
            self.images.append(path)
        self.show(path)

    def show(self, path: str | Path) -> None:
        """Show an image; one not in the list yet is added to it."""
        path = Path(path)
        if path not in self.images:
            self.images.append(path)
        index = self.images.index(path)
        if index == self.index:
            self._display(index)  # same slot: the watcher would not fire, the list may have grown
        else:
            self.index = index

    def watch_index(self, index: int) -> None:
        self._display(index)

    def _display(self, index: int) -> None:
        path = self.current
        if path is None:
            return
        view = self.query_one("#image-view", Image)
        view.image = loaded(path) if path.is_file() else None
        caption = describe(path) if path.is_file() else f"{path.name}\n(the file is gone)"
        if path.is_file() and view.image is None:
            first, _, rest = caption.partition("\n")
            caption = f"{first}\n{NOT_DRAWN}\n{rest}"  # above the prompt, which may fill the caption
        self.query_one("#image-caption", Static).update(Content(visible(caption)))  # the prompt is not markup
        self.query_one("#image-position", Static).update(f"image {index + 1}/{len(self.images)}")
        self.post_message(self.Shown(self, path))

    def action_previous_image(self) -> None:
        if self.index > 0:
            self.index -= 1

    def action_next_image(self) -> None:
        if self.index < len(self.images) - 1:
            self.index += 1

    def action_copy_path(self) -> None:
        path = self.current
        if path is None:
            self.notify("no image to copy the path of", severity="warning")
            return
        self.app.copy_to_clipboard(str(path))
        self.notify(str(path), title="path copied", markup=False)

    def action_open_image(self) -> None:
        path = self.current
        if path is None:
            self.notify("no image to open", severity="warning")
            return
        command = viewer_command(getattr(getattr(self.app, "agent", None), "workspace", None))
        if command is None:
            tool = "open" if sys.platform == "darwin" else "xdg-open (package xdg-utils)"
            self.notify(
                f"cannot open images here: {tool} is not installed. The file is {path}",
                severity="error",
                timeout=10,
                markup=False,
            )
            return
        try:
            subprocess.Popen(
                [*command, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
            )
        except OSError as exc:
            self.notify(f"could not start {command[0]}: {exc}", severity="error", markup=False)
