"""Choose a model and an adapter: the bundled one, models/*.gguf, trained adapters; or,
with `model.backend: openai`, one of the server's models (GET /v1/models)."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList
from textual.widgets.option_list import Option

from ...addresses import shown_url
from ...config import Config
from ...engine.gguf_header import architecture
from ...engine.models import find_adapters, find_models, resolve_model
from ...paths import runs_dir
from ..visible import plain


class EndsStay(OptionList):
    """An option list whose highlight stops at its ends: Down on the last row went to the
    first, the bare model, and Enter then dropped the adapter unseen (UX review)."""

    def _at_end(self, step: int) -> bool:
        at = self.highlighted
        if at is None:
            return False
        rest = self.options[at + 1 :] if step > 0 else self.options[:at]
        return not any(not option.disabled for option in rest)

    def action_cursor_down(self) -> None:
        if not self._at_end(1):
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if not self._at_end(-1):
            super().action_cursor_up()


class ServerModel(str):
    """A model name the server offers (what the picker returns for a server backend)."""


def _size(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError:
        return ""
    if size < 2**20:
        return f"  ({max(1, round(size / 2**10))} KB)"  # not "0 MB"
    return f"  ({size / 2**30:.1f} GB)" if size >= 2**30 else f"  ({size / 2**20:.0f} MB)"


def _same_pair(model: Path | None, lora: Path | None):
    """Whether a listed (model, adapter) is this one, the same files by any path to them."""

    def key(path: Path | None) -> Path | None:
        return path.resolve() if path is not None else None

    wanted = (key(model), key(lora))
    return lambda listed_model, listed_lora: (key(listed_model), key(listed_lora)) == wanted


class ModelPicker(ModalScreen[tuple[Path, Path | None] | ServerModel | None]):
    """Returns (model, adapter or None), a ServerModel, or None on Esc."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="picker-cancel")]
    DEFAULT_CSS = """
    ModelPicker { align: center middle; }
    ModelPicker > Vertical {
        width: 90; max-width: 100%; height: auto; max-height: 80%;
        background: $panel; border: round $primary; padding: 0 1;
    }
    ModelPicker OptionList { height: auto; max-height: 20; }
    """

    def __init__(self, config: Config, server=None) -> None:
        super().__init__()
        self.config = config
        self.server = server  # the connected server backend, if any (else one is connected to ask)
        self.choices: list[tuple[Path, Path | None] | ServerModel] = []
        # The model and adapter loaded now (a local backend), which "(current)" marks: after a
        # switch the config still says `lora_path: auto`, so it cannot tell.
        path, lora = getattr(server, "path", None), getattr(server, "lora_path", None)
        self.loaded: tuple[Path | None, Path | None] = (
            Path(path) if isinstance(path, (str, Path)) else None,
            Path(lora) if isinstance(lora, (str, Path)) else None,
        )

    @property
    def server_mode(self) -> bool:
        return self.config.model.backend == "openai"

    def compose(self) -> ComposeResult:
        if self.server_mode:
            with Vertical():
                yield Label(f"Models on {shown_url(self.config.model.base_url)} (Enter switches, Esc cancels)")
                yield Label("asking the server…", id="picker-status")
                yield EndsStay(id="picker-models")
            yield Footer()  # this modal's keys, not the chat's "esc Stop" under it (UX review)
            return
        current, current_lora = self.loaded
        if current is None:  # nothing loaded yet: what the config asks for
            try:
                current, current_lora = resolve_model(self.config)
            except Exception:
                current, current_lora = None, None
        options = []
        loaded_at: int | None = None
        same = _same_pair(current, current_lora)
        adapters = [(a, architecture(a)) for a in find_adapters(runs_dir(self.config.train.runs_dir))]
        for model in find_models():
            self.choices.append((model, None))
            mark = " (current)" if same(model, None) else ""
            loaded_at = len(options) if mark else loaded_at
            options.append(Option(plain(f"{model.name}{_size(model)}{mark}")))  # file names are not markup
            kind = architecture(model)
            # An adapter made for another architecture cannot load on this model: 36 models
            # listed 72 rows, Gemma with SmolLM2's adapter among them (config review).
            for adapter in (a for a, its in adapters if None in (kind, its) or its == kind):
                self.choices.append((model, adapter))
                mark = " (current)" if same(model, adapter) else ""
                loaded_at = len(options) if mark else loaded_at
                options.append(Option(plain(f"{model.name} + {adapter.parent.name}/{adapter.name}{mark}")))
        if loaded_at is None and current is not None:  # loaded from elsewhere (a run's u, another
            # runs folder): listed first, or the highlight sat on the bare model (keyboard review)
            self.choices.insert(0, (current, current_lora))
            with_lora = f" + {current_lora.parent.name}/{current_lora.name}" if current_lora else ""
            options.insert(0, Option(plain(f"{current.name}{with_lora} (current)")))
            loaded_at = 0
        with Vertical():
            yield Label("Model and adapter (Enter loads, Esc cancels)")
            listing = EndsStay(*options)
            # The highlight starts on what is loaded: it started on the first row, the bare
            # model, and Enter took the tool adapter away unseen (helper's UX review).
            listing.highlighted = loaded_at
            yield listing
        yield Footer()  # this modal's keys, not the chat's "esc Stop" under it (UX review)

    def on_mount(self) -> None:
        if self.server_mode:
            self.run_worker(self._ask_server, thread=True, exclusive=True, group="picker")

    def _ask_server(self) -> None:
        """GET /v1/models, off the event loop (a dead server must not freeze the screen)."""
        try:
            server = self.server
            if server is None or not hasattr(server, "list_models"):
                from ...engine.models import load_backend

                server = load_backend(self.config)
            names = server.list_models()
            current = getattr(server, "model_id", None)
        except Exception as exc:  # ServerError says what is wrong and what to do
            self.app.call_from_thread(self._show_server, [], None, str(exc))
            return
        self.app.call_from_thread(self._show_server, names, current, None)

    def _show_server(self, names: list[str], current: str | None, error: str | None) -> None:
        status = self.query_one("#picker-status", Label)
        if error is not None:
            status.update(plain(f"cannot list the server's models: {error}"))  # server text: no markup, no escapes
            return
        status.update(f"{len(names)} model(s)" if names else "the server lists no models")
        listing = self.query_one("#picker-models", OptionList)
        for name in names:
            self.choices.append(ServerModel(name))
            listing.add_option(Option(plain(name + (" (current)" if name == current else ""))))  # server text
        if names:  # Enter works at once: the current model (or the first) is highlighted
            listing.highlighted = names.index(current) if current in names else 0
        listing.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index])
