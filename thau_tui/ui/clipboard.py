"""Copying to the clipboard: the terminal's, and the system's where a tool for it is installed.

Textual copies through the terminal (OSC 52), which many terminals ignore (macOS Terminal,
tmux without set-clipboard, most terminals over plain SSH), and nothing tells thau whether
it worked. So F2 and F3 also hand the text to the system's clipboard tool when one is
installed and its display is there (pbcopy, wl-copy, xclip, xsel), or to tmux's paste
buffer inside tmux, and the notice says which way it went.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..host_programs import host_program

# (argv, the environment variable its display needs, or "")
SYSTEM_TOOLS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("pbcopy",), ""),
    (("wl-copy",), "WAYLAND_DISPLAY"),
    (("xclip", "-selection", "clipboard"), "DISPLAY"),
    (("xsel", "--clipboard", "--input"), "DISPLAY"),
    # Inside tmux: its paste buffer (prefix ] pastes it), and with -w the outer terminal's
    # clipboard too where tmux may set it; tmux before 3.2 has no -w.
    (("tmux", "load-buffer", "-w", "-"), "TMUX"),
    (("tmux", "load-buffer", "-"), "TMUX"),
)
# What the notice calls each tool's copy.
WHERE = {"tmux": "tmux's paste buffer (prefix ] pastes it)"}


def system_copy(text: str, workspace: Path | None = None) -> str | None:
    """Copy `text` with the first clipboard tool that is installed and works here; its
    name, or None when there is none (the terminal's copy is then all there is). Never a
    tool found in the workspace (host_programs): a planted `tmux` there ran outside the sandbox."""
    for argv, display in SYSTEM_TOOLS:
        exe = host_program(argv[0], workspace)
        if exe is None or (display and not os.environ.get(display)):
            continue
        try:
            subprocess.run(
                [exe, *argv[1:]],
                input=text.encode("utf-8"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=2,
                check=True,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        return argv[0]
    return None


def copied_note(what: str, tool: str | None) -> str:
    """The notice after a copy: which way the text went."""
    if tool in WHERE:
        return f"copied {what} into {WHERE[tool]}"
    if tool:
        return f"copied {what} (with {tool})"
    return (
        f"copied {what} through the terminal (OSC 52); a terminal that ignores it, or tmux "
        "without set-clipboard, copies nothing"
    )


class Copying:
    """Mixin for the app: F2 copies the last answer, F3 its last code block, Ctrl+C a selection."""

    def action_interrupt(self) -> None:
        """Ctrl+C: copy what is selected (in the focused text box, else on the screen); with
        nothing selected, stop the answer as Esc does, or say how to quit when none runs."""
        focused = self.focused
        # any text box with a selection (the prompt, the chat search's Input): its own copy
        if getattr(focused, "selected_text", "") and hasattr(focused, "action_copy"):
            focused.action_copy()
        elif self.screen.get_selected_text():
            self.screen.action_copy_text()
        elif getattr(self, "turn_running", False) or getattr(self, "queued", None) is not None:
            self.action_stop()
        else:
            self.notify("nothing to stop or copy: Esc stops an answer, Ctrl+Q quits thau", timeout=4)

    def action_copy_answer(self) -> None:
        answers = self.chat.answers()
        if not answers:
            self.notify("no answer to copy yet", severity="warning")
            return
        self._copy(answers[-1], f"the last answer ({len(answers[-1])} characters){self._so_far()}")

    def _so_far(self) -> str:
        """Said when the answer copied is still being written: F2 mid-stream copied part of it
        without a word (reading review)."""
        return ", as far as it is written" if getattr(self, "turn_running", False) else ""

    def action_copy_code(self) -> None:
        from .widgets.chat import last_code_block

        for back, answer in enumerate(reversed(self.chat.answers())):
            if (code := last_code_block(answer)) is not None:
                lines = code.count("\n") or 1
                # From an answer before the last, said so: the notice said "the last code block"
                # while the last answer had none the chat drew (reading review).
                where = "" if back == 0 else f" of the answer {back + 1} back (the last has none)"
                so_far = self._so_far() if back == 0 else ""
                self._copy(code, f"the last code block{where} ({lines} line{'s' if lines > 1 else ''}){so_far}")
                return
        self.notify("no code block in the answers yet", severity="warning")

    def _copy(self, text: str, what: str) -> None:
        self.copy_to_clipboard(text)  # the terminal's clipboard (OSC 52)
        self.notify(
            copied_note(what, system_copy(text, getattr(getattr(self, "agent", None), "workspace", None))),
            title="clipboard",
            markup=False,
        )
