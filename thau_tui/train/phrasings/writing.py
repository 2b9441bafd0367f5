"""Requests answered by writing in the reply, with no tool: short verses, names, quick facts,
a given sentence reworded, a couple of tips.

A small model that has learned tools reaches for one whenever a request sounds like a
task ("write ...", "give me ...", "how many ..."): a poem became an image prompt, a name
a question to the user, a quick fact a shell command. These families show such requests
answered in words. Their subjects and wordings are their own; none is a held-out
question (a test checks).
"""

from __future__ import annotations

import random

from . import Item
from .writing_more import FACT_MORE, NAME_MORE, REWORD_MORE, TIP_MORE, VERSE_MORE

# The *_MORE lists (writing_more) go before each list's last two entries: those are the
# eval side's (eval_frame_indexes), so they stay last.

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
        *VERSE_MORE["en"],
        "Give me a couple of poetic lines about {topic}.",
        "Write some verses about {topic}.",
    ],
    "es": [
        "Escribe un poema corto sobre {topic}.",
        "Compón dos versos sobre {topic}.",
        "¿Me inventas un poemita sobre {topic}?",
        "Quiero un poema pequeño sobre {topic}, por favor.",
        *VERSE_MORE["es"],
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
        *NAME_MORE["en"],
        "Think of a fun name for {thing}.",
        "Help me name {thing}.",
    ],
    "es": [
        "Sugiere un nombre para {thing}.",
        "Necesito un nombre para {thing}. ¿Alguna idea?",
        "Inventa un buen nombre para {thing}.",
        "¿Cómo podría llamar a {thing}?",
        *NAME_MORE["es"],
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
        *FACT_MORE["en"],
        "How many {small} does {big} have?",
        "Tell me the number of {small} in {big}.",
    ],
    "es": [
        "¿{Many} {small} hay en {big}?",
        "Rápido: ¿{many} {small} en {big}?",
        "¿Sabes {many} {small} forman {big}?",
        "Recuérdame {many} {small} tiene {big}.",
        *FACT_MORE["es"],
        "¿Cuántos {small} tiene {big}?",
        "Dime el número de {small} de {big}.",
    ],
}


FEMININE_UNITS = {"horas", "semanas"}  # "¿cuántas horas...?", not "¿cuántos horas...?"


def fact(rng: random.Random) -> Item:
    """A quick fact answered from memory: no shell, no Python."""
    small_en, big_en, small_es, big_es, count = FACTS[rng.randrange(len(FACTS))]
    count_es = count.replace(",", ".")
    many = "cuántas" if small_es in FEMININE_UNITS else "cuántos"
    words_es = {"small": small_es, "big": big_es, "many": many, "Many": many.capitalize()}
    return Item(
        {"en": {"small": small_en, "big": big_en}, "es": words_es},
        answer={
            "en": f"There are {count} {small_en} in {big_en}.",
            "es": f"{big_es[0].upper() + big_es[1:]} tiene {count_es} {small_es}.",
        },
    )


REWORDS = [  # (style EN, sentence EN, rewritten EN, style ES, sentence ES, rewritten ES)
    (
        "more formal",
        "hey, the invoice is wrong, fix it",
        "Hello, I noticed an error in the invoice. Could you please correct it?",
        "más formal",
        "oye, la factura está mal, arréglala",
        "Hola, he notado un error en la factura. ¿Podría corregirlo, por favor?",
    ),
    (
        "simpler",
        "the aforementioned parcel will be dispatched forthwith",
        "The parcel will be sent right away.",
        "más sencilla",
        "el susodicho paquete será despachado a la mayor brevedad",
        "El paquete se enviará enseguida.",
    ),
    (
        "more cheerful",
        "the picnic is on Saturday",
        "Great news: the picnic is on Saturday!",
        "más alegre",
        "el picnic es el sábado",
        "¡Buenas noticias: el picnic es el sábado!",
    ),
    (
        "more direct",
        "I was sort of wondering if maybe we could possibly move the call",
        "Can we move the call?",
        "más directa",
        "me preguntaba si quizás tal vez podríamos mover la llamada",
        "¿Podemos mover la llamada?",
    ),
    (
        "more formal",
        "can't make it tomorrow, sorry",
        "I am sorry, but I will not be able to attend tomorrow.",
        "más formal",
        "mañana no puedo, perdona",
        "Lo siento, pero mañana no podré asistir.",
    ),
    (
        "simpler",
        "please ensure the door is secured upon departure from the premises",
        "Please lock the door when you leave.",
        "más sencilla",
        "asegúrese de que la puerta quede cerrada al abandonar el edificio",
        "Cierra la puerta al salir.",
    ),
    (
        "more cheerful",
        "the library opens at nine",
        "Good morning! The library opens its doors at nine.",
        "más alegre",
        "la biblioteca abre a las nueve",
        "¡Buenos días! La biblioteca abre sus puertas a las nueve.",
    ),
    (
        "more direct",
        "it might perhaps be worth considering a backup at some point",
        "Make a backup.",
        "más directa",
        "quizás valdría la pena plantearse una copia de seguridad en algún momento",
        "Haz una copia de seguridad.",
    ),
]
REWORD_FRAMES = {
    "en": [
        "Make this {style}: {sentence}",
        "Can you rephrase this to sound {style}? {sentence}",
        "Reword it so it sounds {style}, please: {sentence}",
        "How would you say this in a {style} way? {sentence}",
        *REWORD_MORE["en"],
        "Edit this sentence so it is {style}: {sentence}",
        "Give me a {style} version of: {sentence}",
    ],
    "es": [
        "Haz esta frase {style}: {sentence}",
        "¿Puedes reformular esto de forma {style}? {sentence}",
        "Redáctalo de manera {style}, por favor: {sentence}",
        "¿Cómo lo dirías de forma {style}? {sentence}",
        *REWORD_MORE["es"],
        "Corrige esta frase para que sea {style}: {sentence}",
        "Dame una versión {style} de: {sentence}",
    ],
}


def reword(rng: random.Random) -> Item:
    """A sentence rewritten in the reply: the text is in the request, nothing to read or run."""
    style_en, text_en, out_en, style_es, text_es, out_es = REWORDS[rng.randrange(len(REWORDS))]
    return Item(
        {"en": {"style": style_en, "sentence": text_en}, "es": {"style": style_es, "sentence": text_es}},
        answer={"en": out_en, "es": out_es},
    )


TIPS = [  # (subject EN, tips EN, subject ES, tips ES)
    (
        "keeping houseplants alive",
        "1. Water only when the top of the soil is dry.\n2. Give them bright, indirect light.",
        "mantener vivas las plantas de interior",
        "1. Riega solo cuando la tierra de arriba esté seca.\n2. Dales luz abundante pero indirecta.",
    ),
    (
        "sleeping better",
        "1. Go to bed at the same time every night.\n2. Keep screens out of the bedroom.",
        "dormir mejor",
        "1. Acuéstate a la misma hora cada noche.\n2. Deja las pantallas fuera del dormitorio.",
    ),
    (
        "saving money on groceries",
        "1. Plan the week's meals before you shop.\n2. Buy store brands of staples.",
        "ahorrar en la compra",
        "1. Planifica las comidas de la semana antes de comprar.\n2. Compra marcas blancas de lo básico.",
    ),
    (
        "writing clearer emails",
        "1. Put the request in the first line.\n2. Keep one topic per email.",
        "escribir correos más claros",
        "1. Pon la petición en la primera línea.\n2. Un solo tema por correo.",
    ),
    (
        "running a first 5 km race",
        "1. Start slower than feels natural.\n2. Train three times a week for a month before.",
        "correr una primera carrera de 5 km",
        "1. Empieza más despacio de lo que te pide el cuerpo.\n2. Entrena tres veces por semana durante un mes antes.",
    ),
    (
        "a long train journey",
        "1. Bring snacks and a refillable bottle.\n2. Download something to read offline.",
        "un viaje largo en tren",
        "1. Lleva algo de comer y una botella rellenable.\n2. Descarga algo para leer sin conexión.",
    ),
    (
        "reviewing a pull request",
        "1. Read the description and tests first.\n2. Comment on the code, not the person.",
        "revisar un pull request",
        "1. Lee primero la descripción y los tests.\n2. Comenta el código, no a la persona.",
    ),
    (
        "a rainy weekend at home",
        "1. Cook something slow, like a stew.\n2. Start a jigsaw puzzle or a board game.",
        "un fin de semana lluvioso en casa",
        "1. Cocina algo lento, como un guiso.\n2. Empieza un puzle o un juego de mesa.",
    ),
]
TIP_FRAMES = {
    "en": [
        "Any tips for {subject}?",
        "Give me a couple of tips on {subject}.",
        "What are two good habits for {subject}?",
        "I could use some advice on {subject}. Keep it short.",
        *TIP_MORE["en"],
        "Share a few quick ideas for {subject}.",
        "What would you suggest for {subject}?",
    ],
    "es": [
        "¿Algún consejo para {subject}?",
        "Dame un par de consejos sobre {subject}.",
        "¿Qué dos buenos hábitos recomiendas para {subject}?",
        "Me vendría bien un consejo sobre {subject}. Que sea breve.",
        *TIP_MORE["es"],
        "Comparte unas ideas rápidas para {subject}.",
        "¿Qué sugerirías para {subject}?",
    ],
}


def tips(rng: random.Random) -> Item:
    """Advice written in the reply: nothing in the workspace to look at."""
    en, tips_en, es, tips_es = TIPS[rng.randrange(len(TIPS))]
    return Item({"en": {"subject": en}, "es": {"subject": es}}, answer={"en": tips_en, "es": tips_es})
