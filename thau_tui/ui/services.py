"""The app's services beside the chat, started on mount: the sandbox on the status line,
the plugins in the config folder's tools/ (loaded and watched; never from the workspace),
the MCP servers (started, updated when mcp.servers changes, stopped on unmount), and
config.yaml reloaded when it changes (the watch itself is started in `ThauApp.on_mount`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work

from . import compat
from .visible import visible

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from ..config import Config, ConfigResult


UNSENT_SAVE_S = 1.0  # after the last change to the prompt
# Seconds a plugin's import may take at start before thau says which one it waits for.
PLUGIN_IMPORT_NOTICE_S = 3.0


# How many of config.yaml's problems a notice names (the chat holds them all).
SHOWN_PROBLEMS = 4
NOT_APPLIED = "config.yaml not applied: keeping the last good one"  # a notice's title, taken back once fixed
AT_START = "config.yaml: these settings are not applied"  # the same, for the file thau started with

WELCOME = (
    "Ask anything. The model can run tools (shell, Python, files, images, docs); "
    "anything that writes or executes waits for your y/n on its card. F1 lists the keys."
)
QUIT_WHILE_TRAINING = (
    "A training run is going. Stop it and quit? "
    "Its last checkpoint stays: R on the training screen (or thau train --resume) goes on."
)


class AppServices:
    """Mixin for the app."""

    # --- notifications ---------------------------------------------------------------------
    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification (screens and widgets notify through the app) with its control
        characters drawn, not sent: an MCP server's stderr, an OpenAI server's error text or
        a tool name in one reached the terminal raw, and an OSC 52 there sets the clipboard."""
        super().notify(  # type: ignore[misc]
            visible(message), title=visible(title), severity=severity, timeout=timeout, markup=markup
        )

    # --- the chat at start -------------------------------------------------------------------
    async def _open_first_chat(self) -> None:
        """The last chat (--resume) or a new one. A database another program holds locked, a
        read-only one, or one a newer thau made ended the app at start with a traceback
        (review): the chat then runs unsaved, and a notice that stays says why."""
        import time

        from ..engine.agent import ChatSession
        from ..engine.store import StoreError
        from .widgets.chat import NoteMessage

        try:
            last = self.store.last_session() if self._resume else None
            if last is not None:
                await self.open_session(last.id)
                return
            self.session = self.agent.new_session()
        except StoreError as exc:
            self.session = ChatSession(f"unsaved-{time.time_ns()}", "New chat")
            self.notify(
                f"{exc}\nThis chat is not saved until that is fixed; restart thau then.",
                title="chats are not being saved",
                severity="error",
                timeout=60,
                markup=False,
            )
        await self.chat.add(NoteMessage(WELCOME, "info"))

    # --- a chat another window answers in too ----------------------------------------------
    def answered_elsewhere(self, text: str) -> bool:
        """Whether another thau window has added to this chat (its question, its answer) since
        it was opened here, or runs a turn in it now. Sending then interleaved the two windows'
        turns in the saved chat, and this window's model never saw the other's answer or its
        pending call (review). Says so and gives the text back. A turn whose window died is
        closed first and the chat opened again, and the text is sent then (returns True too)."""
        from ..engine.store import StoreError

        sid = self.session.id
        try:  # a turn stores its question first: one running elsewhere has grown the chat too
            info = self.store.get_session(sid)
            # Equal counts did not mean idle: a window whose card waits has stored all it will
            # until the card is answered (two-window review). Another host's mark is ignored:
            # thau cannot tell whether it is alive, and it blocked the chat for good.
            state = self.store.turn_state(sid) if info is not None else ""
        except StoreError:
            return False  # the turn's own saving says what is wrong
        if info is None and not sid.startswith(("unsaved-", "mem-")):
            # deleted in another window: the turn ran, a card could be approved, nothing was saved
            # and the text was gone (chats review)
            self.notify(
                "this chat was deleted in another thau window; start a new one (Ctrl+N) or open "
                "another (Ctrl+B). Your text is back in the prompt.",
                title="not sent",
                severity="warning",
                markup=False,
            )
            self.give_back(text)
            return True
        if state == "left" and (self.agent.close_interrupted(sid) or info.messages > len(self.session.messages)):
            # The window answering here was killed: its call got no result, and the next prompt
            # carried a call with no response (two-window review). Closed, shown, then sent.
            self.run_worker(self._reopen_and_send(sid, text), group="session", exclusive=True)
            return True
        if state != "running" and (info is None or info.messages <= len(self.session.messages)):
            return False
        self.notify(
            "another thau window has added to this chat (or is answering in it) since you opened it; "
            "open the chat again (Ctrl+B) to see its answer and go on, "
            "or start a new one (Ctrl+N). Your text is back in the prompt.",
            title="not sent",
            severity="warning",
            markup=False,
        )
        self.give_back(text)
        return True

    async def _reopen_and_send(self, sid: str, text: str) -> None:
        """Open the chat again (what a dead window left, closed as interrupted) and send `text`."""
        before = self.session
        await self.open_session(sid)
        if self.session is before or self.turn_running:  # not opened: open_session said why
            self.give_back(text)
            return
        self.notify(
            "the thau window that was answering in this chat has stopped; what it left open is "
            "marked interrupted above, and your message is sent after it.",
            title="chat opened again",
            markup=False,
        )
        self.send(text)

    # --- what was typed and not sent, kept across a quit ------------------------------------
    def keep_unsent_soon(self, text: str) -> None:
        """Save the prompt's text a moment after it changes: only Ctrl+Q kept it, so closing
        the terminal (SIGHUP), a logout (SIGTERM) or a crash lost the draft (review)."""
        timer = getattr(self, "_unsent_timer", None)
        if timer is not None:
            timer.stop()
        self._unsent_timer = self.set_timer(UNSENT_SAVE_S, lambda: self.save_unsent(text))  # type: ignore[attr-defined]

    def save_unsent(self, text: str) -> None:
        """Keep the prompt's text for the next start (this window's file in thau's data
        folder); an empty prompt removes it."""
        from ..paths import replace_file, unsent_path

        try:
            if text.strip():
                replace_file(unsent_path(), text)
            else:
                unsent_path().unlink(missing_ok=True)
        except OSError as exc:  # the text is still on screen; said once a start (only a log line: crash review)
            self.log.warning(f"unsent text not kept: {exc}")
            if not getattr(self, "_unsent_told", False):
                self._unsent_told = True
                self.notify(  # type: ignore[attr-defined]
                    f"The prompt's text cannot be kept for a crash or a closed terminal ({exc.strerror or exc}); "
                    "it is still here, and sending it saves it with the chat.",
                    title="unsent text not kept",
                    severity="warning",
                    markup=False,
                )

    def restore_unsent(self) -> None:
        """Put the text windows no longer running left unsent back in the prompt, once (their
        files go)."""
        from ..paths import unsent_left
        from .widgets.prompt_input import PromptInput

        texts = []
        for path in unsent_left():
            try:
                text = path.read_text(encoding="utf-8")
                path.unlink()
            except (OSError, UnicodeDecodeError):
                continue
            if text.strip():
                texts.append(text)
        if texts:
            prompt = self.query_one("#input", PromptInput)
            prompt.load_text("\n\n".join(texts))
            prompt.move_cursor(prompt.document.end)
            self.notify("What you had typed when thau last closed is back in the prompt.", title="unsent text kept")

    def _config_candidates(self) -> list[Path] | None:
        """The default place when the config was not named (the user's config folder): a file
        created there later is noticed; a config named with --config is the only one watched."""
        from ..paths import default_config_candidates

        candidates = default_config_candidates()
        return candidates if self.config_result.path in candidates else None

    def _note_local_config(self) -> None:
        """A ./config.yaml is no longer read unless named: say so when one is here and thau
        read the default config instead."""
        from ..config_load import ignored_local_config  # the words thau -m says too

        if (said := ignored_local_config(self.config_result.path)) is not None:
            self.notify(said, title="config.yaml", severity="warning", markup=False, timeout=20)

    def _config_in_workspace(self) -> bool:
        """A config named with --config inside the workspace is read once, not watched: any
        program the user approved (or a write_file) could rewrite it, and a reload would then
        apply the tool's run_shell: auto or MCP server without the user seeing it. Say so."""
        path = self.config_result.path
        if path is None:
            return False
        workspace = self.agent.workspace
        try:
            # The path as given as well as where it leads: a link in the workspace to a file
            # outside it can be replaced by a file in place, and the watch reads the link's path.
            given = path.expanduser().absolute()
            places = [given.parent.resolve() / given.name, given.resolve()]
        except (OSError, RuntimeError):
            return False
        if not any(place == workspace or workspace in place.parents for place in places):
            return False
        self.notify(
            f"{path} lies in the workspace, where tools write: thau read it at start and does not "
            "reload it while it runs (restart thau after editing it, and read it first: a program "
            "you approved may have changed it). Kept in thau's config folder it reloads live.",
            title="config.yaml",
            severity="warning",
            markup=False,
            timeout=20,
        )
        return True

    def _show_sandbox(self) -> None:
        try:
            from ..tools.sandbox import sandbox_status

            self.status.sandbox = sandbox_status(self.config).split(":")[0]
        except Exception as exc:  # the status line must never stop the app
            self.status.sandbox = f"unknown ({exc})"
        self._note_home_workspace()

    def _note_home_workspace(self) -> None:
        from ..tools.workspace import home_in_workspace, unusable_workspace

        workspace = self.agent.workspace
        if (unusable := unusable_workspace(workspace)) is not None:
            self.notify(
                unusable[0].upper() + unusable[1:] + "; commands and file tools are refused until then.",
                title="workspace",
                severity="error",
                markup=False,
                timeout=30,
            )
            return
        home = home_in_workspace(workspace)
        if home is not None:
            self.notify(
                f"The workspace {self.agent.workspace} holds your home folder {home}. Tools keep off its "
                "startup and settings files (dot files, bin) and cannot make new files at its top; "
                "start thau in a project folder to give them a workspace of their own.",
                title="workspace",
                severity="warning",
                markup=False,
                timeout=20,
            )

    def _start_plugins(self) -> None:
        from ..tools.plugins import PluginLoader, plugins_folder, plugins_in_workspace

        folder = plugins_folder(self.config)
        refused = plugins_in_workspace(folder, self.config) if folder.is_dir() else None
        if refused is not None:
            self.notify(refused, title="plugins not loaded", severity="warning", markup=False, timeout=20)
            folder = Path(os.devnull)  # a loader with nothing to load: the registry stays the built-ins
        self.plugins = PluginLoader(self.registry, folder, self.config)
        self.run_worker(self._load_plugins(folder), group="plugins", exclusive=True)

    async def _load_plugins(self, folder: Path) -> None:
        """Import the plugins on a thread, then watch the folder. On the event loop, a plugin
        that slept 8 s at import held the whole UI that long, and one that never returned
        meant thau never appeared; now thau works meanwhile and its tools arrive when ready."""

        def still_importing(path: Path) -> None:
            self.notify(
                f"{path.name} is still importing after {PLUGIN_IMPORT_NOTICE_S:g} s; thau works meanwhile, the "
                "other plugins load, and its tool arrives when the import ends. If it never does (a loop, a "
                "network wait or input() at import), fix the file and save it: thau loads it again.",
                title="tools/",
                severity="warning",
                markup=False,
                timeout=20,
            )

        def late(message: str) -> None:  # a slow file's import ended after the others
            self._plugins_changed([message])

        errors = await self.plugins.load_all_async(still_importing, PLUGIN_IMPORT_NOTICE_S, late)
        for path, error in errors.items():
            self.notify(f"{Path(path).name}: {error}", title="plugin not loaded", severity="warning", markup=False)
        if self.plugins.loaded:
            self.agent.warm_up()  # the tool block changed: read the new system prompt ahead
        self._check_policy_names(self.config)  # now that plugins' names are known too
        if self._watch and folder != Path(os.devnull):  # a folder made later is watched from then on
            await self.plugins.watch(self._plugins_changed)

    def _check_policy_names(self, config) -> None:
        """Says which tools.policy names are no tool, and which tools.shell.approvable_by_name
        programs no configuration may make approvable (and applies that list)."""
        from ..engine import approvable_programs
        from ..tools.plugins import plugins_folder

        folder = plugins_folder(config)
        # A plugin file saved with its policy loads a moment later: not said to be missing
        # meanwhile (docs review). One that fails to load says so itself.
        policy = {name: rule for name, rule in config.tools.policy.items() if not (folder / f"{name}.py").is_file()}
        unknown = self.registry.unknown_in_policy(policy, (s.name for s in config.mcp.servers))
        unknown += approvable_programs.set_added(config.tools.shell.approvable_by_name)
        if unknown:
            self.notify("\n".join(unknown), title="config.yaml", severity="warning", markup=False, timeout=20)

    def _plugins_changed(self, messages) -> None:
        for message in messages or []:
            self.notify(str(message), title="tools/", markup=False)
        self.agent.warm_up()  # the tool block changed: read the new system prompt ahead

    def _start_mcp(self) -> None:
        from ..tools.mcp_client import start_mcp

        # notify() posts a message, so the servers' own thread may call it; markup off: servers' words
        self.mcp = start_mcp(
            self.config,
            self.registry,
            lambda text, severity: self.notify(text, title="MCP", severity=severity, markup=False, timeout=20),
        )

    @work(thread=True, group="mcp", exclusive=False, exit_on_error=False)
    def _reload_mcp(self, config: Config) -> None:
        """mcp.servers changed: stop the servers whose entry changed or went, start the new
        ones (off the event loop: stopping a server waits for its process)."""
        if self.mcp is None:
            self.call_from_thread(self._start_mcp)
        else:
            self.mcp.config = config  # sandboxed servers started from now on use its tools.shell
            self.mcp.update(config.mcp.servers)
        self.call_from_thread(self.agent.warm_up)  # the tool block follows the tools

    def _catch_signals(self) -> None:
        """SIGTERM and SIGHUP (the terminal closed) end thau as Ctrl+Q does: the answer stopped
        and kept, the draft saved, the terminal given back. They killed it on the spot, leaving
        the shell on the alternate screen with mouse reporting on and no cursor until `reset`
        (reliability review)."""
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError, AttributeError):
                loop.add_signal_handler(number, self._signalled, number)

    def _signalled(self, number: int) -> None:
        from .widgets.prompt_input import PromptInput

        run = self.training_run
        if run is not None and getattr(run, "running", False):
            run.cancel()  # its last checkpoint stays, as on Ctrl+Q's "stop it and quit"
        if self.turn_running:
            self.agent.cancel()
        with contextlib.suppress(Exception):  # the draft is kept if it can be; leaving comes first
            self.save_unsent(self.query_one(PromptInput).text)
        with contextlib.suppress(Exception):
            self._leave_session()
        self.exit(return_code=128 + number)  # 143 and 129, as the shell reports a signal's end

    def on_unmount(self) -> None:
        if self.mcp is not None:
            self.mcp.stop(timeout=3)

    def _leave_session(self, close: bool = True) -> None:
        """Close the open chat; one with nothing in it leaves no empty "New chat" behind. What
        still waits to be saved is tried first, and a chat whose messages wait is not empty:
        Ctrl+N deleted one, and its waiting messages with it (re-review). `close=False`: its
        shell closes when its turn has stopped (`close_left_session`)."""
        from ..engine.session import NEW_CHAT

        if self.session is None:
            return
        if close or getattr(self, "closing_later", None) is not None:  # the running turn is that one's:
            self.session.close()  # a second Ctrl+N left its shell running to the end (diff review)
        else:
            self.closing_later = self.session
        saving, store = self.agent.saving, self.agent.store
        if store is not None:
            saving.retry_at = 0.0  # leaving: try now, not after the pause between tries
            saving.flush(store)
        info = self.store.get_session(self.session.id)
        # one the user named is kept, empty or not (renamed, it was deleted on leaving: chats review)
        if (
            info is not None
            and info.messages == 0
            and info.title == NEW_CHAT
            and not saving.waiting_for(self.session.id)
        ):
            self.store.delete_session(self.session.id)

    def close_left_session(self) -> None:
        """The chat Ctrl+N left while its turn still stopped: its shell closes once the turn has
        ended, so a running command is stopped and saved as cancelled, not killed as a crash."""
        left, self.closing_later = getattr(self, "closing_later", None), None
        if left is not None and left is not self.session:
            left.close()

    async def config_problems(self, errors: list[str], title: str, advice: str) -> None:
        """Every problem in the chat, where it stays to be read, and a notice that names the
        first few: at 80x24 a notice with all of them ran off the screen and went before it
        could be read (helper's UX review)."""
        from .widgets.chat import NoteMessage

        shown = errors[:SHOWN_PROBLEMS]
        more = f"\n…and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
        await self.chat.add(NoteMessage(f"{title}:\n" + "\n".join(errors) + f"\n{advice}", "error"))
        self.notify(
            "\n".join(shown) + more + "\nThe whole list is in the chat. " + advice,
            title=title,
            severity="error",
            timeout=20,
            markup=False,
        )

    def _config_changed(self, result: ConfigResult) -> None:
        if not result.ok:
            self.config_broken = True
            self.call_later(self.config_problems, result.errors, NOT_APPLIED, "Fix the file and thau applies it.")
            return
        for title in (NOT_APPLIED, AT_START):  # they stayed up after the fix (UX and diff reviews)
            compat.withdraw_notifications(self, title)
        key_problems, keys_changed = (
            list(getattr(self, "key_problems", [])),
            result.config.ui.keys != self.config.ui.keys,
        )
        if keys_changed:  # kept to the next start, though "edits apply live"
            from .keymap_check import checked_keymap

            keys, key_problems = checked_keymap(result.config.ui.keys)
            self.set_keymap(keys)  # the footer and F1 follow (docs review)
            if key_problems:
                self.notify("\n".join(key_problems), title="config.yaml: ui.keys", severity="warning", markup=False)
        had_problems = getattr(self, "config_broken", False) or self.config_result.errors or self.key_problems
        self.key_problems = key_problems
        if had_problems and not key_problems:  # the red note in the chat stood with nothing after
            self.config_broken = False  # it to say the file was fixed (UX review); a ui.keys one too (docs review)
            from .widgets.chat import NoteMessage

            self.call_later(self.chat.add, NoteMessage(f"{result.path or 'config.yaml'} is fixed and applied.", "info"))
        # Against the file's model section, not the one in use: after a choice in Ctrl+O every
        # edit said "/model to reload the model" (config review).
        model_changed = result.config.model != self.model_in_file
        self.model_in_file = result.config.model.model_copy()
        mcp_changed = result.config.mcp != self.config.mcp
        self.config = result.config
        self.config_result = result  # which file is in force (a ./config.yaml made later wins)
        self.agent.config = result.config
        self.agent.text_batch_s = 1 / result.config.ui.render_hz
        self.approvals.set_policy(result.config.tools.policy)
        self._check_policy_names(result.config)
        from .screens.training import TrainingScreen

        for screen in self.screen_stack:
            if isinstance(screen, TrainingScreen):
                screen.config_changed(result.config)  # its recipe and runs folder follow the file
        self.agent.warm_up()  # the system prompt may have changed
        if mcp_changed:
            self._reload_mcp(result.config)
        gone = result.path is not None and not (result.path.exists() or result.path.is_symlink())
        said = f"{result.path} was removed: thau's defaults apply" if gone else "config.yaml reloaded"
        self.notify(said + (" — /model to reload the model" if model_changed else ""))
