"""Synthetic function schemas: tools the adapter never saw, built from vocabularies.

A tool is a verb x an object of a domain (`book_flight`, `send_invoice`) with 1-5
typed parameters (string, integer, number, boolean, enum, array, nested object),
required ones and optional ones with defaults. A request (English or Spanish)
states every value the call needs, so the model learns to read a JSON Schema and
copy the user's values into it rather than memorise twelve tools. Tools are
`Tool` objects with a non-builtin source, so `system_content` renders them with
their full JSON Schema exactly as the chat renders plugin tools.

`TRAIN` and `HELDOUT` are disjoint vocabularies (domains, verbs, objects,
parameter names): held-out schemas share nothing with training.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..tools.base import Tool, ToolError


@dataclass(frozen=True)
class Param:
    """A parameter kind: its schema, a value drawer and how a request mentions it."""

    name: str
    schema: dict[str, Any]
    draw: Callable[[random.Random], Any]
    en: Callable[[Any], str]  # value -> phrase stating it ("for 3 passengers")
    es: Callable[[Any], str]
    label: tuple[str, str]  # what to ask for when it is missing (en, es)


@dataclass(frozen=True)
class Verb:
    id: str
    en: str  # imperative / infinitive (English uses one form)
    es_imp: str
    es_inf: str


@dataclass(frozen=True)
class Obj:
    id: str
    en: str  # with its article: "a flight"
    es: str
    domain: str
    params: tuple[str, ...]  # parameter names this object can take


@dataclass
class Vocabulary:
    domains: dict[str, str]  # id -> description
    verbs: list[Verb]
    objects: list[Obj]
    params: dict[str, Param]
    frames: dict[str, list[str]]  # lang -> frames over {V} {v} {o} {m}


def _choice(values: list) -> Callable[[random.Random], Any]:
    return lambda rng: values[rng.randrange(len(values))]


def _int(lo: int, hi: int) -> Callable[[random.Random], int]:
    return lambda rng: rng.randint(lo, hi)


def _pair(values: list[str]) -> Callable[[random.Random], list[str]]:
    return lambda rng: rng.sample(values, 2)


def _and(items: list[str], lang: str) -> str:
    return f"{items[0]} {'and' if lang == 'en' else 'y'} {items[1]}"


def _string(name, desc, values, en, es, label):
    return Param(
        name,
        {"type": "string", "description": desc},
        _choice(values),
        lambda v: en.format(v=v),
        lambda v: es.format(v=v),
        label,
    )


def _integer(name, desc, lo, hi, en, es, label):
    return Param(
        name,
        {"type": "integer", "description": desc, "minimum": lo, "maximum": hi},
        _int(lo, hi),
        lambda v: en.format(v=v),
        lambda v: es.format(v=v),
        label,
    )


def _number(name, desc, values, en, es, label):
    return Param(
        name,
        {"type": "number", "description": desc},
        _choice(values),
        lambda v: en.format(v=v),
        lambda v: es.format(v=v),
        label,
    )


def _enum(name, desc, values, en, es, label):
    return Param(
        name,
        {"type": "string", "enum": values, "description": desc},
        _choice(values),
        lambda v: en.format(v=v),
        lambda v: es.format(v=v),
        label,
    )


def _boolean(name, desc, en_true, en_false, es_true, es_false, label):
    return Param(
        name,
        {"type": "boolean", "description": desc},
        _choice([True, False]),
        lambda v: en_true if v else en_false,
        lambda v: es_true if v else es_false,
        label,
    )


def _array(name, desc, values, en, es, label):
    return Param(
        name,
        {"type": "array", "items": {"type": "string"}, "description": desc},
        _pair(values),
        lambda v: en.format(v=_and(v, "en")),
        lambda v: es.format(v=_and(v, "es")),
        label,
    )


def _object(name, desc, fields: dict[str, tuple[str, Callable]], en, es, label):
    props = {k: {"type": t} for k, (t, _d) in fields.items()}
    schema = {
        "type": "object",
        "description": desc,
        "properties": props,
        "required": list(fields),
        "additionalProperties": False,
    }
    return Param(
        name,
        schema,
        lambda rng: {k: d(rng) for k, (_t, d) in fields.items()},
        lambda v: en.format(**v),
        lambda v: es.format(**v),
        label,
    )


CITIES = ["Madrid", "Lisbon", "Oslo", "Tokyo", "Lima", "Chicago", "Berlin", "Quito", "Sevilla", "Denver"]
DATES = ["2025-03-14", "2025-07-01", "2025-11-23", "2026-01-09", "2025-05-30", "2026-02-17"]
PEOPLE = ["Ana Ruiz", "Tom Becker", "Lucía Gómez", "Raj Patel", "Mei Chen", "Jonas Berg"]
EMAILS = ["ana@example.com", "tom@example.org", "lucia@example.net", "raj@example.com", "mei@example.org"]

TRAIN_PARAMS = {
    p.name: p
    for p in [
        _string("city", "City name", CITIES, "in {v}", "en {v}", ("city", "ciudad")),
        _string("origin", "Departure city", CITIES, "from {v}", "desde {v}", ("departure city", "ciudad de salida")),
        _string("destination", "Arrival city", CITIES, "to {v}", "a {v}", ("destination", "destino")),
        _string("date", "Date, YYYY-MM-DD", DATES, "on {v}", "el {v}", ("date", "fecha")),
        _integer(
            "passengers",
            "Number of passengers",
            1,
            6,
            "for {v} passengers",
            "para {v} pasajeros",
            ("number of passengers", "número de pasajeros"),
        ),
        _enum(
            "cabin",
            "Cabin class",
            ["economy", "business", "first"],
            "in {v} class",
            "en clase {v}",
            ("cabin class", "clase"),
        ),
        _boolean(
            "flexible",
            "Allow changing the booking later",
            "with a flexible fare",
            "with a fixed fare",
            "con tarifa flexible",
            "con tarifa fija",
            ("fare type", "tipo de tarifa"),
        ),
        _number(
            "max_price",
            "Highest price to accept",
            [99.5, 150.0, 249.99, 320.75, 80.0],
            "for at most {v}",
            "por un máximo de {v}",
            ("maximum price", "precio máximo"),
        ),
        _integer(
            "nights",
            "Number of nights",
            1,
            14,
            "for {v} nights",
            "por {v} noches",
            ("number of nights", "número de noches"),
        ),
        _integer(
            "days",
            "How many days ahead",
            1,
            10,
            "for the next {v} days",
            "para los próximos {v} días",
            ("number of days", "número de días"),
        ),
        _enum("units", "Unit system", ["metric", "imperial"], "in {v} units", "en unidades {v}", ("units", "unidades")),
        _boolean(
            "include_hourly",
            "Add an hour-by-hour breakdown",
            "with hourly detail",
            "without hourly detail",
            "con detalle por horas",
            "sin detalle por horas",
            ("detail level", "nivel de detalle"),
        ),
        _string(
            "sku",
            "Product code",
            ["SKU-4821", "SKU-1093", "SKU-7730", "SKU-2605", "SKU-9148"],
            "with code {v}",
            "con código {v}",
            ("product code", "código de producto"),
        ),
        _integer("quantity", "How many units", 1, 50, "{v} units", "{v} unidades", ("quantity", "cantidad")),
        _enum(
            "color",
            "Product color",
            ["black", "white", "red", "blue", "green"],
            "in {v}",
            "en color {v}",
            ("color", "color"),
        ),
        _boolean(
            "gift_wrap",
            "Wrap it as a gift",
            "gift-wrapped",
            "without gift wrap",
            "envuelto para regalo",
            "sin envoltorio de regalo",
            ("gift wrap choice", "si va envuelto"),
        ),
        _array(
            "tags",
            "Labels to attach",
            ["urgent", "sale", "vip", "returns", "spring", "wholesale"],
            "tagged {v}",
            "con las etiquetas {v}",
            ("tags", "etiquetas"),
        ),
        _string(
            "title",
            "Title",
            ["Budget review", "Team sync", "Dentist", "Sprint demo", "Call with Ana"],
            'titled "{v}"',
            'con el título "{v}"',
            ("title", "título"),
        ),
        _array(
            "attendees", "Email addresses of the attendees", EMAILS, "with {v}", "con {v}", ("attendees", "asistentes")
        ),
        _integer(
            "duration_minutes",
            "Length in minutes",
            10,
            120,
            "lasting {v} minutes",
            "de {v} minutos",
            ("duration", "duración"),
        ),
        _boolean(
            "private",
            "Hide the details from others",
            "marked private",
            "visible to everyone",
            "como privado",
            "visible para todos",
            ("visibility", "visibilidad"),
        ),
        _string(
            "customer_id",
            "Customer identifier",
            ["C-1042", "C-2277", "C-3810", "C-5163", "C-7745"],
            "for customer {v}",
            "para el cliente {v}",
            ("customer", "cliente"),
        ),
        _number(
            "amount",
            "Amount to charge",
            [120.5, 75.0, 1999.99, 42.25, 310.0],
            "of {v}",
            "de {v}",
            ("amount", "importe"),
        ),
        _enum("currency", "Currency code", ["USD", "EUR", "GBP", "MXN"], "in {v}", "en {v}", ("currency", "moneda")),
        _integer(
            "due_in_days",
            "Days until it is due",
            7,
            90,
            "due in {v} days",
            "con vencimiento en {v} días",
            ("due date", "vencimiento"),
        ),
        _string(
            "playlist_name",
            "Playlist name",
            ["Road trip", "Focus", "Sunday morning", "Gym mix"],
            'called "{v}"',
            'llamada "{v}"',
            ("playlist name", "nombre de la lista"),
        ),
        _enum(
            "genre",
            "Music genre",
            ["jazz", "rock", "salsa", "classical", "hip-hop"],
            "of {v}",
            "de {v}",
            ("genre", "género"),
        ),
        _boolean(
            "shuffle",
            "Play in random order",
            "shuffled",
            "in order",
            "en aleatorio",
            "en orden",
            ("play order", "orden"),
        ),
        _integer(
            "limit",
            "Maximum number of results",
            5,
            100,
            "with at most {v} results",
            "con un máximo de {v} resultados",
            ("result limit", "límite de resultados"),
        ),
        _enum(
            "activity",
            "Kind of exercise",
            ["running", "cycling", "swimming", "yoga"],
            "of {v}",
            "de {v}",
            ("activity", "actividad"),
        ),
        _integer(
            "minutes", "Minutes of exercise", 10, 180, "for {v} minutes", "de {v} minutos", ("minutes", "minutos")
        ),
        _number(
            "weight_kg",
            "Weight in kilograms",
            [0.5, 2.3, 12.0, 4.75, 18.4],
            "weighing {v} kg",
            "de {v} kg",
            ("weight", "peso"),
        ),
        _object(
            "dimensions",
            "Box size in centimetres",
            {"length": ("integer", _int(10, 120)), "width": ("integer", _int(10, 80))},
            "measuring {length} by {width} cm",
            "de {length} por {width} cm",
            ("box size", "tamaño de la caja"),
        ),
        _boolean(
            "express",
            "Use express delivery",
            "by express delivery",
            "by standard delivery",
            "con envío urgente",
            "con envío normal",
            ("delivery speed", "tipo de envío"),
        ),
        _string(
            "country",
            "Destination country",
            ["Spain", "Mexico", "Canada", "Japan", "Chile"],
            "to {v}",
            "a {v}",
            ("country", "país"),
        ),
        _enum(
            "priority",
            "How urgent it is",
            ["low", "medium", "high", "urgent"],
            "with {v} priority",
            "con prioridad {v}",
            ("priority", "prioridad"),
        ),
        _string(
            "subject",
            "Short summary",
            ["Login fails", "Printer offline", "Refund request", "Slow dashboard"],
            'about "{v}"',
            'sobre "{v}"',
            ("subject", "asunto"),
        ),
        _string(
            "assignee", "Person responsible", PEOPLE, "assigned to {v}", "asignado a {v}", ("assignee", "responsable")
        ),
        _object(
            "contact",
            "Who to contact",
            {"name": ("string", _choice(PEOPLE)), "email": ("string", _choice(EMAILS))},
            "with contact {name} ({email})",
            "con contacto {name} ({email})",
            ("contact", "contacto"),
        ),
    ]
}

TRAIN = Vocabulary(
    domains={
        "travel": "travel bookings",
        "weather": "weather service",
        "shop": "online shop",
        "calendar": "calendar",
        "billing": "billing system",
        "music": "music player",
        "fitness": "fitness tracker",
        "shipping": "parcel service",
        "support": "help desk",
    },
    verbs=[
        Verb("create", "create", "crea", "crear"),
        Verb("get", "get", "consulta", "consultar"),
        Verb("search", "search for", "busca", "buscar"),
        Verb("book", "book", "reserva", "reservar"),
        Verb("cancel", "cancel", "cancela", "cancelar"),
        Verb("update", "update", "actualiza", "actualizar"),
        Verb("schedule", "schedule", "programa", "programar"),
        Verb("send", "send", "envía", "enviar"),
        Verb("add", "add", "añade", "añadir"),
        Verb("check", "check", "comprueba", "comprobar"),
    ],
    objects=[
        Obj(
            "flight",
            "a flight",
            "un vuelo",
            "travel",
            ("origin", "destination", "date", "passengers", "cabin", "flexible", "max_price"),
        ),
        Obj(
            "hotel_room",
            "a hotel room",
            "una habitación de hotel",
            "travel",
            ("city", "date", "nights", "max_price", "flexible"),
        ),
        Obj(
            "forecast",
            "the weather forecast",
            "el pronóstico del tiempo",
            "weather",
            ("city", "days", "units", "include_hourly"),
        ),
        Obj("order", "an order", "un pedido", "shop", ("sku", "quantity", "color", "gift_wrap", "tags")),
        Obj("product", "a product", "un producto", "shop", ("sku", "color", "max_price", "limit", "tags")),
        Obj(
            "meeting",
            "a meeting",
            "una reunión",
            "calendar",
            ("title", "date", "attendees", "duration_minutes", "private"),
        ),
        Obj("reminder", "a reminder", "un recordatorio", "calendar", ("title", "date", "private")),
        Obj("invoice", "an invoice", "una factura", "billing", ("customer_id", "amount", "currency", "due_in_days")),
        Obj(
            "playlist",
            "a playlist",
            "una lista de reproducción",
            "music",
            ("playlist_name", "genre", "shuffle", "limit"),
        ),
        Obj("workout", "a workout", "un entrenamiento", "fitness", ("activity", "minutes", "date")),
        Obj("parcel", "a parcel", "un paquete", "shipping", ("weight_kg", "dimensions", "country", "express")),
        Obj(
            "ticket",
            "a support ticket",
            "un ticket de soporte",
            "support",
            ("subject", "priority", "tags", "assignee", "contact"),
        ),
    ],
    params=TRAIN_PARAMS,
    frames={
        "en": [
            "{V} {o} {m}.",
            "Please {v} {o} {m}.",
            "Can you {v} {o} {m}?",
            "I need to {v} {o} {m}.",
            "Could you {v} {o} {m}, please?",
            "Go ahead and {v} {o} {m}.",
            "Help me {v} {o} {m}.",
            "I want to {v} {o} {m}.",
        ],
        "es": [
            "{V} {o} {m}.",
            "Por favor, {v_imp} {o} {m}.",
            "¿Puedes {v_inf} {o} {m}?",
            "Necesito {v_inf} {o} {m}.",
            "¿Podrías {v_inf} {o} {m}, por favor?",
            "Quiero {v_inf} {o} {m}.",
            "Ayúdame a {v_inf} {o} {m}.",
            "Hay que {v_inf} {o} {m}.",
        ],
    },
)

HELD_PARAMS = {
    p.name: p
    for p in [
        _string(
            "isbn",
            "Book ISBN",
            ["978-0141439518", "978-8437604947", "978-0262033848", "978-0131103627"],
            "with ISBN {v}",
            "con ISBN {v}",
            ("ISBN", "ISBN"),
        ),
        _string(
            "borrower_id",
            "Library card number",
            ["L-0091", "L-3412", "L-7788", "L-5520"],
            "for card {v}",
            "para la tarjeta {v}",
            ("library card", "tarjeta de biblioteca"),
        ),
        _integer(
            "weeks",
            "Loan length in weeks",
            1,
            8,
            "for {v} weeks",
            "durante {v} semanas",
            ("loan length", "duración del préstamo"),
        ),
        _enum(
            "format",
            "Edition format",
            ["hardcover", "paperback", "ebook", "audiobook"],
            "as {v}",
            "en formato {v}",
            ("format", "formato"),
        ),
        _enum(
            "species",
            "Kind of animal",
            ["dog", "cat", "rabbit", "parrot"],
            "for a {v}",
            "para un {v}",
            ("species", "especie"),
        ),
        _string(
            "pet_name",
            "The pet's name",
            ["Luna", "Max", "Kiwi", "Toby", "Nala"],
            "named {v}",
            "llamado {v}",
            ("pet's name", "nombre de la mascota"),
        ),
        _number(
            "body_weight",
            "Weight of the animal in kg",
            [3.2, 7.5, 24.0, 1.8],
            "that weighs {v} kg",
            "que pesa {v} kg",
            ("weight", "peso"),
        ),
        _array(
            "vaccines",
            "Vaccines to give",
            ["rabies", "parvovirus", "distemper", "leptospirosis"],
            "against {v}",
            "contra {v}",
            ("vaccines", "vacunas"),
        ),
        _string(
            "plate",
            "License plate",
            ["4821-KLM", "AB-123-CD", "7XYZ912", "M-5531-BT"],
            "for plate {v}",
            "para la matrícula {v}",
            ("license plate", "matrícula"),
        ),
        _integer("hours", "How many hours", 1, 24, "for {v} hours", "por {v} horas", ("hours", "horas")),
        _boolean(
            "covered",
            "Under a roof",
            "in a covered spot",
            "in an open-air spot",
            "en plaza cubierta",
            "en plaza al aire libre",
            ("spot type", "tipo de plaza"),
        ),
        _enum(
            "zone",
            "Parking zone",
            ["north", "south", "airport", "center"],
            "in the {v} zone",
            "en la zona {v}",
            ("zone", "zona"),
        ),
        _string(
            "room_name",
            "Room of the house",
            ["kitchen", "bedroom", "office", "living room"],
            "for the {v}",
            "para el {v}",
            ("room", "habitación"),
        ),
        _number(
            "target_temp",
            "Temperature in °C",
            [19.5, 21.0, 22.5, 18.0],
            "at {v} °C",
            "a {v} °C",
            ("temperature", "temperatura"),
        ),
        _enum("mode", "Heating mode", ["eco", "comfort", "boost"], "in {v} mode", "en modo {v}", ("mode", "modo")),
        _object(
            "window",
            "When it is active, hours 0-23",
            {"start_hour": ("integer", _int(0, 11)), "end_hour": ("integer", _int(12, 23))},
            "from hour {start_hour} to hour {end_hour}",
            "de la hora {start_hour} a la hora {end_hour}",
            ("time window", "franja horaria"),
        ),
        _integer(
            "servings", "Number of portions", 1, 12, "for {v} servings", "para {v} raciones", ("servings", "raciones")
        ),
        _enum(
            "diet",
            "Dietary restriction",
            ["vegan", "vegetarian", "gluten-free", "keto"],
            "that is {v}",
            "que sea {v}",
            ("diet", "dieta"),
        ),
        _array(
            "ingredients",
            "Ingredients to use",
            ["rice", "tomato", "chickpeas", "spinach", "tofu", "lentils"],
            "using {v}",
            "usando {v}",
            ("ingredients", "ingredientes"),
        ),
        _integer(
            "bedrooms",
            "Number of bedrooms",
            1,
            5,
            "with {v} bedrooms",
            "con {v} dormitorios",
            ("bedrooms", "dormitorios"),
        ),
        _number(
            "max_rent",
            "Highest monthly rent",
            [850.0, 1200.5, 640.0, 1999.0],
            "renting for under {v}",
            "con alquiler por debajo de {v}",
            ("maximum rent", "alquiler máximo"),
        ),
        _boolean(
            "pets_allowed",
            "Pets are accepted",
            "that allows pets",
            "with no pets",
            "que admita mascotas",
            "sin mascotas",
            ("pet policy", "política de mascotas"),
        ),
    ]
}

HELDOUT = Vocabulary(
    domains={
        "library": "public library",
        "vet": "veterinary clinic",
        "parking": "parking garage",
        "home": "smart thermostat",
        "kitchen": "recipe planner",
        "housing": "apartment listings",
    },
    verbs=[
        Verb("register", "register", "registra", "registrar"),
        Verb("estimate", "estimate", "estima", "estimar"),
        Verb("find", "find", "localiza", "localizar"),
        Verb("request", "request", "solicita", "solicitar"),
        Verb("log", "log", "anota", "anotar"),
        Verb("plan", "plan", "planifica", "planificar"),
    ],
    objects=[
        Obj("loan", "a book loan", "un préstamo de libro", "library", ("isbn", "borrower_id", "weeks", "format")),
        Obj(
            "vet_visit",
            "a vet visit",
            "una visita al veterinario",
            "vet",
            ("species", "pet_name", "body_weight", "vaccines"),
        ),
        Obj(
            "parking_spot",
            "a parking spot",
            "una plaza de aparcamiento",
            "parking",
            ("plate", "hours", "covered", "zone"),
        ),
        Obj(
            "heating",
            "a heating program",
            "un programa de calefacción",
            "home",
            ("room_name", "target_temp", "mode", "window"),
        ),
        Obj("menu", "a menu", "un menú", "kitchen", ("servings", "diet", "ingredients")),
        Obj("apartment", "an apartment", "un apartamento", "housing", ("bedrooms", "max_rent", "pets_allowed")),
    ],
    params=HELD_PARAMS,
    frames={
        "en": [
            "Would you {v} {o} {m}?",
            "Time to {v} {o} {m}.",
            "I'd like you to {v} {o} {m}.",
            "Quick task: {v} {o} {m}.",
        ],
        "es": [
            "¿Me ayudas a {v_inf} {o} {m}?",
            "Toca {v_inf} {o} {m}.",
            "Me gustaría {v_inf} {o} {m}.",
            "Tarea rápida: {v_imp} {o} {m}.",
        ],
    },
)


def _not_runnable(arguments: dict[str, Any], context: Any) -> str:
    raise ToolError("synthetic tools are described to the model, never run")


@dataclass
class Synthetic:
    """A generated tool and the parameter kinds behind it."""

    tool: Tool
    verb: Verb
    obj: Obj
    params: list[Param]
    required: list[str]


def make_tool(rng: random.Random, vocab: Vocabulary) -> Synthetic:
    """A random verb x object with 1-5 of the object's parameters, some optional with defaults."""
    verb = vocab.verbs[rng.randrange(len(vocab.verbs))]
    obj = vocab.objects[rng.randrange(len(vocab.objects))]
    names = rng.sample(obj.params, rng.randint(1, min(5, len(obj.params))))
    params = [vocab.params[n] for n in names]
    n_required = rng.randint(1, len(params))
    required = names[:n_required]
    properties: dict[str, Any] = {}
    for index, param in enumerate(params):
        schema = dict(param.schema)
        if index >= n_required and schema["type"] in ("string", "integer", "number", "boolean"):
            schema["default"] = param.draw(rng)
        properties[param.name] = schema
    description = f"{verb.en.capitalize()} {obj.en} in the {vocab.domains[obj.domain]}"
    tool = Tool(
        name=f"{verb.id}_{obj.id}",
        description=description,
        parameters={"type": "object", "properties": properties, "required": required},
        risk="read",
        function=_not_runnable,
        source="synthetic",
    )
    return Synthetic(tool, verb, obj, params, required)


def openai_schema(tool: Tool) -> dict[str, Any]:
    """The form eval cases carry in "tools" (evaluate.case_tools reads it back)."""
    return tool.schema()


@dataclass
class Request:
    text: str
    arguments: dict[str, Any]
    missing: Param | None  # a required value the request leaves out (ask the user)


def request(
    rng: random.Random, vocab: Vocabulary, synth: Synthetic, lang: str, frame: int, leave_out_required: bool = False
) -> Request:
    """A request stating every required value and some optional ones; the call's arguments."""
    optional = [p for p in synth.params if p.name not in synth.required]
    stated = [p for p in synth.params if p.name in synth.required] + [p for p in optional if rng.random() < 0.5]
    missing = None
    if leave_out_required:
        missing = stated[rng.randrange(len(synth.required))]
        stated = [p for p in stated if p is not missing]
    values = {p.name: p.draw(rng) for p in stated}
    phrases = [(p.en if lang == "en" else p.es)(values[p.name]) for p in stated]
    rng.shuffle(phrases)
    mention = " ".join(phrases)
    o = synth.obj.en if lang == "en" else synth.obj.es
    text = (
        vocab.frames[lang][frame]
        .format(
            V=(synth.verb.en if lang == "en" else synth.verb.es_imp).capitalize(),
            v=synth.verb.en,
            v_imp=synth.verb.es_imp,
            v_inf=synth.verb.es_inf,
            o=o,
            m=mention,
        )
        .replace(" .", ".")
        .replace(" ?", "?")
        .replace(" ,", ",")
    )
    # The call lists arguments in schema order (required first), as a careful model would.
    arguments = {name: values[name] for name in synth.tool.parameters["properties"] if name in values}
    return Request(text, arguments, missing)


def ask_question(param: Param, lang: str) -> str:
    """What to ask when a required value is missing."""
    en, es = param.label
    return f"Which {en} should I use?" if lang == "en" else f"¿Qué {es} uso?"


def vocabulary_words(vocab: Vocabulary) -> set[str]:
    """Every identifier a vocabulary uses (domains, verbs, objects, parameters): for the disjointness check."""
    return (
        {f"domain:{d}" for d in vocab.domains}
        | {f"verb:{v.id}" for v in vocab.verbs}
        | {f"object:{o.id}" for o in vocab.objects}
        | {f"param:{p}" for p in vocab.params}
    )
