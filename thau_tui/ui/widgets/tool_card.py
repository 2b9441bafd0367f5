"""ToolCard: one tool call, inline in the chat, from proposal to result.

The engine waits on an asyncio.Future for the user's Decision; this card
resolves it (toad's pattern: the future travels in the ApprovalRequested event,
the widget that shows the request answers it). Output streams in through
`append_output` into a `KeptOutput` (its head and tail, capped, like the
model's copy), and what is new is flushed to a capped Log a few times a second,
so a chatty command never costs layout work, or memory, per chunk.
"""

from __future__ import annotations

import asyncio
import json
from functools import cached_property
from typing import Callable

from textual import events, on
from textual.actions import parse as parse_action
from textual.app import ComposeResult
from textual.binding import BindingsMap
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Log, ProgressBar, Static, TextArea

from ...engine.approvals import describe_session_scope
from ...engine.events import Decision
from ...tools.base import ToolCall, ToolResult
from ...visible_text import editable_json
from ..compat import keymap, node_bindings
from ..visible import has_controls, visible
from .bounded_log import BoundedLog
from .kept_output import CARD_OUTPUT_LIMIT, KeptOutput, not_shown
from .key_hold import KeyHold
from .log_lines import LogLines
from .tool_card_text import (
    ARGUMENT_WIDTH,
    CARD_BINDINGS,
    PREVIEW_WIDTH,
    STATE_LABELS,
    answer_hints,
    keys_line,
    once_too_reason,
    remembers,
    render_arguments,
    result_lines,
)


class Arguments(Static):
    """A call's arguments, drawn again when the card's width changes: the rows a line wraps to,
    and so how much of a long value fits its share of the card, depend on it (eco review,
    2026-12-07 night)."""

    def __init__(self, arguments: object, **kwargs: str | None) -> None:
        self.arguments, self.edited, self._width = arguments, False, ARGUMENT_WIDTH
        super().__init__(self._drawn(), **kwargs)  # type: ignore[arg-type]

    def _drawn(self) -> Content:
        shown = render_arguments(self.arguments, self._width)
        return shown + Content.styled("\n(edited)", "italic $text-muted") if self.edited else shown

    def show(self, arguments: object, *, edited: bool = False) -> None:
        self.arguments, self.edited = arguments, edited
        self.update(self._drawn())

    def on_resize(self, event: events.Resize) -> None:
        # Narrower: drawn again, or its lines take more rows than counted. Wider by a scrollbar's
        # width only: kept, or the card, a scrollbar coming and going with it, is drawn forever.
        width = self.content_size.width
        if width and (width < self._width or width > self._width + 2):
            self._width = width
            self.update(self._drawn())


class ToolCard(KeyHold, can_focus=True):
    """A tool call in the chat: name, risk badge, arguments, approval keys, live output."""

    DEFAULT_CSS = """
    ToolCard {
        height: auto;
        margin: 1 0 0 0;
        padding: 0 1;
        border: round $panel-lighten-2;
        background: $boost;
    }
    ToolCard:focus { border: round $accent; }
    ToolCard.-awaiting { border: round $warning; }
    ToolCard.-awaiting:focus { border: double $warning; }
    ToolCard.-failed, ToolCard.-invalid { border: round $error; }
    ToolCard.-denied, ToolCard.-cancelled, ToolCard.-unavailable { border: round $panel; color: $text-muted; }
    ToolCard.-unavailable .notes { color: $text-warning; }
    ToolCard.-done { border: round $success 60%; }
    ToolCard > .header { height: 1; }
    ToolCard .tool-name { width: auto; text-style: bold; }
    ToolCard .badge { width: auto; margin: 0 1; padding: 0 1; text-style: bold; }
    ToolCard .badge.-read { background: $success; color: $text; }
    ToolCard .badge.-write { background: $warning; color: $text; }
    ToolCard .badge.-exec { background: $error; color: $text; }
    ToolCard .state-label { width: 1fr; text-align: right; color: $text-muted; }
    ToolCard.-awaiting .state-label { color: $text-warning; text-style: bold; }
    ToolCard.-failed .state-label, ToolCard.-invalid .state-label { color: $text-error; }
    ToolCard.-done .state-label { color: $text-success; }
    ToolCard .arguments { height: auto; margin: 0 0 0 1; }
    ToolCard .notes { display: none; height: auto; color: $text-error; }
    ToolCard.-has-notes .notes { display: block; }
    ToolCard .reason, ToolCard .editor { display: none; }
    ToolCard.-reason .reason { display: block; }
    ToolCard.-edit .editor { display: block; height: auto; max-height: 16; }
    ToolCard.-edit .arguments { display: none; }
    ToolCard .progress-row { display: none; height: 1; }
    ToolCard.-has-progress .progress-row { display: block; }
    ToolCard .progress-label { width: auto; margin: 0 1 0 0; }
    ToolCard .output { display: none; height: auto; max-height: 12; background: $surface; }
    ToolCard.-has-output .output { display: block; }
    ToolCard .result { display: none; height: auto; color: $text-muted; }
    ToolCard.-has-result .result { display: block; }
    ToolCard.-failed .result { color: $text-error; }
    ToolCard .keys { display: none; height: auto; color: $text-muted; }
    ToolCard.-awaiting .keys { display: block; }
    """

    BINDINGS = CARD_BINDINGS

    state: reactive[str] = reactive("proposed", init=False)

    class Decided(Message):
        """The user answered this card's approval request."""

        def __init__(self, card: ToolCard, decision: Decision) -> None:
            self.card = card
            self.decision = decision
            super().__init__()

        @property
        def control(self) -> ToolCard:
            return self.card

    def __init__(
        self,
        call: ToolCall,
        risk: str,
        *,
        validate: Callable[[ToolCall], list[str]] | None = None,
        output_lines: int = 400,
        output_limit: int = CARD_OUTPUT_LIMIT,
        flush_hz: float = 15.0,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.call = call
        self.risk = risk
        self.validate = validate
        self.decision: Decision | None = None
        self.result: ToolResult | None = None
        self.output_chars = 0
        self.output = KeptOutput(output_limit)
        self._output_lines = output_lines
        # The Log holds at most output_lines (+1 unfinished) lines this wide (+1 for "…"): the limit.
        self._log_lines = LogLines(output_lines, max(PREVIEW_WIDTH, output_limit // (output_lines + 1) - 1))
        self._flushed = 0  # characters received when the Log was last written
        self._flush_interval = 1.0 / flush_hz
        self._future: asyncio.Future | None = None
        self._approval_note = ""  # why it asks although an approval was remembered
        self._held = True  # whether `a` and `A` would hold for the next such call
        self._unasked = ""  # why it ran without a card asking (a remembered approval, the config)
        self._confirm_always = False  # `A` pressed once: the next `A` saves it
        self._mode = "choose"  # choose | reason | edit (while awaiting)
        self._flush_timer = None
        self.set_class(True, f"-{self.state}")

    # -- layout --------------------------------------------------------------

    def compose(self) -> ComposeResult:
        from textual.containers import Horizontal

        with Horizontal(classes="header"):
            yield Static(Content(visible(self.call.name)), classes="tool-name")  # the model's text, not markup
            yield Static(self.risk, classes=f"badge -{self.risk}")
            yield Static(STATE_LABELS[self.state], classes="state-label")
        yield Arguments(self.call.arguments, classes="arguments")
        yield Static("", classes="notes")
        yield Input(placeholder="Reason for the model (optional) — Enter denies, Esc goes back", classes="reason")
        yield TextArea("", classes="editor", soft_wrap=True, show_line_numbers=False)
        with Horizontal(classes="progress-row"):
            yield Static("", classes="progress-label")
            yield ProgressBar(100, show_eta=False, classes="progress")  # not an idle 15 Hz animation
        yield BoundedLog(max_lines=self._output_lines, classes="output")
        yield Static("", classes="result")
        yield Static("", classes="keys")

    def on_mount(self) -> None:
        self._flush_timer = self.set_interval(self._flush_interval, self._flush, pause=True)
        self._show_keys()

    def watch_state(self, old: str, new: str) -> None:
        self.set_class(False, f"-{old}")
        self.set_class(True, f"-{new}")
        if self.is_mounted:
            label = STATE_LABELS.get(new, new)
            self.query_one(".state-label", Static).update(
                f"{label} · ran unasked: {self._unasked}" if self._unasked else label
            )
            self._show_keys()
        self.refresh_bindings()

    # -- approval ------------------------------------------------------------

    def request_approval(self, future: asyncio.Future, note: str = "", *, held: bool = True) -> None:
        """Show the approval keys, take focus, and resolve `future` with the user's Decision.
        `note`: why it asks although an approval was remembered, shown on the card; `held`
        False: a remembered approval would not hold here (the note says why), and the keys
        line does not promise one."""
        self._future = future
        self._held = held
        if has_controls(self.call.arguments):
            hidden = "it holds control characters (shown as ␛ and <U+…>), which can hide what it runs"
            note = f"{note}; {hidden}" if note else hidden
        self._approval_note = note
        self._set_mode("choose")
        self.state = "awaiting"
        future.add_done_callback(self._on_future_done)
        self.ask_for_keys(f"{visible(self.call.name)} asks to run: press F4 to answer it (what you type stays here)")

    def on_key(self, event: events.Key) -> None:
        """A key at the awaiting card that came too early (key_hold.py) was typed for the
        prompt: it goes there, and the keys wait ARM_S more. An answer key waits SETTLE_S
        for a next key that would show it began a word. Esc still cancels the turn."""
        if self.state == "awaiting" and self._mode == "choose" and self.app.focused is self:
            if not self.answer_keys_held(event):
                answers = self._answer_actions()
                self.settle_answer(event, "".join(answers), lambda key: self._answer(answers[key]))

    def _answer_actions(self) -> dict[str, str]:
        """Printable key -> action of the answer bindings (y, a, A, n, e unless remapped): of
        a key's two bindings, the one this call shows."""
        answers: dict[str, str] = {}
        for key, binding in self._bindings_now():
            if len(key) == 1 and binding.action.startswith(("approve", "deny", "edit")):
                _, name, parameters = parse_action(binding.action)
                if self.check_action(name, parameters) is not False:
                    answers.setdefault(key, binding.action)
        return answers

    def _bindings_now(self) -> BindingsMap:
        """This card's bindings with the app's keymap applied (Textual applies it to a copy
        of its own: with approve-session on `s`, `s` answered nothing and `a` still did)."""
        bound = node_bindings(self).copy()
        bound.apply_keymap(keymap(self.app))
        return bound

    @cached_property
    def _scope(self) -> str:
        """What `a` would cover for this call (parsed once: check_action asks on every refresh)."""
        return describe_session_scope(self.call)

    def _remembered(self) -> bool:
        return remembers(self._scope, self._held)

    def _answer(self, action: str) -> None:
        if self.state == "awaiting" and self._mode == "choose":
            self.call_later(self.run_action, action)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Approval keys only while awaiting; the editor's submit only while editing."""
        if action in ("approve", "deny", "edit"):
            if not (self.state == "awaiting" and self._mode == "choose"):
                return False
            if parameters[:1] in (("session",), ("always",)) and (parameters[1:] != (False,)) != self._remembered():
                return False  # the other binding of this key says what it does here
            return True if self.armed else None  # None: shown, dimmed, until armed
        if action == "submit_edit":
            return self.state == "awaiting" and self._mode == "edit"
        if action in ("cancel", "back"):  # the footer says which Esc is now
            return self.state == "awaiting" and (self._mode == "choose") == (action == "cancel")
        return True

    def action_approve(self, kind: str, remembered: bool = True) -> None:
        if not remembered:  # `a` or `A` where nothing is remembered: it ran with no word (new-user review),
            self.notify(f"Allowed once, not remembered: {once_too_reason(self._scope, self._held)}", timeout=8)
            self._resolve(Decision("once"))  # and where an approval would not hold, A saved one (diff review)
            return
        if kind == "always" and remembered and not self._confirm_always:  # saved for every chat and
            self._confirm_always = True  # folder: a second press says so (a message's first "A", then
            self._show_keys()  # a pause, saved one: fifth attacker review)
            return
        self._resolve(Decision(kind))  # type: ignore[arg-type]

    def action_deny(self) -> None:
        self._set_mode("reason")
        reason = self.query_one(".reason", Input)
        reason.value = ""
        reason.focus()

    def action_edit(self) -> None:
        self._set_mode("edit")
        editor = self.query_one(".editor", TextArea)
        editor.load_text(editable_json(self.call.arguments))
        editor.focus()

    def action_back(self) -> None:
        self._set_mode("choose")  # Esc leaves the reason/edit box first
        self.focus()

    def action_cancel(self) -> None:  # in choose mode only (check_action)
        self._resolve(Decision("cancel"))

    def action_submit_edit(self) -> None:
        text = self.query_one(".editor", TextArea).text
        try:
            arguments = json.loads(text)
        except json.JSONDecodeError as exc:
            hint = (
                " (write a line break or tab inside a string as \\n or \\t)" if "control character" in exc.msg else ""
            )
            where = f"line {exc.lineno}, column {exc.colno}"  # json's own text may end in "at" already
            self._show_notes(
                [f"not valid JSON: {exc.msg.removesuffix(' at')} at {where}{hint}; fix it and run it again"]
            )
            return
        if not isinstance(arguments, dict):
            self._show_notes(['the arguments must be a JSON object: {"name": value, ...}'])
            return
        errors = self.validate(ToolCall(self.call.name, arguments, id=self.call.id)) if self.validate else []
        if errors:
            self._show_notes(errors)
            return
        self._resolve(Decision("once", arguments=arguments))

    @on(Input.Submitted, ".reason")
    def _reason_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._resolve(Decision("deny", reason=event.value.strip() or None))

    def _set_mode(self, mode: str) -> None:
        self._mode = mode
        self.set_class(mode == "reason", "-reason")
        self.set_class(mode == "edit", "-edit")
        if mode == "choose":
            self._show_notes([self._approval_note] if self._approval_note else [])
        self._show_keys()
        self.refresh_bindings()

    def _resolve(self, decision: Decision) -> None:
        """Answer the engine (once) and show the outcome on the card."""
        if self._future is not None and not self._future.done():
            self._future.set_result(decision)
        if self._approval_note:
            self._approval_note = ""
            self._show_notes([])
        self._apply(decision)
        self.post_message(self.Decided(self, decision))

    def _on_future_done(self, future: asyncio.Future) -> None:
        """The request ended without a key here (timeout, turn cancelled): leave the awaiting state."""
        if self.state != "awaiting" or not self.is_attached:
            return  # not attached: the app is closing with the card still asking
        outcome = None if future.cancelled() else future.result()
        self._apply(outcome if isinstance(outcome, Decision) else Decision("cancel", by="timeout"))

    def show_edited(self, arguments: dict) -> None:
        """The arguments the user edited the call to (what ran), marked so."""
        self.call.arguments = arguments
        self.query_one(Arguments).show(arguments, edited=True)

    def _apply(self, decision: Decision) -> None:
        self.decision = decision
        self.stop_holding()
        self._set_mode("choose")
        if decision.arguments is not None:
            self.show_edited(decision.arguments)
        if decision.allowed:
            self.state = "running"
        elif decision.kind == "deny":
            self.mark_denied(decision.reason)
        else:
            self.state = "cancelled"
        if self.has_focus_within:  # the reason or edit box had it: back to the card, not lost
            self.focus()

    # -- running -------------------------------------------------------------

    def set_running(self, unasked: str | None = None) -> None:
        """The tool started; `unasked`: why without asking (a write or a command only)."""
        self._unasked = unasked or ""
        self.state = "running"

    @property
    def output_text(self) -> str:
        """The streamed output the card keeps: its head and tail, with a line saying what was cut."""
        return self.output.text()

    @property
    def output_cut(self) -> int:
        """Characters of streamed output the card dropped between head and tail."""
        return self.output.cut

    def append_output(self, chunk: str) -> None:
        """Keep streamed output (head and tail); a timer writes what is new to the Log ~15 times a second.

        Call from the app's thread (the agent's events arrive there).
        """
        if not chunk:
            return
        self.output.add(chunk)
        self.output_chars += len(chunk)
        if self._flush_timer is not None:
            self._flush_timer.resume()

    def _flush(self) -> None:
        if self._flushed == self.output.total:
            if self._flush_timer is not None:
                self._flush_timer.pause()
            return
        head, gap, tail = self.output.since(self._flushed)
        self._flushed = self.output.total
        text = head
        if gap:
            newline = "" if (text.endswith("\n") if text else self._log_lines.line_len == 0) else "\n"
            text += f"{newline}{not_shown(gap)}\n"
        self.set_class(True, "-has-output")
        self.query_one(".output", Log).write(self._log_lines.fit(visible(text + tail)))

    def set_progress(self, done: float, total: float, label: str = "") -> None:
        """Show a progress bar (only once progress arrives)."""
        self.set_class(True, "-has-progress")
        self.query_one(".progress", ProgressBar).update(total=total if total > 0 else None, progress=done)
        self.query_one(".progress-label", Static).update(Content(visible(label)))  # a server's text, not markup

    def finish(self, result: ToolResult, status: str = "done") -> None:
        """The tool ended: done, failed or cancelled, with a preview of what it returned."""
        self._flush()
        if self._flush_timer is not None:
            self._flush_timer.pause()
        self.result = result
        if (bar := self.query_one(".progress", ProgressBar)).total is None:  # its animation stops
            bar.update(total=1, progress=1)
        lines = result_lines(result, streamed=bool(self.output_chars))
        self.query_one(".result", Static).update(Content("\n".join(lines)))
        self.set_class(bool(lines), "-has-result")
        self.state = status if status in ("done", "failed", "cancelled") else ("done" if result.ok else "failed")

    def mark_invalid(self, errors: list[str]) -> None:
        """The call did not match the tool's schema; the errors go back to the model."""
        self._show_notes(errors)
        self.state = "invalid"

    def mark_denied(self, reason: str | None = None) -> None:
        """The call was refused (by the user, the policy, or a timeout).

        A card the user already cancelled stays "cancelled": the engine reports
        that as a denial too, and the user should see what they pressed. One that ran
        out of time (the engine gave up waiting) says it was denied, and why.
        """
        if self.state == "cancelled" and not (self.decision is not None and self.decision.by == "timeout"):
            return
        if self.state == "unavailable":  # the engine reports it as a denial; no one denied it
            return
        self._show_notes([f"denied: {reason}"] if reason else [])
        self.state = "denied"

    def mark_unavailable(self, reason: str) -> None:
        """The call cannot run whatever the user answers (no image model, say): the card says
        why instead of asking, and not "denied": the user refused nothing (UX review F6)."""
        self._show_notes([f"cannot run: {reason}"])
        self.state = "unavailable"

    # -- helpers -------------------------------------------------------------

    def _show_notes(self, notes: list[str]) -> None:
        if not self.is_mounted:
            return
        self.query_one(".notes", Static).update(Content(visible("\n".join(f"• {note}" for note in notes))))
        self.set_class(bool(notes), "-has-notes")

    def _key_for(self, binding_id: str) -> str:
        """The key bound to an action id, after any keymap the app applied."""
        for _key, binding in self._bindings_now():
            if binding.id == binding_id:
                return self.app.get_key_display(binding)
        return "?"

    def _show_keys(self) -> None:
        """The card's own footer line: the keys that work right now."""
        if not self.is_mounted:
            return
        if self._mode == "reason":
            hints = [("enter", "deny"), (self._key_for("cancel-turn"), "back")]
        elif self._mode == "edit":
            hints = [(self._key_for("submit-edit"), "run edited"), (self._key_for("cancel-turn"), "back")]
        else:
            hints = answer_hints(self._key_for, self._scope, self._held, self._confirm_always)
        self.query_one(".keys", Static).update(keys_line(hints))
