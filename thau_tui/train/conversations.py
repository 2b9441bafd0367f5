"""Multi-turn conversations rendered the way the chat keeps its history.

A conversation is 2-4 user requests. Each gets 0-2 calls; every call is followed
by a `tool` message holding `dialect.render_result(name, output)` with the text
the agent really writes there (a success with its `[exit status N]`, a tool
error, "the user denied this call (REASON). Do not retry it; answer without it.",
or "the user cancelled this call", after which the agent stops the turn and the
user speaks next). After a result the assistant answers with the result's facts.
Follow-ups refer back to the file of the previous turn ("now count its lines",
"delete it"), the language may switch mid-conversation, and some requests after a
tool turn need no tool at all. The point: the second and third calls of a chat
come after tool results in the history, so the model learns to call again
instead of imitating the result tags.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..tools import ToolCall
from . import conversation_phrasings as words

# Files a conversation is about: path, line count, first lines, size, a TODO line (or None).
FILES = [
    ("notes.txt", 12, "buy milk\ncall Ana about the trip", "4.0K", None),
    ("src/app.py", 48, "import os\nfrom flask import Flask", "8.0K", (14, "# TODO: handle errors")),
    ("data/users.csv", 250, "id,name,email\n1,Ana,ana@example.com", "24K", None),
    ("config.yaml", 18, "port: 8080\ndebug: false", "4.0K", (3, "# TODO: move secrets out")),
    ("README.md", 64, "# Weather CLI\nA small tool to fetch forecasts.", "8.0K", None),
    ("logs/server.log", 1320, "10:01 INFO started\n10:02 ERROR database timeout", "196K", None),
    ("scripts/backup.sh", 22, "#!/bin/bash\ntar -czf backup.tar.gz data", "4.0K", (9, "# TODO: rotate old backups")),
    ("docs/todo.md", 9, "- fix login\n- write tests", "4.0K", None),
    ("tests/test_api.py", 75, "import pytest\nfrom app import create_app", "12K", (40, "# TODO: test errors")),
    ("main.py", 120, "def main():\n    print('hello')", "8.0K", (77, "# TODO: parse args")),
    ("report.txt", 31, "Q3 sales: 1.2M\nQ4 sales: 1.5M", "4.0K", None),
    ("setup.cfg", 27, "[metadata]\nname = weather", "4.0K", None),
]

EXIT0 = "[exit status 0]"


@dataclass
class Action:
    """Something to do to a file: how to ask for it, the call, the result and the answer."""

    id: str
    # lang -> task naming the file ("count the lines in {path}"), or several to draw one from
    task: Mapping[str, str | list[str]]
    followups: dict[str, list[str]]  # lang -> requests referring back ("Now count its lines.")
    call: Callable[[str], ToolCall]
    output: Callable[[tuple], str]
    answer: Callable[[tuple, str], str]  # (file, lang) -> reply after a successful result
    error: Callable[[tuple], str] | None = None  # the result when the file is missing
    deniable: bool = False  # changes state: a user may deny it
    python_only: bool = False


def _shell(command: str) -> ToolCall:
    return ToolCall("run_shell", {"command": command})


def _say(en: str, es: str) -> Callable[[tuple, str], str]:
    return lambda f, lang: (en if lang == "en" else es).format(
        path=f[0], lines=f[1], first=f[2].splitlines()[0], size=f[3], todo=f[4]
    )


def _folder(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else "."


def _listing(f: tuple) -> str:
    name = f[0].rsplit("/", 1)[-1]
    others = ["notes_old.txt  (1.2 KB)", "index.md  (640 B)"]
    return "\n".join([f"{_folder(f[0])}: 3 entries", f"{name}  ({f[3]})", *others])


def _missing_shell(tool: str) -> Callable[[tuple], str]:
    return lambda f: f"{tool}: {f[0]}: No such file or directory\n[exit status 1]"


ACTIONS = [
    Action(
        "read",
        words.TASKS["read"],
        words.FOLLOWUPS["read"],
        lambda p: ToolCall("read_file", {"path": p}),
        lambda f: f[2],
        _say('It starts with "{first}".', 'Empieza con "{first}".'),
        error=lambda f: f"read_file failed: '{f[0]}' does not exist; list_directory shows what is there",
    ),
    Action(
        "lines",
        words.TASKS["lines"],
        words.FOLLOWUPS["lines"],
        lambda p: _shell(f"wc -l {p}"),
        lambda f: f"{f[1]} {f[0]}\n{EXIT0}",
        _say("{path} has {lines} lines.", "{path} tiene {lines} líneas."),
        error=_missing_shell("wc"),
    ),
    Action(
        "size",
        words.TASKS["size"],
        words.FOLLOWUPS["size"],
        lambda p: _shell(f"du -h {p}"),
        lambda f: f"{f[3]}\t{f[0]}\n{EXIT0}",
        _say("{path} takes {size}.", "{path} ocupa {size}."),
        error=_missing_shell("du"),
    ),
    Action(
        "todo",
        words.TASKS["todo"],
        words.FOLLOWUPS["todo"],
        lambda p: ToolCall("search_code", {"pattern": "TODO", "path": p}),
        lambda f: f"{f[0]}:{f[4][0]}: {f[4][1]}" if f[4] else "no matches",
        lambda f, lang: (
            (
                f"One TODO, on line {f[4][0]}: {f[4][1]}"
                if lang == "en"
                else f"Un TODO, en la línea {f[4][0]}: {f[4][1]}"
            )
            if f[4]
            else ("No TODOs in it." if lang == "en" else "No tiene ningún TODO.")
        ),
    ),
    Action(
        "delete",
        words.TASKS["delete"],
        words.FOLLOWUPS["delete"],
        lambda p: _shell(f"rm {p}"),
        lambda f: EXIT0,
        _say("Deleted {path}.", "Borré {path}."),
        error=_missing_shell("rm"),
        deniable=True,
    ),
    Action(
        "copy",
        words.TASKS["copy"],
        words.FOLLOWUPS["copy"],
        lambda p: _shell(f"cp {p} {p}.bak"),
        lambda f: EXIT0,
        _say("Copied it to {path}.bak.", "Lo copié a {path}.bak."),
        error=_missing_shell("cp"),
        deniable=True,
    ),
    Action(
        "head",
        words.TASKS["head"],
        words.FOLLOWUPS["head"],
        lambda p: _shell(f"head -n 5 {p}"),
        lambda f: f"{f[2]}\n{EXIT0}",
        _say('The first line is "{first}".', 'La primera línea es "{first}".'),
        error=_missing_shell("head"),
    ),
    Action(
        "run",
        words.TASKS["run"],
        words.FOLLOWUPS["run"],
        lambda p: _shell(f"python3 {p}"),
        lambda f: f"hello\n{EXIT0}",
        _say('It ran and printed "hello".', 'Se ejecutó e imprimió "hello".'),
        deniable=True,
        python_only=True,
    ),
    # Not every file request is a shell command: the folder around it, and a line added to it.
    Action(
        "folder",
        words.TASKS["folder"],
        words.FOLLOWUPS["folder"],
        lambda p: ToolCall("list_directory", {"path": _folder(p)}),
        _listing,
        _say("The folder holds {path} and 2 other files.", "La carpeta tiene {path} y otros 2 archivos."),
    ),
    Action(
        "append",
        words.TASKS["append"],
        words.FOLLOWUPS["append"],
        lambda p: ToolCall("write_file", {"path": p, "content": "reviewed", "mode": "append"}),
        lambda f: f"appended {f[0].rsplit('/', 1)[-1]}: wrote 8 characters (file is now 1033 bytes)",
        _say("Added the line 'reviewed' at the end of {path}.", "Añadí la línea 'reviewed' al final de {path}."),
        deniable=True,
    ),
]
# How often each action is drawn: the shell ones share their weight so that the calls of a
# conversation spread over the tools (a mix that was mostly run_shell taught the model to
# answer every request with it).
ACTION_WEIGHTS = {
    "read": 2.0,
    "todo": 1.5,
    "folder": 1.5,
    "append": 1.2,
    "lines": 0.6,
    "size": 0.4,
    "delete": 0.6,
    "copy": 0.4,
    "head": 0.4,
    "run": 0.6,
}
ACTION_BY_ID = {a.id: a for a in ACTIONS}

# Frames that state the file (the first request, or a new file later). Spanish tasks are infinitives.
FRAMES = words.FRAMES
# Two calls in one request: the first result comes back, then the second call.
PAIR_FRAMES = words.PAIR_FRAMES
# Direct shell commands one after another (the case from the issue: cd /tmp, then pwd).
COMMANDS = [
    ("cd /tmp", ""),
    ("pwd", "/tmp"),
    ("ls", "notes.txt\nsrc\ntests"),
    ("date", "Tue Mar 12 10:24:31 CET 2024"),
    ("whoami", "ana"),
    ("git status --short", " M README.md"),
    ("python3 --version", "Python 3.11.7"),
    ("uname -s", "Linux"),
    ("echo $HOME", "/home/ana"),
    ("df -h .", "Filesystem Size Used Avail\n/dev/sda1 234G 121G 101G"),
    ("ls -a", ".\n..\n.git\nmain.py"),
    ("git branch", "* main\n  dev"),
    ("hostname", "devbox"),
    ("cat /etc/hostname", "devbox"),
    ("uptime", "10:24 up 3 days, 2 users"),
    *words.MORE_COMMANDS,  # new commands go at the end: named_commands.BEFORE takes COMMANDS[3:8]
]
COMMAND_FRAMES = words.COMMAND_FRAMES
DENY_REASONS = {
    "en": ["I want to keep it", "not now", "I'll do it myself", "too risky"],
    "es": ["quiero conservarlo", "ahora no", "lo haré yo", "es arriesgado"],
}
AFTER_DENIAL = {"en": "OK, I won't do that.", "es": "De acuerdo, no lo haré."}
AFTER_ERROR = {
    "en": "{path} does not exist here, so I could not do it.",
    "es": "{path} no existe aquí, así que no pude hacerlo.",
}
# A short preface some assistants write before a call.
PREFACES = {"en": ["Sure.", "On it.", "Let me check."], "es": ["Claro.", "Enseguida.", "Voy a mirarlo."]}


def denial(reason: str) -> str:
    """The agent's exact text for a denied call (engine/tool_steps.py `ToolSteps.handle_call`)."""
    return f"the user denied this call ({reason}). Do not retry it; answer without it."


CANCELLED = ("the user cancelled this call", "cancelled by the user")


def command_answer(cmd: str, output: str, lang: str) -> str:
    if not output:
        return f"Done: `{cmd}` ran without output." if lang == "en" else f"Hecho: `{cmd}` se ejecutó sin salida."
    first = output.splitlines()[0]
    return f"`{cmd}` printed: {first}" if lang == "en" else f"`{cmd}` mostró: {first}"


@dataclass
class Turn:
    """One user request and what follows it: (call, tool output or None if cancelled) pairs and the answer."""

    lang: str
    text: str
    steps: list[tuple[ToolCall, str]] = field(default_factory=list)
    answer: str | None = None  # None after a cancelled call: the agent stops and the user speaks next
    frame: str = ""


def shell_turn(lang: str, text: str, cmd: str, out: str, frame: str = "") -> Turn:
    """A request that ran `cmd` in the shell: the call, its output as the agent writes it, the answer."""
    output = f"{out}\n{EXIT0}" if out else EXIT0
    return Turn(lang, text, [(_shell(cmd), output)], command_answer(cmd, out, lang), frame)


@dataclass
class ConversationMaker:
    """Draws conversations; `frames` / `pair_frames` / `command_frames` choose the split's phrasings."""

    rng: random.Random
    frames: dict[str, list[str]]
    pair_frames: dict[str, list[str]]
    command_frames: dict[str, list[str]]
    followup_index: Callable[[int], list[int]]  # len(followups) -> usable indexes
    chat_turn: Callable[[str], tuple[str, str]]  # lang -> (question, answer) needing no tool
    actions: list[Action] = field(default_factory=lambda: list(ACTIONS))
    # The training mix sets these three; the held-out set keeps the defaults (and so its cases).
    action_weights: dict[str, float] | None = None
    tool_turn: Callable[[str], Turn] | None = None  # lang -> a request for any built-in tool, its result and answer
    shell_chat_share: float = 0.25  # conversations made only of direct shell commands
    pair_share: float = 0.3  # first requests about a file that ask for two things

    def _outcome(self, action: Action, file: tuple, lang: str) -> tuple[str, str | None]:
        """The result text and the answer after it (None when cancelled)."""
        roll = self.rng.random()
        if action.deniable and roll < 0.15:
            return denial(self.rng.choice(DENY_REASONS[lang])), AFTER_DENIAL[lang]
        if roll < 0.20:
            return self.rng.choice(CANCELLED), None
        if action.error and roll < 0.28:
            return action.error(file), AFTER_ERROR[lang].format(path=file[0])
        return action.output(file) or "(no output)", action.answer(file, lang)

    def _task(self, action: Action, lang: str, path: str) -> str:
        """The action's task naming `path`: drawn when there are several (a plain string draws nothing,
        so a maker given string tasks makes the same draws, and the same conversations, as before)."""
        task = action.task[lang]
        return (self.rng.choice(task) if isinstance(task, list) else task).format(path=path)

    def _actions_for(self, file: tuple) -> list[Action]:
        py = file[0].endswith(".py")
        return [a for a in self.actions if py or not a.python_only]

    def file_turn(self, lang: str, file: tuple, refer_back: bool) -> Turn:
        actions = self._actions_for(file)
        if not refer_back and self.rng.random() < self.pair_share:
            safe = [a for a in actions if not a.deniable]
            if self.action_weights:
                a1 = self.rng.choices(safe, weights=[self.action_weights.get(a.id, 1.0) for a in safe])[0]
                rest = [a for a in safe if a is not a1]
                a2 = self.rng.choices(rest, weights=[self.action_weights.get(a.id, 1.0) for a in rest])[0]
            else:
                a1, a2 = self.rng.sample(safe, 2)
            index = self.rng.randrange(len(self.pair_frames[lang]))
            t1 = self._task(a1, lang, file[0])
            text = self.pair_frames[lang][index].format(t1=t1, t2=self._task(a2, lang, file[0]))
            turn = Turn(lang, text[:1].upper() + text[1:], frame=f"pair.{lang}.{index}")
            for action in (a1, a2):
                output, answer = self._outcome(action, file, lang)
                turn.steps.append((action.call(file[0]), output))
                if answer is None:
                    return turn
            turn.answer = (
                f"{a1.answer(file, lang)} {a2.answer(file, lang)}"
                if not output.startswith("the user denied")
                else AFTER_DENIAL[lang]
            )
            if any(o.endswith("[exit status 1]") or " failed: " in o for _c, o in turn.steps):
                turn.answer = AFTER_ERROR[lang].format(path=file[0])
            return turn
        if self.action_weights:
            action = self.rng.choices(actions, weights=[self.action_weights.get(a.id, 1.0) for a in actions])[0]
        else:
            action = self.rng.choice(actions)
        if refer_back:
            usable = self.followup_index(len(action.followups[lang]))
            index = self.rng.choice(usable)
            text, frame = action.followups[lang][index], f"followup.{action.id}.{lang}.{index}"
        else:
            index = self.rng.randrange(len(self.frames[lang]))
            task = self._task(action, lang, file[0])
            text = self.frames[lang][index].format(task=task, Task=task[:1].upper() + task[1:])
            frame = f"file.{lang}.{index}"
        output, answer = self._outcome(action, file, lang)
        return Turn(lang, text, [(action.call(file[0]), output)], answer, frame)

    def command_turn(self, lang: str) -> Turn:
        cmd, out = COMMANDS[self.rng.randrange(len(COMMANDS))]
        index = self.rng.randrange(len(self.command_frames[lang]))
        text = self.command_frames[lang][index].format(cmd=cmd)
        roll = self.rng.random()
        if roll < 0.08:
            return Turn(lang, text, [(_shell(cmd), self.rng.choice(CANCELLED))], None, f"cmd.{lang}.{index}")
        return shell_turn(lang, text, cmd, out, f"cmd.{lang}.{index}")

    def conversation(self, lang: str) -> list[Turn]:
        """2-4 requests; most have at least two tool turns, some a plain question after a tool turn."""
        n = self.rng.choice([2, 3, 3, 4])
        turns: list[Turn] = []
        file = FILES[self.rng.randrange(len(FILES))]
        shell_chat = self.rng.random() < self.shell_chat_share
        gone = False
        for position in range(n):
            if position and self.rng.random() < 0.2:
                lang = "es" if lang == "en" else "en"  # the user switches language; the answer follows
            if shell_chat:
                turn = self.command_turn(lang) if position == 0 or self.rng.random() < 0.8 else None
            elif position == 0:
                if self.tool_turn is not None and self.rng.random() < 0.5:
                    turn = self.tool_turn(lang)
                else:
                    turn = self.file_turn(lang, file, refer_back=False)
            else:
                roll = self.rng.random()
                about_file = turns[-1].frame.startswith(("file", "followup", "pair"))  # "it" has a referent
                if roll < 0.65 and not gone and about_file:
                    turn = self.file_turn(lang, file, refer_back=True)
                elif (roll < 0.8 or gone or not about_file) and self.tool_turn is not None and self.rng.random() < 0.6:
                    turn = self.tool_turn(lang)  # a request about something else, for any tool
                elif roll < 0.8 or gone or not about_file:
                    gone = False
                    file = FILES[self.rng.randrange(len(FILES))]
                    turn = self.file_turn(lang, file, refer_back=False)
                elif roll < 0.88:
                    turn = self.command_turn(lang)
                else:
                    turn = None
            if turn is None or (position == n - 1 and turn.answer is None):
                # A plain question (also instead of ending the conversation on a cancelled call).
                question, answer = self.chat_turn(lang)
                turn = Turn(lang, question, [], answer, "chat")
            elif any(
                (c.arguments.get("command", "").startswith("rm ") and o == EXIT0)
                or o.endswith("[exit status 1]")
                or " failed: " in o
                for c, o in turn.steps
            ):
                gone = True  # the file is gone (or never was): the next request names another one
            turns.append(turn)
        return turns


def render(turns: list[Turn], dialect, rng: random.Random) -> list[dict[str, Any]]:
    """The messages after the system message, as the agent stores them."""
    messages: list[dict[str, Any]] = []
    for turn in turns:
        messages.append({"role": "user", "content": turn.text})
        for index, (call, output) in enumerate(turn.steps):
            body = dialect.format_call(call)
            if index == 0 and rng.random() < 0.15:
                body = f"{rng.choice(PREFACES[turn.lang])}\n{body}"
            messages.append({"role": "assistant", "content": body})
            messages.append({"role": "tool", "content": dialect.render_result(call.name, output)})
        if turn.answer is not None:
            messages.append({"role": "assistant", "content": turn.answer})
    return messages


def calls_of(turns: list[Turn]) -> list[ToolCall]:
    return [call for turn in turns for call, _output in turn.steps]
