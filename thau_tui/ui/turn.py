"""Renders one turn's events into the chat. The only place the UI matches on events."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..config import Config
from ..engine.chat_export import NO_ANSWER
from ..engine.events import (
    ApprovalRequested,
    Decision,
    Error,
    HistoryTrimmed,
    MessageRefused,
    QuestionAsked,
    TextDelta,
    ToolCallInvalid,
    ToolCallProposed,
    ToolDenied,
    ToolFinished,
    ToolOutput,
    ToolProgress,
    ToolStarted,
    TurnDone,
    TurnStats,
)
from ..tools.base import ToolCall
from ..tools.registry import ToolRegistry
from .history import interrupted_call_note
from .widgets.chat import AssistantMessage, ChatView, NoteMessage, UserMessage
from .widgets.tool_card import ToolCard


@runtime_checkable
class TurnHost(Protocol):
    """What a TurnRenderer needs from the app around it (ThauApp is one): the settings and
    tools of the turn, and the parts of the screen outside the chat."""

    config: Config
    registry: ToolRegistry
    thinking: str  # what the status line says while the model reads and thinks

    def show_activity(self, text: str) -> None:
        """What the turn is doing, on the status line."""

    def focus_input(self) -> None:
        """Give the prompt the focus (a card no longer needs it)."""

    def show_image(self, path: str) -> None:
        """Open the image pane on an image a tool made."""

    def show_stats(self, stats: TurnStats) -> None:
        """The finished turn's speed and context use."""

    def give_back(self, text: str) -> None:
        """Put an unsent message back in the prompt (before anything typed since)."""

    # A host may also have `async show_view_start()` (ThauApp's, history.SavedChats): the line
    # where the model's view starts, put where the chat's session says. Not a member here: a
    # host without a saved chat (the turn tests') draws turns without that line.


class TurnRenderer:
    """Draws one turn's events into the chat: the question, the streamed answer, a card
    per tool call, notes. It holds the widgets of the turn in progress; the rest of the
    screen (status line, focus, image pane) it asks of its host."""

    def __init__(self, host: TurnHost, chat: ChatView) -> None:
        self.host = host
        self.chat = chat
        self.detached = False  # the user left this turn's chat: its events are no longer drawn
        self.assistant: AssistantMessage | None = None
        self.cards: dict[str, ToolCard] = {}
        self.question: UserMessage | None = None
        self.text = ""
        self.failed_turn = False  # an error or a refusal said why the turn ended: no "no answer" then

    async def ask(self, text: str) -> None:
        """Show the question, and below it the answer's place, before any text comes:
        the question goes to the top of the chat at once, in one layout."""
        self.assistant = AssistantMessage(render_hz=self.host.config.ui.render_hz)
        self.question: UserMessage | None = UserMessage(text)
        await self.chat.add(self.question, self.assistant)

    async def _assistant(self) -> AssistantMessage:
        if self.assistant is None:
            self.assistant = AssistantMessage(render_hz=self.host.config.ui.render_hz)
            await self.chat.add(self.assistant)
        return self.assistant

    async def _close_assistant(self) -> None:
        if self.assistant is not None:
            await self.assistant.finish()
            if not self.assistant.text.strip():
                await self.assistant.remove()
            self.assistant = None

    async def _card(self, call: ToolCall, risk: str) -> ToolCard:
        await self._close_assistant()
        card = ToolCard(
            call,
            risk,
            validate=self.host.registry.validate,
            output_limit=self.host.config.tools.shell.card_output_limit,
        )
        self.cards[call.id] = card
        await self.chat.add(card)
        return card

    def _cannot_run(self, call: ToolCall) -> str | None:
        """Why a call would fail whatever the user answers: then the card says so instead
        of asking first (and the model reads it as the reason)."""
        if call.name == "generate_image" and not self.host.config.images.model:
            from ..paths import default_config_file

            # the file in use, as `thau doctor` finds it: "config.yaml" alone named none (UX review F6)
            where = getattr(getattr(self.host, "config_result", None), "path", None)
            try:
                where = where or default_config_file()
            except OSError:  # its folder cannot be made: the reason still goes to the model
                where = "config.yaml"
            return (
                f"no image model is configured (images.model in {where} is empty); "
                "set it to a diffusers folder or a .safetensors file"
            )
        return None

    async def failed(self, error: Exception) -> None:
        """The turn stopped because drawing it raised `error`: say so in the chat."""
        await self._close_assistant()
        await self.chat.add(
            NoteMessage(f"the answer stopped: thau could not show it ({type(error).__name__}: {error})", "error")
        )

    async def handle(self, event) -> None:
        """Draw one engine event (none once the chat it drew into was left: Ctrl+N mid-turn)."""
        if self.detached:
            return
        match event:
            case TextDelta(text=text):
                self.text += text
                (await self._assistant()).append_text(text)
                self.host.show_activity("writing…")
            case ToolCallProposed(call=call, risk=risk):
                await self._card(call, risk)
            case ToolCallInvalid(call=call, errors=errors):
                card = self.cards.get(call.id) if call else None
                if card is None:
                    card = await self._card(call or ToolCall("(unreadable call)", {}), "exec")
                card.mark_invalid(errors)
            case ApprovalRequested(call=call, future=future):
                card = self.cards.get(call.id) or await self._card(call, event.risk)
                if (reason := self._cannot_run(call)) is not None:
                    card.mark_unavailable(reason)  # not "denied": no one refused it (UX review F6)
                    future.set_result(Decision("deny", reason=reason, by="unavailable"))  # the model is told why
                    return
                card.request_approval(future, event.note, held=not event.not_held)
                self.host.show_activity(f"waiting for approval: {call.name}")
            case QuestionAsked(question=question, future=future):
                from .widgets.ask_card import AskCard

                await self._close_assistant()
                card = AskCard(question, future)
                await self.chat.add(card)
                card.focus()
                self.host.show_activity("waiting for your answer")
            case ToolDenied(call=call, reason=reason):
                if (card := self.cards.get(call.id)) is not None:
                    card.mark_denied(reason)
                self.host.focus_input()
                self.host.show_activity(self.host.thinking)  # the model is told, and goes on
            case ToolStarted(call=call, decision=decision):
                if (card := self.cards.get(call.id)) is not None:
                    card.set_running(decision.reason if decision is not None and decision.by == "auto" else None)
                self.host.show_activity(f"running {call.name}…")
                self.host.focus_input()
            case ToolOutput(call_id=call_id, chunk=chunk):
                if (card := self.cards.get(call_id)) is not None:
                    card.append_output(chunk)
            case ToolProgress(call_id=call_id, done=done, total=total, label=label):
                if (card := self.cards.get(call_id)) is not None:
                    card.set_progress(done, total, label)
            case ToolFinished(call=call, result=result, status=status):
                if (card := self.cards.get(call.id)) is not None:
                    card.finish(result, status)
                # the model reads the result next (a long prompt: seconds), then answers
                self.host.show_activity(f"reading the result of {call.name}…")
                image = result.data.get("image_path") if result.data else None
                if image:
                    self.host.show_image(image)
            case HistoryTrimmed(dropped=dropped):
                # said here, after the newest message, and marked where the cut is (long-chat review)
                await self.chat.add(
                    NoteMessage(
                        f"The {dropped} oldest messages of this chat are now out of the model's view (it has room "
                        "for the newest ones); a line in the chat marks where its view starts. The chat keeps "
                        "them all.",
                        "info",
                    )
                )
                await self._show_view_start()
            case MessageRefused(message=message, text=text):
                # Not sent (too long even alone): it leaves the chat and goes back to the prompt
                if self.question is not None:
                    await self.question.remove()
                    self.question = None
                await self._close_assistant()
                await self.chat.add(NoteMessage(f"{message} It is back in the prompt.", "error"))
                self.host.give_back(text)
                self.failed_turn = True
            case Error(message=message):
                await self._close_assistant()
                await self.chat.add(NoteMessage(message, "error"))
                self.failed_turn = True
            case TurnDone(stats=stats, text=text):
                await self._close_assistant()
                if stats.cancelled:
                    await self.chat.add(NoteMessage("stopped", "warning"))
                    for meta in stats.calls_not_shown:  # "stopped" alone hid a half-written call (new-user review)
                        await self.chat.add(NoteMessage(interrupted_call_note(meta, None), "warning"))
                elif not text.strip() and not self.failed_turn:
                    # The model ended at once: its empty answer showed nothing at all (long-chat review)
                    await self.chat.add(NoteMessage(f"({NO_ANSWER})", "info"))
                await self._show_view_start()  # the view may have moved back (a larger context)
                self.host.show_stats(stats)

    async def _show_view_start(self) -> None:
        """The line where the model's view starts, where the host's chat says (none on a host
        without one)."""
        show = getattr(self.host, "show_view_start", None)
        if show is not None:
            await show()
