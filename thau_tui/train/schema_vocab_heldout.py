"""`HELDOUT`: the vocabulary of the held-out synthetic schemas (heldout_schemas.jsonl).

Other domains, verbs, objects, parameter names and frames than `TRAIN`
(schema_vocab_train.py): a held-out schema shares nothing with training.
"""

from __future__ import annotations

from .schema_vocabulary import (
    Obj,
    Verb,
    Vocabulary,
    array_param,
    boolean_param,
    draw_int,
    enum_param,
    integer_param,
    number_param,
    object_param,
    string_param,
)

HELD_PARAMS = {
    p.name: p
    for p in [
        string_param(
            "isbn",
            "Book ISBN",
            ["978-0141439518", "978-8437604947", "978-0262033848", "978-0131103627"],
            "with ISBN {v}",
            "con ISBN {v}",
            ("ISBN", "ISBN"),
        ),
        string_param(
            "borrower_id",
            "Library card number",
            ["L-0091", "L-3412", "L-7788", "L-5520"],
            "for card {v}",
            "para la tarjeta {v}",
            ("library card", "tarjeta de biblioteca"),
        ),
        integer_param(
            "weeks",
            "Loan length in weeks",
            1,
            8,
            "for {v} weeks",
            "durante {v} semanas",
            ("loan length", "duración del préstamo"),
        ),
        enum_param(
            "format",
            "Edition format",
            ["hardcover", "paperback", "ebook", "audiobook"],
            "as {v}",
            "en formato {v}",
            ("format", "formato"),
        ),
        enum_param(
            "species",
            "Kind of animal",
            ["dog", "cat", "rabbit", "parrot"],
            "for a {v}",
            "para un {v}",
            ("species", "especie"),
        ),
        string_param(
            "pet_name",
            "The pet's name",
            ["Luna", "Max", "Kiwi", "Toby", "Nala"],
            "named {v}",
            "llamado {v}",
            ("pet's name", "nombre de la mascota"),
        ),
        number_param(
            "body_weight",
            "Weight of the animal in kg",
            [3.2, 7.5, 24.0, 1.8],
            "that weighs {v} kg",
            "que pesa {v} kg",
            ("weight", "peso"),
        ),
        array_param(
            "vaccines",
            "Vaccines to give",
            ["rabies", "parvovirus", "distemper", "leptospirosis"],
            "against {v}",
            "contra {v}",
            ("vaccines", "vacunas"),
        ),
        string_param(
            "plate",
            "License plate",
            ["4821-KLM", "AB-123-CD", "7XYZ912", "M-5531-BT"],
            "for plate {v}",
            "para la matrícula {v}",
            ("license plate", "matrícula"),
        ),
        integer_param("hours", "How many hours", 1, 24, "for {v} hours", "por {v} horas", ("hours", "horas")),
        boolean_param(
            "covered",
            "Under a roof",
            "in a covered spot",
            "in an open-air spot",
            "en plaza cubierta",
            "en plaza al aire libre",
            ("spot type", "tipo de plaza"),
        ),
        enum_param(
            "zone",
            "Parking zone",
            ["north", "south", "airport", "center"],
            "in the {v} zone",
            "en la zona {v}",
            ("zone", "zona"),
        ),
        string_param(
            "room_name",
            "Room of the house",
            ["kitchen", "bedroom", "office", "living room"],
            "for the {v}",
            "para el {v}",
            ("room", "habitación"),
        ),
        number_param(
            "target_temp",
            "Temperature in °C",
            [19.5, 21.0, 22.5, 18.0],
            "at {v} °C",
            "a {v} °C",
            ("temperature", "temperatura"),
        ),
        enum_param("mode", "Heating mode", ["eco", "comfort", "boost"], "in {v} mode", "en modo {v}", ("mode", "modo")),
        object_param(
            "window",
            "When it is active, hours 0-23",
            {"start_hour": ("integer", draw_int(0, 11)), "end_hour": ("integer", draw_int(12, 23))},
            "from hour {start_hour} to hour {end_hour}",
            "de la hora {start_hour} a la hora {end_hour}",
            ("time window", "franja horaria"),
        ),
        integer_param(
            "servings", "Number of portions", 1, 12, "for {v} servings", "para {v} raciones", ("servings", "raciones")
        ),
        enum_param(
            "diet",
            "Dietary restriction",
            ["vegan", "vegetarian", "gluten-free", "keto"],
            "that is {v}",
            "que sea {v}",
            ("diet", "dieta"),
        ),
        array_param(
            "ingredients",
            "Ingredients to use",
            ["rice", "tomato", "chickpeas", "spinach", "tofu", "lentils"],
            "using {v}",
            "usando {v}",
            ("ingredients", "ingredientes"),
        ),
        integer_param(
            "bedrooms",
            "Number of bedrooms",
            1,
            5,
            "with {v} bedrooms",
            "con {v} dormitorios",
            ("bedrooms", "dormitorios"),
        ),
        number_param(
            "max_rent",
            "Highest monthly rent",
            [850.0, 1200.5, 640.0, 1999.0],
            "renting for under {v}",
            "con alquiler por debajo de {v}",
            ("maximum rent", "alquiler máximo"),
        ),
        boolean_param(
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
