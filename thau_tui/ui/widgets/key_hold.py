"""KeyHold: a card's answer keys never take a key the user typed for something else.

A card that asks (ToolCard's approval keys y/a/A/n/e) appears while the user may be
typing their next message. Three ways a key meant for the prompt used to answer it:

- the user paused in the middle of a message for longer than the hold, then went on:
  the card had taken the focus, and "a" of "please add tests" allowed the tool for the
  session. A card now takes the focus only from an empty prompt; with text in it, the
  focus stays there, a notice says a card waits, and F4 (the app's "Answer") goes to it;
- the card appeared behind another screen (help, training) and the hold ran out there:
  the hold now counts only while the card's screen is the one shown;
- a key typed before the card was drawn but handled after a stall longer than the hold:
  a key is judged by when it was typed (Textual stamps each event), not when handled.
"""

from __future__ import annotations

import time

from textual import events
from textual.widget import Widget
from textual.widgets import Input, TextArea

from .. import compat


def _now() -> float:
    """The clock Textual stamps events with (compat.EVENT_CLOCK), or monotonic."""
    return (compat.EVENT_CLOCK or time.monotonic)()


def _typed_at(event: events.Key) -> float:
    """When the key was typed: its stamp where the clock is known, else now (handled)."""
    stamp = getattr(event, "time", None)
    return stamp if compat.EVENT_CLOCK is not None and isinstance(stamp, float) else _now()


def writing_in(widget: Widget | None) -> bool:
    """Whether `widget` is a text box with text in it: the user is writing there."""
    if isinstance(widget, TextArea):
        return bool(widget.text.strip())
    if isinstance(widget, Input):
        return bool(widget.value.strip())
    return False


class KeyHold(Widget):
    """For a focusable card: `ask_for_keys()` when it starts asking, `answer_keys_held(event)`
    from its key handler, `stop_holding()` when it stops asking; `armed` says the keys work."""

    # The answer keys work only once this long has passed since the card took the focus (or
    # its screen came back) and since the last key that reached it.
    ARM_S = 0.8
    # An answer key takes effect only when no other key follows it this soon: "you", "and",
    # "now" typed by a user who has not seen the card are a word for the prompt, not y/a/n.
    SETTLE_S = 0.35

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._armed_at = 0.0  # _now() from which the answer keys work
        self._note = ""  # what the notice says when the card waits without the focus
        self._pending: tuple[str, object] | None = None  # an answer key waiting SETTLE_S, its timer
        self._gave_back = False  # the focus went back to the prompt: keys still on their way follow it
        self._typed_into: Widget | None = None  # the prompt the user was in when the card asked
        self._screen_watch = None

    @property
    def armed(self) -> bool:
        """The answer keys work: the hold is over and the card's screen is the one shown."""
        return _now() >= self._armed_at and self._screen_shown()

    def _screen_shown(self) -> bool:
        try:
            return self.screen is self.app.screen
        except Exception:  # not mounted, or no screen yet
            return False

    def ask_for_keys(self, note: str) -> None:
        """Start asking: take the focus unless the user is writing in the prompt (then say
        so with `note`, and leave the focus where they type)."""
        self._note = note
        focused = self.screen.focused  # the card's own screen: another one may be on top
        # The prompt the user was typing in; with the focus elsewhere (the chat, after a
        # question card closed), the screen's own prompt: keys typed while the card asks go
        # there, never to the card (attacker review: "could you try" answered `y`).
        prompt = next(iter(self.screen.query("#input")), None)
        self._typed_into = focused if isinstance(focused, (Input, TextArea)) else prompt
        self._hold_keys()
        if writing_in(focused):
            self._say_it_waits()
        else:
            self.focus()
        self.scroll_visible(top=True)  # its start: a card taller than the screen showed only its end
        if self._screen_watch is None:
            self._screen_watch = self.set_interval(0.2, self._watch_screen)
        self.app.refresh_bindings()

    def stop_holding(self) -> None:
        if self._screen_watch is not None:
            self._screen_watch.stop()
            self._screen_watch = None
        self.app.refresh_bindings()

    def _say_it_waits(self) -> None:
        self.app.notify(self._note, title="A card waits for your answer", severity="warning", timeout=12)

    def _hold_keys(self) -> None:
        """Hold the answer keys for ARM_S from now (shown dimmed until then)."""
        self._armed_at = _now() + self.ARM_S
        if self.ARM_S > 0:
            self.set_timer(self.ARM_S + 0.05, self._maybe_armed)
        self.refresh_bindings()

    def _maybe_armed(self) -> None:
        if self.armed:
            self.refresh_bindings()

    def _watch_screen(self) -> None:
        """While another screen covers the card, the hold does not run out."""
        if not self._screen_shown():
            self._hold_keys()

    def on_focus(self, event: events.Focus) -> None:
        if self._screen_watch is not None:  # asking: F4 or a click brought the user here
            self._gave_back = False
            self._hold_keys()

    def answer_keys_held(self, event: events.Key) -> bool:
        """Whether `event` came too early to answer the card: typed before the hold ended
        (the card's own clock, not when a stalled loop got to it). Such a key goes on to
        the prompt the user was in (a character; Enter is dropped), and the hold restarts.
        Esc is never held. The user is typing: the focus goes back to the prompt, and the
        card waits for F4 (a pause in their typing must not let a later letter answer)."""
        if event.key != "escape" and self._gave_back:
            # typed in the same burst as the key that gave the focus back: the prompt's too
            event.stop()
            event.prevent_default()
            target = self._typed_into
            if target is not None and target.is_mounted:
                if event.is_printable and event.character:
                    self._pass_on(target, event.character)
                target.focus()
            return True
        if event.key == "escape" or (self.armed and _typed_at(event) >= self._armed_at):
            return False
        event.stop()
        event.prevent_default()
        self._hold_keys()
        target = self._typed_into
        if target is not None and target.is_mounted and event.is_printable and event.character:
            self._pass_on(target, event.character)
        self._give_back(target)
        return True

    @staticmethod
    def _pass_on(target: Widget, text: str) -> None:
        if isinstance(target, TextArea):
            target.insert(text)
        elif isinstance(target, Input):
            target.insert_text_at_cursor(text)

    def _give_back(self, target: Widget | None) -> None:
        """The focus back to where the user types, and the notice that the card waits. With
        nowhere to give it, the card still takes no key but F4's from now on."""
        if isinstance(target, Input):
            target.select_on_focus = False  # an Input selects all on focus: the next key would replace it
        self._gave_back = True
        if target is not None and target.is_mounted:
            target.focus()
        self._say_it_waits()

    def settle_answer(self, event: events.Key, answer_keys: str, answer) -> bool:
        """An armed answer key (one of `answer_keys`) waits SETTLE_S: `answer(key)` runs
        then, unless another key comes first, which shows the user was typing a message:
        both go on to the prompt, with the focus. Any other letter goes there at once.
        Returns whether the event was taken."""
        if self._pending is not None and event.key != "escape":
            key, timer = self._pending
            self._pending = None
            timer.stop()  # type: ignore[attr-defined]
            event.stop()
            event.prevent_default()
            target = self._typed_into
            if target is not None and target.is_mounted:
                self._pass_on(target, key + (event.character if event.is_printable and event.character else ""))
            self._give_back(target)
            return True
        if not (event.is_printable and event.character and len(event.character) == 1):
            return False
        if event.character not in answer_keys:  # a letter of a message: the user is typing
            event.stop()
            event.prevent_default()
            target = self._typed_into
            if target is not None and target.is_mounted:
                self._pass_on(target, event.character)
            self._give_back(target)
            return True
        if self.SETTLE_S <= 0:
            return False  # the binding answers at once
        event.stop()
        event.prevent_default()
        key = event.character

        def settled() -> None:
            if self._pending is not None and self._pending[0] == key:
                self._pending = None
                answer(key)

        self._pending = (key, self.set_timer(self.SETTLE_S, settled))
        return True

    def on_paste(self, event: events.Paste) -> None:
        """Text pasted while the card has the focus was meant for the prompt: it goes there."""
        target = self._typed_into
        if target is None or not target.is_mounted:
            return
        event.stop()
        self._pass_on(target, event.text)
        self._give_back(target)
