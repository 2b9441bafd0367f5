"""Slash commands in the input box and the same actions in the command palette."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# command -> (action name, help)
COMMANDS: dict[str, tuple[str, str]] = {
    "new": ("new_chat", "start a new chat"),
    "sessions": ("toggle_sessions", "show or hide past chats"),
    "model": ("choose_model", "choose the model or adapter"),
    "export": ("export", "save this chat as Markdown and JSONL"),
    "approvals": ("approvals", "review remembered approvals"),
    "tools": ("tools", "the tools the model is offered, with their descriptions and risk"),
    "gallery": ("gallery", "generated images"),
    "train": ("training", "the training screen"),
    "help": ("help", "keys and commands"),
}


def is_command(text: str) -> bool:
    """Whether a sent text is a slash command: `/word` first, the word without a slash. A
    message that starts with a path (`/tmp/notes.txt: what is in it?`) was taken for an
    unknown command and could not be sent (helper's UX review); it is a message."""
    if not text.startswith("/"):
        return False
    first = text[1:].split(None, 1)[0] if text[1:].strip() else ""
    return "/" not in first and not text[1:2].isspace()


def command_hint(text: str) -> str:
    """While the prompt holds a slash command being typed, the commands it may become."""
    if not is_command(text) or "\n" in text:
        return ""
    name, _, rest = text[1:].partition(" ")
    matches = [(n, h) for n, (_, h) in COMMANDS.items() if n.startswith(name.lower())]
    if rest and len(matches) != 1:
        return ""
    if not matches:
        return f"no command /{name}: " + " ".join(f"/{n}" for n in COMMANDS)
    if len(matches) == 1:
        n, help_text = matches[0]
        return f"/{n}: {help_text}" + (" (md or jsonl: one format)" if n == "export" else "") + " · Enter runs it"
    return " · ".join(f"/{n} {help_text}" for n, help_text in matches)


class SlashCommands:
    """Mixin for the app: `/name args` typed in the input runs an action; while one is typed,
    the status line lists the commands it may become."""

    def get_system_commands(self, screen):
        """The palette's own commands, with Screenshot saving into thau's data folder: Textual's
        wrote to ~/Downloads, and where that is missing said only "Failed to save screenshot"
        (UX review)."""
        from textual.app import SystemCommand

        for command in super().get_system_commands(screen):  # type: ignore[misc]
            if command.title == "Screenshot":
                command = SystemCommand(
                    command.title, "Save an SVG picture of the screen in thau's data folder", self.screenshot
                )
            yield command

    def screenshot(self) -> str | None:
        """Save the screen as SVG in <data>/screenshots and say where (or why not)."""
        from ..paths import FolderError, data_dir

        try:
            folder = data_dir() / "screenshots"
            folder.mkdir(parents=True, exist_ok=True)
            saved = self.save_screenshot(path=str(folder))
        except (OSError, FolderError) as exc:
            self.notify(f"the screenshot was not saved: {exc}", title="screenshot", severity="error", markup=False)
            return None
        self.notify(f"saved {saved}", title="screenshot", markup=False)
        return saved

    def on_text_area_changed(self, event) -> None:
        if getattr(event.text_area, "id", None) != "input":
            return
        self.keep_unsent_soon(event.text_area.text)
        if self.turn_running:
            return
        hint = command_hint(event.text_area.text)
        if hint or getattr(self, "_command_hint", False):
            self.status.activity = hint
            self._command_hint = bool(hint)

    async def run_slash(self, text: str) -> None:
        name, _, arg = text[1:].strip().partition(" ")
        entry = COMMANDS.get(name.lower())
        started = [n for n in COMMANDS if name and n.startswith(name.lower())]
        if entry is None and len(started) == 1:  # the hint said "Enter runs it" (keyboard review)
            entry = COMMANDS[started[0]]
        if entry is None:
            known = ", ".join(f"/{n}" for n in COMMANDS)
            self.notify(
                f"unknown command /{name}; try {known}. Your text is back in the prompt.",
                severity="error",
                markup=False,
            )
            self.give_back(text)
            return
        action = entry[0]
        if arg.strip() and action != "export":  # `/n remember to buy milk` started a new chat and lost the text
            self.notify(
                f"/{name} takes nothing after it; your text is back in the prompt", severity="error", markup=False
            )
            self.give_back(text)
            return
        if action == "export" and arg.strip():
            if arg.strip() not in ("md", "jsonl"):  # /export pdf wrote both formats, saying nothing
                self.notify("/export takes md or jsonl, or nothing for both", severity="error", markup=False)
                self.give_back(text)
                return
            self._action_export(arg.strip())  # in a thread, as Ctrl+E
            return
        await self.run_action(action)


class ThauCommands(Provider):
    """The palette (Ctrl+P) lists thau's commands."""

    async def discover(self) -> Hits:
        for name, (action, help_text) in COMMANDS.items():
            yield DiscoveryHit(f"/{name}", partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, (action, help_text) in COMMANDS.items():
            score = matcher.match(f"/{name} {help_text}")
            if score > 0:
                yield Hit(score, matcher.highlight(f"/{name}"), partial(self.app.run_action, action), help=help_text)
