"""The training vocabulary for synthetic schemas: well formed, and every value it draws fits its schema."""

from __future__ import annotations

import random

import jsonschema
import pytest

from thau_tui.train import schemas
from thau_tui.train.schema_vocab_train import TRAIN, TRAIN_PARAMS
from thau_tui.train.schema_vocab_train_more import MORE_DOMAINS, MORE_FRAMES, MORE_OBJECTS, MORE_PARAMS, MORE_VERBS

SEEDS = range(60)


def _stated(value) -> list:
    """The scalar values a phrase must state verbatim (booleans are stated by wording, not value)."""
    if isinstance(value, dict):
        return [x for item in value.values() for x in _stated(item)]
    if isinstance(value, list):
        return value
    return [] if isinstance(value, bool) else [value]


def test_no_duplicate_ids_and_every_reference_resolves():
    assert not set(TRAIN_PARAMS) & set(MORE_PARAMS)
    assert len(TRAIN.params) == len(TRAIN_PARAMS) + len(MORE_PARAMS)
    assert all(name == param.name for name, param in TRAIN.params.items())
    assert not set(MORE_DOMAINS) - set(TRAIN.domains) and len(TRAIN.domains) == 9 + len(MORE_DOMAINS)
    verb_ids = [v.id for v in TRAIN.verbs]
    assert len(verb_ids) == len(set(verb_ids))
    assert len({v.es_inf for v in TRAIN.verbs}) == len(TRAIN.verbs)
    assert len({v.en for v in TRAIN.verbs}) == len(TRAIN.verbs)
    object_ids = [o.id for o in TRAIN.objects]
    assert len(object_ids) == len(set(object_ids))
    tool_names = {f"{v.id}_{o.id}" for v in TRAIN.verbs for o in TRAIN.objects}
    assert len(tool_names) == len(TRAIN.verbs) * len(TRAIN.objects)  # no verb_object name is ambiguous
    for obj in TRAIN.objects:
        assert obj.domain in TRAIN.domains
        assert obj.params and len(obj.params) == len(set(obj.params))
        assert set(obj.params) <= set(TRAIN.params), obj.id
    used = {p for o in TRAIN.objects for p in o.params}
    assert set(TRAIN.params) <= used  # no parameter kind is dead weight
    for lang in ("en", "es"):
        assert len(TRAIN.frames[lang]) == len(set(TRAIN.frames[lang]))
    assert len(MORE_VERBS) >= 10 and len(MORE_OBJECTS) >= 12 and len(MORE_PARAMS) >= 40


@pytest.mark.parametrize("name", sorted(TRAIN.params))
def test_every_draw_fits_its_schema_and_is_stated_verbatim(name):
    param = TRAIN.params[name]
    jsonschema.Draft202012Validator.check_schema(param.schema)
    assert param.schema.get("description")
    assert all(param.label)
    for seed in SEEDS:
        value = param.draw(random.Random(seed))
        jsonschema.validate(value, param.schema)
        for phrase in (param.en(value), param.es(value)):
            assert phrase.strip() == phrase and "{" not in phrase
            for item in _stated(value):
                assert str(item) in phrase, (name, value, phrase)
    if param.schema["type"] == "boolean":
        assert param.en(True) != param.en(False) and param.es(True) != param.es(False)


def test_the_existing_frames_keep_their_places():
    """New frames go before the last two, which data.py holds out for the eval split."""
    assert TRAIN.frames["en"][:6] == [
        "{V} {o} {m}.",
        "Please {v} {o} {m}.",
        "Can you {v} {o} {m}?",
        "I need to {v} {o} {m}.",
        "Could you {v} {o} {m}, please?",
        "Go ahead and {v} {o} {m}.",
    ]
    assert TRAIN.frames["en"][-2:] == ["Help me {v} {o} {m}.", "I want to {v} {o} {m}."]
    assert TRAIN.frames["es"][-2:] == ["Ayúdame a {v_inf} {o} {m}.", "Hay que {v_inf} {o} {m}."]
    for lang in ("en", "es"):
        assert TRAIN.frames[lang][-2 - len(MORE_FRAMES[lang]) : -2] == MORE_FRAMES[lang]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_frame_formats(lang):
    words = {"V": "Book", "v": "book", "v_imp": "reserva", "v_inf": "reservar", "o": "OBJ", "m": "MENTION"}
    for frame in TRAIN.frames[lang]:
        text = frame.format(**words)
        assert "OBJ" in text and "MENTION" in text and "{" not in text


@pytest.mark.parametrize("lang", ["en", "es"])
def test_generated_requests_call_their_tool_validly(lang):
    for seed in SEEDS:
        rng = random.Random(seed)
        synth = schemas.make_tool(rng, TRAIN)
        jsonschema.Draft202012Validator.check_schema(synth.tool.parameters)
        frame = rng.randrange(len(TRAIN.frames[lang]))
        req = schemas.request(rng, TRAIN, synth, lang, frame)
        jsonschema.validate(req.arguments, synth.tool.parameters)
        assert set(synth.required) <= set(req.arguments)
        for value in req.arguments.values():
            for item in _stated(value):
                assert str(item) in req.text, (item, req.text)
        assert "{" not in req.text and "  " not in req.text
        asked = schemas.request(rng, TRAIN, synth, lang, frame, leave_out_required=True)
        assert asked.missing is not None and asked.missing.name not in asked.arguments


def test_defaults_fit_their_own_schema():
    for seed in SEEDS:
        synth = schemas.make_tool(random.Random(seed), TRAIN)
        for prop in synth.tool.parameters["properties"].values():
            if "default" in prop:
                jsonschema.validate(prop["default"], {k: v for k, v in prop.items() if k != "default"})
