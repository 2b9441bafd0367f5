"""The recipe picker the training screen opens with r: the configured recipe, the user's
(the config folder's recipes/) and the shipped ones, each with its size or why it cannot be used."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ...train.recipe import RecipeChoice, load_recipe
from ..visible import plain
from .model_picker import EndsStay


class RecipePicker(ModalScreen[Path | None]):
    """Choose a recipe: the configured one, the user's (config folder's recipes/), the shipped ones."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="recipe-picker.cancel")]

    def __init__(self, choices: list[RecipeChoice], current: Path | None) -> None:
        super().__init__()
        self.choices = choices
        self.current = current.resolve() if current else None

    def compose(self) -> ComposeResult:
        with Vertical(id="recipe-picker"):
            yield Static("Choose a recipe (Enter picks, Esc keeps the current one)", id="recipe-picker-title")
            options = [Option(plain(self._label(choice)), id=str(i)) for i, choice in enumerate(self.choices)]
            yield EndsStay(*options, id="recipe-list")
        yield Footer()  # this modal's keys: the training screen's under it (s Start...) do nothing here

    @staticmethod
    def _label(choice: RecipeChoice) -> str:
        try:
            recipe = load_recipe(choice.path)
            method = ", full fine-tuning" if recipe.method == "full" else ""
            about = f"{recipe.max_steps or '?'} steps{method}, eval {recipe.eval_examples}"
        except (ValueError, OSError) as exc:  # a broken or unreadable recipe of the user's
            # the reason, not the file's path again: cut at 60, it read "is not val" (training review)
            said = (str(exc).splitlines() or [""])[0].replace(f"{choice.path}: ", "").replace(str(choice.path), "it")
            about = f"cannot be used: {said[:90] + ('…' if len(said) > 90 else '')}"
        where = "shipped" if choice.shipped else str(choice.path)
        return f"{choice.name}  ({about}; {where})"

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        current = next((i for i, c in enumerate(self.choices) if c.path == self.current), 0)
        options.highlighted = current
        options.focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option.id)].path)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
