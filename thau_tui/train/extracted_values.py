"""Synthetic tools whose values sit inside longer words of the request: every item of a
list ("Ana, Bo, Chen and Dara" is four names, not two), numbers with thousands separators
("$2,400,000" is 2400000, Spanish "2.400.000"), a name without its article or place ("at
the Harbor Light Theatre in Porto" is "Harbor Light Theatre"), a flag the request asks for
in words ("and include the notes" is true), source and target kept apart ("from Swiss
francs into Indian rupees" is CHF then INR), dates written in several ways, and clock
hours ("until 11 PM" is 23).

The plain synthetic schemas (schemas.py) state each value on its own and draw arrays of
two items, so the adapter learned that an array holds two items and copied whole phrases
into strings. Checked on the public BFCL simple category (train/bfcl_simple.py, an
evaluation only; nothing here comes from it), where lists cut to two items, "$2,000,000"
read as 2, "The Civil War" with its article and flags left false were among the misses.

The "extracted" kind (share 0 by default, so the default data set does not change); a
recipe turns it on with kind_shares. Rendered by schema_examples.schema_example like the
"schema" kind. Its verbs, objects and parameters are none of the held-out vocabulary's.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date
from typing import Any

from .converted_values import MONTHS_EN, MONTHS_ES
from .schema_vocab_train import TRAIN
from .schema_vocabulary import Obj, Param, Verb, Vocabulary, _join


def _param(name, schema, draw, en, es, label) -> Param:
    return Param(name, schema, draw, en, es, label)


def _choice(values: list) -> Callable[[random.Random], Any]:
    return lambda rng: values[rng.randrange(len(values))]


def _some(values: list, lo: int, hi: int) -> Callable[[random.Random], list]:
    return lambda rng: rng.sample(values, rng.randint(lo, hi))


def _thousands(value: int, lang: str) -> str:
    """2400000 -> "2,400,000" (Spanish "2.400.000")."""
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "es" else text


def _spoken_day(iso: str, lang: str) -> str:
    """A date the way people write it, in one of several forms chosen by the date itself."""
    d = date.fromisoformat(iso)
    month = MONTHS_EN[d.month - 1]
    if lang == "es":
        return f"el {d.day} de {MONTHS_ES[d.month - 1]} de {d.year}"
    suffix = "th" if 10 <= d.day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(d.day % 10, "th")
    forms = [
        f"on {d.day}{suffix} {month} {d.year}",
        f"on {month[:3]} {d.day}, {d.year}",
        f"on {month} {d.day}{suffix}, {d.year}",
        f"on {month[:3]}.{d.day},{d.year}",
    ]
    return forms[(d.day + d.month) % len(forms)]


def _clock(hour: int, lang: str) -> str:
    """23 -> "11 PM" (Spanish "las 11 de la noche")."""
    twelve = hour % 12 or 12
    if lang == "es":
        part = "de la mañana" if hour < 12 else "de la tarde" if hour < 20 else "de la noche"
        return f"{'la' if twelve == 1 else 'las'} {twelve} {part}"
    return f"{twelve} {'AM' if hour < 12 else 'PM'}"


NAMES = ["Ana", "Bo", "Chen", "Dara", "Eli", "Farid", "Greta", "Hugo", "Nora", "Jonas", "Kemal", "Lucia"]
READINGS = [14.3, 17.1, 10.6, 19.4, 8.7, 13.9, 22.5, 6.75, 16.5, 11.25]
GOODS = ["espresso", "muesli", "quinoa", "hummus", "kiwis", "mango", "granola", "pasta"]  # the same in Spanish
REVENUES = [2_400_000, 18_500, 1_250_000, 730_000, 12_000, 45_600, 3_000_000, 96_250]
MILEAGES = [12_500, 8_000, 120_000, 45_300, 1_750, 64_000]
VENUES = {
    "Harbor Light Theatre": "Porto",
    "Blue Finch Gallery": "Leeds",
    "Old Mill Arena": "Tampere",
    "Corner Stone Hall": "Ghent",
    "Silver Pine Lodge": "Bergen",
    "Red Kite Stadium": "Cardiff",
}
EVENTS = ["Great Frost", "Harvest Fair", "Spring Regatta", "Lantern Parade", "Winter Marathon", "River Festival"]
PEOPLE = ["Mara Lind", "Tomas Okoro", "Yuki Sato", "Priya Raman", "Leon Brandt", "Sofia Costa"]
CURRENCIES = {
    "CHF": ("Swiss francs", "francos suizos"),
    "INR": ("Indian rupees", "rupias indias"),
    "MXN": ("Mexican pesos", "pesos mexicanos"),
    "NOK": ("Norwegian kroner", "coronas noruegas"),
    "BRL": ("Brazilian reais", "reales brasileños"),
    "KRW": ("South Korean won", "wones surcoreanos"),
    "AUD": ("Australian dollars", "dólares australianos"),
    "SEK": ("Swedish kronor", "coronas suecas"),
    "PLN": ("Polish zloty", "zlotys polacos"),
    "ZAR": ("South African rand", "rands sudafricanos"),
}
HOURS = [7, 9, 11, 13, 18, 21, 23]


def _any_day(rng: random.Random) -> str:
    """Any day from 2021 to 2027: a handful of dates would be learned by heart, not read."""
    return date(rng.randint(2021, 2027), rng.randint(1, 12), rng.randint(1, 28)).isoformat()


MINUTES = [2, 3, 5, 12, 45]


def _currency(field: str, en: str, es: str) -> Param:
    return _param(
        field,
        {"type": "string", "description": f"Three-letter ISO 4217 code of the currency to convert {en.split()[0]}"},
        _choice(list(CURRENCIES)),
        lambda v: f"{en} {CURRENCIES[v][0]}",
        lambda v: f"{es} {CURRENCIES[v][1]}",
        ("currency", "moneda"),
    )


def _flag(field: str, desc: str, en: tuple[str, str], es: tuple[str, str], label: tuple[str, str]) -> Param:
    return _param(
        field,
        {"type": "boolean", "description": desc},
        _choice([True, True, False]),
        lambda v: en[0] if v else en[1],
        lambda v: es[0] if v else es[1],
        label,
    )


PARAMS = {
    p.name: p
    for p in [
        _param(
            "members",
            {"type": "array", "items": {"type": "string"}, "description": "Names of all the members"},
            _some(NAMES, 2, 6),
            lambda v: f"with the members {_join(v, 'en')}",
            lambda v: f"con los miembros {_join(v, 'es')}",
            ("members", "miembros"),
        ),
        _param(
            "samples",
            {"type": "array", "items": {"type": "number"}, "description": "Every measured value, in order"},
            _some(READINGS, 3, 6),
            lambda v: f"for the readings {_join(v, 'en')}",
            lambda v: f"para las lecturas {'; '.join(str(x).replace('.', ',') for x in v)}",
            ("readings", "lecturas"),
        ),
        _param(
            "goods",
            {"type": "array", "items": {"type": "string"}, "description": "The products wanted"},
            _some(GOODS, 2, 5),
            lambda v: f"with {_join(v, 'en')}",
            lambda v: f"con {_join(v, 'es')}",
            ("products", "productos"),
        ),
        _param(
            "revenue",
            {"type": "integer", "description": "Revenue in dollars"},
            _choice(REVENUES),
            lambda v: f"with revenue of ${_thousands(v, 'en')}",
            lambda v: f"con ingresos de {_thousands(v, 'es')} dólares",
            ("revenue", "ingresos"),
        ),
        _param(
            "mileage",
            {"type": "integer", "description": "Distance driven, in miles"},
            _choice(MILEAGES),
            lambda v: f"after {_thousands(v, 'en')} miles",
            lambda v: f"tras {_thousands(v, 'es')} millas",
            ("mileage", "millas recorridas"),
        ),
        _param(
            "venue_name",
            {"type": "string", "description": "Name of the venue"},
            _choice(list(VENUES)),
            lambda v: f"at the {v} in {VENUES[v]}",
            lambda v: f"en el {v} de {VENUES[v]}",
            ("venue", "sitio"),
        ),
        _param(
            "event_name",
            {"type": "string", "description": "Name of the event"},
            _choice(EVENTS),
            lambda v: f"during the {v}",
            lambda v: f"durante el {v}",
            ("event", "evento"),
        ),
        _param(
            "person_name",
            {"type": "string", "description": "Full name of the person"},
            _choice(PEOPLE),
            lambda v: f"for the coach {v}",
            lambda v: f"a nombre de {v}",
            ("person", "persona"),
        ),
        _currency("source_currency", "from", "de"),
        _currency("target_currency", "into", "a"),
        _param(
            "session_date",
            {"type": "string", "description": "Date in YYYY-MM-DD format"},
            _any_day,
            lambda v: _spoken_day(v, "en"),
            lambda v: _spoken_day(v, "es"),
            ("date", "fecha"),
        ),
        _param(
            "closing_hour",
            {"type": "integer", "description": "Hour of the day, 0-23", "minimum": 0, "maximum": 23},
            _choice(HOURS),
            lambda v: f"open until {_clock(v, 'en')}",
            lambda v: f"abierto hasta {_clock(v, 'es')}",
            ("closing hour", "hora de cierre"),
        ),
        _param(
            "clip_seconds",
            {"type": "integer", "description": "Length in seconds"},
            _choice([m * 60 for m in MINUTES]),
            lambda v: f"lasting {v // 60} minutes",
            lambda v: f"de {v // 60} minutos",
            ("length", "duración"),
        ),
        _flag(
            "include_notes",
            "Whether to include the notes",
            ("and include the notes", "without the notes"),
            ("e incluye las notas", "sin las notas"),
            ("notes", "notas"),
        ),
        _flag(
            "detailed",
            "Whether to give full details",
            ("with full details", "as a short summary"),
            ("con todos los detalles", "como un resumen breve"),
            ("level of detail", "nivel de detalle"),
        ),
        _flag(
            "check_closed",
            "Whether to verify that it is already closed",
            ("and verify it is already closed", "without checking whether it is closed"),
            ("y comprueba que ya está cerrado", "sin comprobar si está cerrado"),
            ("closed check", "comprobación"),
        ),
    ]
}

EXTRACTED = Vocabulary(
    domains={
        "club": "sports club office",
        "lab": "lab notebook",
        "shop": "grocery service",
        "desk": "currency desk",
        "venues": "venue guide",
        "media": "media archive",
    },
    verbs=[
        Verb("compile", "compile", "recopila", "recopilar"),
        Verb("summarize", "summarize", "resume", "resumir"),
        Verb("arrange", "arrange", "organiza", "organizar"),
        Verb("submit", "submit", "envía", "enviar"),
        Verb("audit", "audit", "audita", "auditar"),
        Verb("look_up", "look up", "consulta", "consultar"),
    ],
    objects=[
        Obj(
            "team_sheet",
            "a team sheet",
            "una hoja de equipo",
            "club",
            ("members", "person_name", "event_name", "session_date", "include_notes"),
        ),
        Obj(
            "trial",
            "a lab trial",
            "un ensayo de laboratorio",
            "lab",
            ("samples", "person_name", "session_date", "detailed", "check_closed"),
        ),
        Obj("order", "an order", "un pedido", "shop", ("goods", "venue_name", "session_date", "closing_hour")),
        Obj(
            "transfer",
            "a transfer",
            "una transferencia",
            "desk",
            ("source_currency", "target_currency", "revenue", "detailed"),
        ),
        Obj(
            "booking",
            "a booking",
            "una reserva",
            "venues",
            ("venue_name", "event_name", "session_date", "closing_hour", "members"),
        ),
        Obj(
            "fleet_report",
            "a fleet report",
            "un informe de flota",
            "media",
            ("mileage", "revenue", "check_closed", "include_notes", "clip_seconds"),
        ),
        Obj(
            "highlight",
            "a highlight reel",
            "un resumen en vídeo",
            "media",
            ("clip_seconds", "event_name", "person_name", "detailed"),
        ),
    ],
    params=PARAMS,
    frames=TRAIN.frames,
)
