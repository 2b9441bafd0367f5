"""GalleryScreen: every image thau has made, newest first, with a preview and re-run keys.

The screen never generates: re-running posts `GalleryScreen.Rerun`, which the
app turns into a generate_image call (so it goes through approval like any call).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual_image.widget import Image

from ...tools.imaging.records import ImageRecord, list_images
from ..visible import visible
from ..widgets.fitting_footer import GALLERY_DROP_ORDER, FittingFooter
from ..widgets.image_pane import NOT_DRAWN, cut, loaded

NO_DETAILS = "(no details: its sidecar could not be read)"
SHOW = Binding("enter", "show", "Show", id="gallery-show", tooltip="Show the image in the chat's image pane")

EMPTY = (
    'No images yet. Ask for one in the chat ("draw a lighthouse at dusk"); '
    "images.model in config.yaml must name a local diffusers model."
)


def _when(created: str) -> str:
    """The sidecar's ISO time (UTC) as the local 'YYYY-MM-DD HH:MM'."""
    try:
        return datetime.fromisoformat(created).astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return created or "—"


def _made_with(record: ImageRecord) -> str:
    """'model on device (dtype) · 1.2 s', without the parts the sidecar leaves out: an empty
    model and device read " on  () · 0.0 s" (images review)."""
    engine = " ".join(
        part
        for part in (
            Path(record.model).name if record.model else "",
            f"on {record.device}" if record.device else "",
            f"({record.dtype})" if record.dtype else "",
        )
        if part
    )
    took = f"{record.duration_s:.1f} s" if record.duration_s > 0 else ""
    return " · ".join(part for part in (engine, took) if part)


class GalleryList(OptionList):
    """The images' list, with Enter shown in the footer: OptionList's own Enter is hidden, and
    as the focused widget's it shadowed the screen's, so the footer never said Enter shows
    (images review)."""

    BINDINGS = [Binding(SHOW.key, "screen.show", SHOW.description, id=SHOW.id, tooltip=SHOW.tooltip)]


class GalleryScreen(Screen[None]):
    """Generated images (from their sidecars) with a preview of the highlighted one."""

    CSS_PATH = "gallery.tcss"

    BINDINGS = [
        SHOW,  # the list's own Enter (GalleryList) is the one pressed; this one lists it in help
        Binding("r", "rerun(True)", "Re-run", id="gallery-rerun", tooltip="Generate again with the same seed"),
        Binding(
            "R",
            "rerun(False)",
            "New seed",
            id="gallery-rerun-new-seed",
            tooltip="Generate again with a new random seed",
        ),
        Binding("escape", "close", "Close", id="gallery-close"),
    ]

    @dataclass
    class Show(Message):
        """Show this image in the chat's image pane."""

        path: Path

    @dataclass
    class Rerun(Message):
        """Generate this prompt again; `seed` None means a new random one."""

        prompt: str
        params: dict[str, Any]
        seed: int | None

        def arguments(self) -> dict[str, Any]:
            """The generate_image arguments for this re-run (empty values left out)."""
            args: dict[str, Any] = {"prompt": self.prompt}
            args.update({k: v for k, v in self.params.items() if v not in (None, "")})
            if self.seed is not None:
                args["seed"] = self.seed
            return args

    def __init__(self, folder: Path | None = None) -> None:
        super().__init__()
        self.folder = folder
        self.records: list[ImageRecord] = []

    def compose(self) -> ComposeResult:
        yield Static("Images", id="gallery-title")
        with Horizontal(id="gallery-body"):
            yield GalleryList(id="gallery-list")
            with Vertical(id="gallery-preview"):
                with Container(id="gallery-frame"):  # sized here, the image keeps its proportions
                    yield Image(None, id="gallery-image")
                yield Static("", id="gallery-caption")
        yield FittingFooter(compact=True, drop_order=GALLERY_DROP_ORDER)  # whole keys, the least useful left out

    def on_mount(self) -> None:
        self.refresh_list()

    def refresh_list(self) -> None:
        """Read the sidecars again and rebuild the list."""
        self.records = list_images(self.folder)
        options = self.query_one("#gallery-list", OptionList)
        options.clear_options()
        for record in self.records:
            first_line = record.prompt[:200].splitlines()[0][:60] if record.prompt else ""
            details = f"seed {record.seed} · {record.width}x{record.height}" if record.has_details else "no details"
            label = Content.assemble(
                (visible(first_line) if first_line else "(no prompt)", "bold"),
                "\n",
                (f"{_when(record.created)} · {details}", "$text-muted"),
            )
            options.add_option(Option(label, id=str(record.path)))
        if self.records:
            options.highlighted = 0
            self._preview(self.records[0])
        else:
            self.query_one("#gallery-caption", Static).update(EMPTY)
        options.focus()

    @property
    def selected(self) -> ImageRecord | None:
        """The highlighted image's record."""
        index = self.query_one("#gallery-list", OptionList).highlighted
        return self.records[index] if index is not None and 0 <= index < len(self.records) else None

    def _preview(self, record: ImageRecord) -> None:
        image = loaded(record.path)
        self.query_one("#gallery-image", Image).image = image
        # The short lines first and the prompt cut: a long one hid them, and a 2 MB one took
        # seconds to lay out (images review).
        if record.has_details:
            lines = [
                f"seed {record.seed} · {record.width}x{record.height} · {record.steps} steps"
                f" · guidance {record.guidance}",
                _made_with(record),
            ]
        else:
            lines = [NO_DETAILS]
        lines += [
            str(record.path),
            NOT_DRAWN if image is None else "",  # not a blank preview without a reason
            cut(record.prompt),
            f"negative: {cut(record.negative_prompt)}" if record.negative_prompt else "",
        ]
        caption = "\n".join(line for line in lines if line)  # the prompt is not markup
        self.query_one("#gallery-caption", Static).update(Content(visible(caption)))

    @on(OptionList.OptionHighlighted, "#gallery-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        record = self.selected
        if record is not None:
            self._preview(record)

    @on(OptionList.OptionSelected, "#gallery-list")
    def _selected(self, _event: OptionList.OptionSelected) -> None:
        self.action_show()

    def action_show(self) -> None:
        record = self.selected
        if record is None:  # Enter in an empty gallery did nothing, unsaid (UX review)
            self.notify("no image to show: images appear here once generate_image makes one", severity="warning")
            return
        # To the app, not the screen: the screen is gone once dismissed.
        self.app.post_message(self.Show(record.path))
        self.dismiss()

    def action_rerun(self, same_seed: bool) -> None:
        record = self.selected
        if record is None:
            self.notify("no image to re-run", severity="warning")
            return
        if not record.has_details:
            self.notify("this image's prompt is not on record: it cannot be re-run", severity="warning")
            return
        self.app.post_message(self.Rerun(record.prompt, record.params(), record.seed if same_seed else None))
        self.dismiss()

    def action_close(self) -> None:
        self.dismiss()
