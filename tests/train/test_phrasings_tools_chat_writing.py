"""The frames of phrasings/tools.py, chat.py and writing.py: the eval side stays where the
committed eval set put it, no list repeats a frame, and every frame reads whole with the
words its family's draw gives, at every frame index."""

from __future__ import annotations

import random
import string

import pytest

from thau_tui.train.phrasings import Family, chat, eval_frame_indexes, tools, writing
from thau_tui.train.phrasings.catalog import call_families, chat_families, prose_families, written_families

# The eval frames each list had when the committed eval set was built (the last one of a list
# of three to five, the last two from six up). Growing a list must keep them held out.
EVAL_FRAMES = {
    "tools.GENERIC": (
        tools.GENERIC,
        {
            "en": ["Quick one: {task}.", "I'd like you to {task}, please."],
            "es": ["Una cosa rápida: {task}.", "Quisiera {task}, por favor."],
        },
    ),
    "tools.SHELL_DIRECT": (
        tools.SHELL_DIRECT,
        {
            "en": ["Please run {command} and tell me what it says."],
            "es": ["Por favor, ejecuta {command} y dime qué sale."],
        },
    ),
    "tools.PYTHON_DIRECT": (
        tools.PYTHON_DIRECT,
        {"en": ["Try running this snippet:\n{code}"], "es": ["Prueba a ejecutar este fragmento:\n{code}"]},
    ),
    "chat.CONCEPT_FRAMES": (
        chat.CONCEPT_FRAMES,
        {
            "en": ["Quick question: what's {concept}?", "Describe {concept} for a beginner."],
            "es": ["Pregunta rápida: ¿qué es {concept}?", "Describe {concept} para un principiante."],
        },
    ),
    "chat.ARITHMETIC_FRAMES": (chat.ARITHMETIC_FRAMES, {"en": ["{a} {op} {b} = ?"], "es": ["{a} {op} {b} = ?"]}),
    "chat.CODE_FRAMES": (
        chat.CODE_FRAMES,
        {"en": ["Give me code for a function that {task}."], "es": ["Dame el código de una función que {task}."]},
    ),
    "chat.TRANSLATE_FRAMES": (
        chat.TRANSLATE_FRAMES,
        {"en": ["What is '{phrase}' in Spanish?"], "es": ["¿Qué es '{phrase}' en inglés?"]},
    ),
    "chat.GREETINGS": (
        {"en": [g[0] for g in chat.GREETINGS], "es": [g[2] for g in chat.GREETINGS]},
        {"en": ["ok", "Are you online?"], "es": ["vale", "¿Estás conectado a internet?"]},
    ),
    "writing.VERSE_FRAMES": (
        writing.VERSE_FRAMES,
        {
            "en": ["Give me a couple of poetic lines about {topic}.", "Write some verses about {topic}."],
            "es": ["Dame un par de líneas poéticas sobre {topic}.", "Escribe unos versos sobre {topic}."],
        },
    ),
    "writing.NAME_FRAMES": (
        writing.NAME_FRAMES,
        {
            "en": ["Think of a fun name for {thing}.", "Help me name {thing}."],
            "es": ["Piensa un nombre divertido para {thing}.", "Ayúdame a ponerle nombre a {thing}."],
        },
    ),
    "writing.FACT_FRAMES": (
        writing.FACT_FRAMES,
        {
            "en": ["How many {small} does {big} have?", "Tell me the number of {small} in {big}."],
            "es": ["¿Cuántos {small} tiene {big}?", "Dime el número de {small} de {big}."],
        },
    ),
    "writing.REWORD_FRAMES": (
        writing.REWORD_FRAMES,
        {
            "en": ["Edit this sentence so it is {style}: {sentence}", "Give me a {style} version of: {sentence}"],
            "es": ["Corrige esta frase para que sea {style}: {sentence}", "Dame una versión {style} de: {sentence}"],
        },
    ),
    "writing.TIP_FRAMES": (
        writing.TIP_FRAMES,
        {
            "en": ["Share a few quick ideas for {subject}.", "What would you suggest for {subject}?"],
            "es": ["Comparte unas ideas rápidas para {subject}.", "¿Qué sugerirías para {subject}?"],
        },
    ),
}


def _my_families() -> list[Family]:
    """The families whose frames come from tools.py, chat.py or writing.py."""
    lists = [
        tools.GENERIC,
        tools.SHELL_DIRECT,
        tools.PYTHON_DIRECT,
        chat.CONCEPT_FRAMES,
        chat.ARITHMETIC_FRAMES,
        chat.CODE_FRAMES,
        chat.TRANSLATE_FRAMES,
        *(getattr(writing, n) for n in ("VERSE_FRAMES", "NAME_FRAMES", "FACT_FRAMES", "REWORD_FRAMES", "TIP_FRAMES")),
    ]
    every = call_families() + chat_families() + written_families() + prose_families()
    mine = [f for f in every if any(f.frames is frames for frames in lists) or f.id == "greeting"]
    assert len(mine) == 2 + 2 + 5 + 5  # shell/python (generic, direct); greeting + 4 chat; 3 written + 2 prose
    return mine


@pytest.mark.parametrize("name", sorted(EVAL_FRAMES))
def test_todays_eval_frames_stay_held_out_at_the_end(name):
    frames, held = EVAL_FRAMES[name]
    for lang in ("en", "es"):
        found = frames[lang]
        eval_side = [found[i] for i in sorted(eval_frame_indexes(len(found)))]
        assert found[-len(held[lang]) :] == held[lang], (name, lang)
        for frame in held[lang]:
            assert frame in eval_side, (name, lang, frame)
        # Grown: these lists had 3 to 10 frames (14 greetings); now at least 11 each.
        assert len(found) >= 11, (name, lang, len(found))


def test_no_list_repeats_a_frame():
    for family in _my_families():
        for lang, frames in family.frames.items():
            assert len(frames) == len(set(frames)), (family.id, lang)
            assert len({f.strip().lower() for f in frames}) == len(frames), (family.id, lang)


def test_both_languages_have_frames_for_every_family():
    for family in _my_families():
        assert set(family.frames) == {"en", "es"}
        assert len(family.frames["en"]) >= 11 and len(family.frames["es"]) >= 11, family.id


def _fields(frame: str) -> set[str]:
    return {name for _text, name, _spec, _conv in string.Formatter().parse(frame) if name is not None}


def test_every_frame_reads_whole_with_its_drawn_words_at_every_index():
    for family in _my_families():
        for lang, frames in family.frames.items():
            for index, frame in enumerate(frames):
                for seed in range(25):
                    item = family.draw(random.Random(seed), index)
                    words = item.words[lang]
                    assert _fields(frame) <= set(words), (family.id, lang, index, frame)
                    assert frame.format(**words).strip(), (family.id, lang, index)
                    assert item.answer[lang], (family.id, lang)


def test_every_frame_states_the_drawn_values_of_its_call():
    """Argument fidelity: the task, command or code the call carries is the one the request says."""
    for family in _my_families():
        if family.tool is None:
            continue
        for lang, frames in family.frames.items():
            for index, frame in enumerate(frames):
                for seed in range(25):
                    item = family.draw(random.Random(seed), index)
                    text = frame.format(**item.words[lang])
                    for word in item.words[lang].values():
                        assert word in text, (family.id, lang, index)
                    args = item.arguments_for(lang)
                    if family.id.endswith("_direct"):
                        assert next(iter(args.values())) in text, (family.id, lang, index)


def test_spanish_fact_questions_agree_with_the_unit():
    fact = next(f for f in written_families() if f.id == "fact")
    for seed in range(60):
        words = fact.draw(random.Random(seed), 0).words["es"]
        feminine = words["small"] in ("horas", "semanas")
        assert words["many"] == ("cuántas" if feminine else "cuántos")
        assert words["Many"] == words["many"].capitalize()


def test_the_new_frame_modules_hold_training_frames_only():
    """Each *_MORE list sits before its list's eval entries, so none of them is held out."""
    from thau_tui.train.phrasings import chat_more, tools_more, writing_more

    for module, owner in ((tools_more, tools), (chat_more, chat), (writing_more, writing)):
        for name in dir(module):
            if not name.endswith("_MORE") or name == "GREETINGS_MORE":
                continue
            extra = getattr(module, name)
            target = {
                "GENERIC_MORE": "GENERIC",
                "SHELL_DIRECT_MORE": "SHELL_DIRECT",
                "PYTHON_DIRECT_MORE": "PYTHON_DIRECT",
            }.get(name, name.replace("_MORE", "_FRAMES"))
            frames = getattr(owner, target)
            for lang in ("en", "es"):
                held = {frames[lang][i] for i in eval_frame_indexes(len(frames[lang]))}
                # The last extra frame may become second-to-last (held) when a list grows past five.
                assert not set(extra[lang][:-1]) & held, (name, lang)
                assert set(extra[lang]) <= set(frames[lang]), (name, lang)
    greetings = {g[0] for g in chat.GREETINGS[-2:]}
    assert not {g[0] for g in chat_more.GREETINGS_MORE} & greetings
