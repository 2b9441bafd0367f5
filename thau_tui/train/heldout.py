"""Held-out evals that share no template, value list or schema vocabulary with training.

- heldout_builtin.jsonl: single requests for the built-in tools (EN/ES) in frames
  the builder never uses, plus questions that need no tool;
- heldout_multiturn.jsonl: conversations in held-out phrasings about other files,
  stopped before the 2nd or 3rd tool request (the call after a tool result);
- heldout_schemas.jsonl: synthetic tools from schemas.HELDOUT (other domains,
  verbs, objects and parameters), each case carrying its tools as OpenAI schemas.

Cases are in ARCHITECTURE's eval format (no system message: `thau eval` renders it
for the case's tools), so `thau eval CASES --output PRED` scores them.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from ..engine.dialects import Dialect
from ..tools import Tool, ToolRegistry
from . import conversations, schemas

# (tool, EN frame, ES frame, values, arguments from a value). Frames and values appear nowhere in training.
BUILTIN = [
    (
        "run_shell",
        "What does `{v}` print here?",
        "¿Qué imprime `{v}` aquí?",
        ["uname -m", "ls -lt | head -3", "cat /proc/loadavg", "git rev-parse HEAD", "env | wc -l"],
        lambda v: {"command": v},
    ),
    (
        "run_python",
        "Execute this Python snippet: {v}",
        "Ejecuta este fragmento de Python: {v}",
        [
            "print(sum(x * x for x in range(7)))",
            "print(sorted('banana'))",
            "print(len('mississippi'))",
            "print(17 % 5, 17 // 5)",
        ],
        lambda v: {"code": v},
    ),
    (
        "read_file",
        "I'd like to see the text of {v}.",
        "Quiero ver el texto de {v}.",
        ["CHANGELOG.md", "src/db/models.py", "deploy/nginx.conf", "LICENSE"],
        lambda v: {"path": v},
    ),
    (
        "write_file",
        "Save the text '{c}' into {v}.",
        "Guarda el texto '{c}' en {v}.",
        [
            ("todo/today.txt", "water the plants"),
            ("out/summary.txt", "all checks passed"),
            ("notes/ideas.md", "try a smaller model"),
        ],
        lambda v: {"path": v[0], "content": v[1]},
    ),
    (
        "write_file",
        "Follow the existing text of {v} with the line '{c}'.",
        "Tras el texto que ya tiene {v}, añade la línea '{c}'.",
        [("journal.txt", "slept well"), ("build.log", "retry at 18:00"), ("shopping.txt", "olive oil")],
        lambda v: {"path": v[0], "content": v[1], "mode": "append"},
    ),
    (
        "list_directory",
        "What's inside the {v} folder?",
        "¿Qué hay dentro de la carpeta {v}?",
        ["fixtures", "migrations", "bench", "vendor"],
        lambda v: {"path": v},
    ),
    (
        "search_code",
        "Where in the code does {v} appear?",
        "¿En qué parte del código aparece {v}?",
        ["retry_count", "legacy_mode", "parse_header", "MAX_WORKERS"],
        lambda v: {"pattern": v},
    ),
    (
        "generate_image",
        "Conjure up an image of {v}.",
        "Hazme una ilustración con {v}.",
        ["a lighthouse at dawn", "a red fox in tall grass", "a paper boat on a puddle"],
        lambda v: {"prompt": v},
    ),
    (
        "generate_image",
        "Render {v} at {w}x{h} pixels.",
        "Renderiza {v} a {w}x{h} píxeles.",
        [("a desert highway", 768, 512), ("an origami crane", 512, 768), ("a neon city street", 640, 384)],
        lambda v: {"prompt": v[0], "width": v[1], "height": v[2]},
    ),
    (
        "search_docs",
        "Pull up the Python docs for {v}.",
        "Busca en la documentación de Python {v}.",
        ["itertools.accumulate", "pathlib.Path.glob", "functools.cached_property", "heapq"],
        lambda v: {"query": v},
    ),
    (
        "analyze_code",
        "Does this line open a security hole? {v}",
        "¿Abre esta línea un agujero de seguridad? {v}",
        ["eval(input())", "os.system('rm ' + name)", "pickle.loads(data)"],
        lambda v: {"code": v, "analysis_type": "security"},
    ),
    (
        "run_tests",
        "Run the test suite in {v}.",
        "Ejecuta la batería de tests de {v}.",
        ["tests/test_parser.py", "tests/integration", "tests/test_cache.py"],
        lambda v: {"path": v},
    ),
    (
        "debug_code",
        "This crashes, why? {v}",
        "Esto falla, ¿por qué? {v}",
        ["print([1, 2][5])", "int('abc')", "{}['missing']"],
        lambda v: {"code": v},
    ),
    # ask_user is left out: the scorer compares the question text exactly, so no wording could be fair.
]

NO_TOOL = {
    "en": [
        "What's the difference between a list and a tuple?",
        "Say good night in French.",
        "Why is the sky blue, in one sentence?",
        "Give me a name for a grey cat.",
        "What does HTTP 404 mean?",
        "Is 91 a prime number?",
        "Thanks a lot, that helped!",
        "Write a haiku about autumn.",
        "What is a mutex?",
        "How many minutes are in a day?",
    ],
    "es": [
        "¿Qué diferencia hay entre una lista y una tupla?",
        "Dime buenas noches en francés.",
        "¿Por qué el cielo es azul, en una frase?",
        "Dame un nombre para un gato gris.",
        "¿Qué significa HTTP 404?",
        "¿Es 91 un número primo?",
        "¡Muchas gracias, me sirvió!",
        "Escribe un haiku sobre el otoño.",
        "¿Qué es un mutex?",
        "¿Cuántos minutos tiene un día?",
    ],
}
NO_TOOL_ANSWER = {"en": "Here is the answer.", "es": "Aquí está la respuesta."}

# Multi-turn: other files, other commands, other phrasings.
HELD_FILES = [
    ("inventory.json", 88, '{\n  "items": []', "12K", None),
    ("lib/utils.py", 140, "import re\nimport json", "16K", (33, "# TODO: cache results")),
    ("web/index.html", 56, "<!doctype html>\n<html>", "8.0K", None),
    ("Makefile", 25, "all: build\nbuild:", "4.0K", (12, "# TODO: add lint target")),
    ("db/schema.sql", 73, "CREATE TABLE users (\n  id INTEGER PRIMARY KEY", "8.0K", None),
    ("cli/run.py", 61, "import sys\nimport argparse", "8.0K", (20, "# TODO: add --verbose")),
]
HELD_TASKS = {  # action id -> (EN task, ES task, EN follow-ups, ES follow-ups)
    "read": ("open up {path}", "abrir {path}", ["Let me see its contents."], ["Enséñame lo que contiene."]),
    "lines": (
        "tell me how many lines {path} has",
        "decirme cuántas líneas tiene {path}",
        ["And how long is it, in lines?"],
        ["¿Y cuántas líneas ocupa?"],
    ),
    "size": (
        "find out the disk size of {path}",
        "averiguar el tamaño en disco de {path}",
        ["What's its size on disk?"],
        ["¿Qué tamaño tiene en disco?"],
    ),
    "todo": (
        "look for TODO in {path}",
        "localizar los TODO de {path}",
        ["Any TODO markers in there?"],
        ["¿Hay marcas TODO dentro?"],
    ),
    "delete": ("remove {path}", "eliminar {path}", ["Now trash it."], ["Ahora mándalo a la basura."]),
    "copy": ("duplicate {path} as a .bak", "duplicar {path} como .bak", ["Back it up."], ["Haz un respaldo."]),
    "run": ("launch {path}", "lanzar {path}", ["Launch it."], ["Lánzalo."]),
}
HELD_FRAMES = {
    "en": ["Would you {task}?", "Time to {task}.", "Mind if you {task}?"],
    "es": ["¿Me ayudas a {task}?", "Toca {task}.", "¿Te importa {task}?"],
}
HELD_PAIR_FRAMES = {"en": ["{t1}; after that, {t2}."], "es": ["{t1}; después de eso, {t2}."]}
HELD_COMMANDS = [
    ("id -u", "1000"),
    ("ls -1 | wc -l", "7"),
    ("git stash list", ""),
    ("tty", "/dev/pts/2"),
    ("locale", "LANG=en_US.UTF-8"),
    ("git remote -v", "origin git@host:ana/app.git (fetch)"),
]
HELD_COMMAND_FRAMES = {
    "en": ["Shell please: {cmd}", "Could you fire off {cmd}?"],
    "es": ["Terminal, por favor: {cmd}", "¿Puedes lanzar {cmd}?"],
}


def _held_actions() -> list[conversations.Action]:
    out = []
    for action in conversations.ACTIONS:
        if action.id in HELD_TASKS:
            en, es, f_en, f_es = HELD_TASKS[action.id]
            out.append(dataclasses.replace(action, task={"en": en, "es": es}, followups={"en": f_en, "es": f_es}))
    return out


def builtin_cases(rng: random.Random) -> list[dict[str, Any]]:
    cases = []
    for tool, en, es, values, build in BUILTIN:
        for value in values:
            for lang, frame in (("en", en), ("es", es)):
                if isinstance(value, tuple) and tool == "write_file":
                    text = frame.format(v=value[0], c=value[1])
                elif isinstance(value, tuple):
                    text = frame.format(v=value[0], w=value[1], h=value[2])
                else:
                    text = frame.format(v=value)
                expected = [{"name": tool, "arguments": build(value)}]
                cases.append(
                    {
                        "lang": lang,
                        "kind": "call",
                        "tool": tool,
                        "template": f"heldout.{tool}",
                        "messages": [{"role": "user", "content": text}],
                        "expected_calls": expected,
                    }
                )
    for lang in ("en", "es"):
        for index, text in enumerate(NO_TOOL[lang]):
            cases.append(
                {
                    "lang": lang,
                    "kind": "no_call",
                    "tool": None,
                    "template": f"heldout.no_tool.{index}",
                    "messages": [{"role": "user", "content": text}],
                    "expected_calls": [],
                }
            )
    return cases


def multiturn_cases(rng: random.Random, dialect: Dialect, tools: list[Tool], n: int) -> list[dict[str, Any]]:
    registry = ToolRegistry(tools)
    saved = conversations.FILES, conversations.COMMANDS
    cases: list[dict[str, Any]] = []
    try:
        conversations.FILES, conversations.COMMANDS = HELD_FILES, HELD_COMMANDS
        maker = conversations.ConversationMaker(
            rng,
            HELD_FRAMES,
            HELD_PAIR_FRAMES,
            HELD_COMMAND_FRAMES,
            lambda k: list(range(k)),
            lambda lang: (rng.choice(NO_TOOL[lang]), NO_TOOL_ANSWER[lang]),
            _held_actions(),
        )
        while len(cases) < n:
            lang = ("en", "es")[len(cases) % 2]
            turns = maker.conversation(lang)
            messages = conversations.render(turns, dialect, rng)
            calls = [
                i for i, m in enumerate(messages) if m["role"] == "assistant" and dialect.parse_calls(m["content"])
            ]
            # The 2nd or 3rd call of the chat, after a tool result.
            later = [i for i in calls[1:3] if any(m["role"] == "tool" for m in messages[:i])]
            if not later:
                continue
            cut = rng.choice(later)
            parsed = [p.call for p in dialect.parse_calls(messages[cut]["content"])]
            for call in parsed:
                assert not registry.validate(call), call
            cases.append(
                {
                    "lang": lang,
                    "kind": "multiturn",
                    "tool": parsed[0].name,
                    "template": "heldout.multiturn",
                    "call_index": calls.index(cut) + 1,
                    "messages": messages[:cut],
                    "expected_calls": [{"name": c.name, "arguments": c.arguments} for c in parsed],
                }
            )
    finally:
        conversations.FILES, conversations.COMMANDS = saved
    return cases


def schema_cases(rng: random.Random, dialect: Dialect, builtins: list[Tool], n: int) -> list[dict[str, Any]]:
    from .schema_examples import schema_example

    vocab = schemas.HELDOUT
    cases = []
    while len(cases) < n:
        lang = ("en", "es")[len(cases) % 2]
        example = schema_example(
            rng,
            dialect,
            vocab,
            list(range(len(vocab.frames[lang]))),
            lang,
            builtins,
            lambda lg: (rng.choice(NO_TOOL[lg]), NO_TOOL_ANSWER[lg]),
            template_prefix="heldout.schema",
            allow_result=False,
            allow_ask=False,
            alone=0.5,
        )
        cases.append(
            {
                "lang": lang,
                "kind": "schema",
                "tool": example["tool"],
                "template": example["template"],
                "tools": example["tools"],
                "messages": example["messages"][1:2],
                "expected_calls": example["expected_calls"],
            }
        )
    return cases


def build_heldout(dialect: Dialect, builtins: list[Tool], seed: int) -> dict[str, list[dict[str, Any]]]:
    """The three held-out files' cases, with ids; deterministic for a seed."""
    rng = random.Random(seed + 104729)
    files = {
        "heldout_builtin.jsonl": builtin_cases(rng),
        "heldout_multiturn.jsonl": multiturn_cases(rng, dialect, builtins, 80),
        "heldout_schemas.jsonl": schema_cases(rng, dialect, builtins, 80),
    }
    for name, cases in files.items():
        prefix = name.removesuffix(".jsonl")
        for index, case in enumerate(cases):
            case["id"] = f"{prefix}-{index:03d}"
            files[name][index] = {"id": case.pop("id"), **case}
    return files
