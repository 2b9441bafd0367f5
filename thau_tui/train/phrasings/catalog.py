"""Every family of requests, with how often each is drawn."""

from __future__ import annotations

from typing import Callable

from . import Family, Item, chat, devtools, files, images, inline_code, tools, writing


def _any_frame(draw: Callable) -> Callable:
    """Most drawers ignore which frame was picked."""
    return lambda rng, _index: draw(rng)


def call_families() -> list[Family]:
    """Requests that need a tool; weights roughly follow how often people ask for each."""
    f = Family
    return [
        f("run_shell", "run_shell", tools.GENERIC, _any_frame(tools.shell), 3.0, frames_id="generic"),
        f("run_shell_direct", "run_shell", tools.SHELL_DIRECT, _any_frame(tools.shell_direct), 1.0),
        f("run_python", "run_python", tools.GENERIC, _any_frame(tools.python), 2.0, frames_id="generic"),
        f("run_python_direct", "run_python", tools.PYTHON_DIRECT, _any_frame(tools.python_direct), 1.0),
        f("read_file", "read_file", files.READ, _any_frame(files.read), 1.5),
        f("write_file", "write_file", files.WRITE, _any_frame(files.write), 1.0),
        f("write_file_append", "write_file", files.APPEND, _any_frame(lambda r: files.write(r, "append")), 0.5),
        f("list_directory", "list_directory", files.LIST, _any_frame(files.listing), 1.5),
        f("search_code", "search_code", files.SEARCH, _any_frame(files.search), 1.0),
        f("search_code_in", "search_code", files.SEARCH_IN, _any_frame(lambda r: files.search(r, True)), 0.5),
        f("generate_image", "generate_image", images.IMAGE, _any_frame(images.image), 1.5),
        *[
            f(
                f"generate_image_{o}",
                "generate_image",
                images.IMAGE_OPTIONS[o],
                _any_frame(images.image_options(o)),
                0.35,
            )
            for o in ("size", "seed", "steps")
        ],
        f("search_docs", "search_docs", devtools.DOCS, _any_frame(devtools.docs), 1.0),
        *[
            f(f"analyze_code_{k}", "analyze_code", devtools.ANALYZE[k], _any_frame(devtools.analyze(k)), 0.4)
            for k in ("security", "syntax", "complexity")
        ],
        f("run_tests", "run_tests", devtools.RUN_TESTS, _any_frame(devtools.run_tests), 1.0),
        f("debug_code", "debug_code", devtools.DEBUG, _any_frame(devtools.debug(True)), 0.6),
        f("debug_code_bare", "debug_code", devtools.DEBUG_NO_ERROR, _any_frame(devtools.debug(False)), 0.4),
        f("debug_code_inline", "debug_code", inline_code.DEBUG_INLINE, _any_frame(inline_code.debug_inline), 0.5),
        f(
            "analyze_code_security_inline",
            "analyze_code",
            inline_code.SECURITY_INLINE,
            _any_frame(inline_code.security_inline),
            0.4,
        ),
        f("ask_user", "ask_user", devtools.ASK, _any_frame(devtools.ask), 0.8),
    ]


def _greeting_at(rng, index: int) -> Item:
    # Each greeting is its own template, so held-out greetings are ones the model never saw.
    en, reply_en, es, reply_es = chat.GREETINGS[index]
    return Item({"en": {}, "es": {}}, answer={"en": reply_en, "es": reply_es})


def chat_families() -> list[Family]:
    """Requests answered in words: small talk, facts, explanations, code shown in the reply."""
    f = Family
    greetings = {"en": [g[0] for g in chat.GREETINGS], "es": [g[2] for g in chat.GREETINGS]}
    return [
        f("greeting", None, greetings, _greeting_at, 3.0),
        f("concept", None, chat.CONCEPT_FRAMES, _any_frame(chat.concept), 3.0),
        f("arithmetic", None, chat.ARITHMETIC_FRAMES, _any_frame(chat.arithmetic), 0.8),
        f("code", None, chat.CODE_FRAMES, _any_frame(chat.code), 1.5),
        f("translate", None, chat.TRANSLATE_FRAMES, _any_frame(chat.translate), 0.7),
    ]


def written_families() -> list[Family]:
    """Requests that sound like tasks but are answered in words (the `written` kind)."""
    f = Family
    return [
        f("verse", None, writing.VERSE_FRAMES, _any_frame(writing.verse), 1.0),
        f("name", None, writing.NAME_FRAMES, _any_frame(writing.name), 1.0),
        f("fact", None, writing.FACT_FRAMES, _any_frame(writing.fact), 1.0),
    ]


def prose_families() -> list[Family]:
    """Text to work on or advice, answered in words (the `prose` kind): a sentence the
    request gives, reworded; a couple of tips."""
    f = Family
    return [
        f("reword", None, writing.REWORD_FRAMES, _any_frame(writing.reword), 1.0),
        f("tips", None, writing.TIP_FRAMES, _any_frame(writing.tips), 1.0),
    ]


def family_ids() -> list[str]:
    """What a recipe's family_weights may name: every family of single requests."""
    return [f.id for f in call_families() + chat_families() + written_families() + prose_families()]
