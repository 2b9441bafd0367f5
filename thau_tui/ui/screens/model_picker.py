"""Choose a model and an adapter: the bundled one, models/*.gguf, trained adapters."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from ...config import Config
from ...paths import runs_dir
from ...engine.models import find_adapters, find_models, resolve_model


class ModelPicker(ModalScreen[tuple[Path, Path | None] | None]):
    """Returns (model, adapter or None), or None on Esc."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="picker-cancel")]
    DEFAULT_CSS = """
    ModelPicker { align: center middle; }
    ModelPicker > Vertical { width: 90; height: auto; max-height: 80%; background: $panel; border: round $primary; padding: 0 1; }
    ModelPicker OptionList { height: auto; max-height: 20; }
    """

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.choices: list[tuple[Path, Path | None]] = []

    def compose(self) -> ComposeResult:
        try:
            current, current_lora = resolve_model(self.config)
        except Exception:
            current, current_lora = None, None
        options = []
        for model in find_models():
            self.choices.append((model, None))
            mark = " (current)" if model == current and current_lora is None else ""
            options.append(Option(f"{model.name}{mark}"))
            for adapter in find_adapters(runs_dir(self.config.train.runs_dir)):
                self.choices.append((model, adapter))
                mark = " (current)" if model == current and adapter == current_lora else ""
                options.append(Option(f"{model.name} + {adapter.parent.name}/{adapter.name}{mark}"))
        with Vertical():
            yield Label("Model and adapter (Enter loads, Esc cancels)")
            yield OptionList(*options)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index])
