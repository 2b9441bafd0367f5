"""Requests answered by writing in the reply, with no tool: short verses, names, quick facts.

A small model that has learned tools reaches for one whenever a request sounds like a
task ("write ...", "give me ...", "how many ..."): a poem became an image prompt, a name
a question to the user, a quick fact a shell command. These families show such requests
answered in words. Their subjects and wordings are their own; none is a held-out
question (a test checks).
"""

from __future__ import annotations

import random

from . import Item

VERSES = [
    (
        "the sea",
        "Waves fold into the sand,\nsalt wind carries the gulls home.",
        "el mar",
        "Las olas se doblan en la arena,\nel viento salado lleva a las gaviotas.",
    ),
    (
        "a rainy Monday",
        "Grey sky on the window,\ncoffee warm, the week begins.",
        "un lunes de lluvia",
        "Cielo gris en la ventana,\ncafé caliente, empieza la semana.",
    ),
    (
        "a compiler",
        "It reads every line you wrote\nand answers only with errors, or silence.",
        "un compilador",
        "Lee cada línea que escribiste\ny responde solo con errores, o silencio.",
    ),
    (
        "the moon",
        "A white coin over the roofs,\nspent slowly every night.",
        "la luna",
        "Una moneda blanca sobre los tejados,\ngastada despacio cada noche.",
    ),
    (
        "spring in the city",
        "Green returns between the bricks,\nbalconies full of small suns.",
        "la primavera en la ciudad",
        "Vuelve el verde entre los ladrillos,\nbalcones llenos de pequeños soles.",
    ),
    (
        "a lost sock",
        "One went into the machine,\nonly its twin came back to tell.",
        "un calcetín perdido",
        "Uno entró en la lavadora,\nsolo volvió su gemelo para contarlo.",
    ),
    (
        "mountains",
        "Old stone shoulders in the clouds,\npatient as the snow.",
        "las montañas",
        "Viejos hombros de piedra en las nubes,\npacientes como la nieve.",
    ),
    (
        "a cup of tea",
        "Steam rises, leaves unfold,\na quiet pause held in a cup.",
        "una taza de té",
        "Sube el vapor, se abren las hojas,\nuna pausa tranquila en una taza.",
    ),
    (
        "debugging at night",
        "The bug hid until two a.m.,\nthen one print showed its face.",
        "depurar de noche",
        "El fallo se escondió hasta las dos,\nluego un print le vio la cara.",
    ),
    (
        "the first snow",
        "The street forgets its noise,\nwhite settles on every step.",
        "la primera nevada",
        "La calle olvida su ruido,\nlo blanco se posa en cada escalón.",
    ),
]
VERSE_FRAMES = {
    "en": [
        "Write a short poem about {topic}.",
        "Compose two lines of verse about {topic}.",
        "Could you make up a little poem on {topic}?",
        "I'd like a tiny poem about {topic}, please.",
        "Give me a couple of poetic lines about {topic}.",
        "Write some verses about {topic}.",
    ],
    "es": [
        "Escribe un poema corto sobre {topic}.",
        "Compón dos versos sobre {topic}.",
        "¿Me inventas un poemita sobre {topic}?",
        "Quiero un poema pequeño sobre {topic}, por favor.",
        "Dame un par de líneas poéticas sobre {topic}.",
        "Escribe unos versos sobre {topic}.",
    ],
}


def verse(rng: random.Random) -> Item:
    """A short poem, written in the reply (not an image, not a file)."""
    en, poem_en, es, poem_es = VERSES[rng.randrange(len(VERSES))]
    return Item({"en": {"topic": en}, "es": {"topic": es}}, answer={"en": poem_en, "es": poem_es})


NAMES = [
    ("a coffee shop", 'How about "Bean There"?', "una cafetería", '¿Qué tal "Grano a Grano"?'),
    (
        "a goldfish",
        "Bubbles, or Goldie if you like it classic.",
        "un pez de colores",
        "Burbujas, o Dorado si lo prefieres clásico.",
    ),
    ("a chess club", "The Knight Shift.", "un club de ajedrez", "El Enroque."),
    ("a blog about houseplants", "Leaf Notes.", "un blog sobre plantas de interior", "Hojas de Casa."),
    ("a small robot", "Bolt.", "un robot pequeño", "Tornillo."),
    ("a rock band", "The Loud Minority.", "un grupo de rock", "Los Decibelios."),
    ("a sailing boat", "Sea Breeze.", "un velero", "Brisa Marina."),
    ("a hamster", "Peanut.", "un hámster", "Cacahuete."),
    ("a to-do app", "Ticked.", "una aplicación de tareas", "Hecho."),
    ("a bakery", "The Daily Crumb.", "una panadería", "La Miga Diaria."),
]
NAME_FRAMES = {
    "en": [
        "Suggest a name for {thing}.",
        "I need a name for {thing}. Any ideas?",
        "Come up with a good name for {thing}.",
        "What could I call {thing}?",
        "Think of a fun name for {thing}.",
        "Help me name {thing}.",
    ],
    "es": [
        "Sugiere un nombre para {thing}.",
        "Necesito un nombre para {thing}. ¿Alguna idea?",
        "Inventa un buen nombre para {thing}.",
        "¿Cómo podría llamar a {thing}?",
        "Piensa un nombre divertido para {thing}.",
        "Ayúdame a ponerle nombre a {thing}.",
    ],
}


def name(rng: random.Random) -> Item:
    """A name suggested in the reply: nothing to ask, nothing to run."""
    en, reply_en, es, reply_es = NAMES[rng.randrange(len(NAMES))]
    return Item({"en": {"thing": en}, "es": {"thing": es}}, answer={"en": reply_en, "es": reply_es})


FACTS = [  # (small unit EN, big unit EN, small ES, big ES, how many)
    ("seconds", "an hour", "segundos", "una hora", "3,600"),
    ("days", "a week", "días", "una semana", "7"),
    ("centimetres", "a metre", "centímetros", "un metro", "100"),
    ("grams", "a kilogram", "gramos", "un kilogramo", "1,000"),
    ("hours", "a week", "horas", "una semana", "168"),
    ("months", "a year", "meses", "un año", "12"),
    ("metres", "a kilometre", "metros", "un kilómetro", "1,000"),
    ("millilitres", "a litre", "mililitros", "un litro", "1,000"),
    ("weeks", "a year", "semanas", "un año", "52"),
    ("days", "a leap year", "días", "un año bisiesto", "366"),
]
FACT_FRAMES = {
    "en": [
        "How many {small} are there in {big}?",
        "Quick one: how many {small} in {big}?",
        "Do you know how many {small} make {big}?",
        "Remind me how many {small} {big} has.",
        "How many {small} does {big} have?",
        "Tell me the number of {small} in {big}.",
    ],
    "es": [
        "¿Cuántos {small} hay en {big}?",
        "Rápido: ¿cuántos {small} en {big}?",
        "¿Sabes cuántos {small} forman {big}?",
        "Recuérdame cuántos {small} tiene {big}.",
        "¿Cuántos {small} tiene {big}?",
        "Dime el número de {small} de {big}.",
    ],
}


def fact(rng: random.Random) -> Item:
    """A quick fact answered from memory: no shell, no Python."""
    small_en, big_en, small_es, big_es, count = FACTS[rng.randrange(len(FACTS))]
    count_es = count.replace(",", ".")
    return Item(
        {"en": {"small": small_en, "big": big_en}, "es": {"small": small_es, "big": big_es}},
        answer={
            "en": f"There are {count} {small_en} in {big_en}.",
            "es": f"{big_es[0].upper() + big_es[1:]} tiene {count_es} {small_es}.",
        },
    )
