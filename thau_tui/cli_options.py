"""thau's chat options (--message, --yes, --resume, --model, --base-url, --server-model) given
before a command: taken where the command uses them, refused where it does not, never dropped."""

from __future__ import annotations

import argparse
from typing import Any

# thau's own options, for the chat, by their dest. Given before a command, its parser set its own
# defaults over them (eval's --model, train's --resume) or it never read them: `thau --model
# nope.gguf eval` scored the bundled model (CLI review, 2026-12-07 night).
CHAT_DESTS = ("message", "yes", "resume", "model", "base_url", "server_model")
CHAT_OPTIONS = {dest: "--" + dest.replace("_", "-") for dest in CHAT_DESTS}
# The commands that use some: doctor checks what the chat would run; eval's --model is its own.
COMMAND_TAKES = {"doctor": {"model", "base_url", "server_model"}, "eval": {"model"}}


# argparse's subcommand action is private: checked, and without it the options before a
# command go unchecked, as they did before.
_SubParsers: Any = getattr(argparse, "_SubParsersAction", None)


class _Commands(_SubParsers or argparse.Action):  # type: ignore[misc]
    """thau's commands, noting the chat options given before the command (`before_command`)."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = {dest: getattr(namespace, dest, None) for dest in CHAT_OPTIONS}
        super().__call__(parser, namespace, values, option_string)
        namespace.before_command = {dest: value for dest, value in given.items() if value not in (None, False)}


def chat_options_kept(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """The chat options given before the command: put back where it takes them, refused where
    it does not, with where they go (a parser error: usage, one line, exit 2)."""
    given = getattr(args, "before_command", {})
    takes = COMMAND_TAKES.get(args.command, set())
    for dest in takes & given.keys():
        if getattr(args, dest, None) not in (None, given[dest]):  # eval's own --model as well
            parser.error(f"{CHAT_OPTIONS[dest]} is given twice, before and after '{args.command}': give it once")
        setattr(args, dest, given[dest])
    wrong = [flag for dest, flag in CHAT_OPTIONS.items() if dest in given and dest not in takes]
    if not wrong:
        return
    hint = f"leave {'it' if len(wrong) == 1 else 'them'} out (thau {args.command} --help lists its options)"
    if args.command == "train" and "resume" in given:
        hint = "to resume a training run: thau train --resume [RUN_DIR]"
    elif args.command == "eval" and {"base_url", "server_model"} & given.keys():
        hint = "thau eval scores a GGUF file on this machine: thau eval CASES --output FILE --model PATH"
    verb = "is" if len(wrong) == 1 else "are"
    parser.error(f"{' and '.join(wrong)} {verb} for the chat, not 'thau {args.command}': {hint}")


def note_chat_options(parser: argparse.ArgumentParser) -> None:
    """Make `parser`'s commands note the chat options given before them (where argparse has
    the action to build on)."""
    if _SubParsers is not None:
        parser.register("action", "parsers", _Commands)
