"""Synthetic tools whose values the request states in other words than the schema wants:
"at 4.5%" for a rate "as a decimal fraction" (0.045), "2.5 million people" for a whole
number, "$12.50" for cents, "2 hours" for minutes, "May 19, 2022" for YYYY-MM-DD,
"122.42° W" for a longitude that is negative to the west, "1.5 kg" for grams.

The plain synthetic schemas (schemas.py) state every value in the schema's own form, so
the model learned to copy; a plugin tool's schema often asks for another form, and the
description says which. Every conversion here has a twin that asks for the stated form
("tax in percent": 21 for 21%; "length in hours" from minutes the other way round), so
the description decides, not the habit. Checked on the public BFCL simple category
(train/bfcl_simple.py; an evaluation only, nothing here comes from it), where rates
given in percent and dates in words were a large share of the wrong values.

The "converted" kind (share 0 by default, so the default data set does not change); a
recipe turns it on with kind_shares. Rendered by schema_examples.schema_example like the
"schema" kind. Its verbs, objects and parameters are none of the held-out vocabulary's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from .schema_vocab_train import TRAIN
from .schema_vocabulary import Obj, Param, Verb, Vocabulary

MONTHS_EN = "January February March April May June July August September October November December".split()
MONTHS_ES = "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split()


def _g(x: float, lang: str = "en") -> str:
    """4.5 -> "4.5" (Spanish "4,5"), 5.0 -> "5"; every digit kept (":g" cut 122.4194 to
    "122.419", and the call then held a digit the request never said)."""
    text = f"{x:.12g}"
    return text.replace(".", ",") if lang == "es" else text


def _param(
    name: str,
    kind: str,
    desc: str,
    values: list,
    en: Callable[[Any], str],
    es: Callable[[Any], str],
    label: tuple[str, str],
) -> Param:
    """A parameter whose `values` are already in the schema's form; `en`/`es` say them the user's way."""
    return Param(
        name, {"type": kind, "description": desc}, lambda rng: values[rng.randrange(len(values))], en, es, label
    )


PERCENTS = [1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7.5, 8, 10, 12, 15, 20, 25]
FRACTIONS = [round(p / 100, 6) for p in PERCENTS]
HEADCOUNTS = [1_200_000, 2_500_000, 8_500_000, 13_000_000, 30_000, 45_000, 120_000, 750_000, 3_400_000]
CENTS = [1250, 999, 34000, 120000, 4575, 80, 250000, 1999]
HOURS = [1, 1.5, 2, 2.5, 3, 4, 6]
MINUTES = [30, 45, 90, 150, 210]
KILOS = [0.25, 0.5, 1.2, 2, 3.5, 12]
METRES = [800, 1500, 2500, 4200, 12000]
LONGITUDES = [3.7038, 2.3522, 58.4, 0.1278, 73.9857, 122.4194, 46.6753, 151.2093]
LATITUDES = [40.4168, 48.8566, 51.5072, 59.3293, 12.0464, 0.1807, 64.1466, 22.9068]
DAYS = [date(2022, 5, 19), date(2023, 11, 3), date(2024, 2, 29), date(2025, 8, 21), date(2026, 1, 7)]


def _headcount(value: int, lang: str) -> str:
    if value >= 1_000_000:
        return f"{_g(value / 1_000_000, lang)} {'million' if lang == 'en' else 'millones'}"
    return f"{_g(value / 1000, lang)} {'thousand' if lang == 'en' else 'mil'}"


def _money(cents: int, lang: str) -> str:
    amount = f"{cents // 100}" if cents % 100 == 0 else f"{cents / 100:.2f}"
    return f"${amount}" if lang == "en" else f"{amount.replace('.', ',')} dólares"


def _day(iso: str, lang: str) -> str:
    d = date.fromisoformat(iso)
    return (
        f"{MONTHS_EN[d.month - 1]} {d.day}, {d.year}"
        if lang == "en"
        else f"{d.day} de {MONTHS_ES[d.month - 1]} de {d.year}"
    )


def _dmy(text: str) -> str:
    day, month, year = text.split("/")
    return date(int(year), int(month), int(day)).isoformat()


def _degrees(value: float, lang: str, axis: str) -> str:
    sides = {"lon": ("E", "W" if lang == "en" else "O"), "lat": ("N", "S")}[axis]
    return f"{_g(abs(value), lang)}° {sides[0] if value >= 0 else sides[1]}"


PARAMS = {
    p.name: p
    for p in [
        _param(
            "interest_rate",
            "number",
            "Yearly interest rate as a decimal fraction (0.05 is 5%)",
            FRACTIONS,
            lambda v: f"at {_g(v * 100)}% a year",
            lambda v: f"al {_g(v * 100, 'es')}% anual",
            ("interest rate", "tipo de interés"),
        ),
        _param(
            "growth_rate",
            "number",
            "Expected growth per year, as a fraction of 1",
            FRACTIONS,
            lambda v: f"growing {_g(v * 100)}% a year",
            lambda v: f"creciendo un {_g(v * 100, 'es')}% al año",
            ("growth rate", "crecimiento"),
        ),
        _param(
            "tax_percent",
            "number",
            "Tax rate in percent (21 means 21%)",
            PERCENTS,
            lambda v: f"with {_g(v)}% tax",
            lambda v: f"con un {_g(v, 'es')}% de impuestos",
            ("tax rate", "impuesto"),
        ),
        _param(
            "headcount",
            "integer",
            "How many people, as a whole number",
            HEADCOUNTS,
            lambda v: f"for {_headcount(v, 'en')} people",
            lambda v: f"para {_headcount(v, 'es')} de personas",
            ("number of people", "número de personas"),
        ),
        _param(
            "budget_cents",
            "integer",
            "Budget in cents (one dollar is 100)",
            CENTS,
            lambda v: f"with a budget of {_money(v, 'en')}",
            lambda v: f"con un presupuesto de {_money(v, 'es')}",
            ("budget", "presupuesto"),
        ),
        _param(
            "length_minutes",
            "integer",
            "Length in minutes",
            [int(h * 60) for h in HOURS],
            lambda v: f"lasting {_g(v / 60)} hours",
            lambda v: f"de {_g(v / 60, 'es')} horas",
            ("length", "duración"),
        ),
        _param(
            "length_hours",
            "number",
            "Length in hours",
            [m / 60 for m in MINUTES],
            lambda v: f"lasting {round(v * 60)} minutes",
            lambda v: f"de {round(v * 60)} minutos",
            ("length", "duración"),
        ),
        _param(
            "start_day",
            "string",
            "Start date in YYYY-MM-DD format",
            [d.isoformat() for d in DAYS],
            lambda v: f"starting {_day(v, 'en')}",
            lambda v: f"a partir del {_day(v, 'es')}",
            ("start date", "fecha de inicio"),
        ),
        _param(
            "due_day",
            "string",
            "Due date as DD/MM/YYYY",
            [d.strftime("%d/%m/%Y") for d in DAYS],
            lambda v: f"due {_day(_dmy(v), 'en')}",
            lambda v: f"para el {_day(_dmy(v), 'es')}",
            ("due date", "fecha límite"),
        ),
        _param(
            "longitude",
            "number",
            "Longitude in degrees; west of Greenwich is negative",
            LONGITUDES + [-d for d in LONGITUDES],
            lambda v: f"at longitude {_degrees(v, 'en', 'lon')}",
            lambda v: f"en la longitud {_degrees(v, 'es', 'lon')}",
            ("longitude", "longitud"),
        ),
        _param(
            "latitude",
            "number",
            "Latitude in degrees; south of the equator is negative",
            LATITUDES + [-d for d in LATITUDES],
            lambda v: f"at latitude {_degrees(v, 'en', 'lat')}",
            lambda v: f"en la latitud {_degrees(v, 'es', 'lat')}",
            ("latitude", "latitud"),
        ),
        _param(
            "weight_grams",
            "integer",
            "Weight in grams",
            [round(k * 1000) for k in KILOS],
            lambda v: f"weighing {_g(v / 1000)} kg",
            lambda v: f"de {_g(v / 1000, 'es')} kg",
            ("weight", "peso"),
        ),
        _param(
            "distance_km",
            "number",
            "Distance in kilometres",
            [m / 1000 for m in METRES],
            lambda v: f"over {round(v * 1000)} metres",
            lambda v: f"a lo largo de {round(v * 1000)} metros",
            ("distance", "distancia"),
        ),
    ]
}

CONVERTED = Vocabulary(
    domains={
        "finance": "finance desk",
        "census": "city statistics office",
        "travel": "route planner",
        "shipping": "shipping service",
        "events": "event organiser",
    },
    verbs=[
        Verb("calculate", "calculate", "calcula", "calcular"),
        Verb("forecast", "forecast", "pronostica", "pronosticar"),
        Verb("quote", "quote", "presupuesta", "presupuestar"),
        Verb("simulate", "simulate", "simula", "simular"),
        Verb("record", "record", "apunta", "apuntar"),
        Verb("price", "price", "tasa", "tasar"),
    ],
    objects=[
        Obj(
            "mortgage",
            "a mortgage",
            "una hipoteca",
            "finance",
            ("interest_rate", "budget_cents", "start_day", "due_day"),
        ),
        Obj(
            "savings",
            "a savings plan",
            "un plan de ahorro",
            "finance",
            ("interest_rate", "growth_rate", "tax_percent", "budget_cents"),
        ),
        Obj(
            "census",
            "a city census",
            "un censo municipal",
            "census",
            ("headcount", "growth_rate", "start_day", "latitude"),
        ),
        Obj(
            "road_trip",
            "a road trip",
            "un viaje por carretera",
            "travel",
            ("start_day", "length_minutes", "distance_km", "longitude", "latitude"),
        ),
        Obj("parcel", "a parcel", "un paquete", "shipping", ("weight_grams", "distance_km", "due_day", "budget_cents")),
        Obj(
            "workshop",
            "a workshop",
            "un taller",
            "events",
            ("length_hours", "headcount", "start_day", "tax_percent", "budget_cents"),
        ),
    ],
    params=PARAMS,
    frames=TRAIN.frames,
)
