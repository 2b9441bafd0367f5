"""The single-request frames for the file, dev and image tools: the eval split has not moved,
no list repeats a frame, and every frame reads whole with the words its family's draw gives."""

from __future__ import annotations

import random
import string

import pytest

from thau_tui.train.phrasings import Slot, eval_frame_indexes
from thau_tui.train.phrasings.catalog import call_families

# The frames the committed eval set was built with (the last one, or last two, of each list).
# More frames may come before them; these stay the final entries, in this order.
EVAL_FRAMES = {
    "read_file": {
        "en": ["Print the file {path}.", "Let me see {path}."],
        "es": ["Enséñame el archivo {path}.", "Quiero ver {path}."],
    },
    "write_file": {"en": ["Put {what} into {path}."], "es": ["Pon {what} en {path}."]},
    "write_file_append": {"en": ["Add {what} to {path} without erasing it."], "es": ["Añade {what} a {path}."]},
    "list_directory": {
        "en": ["Which files does {where} have?", "Give me a listing of {where}."],
        "es": ["¿Qué archivos tiene {where}?", "Dame un listado de {where}."],
    },
    "search_code": {
        "en": ["Look for {pattern} in the codebase.", "Which files mention {pattern}?"],
        "es": ["Encuentra {pattern} en el código.", "¿Qué archivos mencionan {pattern}?"],
    },
    "search_code_in": {"en": ["Look for {pattern} under {where}."], "es": ["Mira si {pattern} aparece en {where}."]},
    "generate_image": {
        "en": ["Show me {subject} as an image.", "Render {subject}."],
        "es": ["Muéstrame {subject} en una imagen.", "Genera {subject}."],
    },
    "generate_image_size": {
        "en": ["I need {subject}, {width} wide and {height} high."],
        "es": ["Necesito {subject}, de {width} de ancho y {height} de alto."],
    },
    "generate_image_seed": {
        "en": ["Draw {subject} with the random seed set to {seed}."],
        "es": ["Dibuja {subject} con la semilla aleatoria en {seed}."],
    },
    "generate_image_steps": {
        "en": ["Make a picture of {subject}, {steps} steps."],
        "es": ["Haz una imagen de {subject}, {steps} pasos."],
    },
    "search_docs": {
        "en": ["Check the docs: {query}.", "Open the reference for {query}."],
        "es": ["Consulta la documentación: {query}.", "Abre la referencia de {query}."],
    },
    "analyze_code_security": {
        "en": ["Audit this snippet for vulnerabilities:\n{code}"],
        "es": ["Audita este fragmento por vulnerabilidades:\n{code}"],
    },
    "analyze_code_syntax": {
        "en": ["Does this code have syntax errors?\n{code}"],
        "es": ["¿Tiene errores de sintaxis este código?\n{code}"],
    },
    "analyze_code_complexity": {
        "en": ["Give me the cyclomatic complexity of:\n{code}"],
        "es": ["Dame la complejidad ciclomática de:\n{code}"],
    },
    "run_tests": {"en": ["Execute {what} and tell me what fails."], "es": ["Ejecuta {what} y dime qué falla."]},
    "debug_code": {"en": ["Fix this, I get {error}:\n{code}"], "es": ["Arregla esto, me sale {error}:\n{code}"]},
    "debug_code_bare": {
        "en": ["Run this under the debugger and tell me what breaks:\n{code}"],
        "es": ["Pasa esto por el depurador y dime qué se rompe:\n{code}"],
    },
    "debug_code_inline": {
        "en": ["Quick one: why won't {code} run?", "Where does {code} go wrong?"],
        "es": ["Rápido: ¿por qué no corre {code}?", "¿Dónde se equivoca {code}?"],
    },
    "analyze_code_security_inline": {
        "en": ["Would a pentester flag {code}?", "Should I worry about {code} from a security angle?"],
        "es": ["¿Un pentester marcaría {code}?", "¿Debería preocuparme {code} en cuanto a seguridad?"],
    },
    "ask_user": {"en": ["Hmm. {request}"], "es": ["Mmm. {request}"]},
}

FAMILIES = {f.id: f for f in call_families() if f.id in EVAL_FRAMES}


def test_every_owned_family_is_here():
    assert set(FAMILIES) == set(EVAL_FRAMES)


@pytest.mark.parametrize("family_id", sorted(EVAL_FRAMES))
def test_todays_eval_frames_are_still_the_held_out_ones(family_id):
    family = FAMILIES[family_id]
    for lang, pinned in EVAL_FRAMES[family_id].items():
        frames = family.frames[lang]
        assert frames[-len(pinned) :] == pinned, (family_id, lang)
        held = {frames[i] for i in eval_frame_indexes(len(frames))}
        assert set(pinned) <= held, (family_id, lang)
        assert len(frames) >= 9, (family_id, lang)  # far more than the handful the model learned by heart


@pytest.mark.parametrize("family_id", sorted(EVAL_FRAMES))
def test_no_list_repeats_a_frame(family_id):
    for lang, frames in FAMILIES[family_id].frames.items():
        assert len(frames) == len(set(frames)), (family_id, lang)
        assert len({f.lower().strip(" .?¿!¡") for f in frames}) == len(frames), (family_id, lang)


@pytest.mark.parametrize("family_id", sorted(EVAL_FRAMES))
def test_every_frame_reads_whole_and_states_the_call_values(family_id):
    """Each frame, at its own index, takes exactly the words the draw gives and leaves nothing
    unfilled; a call value the words carry word for word is in the request."""
    family = FAMILIES[family_id]
    for lang in ("en", "es"):
        for index, frame in enumerate(family.frames[lang]):
            names = {name for _, name, _, _ in string.Formatter().parse(frame) if name}
            assert names, (family_id, lang, frame)
            bare = frame.format(**{name: "" for name in names})
            assert "{" not in bare and "}" not in bare, (family_id, lang, frame)
            for seed in range(25):
                item = family.draw(random.Random(seed), index)
                words = item.words[lang]
                assert names <= set(words), (family_id, lang, frame)
                text = frame.format(**words)
                assert text.strip(), (family_id, lang, frame)
                for key, value in item.arguments.items():
                    if isinstance(value, Slot):  # ask_user's question is the assistant's, not the user's
                        assert value.name in names or family.tool == "ask_user", (family_id, lang, frame, key)
                        continue
                    value = str(value)
                    if any(value in w for w in words.values()) and value != ".":
                        assert value in text, (family_id, lang, frame, key, value)
