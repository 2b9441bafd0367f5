"""More training frames for `writing`: task-sounding requests answered in words, said other ways.

Only training frames live here; each list in `writing` keeps its eval frames (the last two,
`eval_frame_indexes`) at its end, after these.
"""

from __future__ import annotations

# A short poem about {topic} ("the sea", "a rainy Monday"; "el mar", "depurar de noche").
VERSE_MORE = {
    "en": [
        "Write me a little poem about {topic}.",
        "Can you write a poem about {topic}? Keep it short.",
        "A two-line poem about {topic}, please.",
        "Make up some verse about {topic}.",
        "I'm making a card and need a short poem about {topic}.",
        "poem about {topic}, short",
        "Write a mini poem on {topic}.",
        "Put {topic} into two lines of poetry.",
        "Got a short poem about {topic} for me?",
        "Just for fun, write a short poem about {topic}.",
        "Could you write something poetic about {topic}? Two lines is plenty.",
    ],
    "es": [
        "Escríbeme un poema cortito sobre {topic}.",
        "¿Puedes escribir un poema sobre {topic}? Que sea breve.",
        "Un poema de dos versos sobre {topic}, porfa.",
        "Invéntate unos versos sobre {topic}.",
        "Estoy haciendo una tarjeta y me falta un poema corto sobre {topic}.",
        "poema corto sobre {topic}",
        "Hazme un mini poema sobre {topic}.",
        "Pon {topic} en dos versos.",
        "¿Tienes un poemita sobre {topic} para mí?",
        "Por diversión, escribe un poema breve sobre {topic}.",
        "¿Me escribís algo poético sobre {topic}? Con dos versos alcanza.",
    ],
}

# A name for {thing} ("a coffee shop", "a goldfish"; "una cafetería", "un pez de colores").
NAME_MORE = {
    "en": [
        "What should I name {thing}?",
        "Got any name ideas for {thing}?",
        "I'm stuck on a name for {thing}. Ideas?",
        "name ideas for {thing}?",
        "Can you suggest a name for {thing}?",
        "Brainstorm a name for {thing}.",
        "Give me a name for {thing}.",
        "What's a good name for {thing}?",
        "Pick a name for {thing}, something short.",
        "I can't decide what to call {thing}. Suggest one?",
        "Any good names for {thing}?",
    ],
    "es": [
        "¿Qué nombre le pongo a {thing}?",
        "¿Se te ocurre un nombre para {thing}?",
        "Estoy atascado buscando nombre para {thing}. ¿Ideas?",
        "ideas de nombre para {thing}?",
        "¿Puedes sugerirme un nombre para {thing}?",
        "Dame un nombre para {thing}.",
        "¿Cuál sería un buen nombre para {thing}?",
        "Elige un nombre para {thing}, algo corto.",
        "No sé cómo llamar a {thing}. ¿Me propones uno?",
        "¿Tenés algún nombre para {thing}?",
        "Propón un nombre para {thing}.",
    ],
}

# How many {small} in {big} ("seconds", "an hour"); in Spanish {many} / {Many} is "cuántos"
# or "cuántas", agreeing with {small} ("segundos", "horas").
FACT_MORE = {
    "en": [
        "how many {small} in {big}",
        "I always forget: how many {small} are in {big}?",
        "Without looking it up, how many {small} are in {big}?",
        "How many {small} make up {big}?",
        "Can you tell me how many {small} there are in {big}?",
        "Settle a bet: how many {small} are in {big}?",
        "For my kid's homework: how many {small} are there in {big}?",
        "{big} has how many {small}?",
        "Out of curiosity, how many {small} are in {big}?",
        "So how many {small} are there in {big}, exactly?",
    ],
    "es": [
        "{many} {small} tiene {big}",
        "Siempre se me olvida: ¿{many} {small} hay en {big}?",
        "Sin buscarlo, ¿{many} {small} tiene {big}?",
        "¿Me recuerdas {many} {small} hay en {big}?",
        "Para la tarea de mi hija: ¿{many} {small} hay en {big}?",
        "Hemos hecho una apuesta: ¿{many} {small} tiene {big}?",
        "¿En {big} {many} {small} hay?",
        "¿Qué cantidad de {small} hay en {big}?",
        "Por curiosidad, ¿{many} {small} hay en {big}?",
        "A ver, ¿{many} {small} tiene {big} exactamente?",
    ],
}

# A given {sentence} made {style} ("more formal", "simpler"; "más formal", "más sencilla").
# Every request starts with a capital letter (a test checks).
REWORD_MORE = {
    "en": [
        "Rewrite this to be {style}: {sentence}",
        "Please make this sentence {style}: {sentence}",
        "Could you make the following {style}? {sentence}",
        "I'm about to send this message. Can you make it {style}? {sentence}",
        "Turn this into something {style}: {sentence}",
        "Help me make this {style}: {sentence}",
        "Rephrase, {style} please: {sentence}",
        "Polish this so it reads {style}: {sentence}",
        "This sentence: {sentence} (could you make it {style}?)",
        "Rewrite the line below so it sounds {style}.\n{sentence}",
        "Can you tweak this to be {style}? {sentence}",
    ],
    "es": [
        "Reescribe esta frase para que quede {style}: {sentence}",
        "¿Me dejas esta frase {style}? {sentence}",
        "Voy a enviar este mensaje. ¿Puedes dejar la frase {style}? {sentence}",
        "Convierte esto en una versión {style}: {sentence}",
        "Ayúdame a dejar esta frase {style}: {sentence}",
        "Reformula, de forma {style}: {sentence}",
        "Pule esta frase para que suene {style}: {sentence}",
        "Esta frase: {sentence} (¿la podés hacer {style}?)",
        "Reescribe la frase de abajo de manera {style}.\n{sentence}",
        "¿Puedes retocar esta frase para que sea {style}? {sentence}",
        "Quiero esta frase {style}: {sentence}",
    ],
}

# A couple of tips on {subject} ("sleeping better"; "dormir mejor"). Capital first letter.
TIP_MORE = {
    "en": [
        "Tips for {subject}?",
        "What's your best advice for {subject}?",
        "Got any advice on {subject}?",
        "Two quick tips for {subject}, please.",
        "Can you give me some pointers on {subject}?",
        "What should I keep in mind for {subject}?",
        "Short list of tips for {subject}?",
        "Any advice for {subject}? Just a couple of points.",
        "Help me out with some tips for {subject}.",
        "I'd love a couple of suggestions for {subject}.",
        "Where do I start with {subject}? Two tips is enough.",
    ],
    "es": [
        "¿Consejos para {subject}?",
        "¿Cuál es tu mejor consejo para {subject}?",
        "¿Tienes algún consejo sobre {subject}?",
        "Dos consejos rápidos para {subject}, por favor.",
        "¿Me das unas pautas para {subject}?",
        "¿Qué debería tener en cuenta para {subject}?",
        "Una lista cortita de consejos para {subject}.",
        "¿Algún tip para {subject}? Con un par me vale.",
        "Échame una mano con unos consejos para {subject}.",
        "Me encantaría un par de sugerencias para {subject}.",
        "¿Qué me recomendás para {subject}?",
    ],
}
