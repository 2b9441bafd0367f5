"""The words of the multi-turn conversations (conversation_phrasings.py, named_commands.py):
the eval split keeps the entries the committed eval set was built with, no list repeats an
entry, and every entry formats with the placeholders the code fills in."""

from __future__ import annotations

import random
import string

import pytest

from thau_tui.train import conversation_phrasings as words
from thau_tui.train import conversations, named_commands
from thau_tui.train.phrasings import eval_frame_indexes

# The entries held out for eval when the lists grew: they must stay the last ones, in this order.
PINNED_EVAL = {
    "FRAMES.en": (conversations.FRAMES["en"], ["Go ahead and {task}.", "Next, {task}."]),
    "FRAMES.es": (conversations.FRAMES["es"], ["Me gustaría {task}.", "Ahora quiero {task}."]),
    "PAIR_FRAMES.en": (conversations.PAIR_FRAMES["en"], ["Can you {t1} and also {t2}?"]),
    "PAIR_FRAMES.es": (conversations.PAIR_FRAMES["es"], ["¿Puedes {t1} y también {t2}?"]),
    "COMMAND_FRAMES.en": (
        conversations.COMMAND_FRAMES["en"],
        ["Please run the command {cmd}.", "Type {cmd} in the terminal."],
    ),
    "COMMAND_FRAMES.es": (
        conversations.COMMAND_FRAMES["es"],
        ["Por favor, lanza el comando {cmd}.", "Escribe {cmd} en la terminal."],
    ),
    "followups.read.en": (conversations.ACTION_BY_ID["read"].followups["en"], ["What does it say?"]),
    "followups.read.es": (conversations.ACTION_BY_ID["read"].followups["es"], ["¿Qué pone dentro?"]),
    "followups.lines.en": (conversations.ACTION_BY_ID["lines"].followups["en"], ["And its line count?"]),
    "followups.lines.es": (conversations.ACTION_BY_ID["lines"].followups["es"], ["¿Y cuántas líneas son?"]),
    "followups.delete.en": (conversations.ACTION_BY_ID["delete"].followups["en"], ["OK, get rid of it."]),
    "followups.delete.es": (conversations.ACTION_BY_ID["delete"].followups["es"], ["Vale, quítalo."]),
    "named.FRAMES.en": (named_commands.FRAMES["en"], ["Can you {task}? Use {cmd}.", "{Task}; run {cmd} for that."]),
    "named.FRAMES.es": (
        named_commands.FRAMES["es"],
        ["¿Puedes {task}? Usa {cmd}.", "{Task}; ejecuta {cmd} para eso."],
    ),
    "named.TASKS": (
        [row[0] for row in named_commands.TASKS],
        ["list the folder with sizes", "sort the lines of names.txt"],
    ),
}


@pytest.mark.parametrize("name", sorted(PINNED_EVAL))
def test_the_committed_eval_entries_are_still_held_out(name):
    entries, pinned = PINNED_EVAL[name]
    assert entries[-len(pinned) :] == pinned
    held = eval_frame_indexes(len(entries))
    assert {len(entries) - len(pinned) + i for i in range(len(pinned))} <= held
    train = [e for i, e in enumerate(entries) if i not in held]
    assert not set(pinned) & set(train)


def _lists() -> dict[str, list]:
    lists: dict[str, list] = {"COMMANDS": [c for c, _out in conversations.COMMANDS]}
    lists["named.TASKS.en"] = [row[0] for row in named_commands.TASKS]
    lists["named.TASKS.es"] = [row[1] for row in named_commands.TASKS]
    for lang in ("en", "es"):
        lists[f"FRAMES.{lang}"] = conversations.FRAMES[lang]
        lists[f"PAIR_FRAMES.{lang}"] = conversations.PAIR_FRAMES[lang]
        lists[f"COMMAND_FRAMES.{lang}"] = conversations.COMMAND_FRAMES[lang]
        lists[f"named.FRAMES.{lang}"] = named_commands.FRAMES[lang]
        for action in conversations.ACTIONS:
            lists[f"task.{action.id}.{lang}"] = list(action.task[lang])
            lists[f"followups.{action.id}.{lang}"] = action.followups[lang]
    return lists


def test_no_list_repeats_an_entry():
    for name, entries in _lists().items():
        assert len(entries) == len(set(entries)), name


def test_the_lists_are_varied():
    for lang in ("en", "es"):
        assert len(conversations.FRAMES[lang]) >= 14 and len(conversations.PAIR_FRAMES[lang]) >= 9
        assert len(conversations.COMMAND_FRAMES[lang]) >= 12 and len(named_commands.FRAMES[lang]) >= 10
        for action in conversations.ACTIONS:
            assert 5 <= len(action.task[lang]) <= 10 and 7 <= len(action.followups[lang]) <= 12, action.id
    assert len(conversations.COMMANDS) >= 45 and len(named_commands.TASKS) >= 27
    # named_commands.BEFORE takes COMMANDS[3:8]: new commands were appended, not inserted.
    assert [c for c, _ in conversations.COMMANDS[3:8]] == [
        "date",
        "whoami",
        "git status --short",
        "python3 --version",
        "uname -s",
    ]


def _fields(text: str) -> set[str]:
    return {field for _lit, field, _spec, _conv in string.Formatter().parse(text) if field is not None}


def test_every_entry_formats_with_the_placeholders_the_code_fills():
    for lang in ("en", "es"):
        for action in conversations.ACTIONS:
            for task in action.task[lang]:
                assert _fields(task) == {"path"}, task
                assert "{" not in task.format(path="notes.txt")
            for followup in action.followups[lang]:
                assert not _fields(followup), followup
        for frame in conversations.FRAMES[lang]:
            assert _fields(frame) in ({"task"}, {"Task"}), frame
            frame.format(task="x", Task="X")
        for frame in conversations.PAIR_FRAMES[lang]:
            assert _fields(frame) == {"t1", "t2"}, frame
        for frame in conversations.COMMAND_FRAMES[lang]:
            assert _fields(frame) == {"cmd"}, frame
        for frame in named_commands.FRAMES[lang]:
            assert _fields(frame) - {"task", "Task"} == {"cmd"} and _fields(frame) & {"task", "Task"}, frame
    for _en, _es, cmd, _out in named_commands.TASKS:
        assert cmd.strip() == cmd and cmd


def test_a_pair_does_its_first_task_first_whatever_the_word_order():
    # "Before you {t2}, {t1}." still asks for t1 first: t1 is always the first call.
    for lang in ("en", "es"):
        for frame in conversations.PAIR_FRAMES[lang]:
            text = frame.format(t1="<one>", t2="<two>")
            assert "<one>" in text and "<two>" in text


def test_string_tasks_draw_no_random_numbers():
    """heldout.py builds its cases through ConversationMaker with string tasks: those must draw
    exactly what they drew before tasks could be lists, so its cases stay the same."""
    action = conversations.ACTION_BY_ID["read"]
    plain = conversations.Action(
        "read", {"en": "show me {path}"}, action.followups, action.call, action.output, action.answer
    )
    maker = conversations.ConversationMaker(
        random.Random(3),
        words.FRAMES,
        words.PAIR_FRAMES,
        words.COMMAND_FRAMES,
        lambda n: list(range(n)),
        lambda _l: ("", ""),
    )
    state = maker.rng.getstate()
    assert maker._task(plain, "en", "a.txt") == "show me a.txt"
    assert maker.rng.getstate() == state
    drawn = {maker._task(action, "es", "a.txt") for _ in range(200)}
    assert drawn == {t.format(path="a.txt") for t in words.TASKS["read"]["es"]}
