"""More training frames and greetings for `chat`: requests that need no tool, said other ways.

Only the training side lives here; each list in `chat` keeps its eval entries (the last one or
two, `eval_frame_indexes`) at its end, after these.
"""

from __future__ import annotations

# (EN, reply EN, ES, reply ES); each greeting is its own template.
GREETINGS_MORE = [
    ("Good afternoon!", "Good afternoon! What can I do for you?", "Buenas tardes", "¡Buenas tardes! ¿Qué necesitas?"),
    ("hiya", "Hi! What are we doing today?", "¿Qué onda?", "¡Hola! ¿Qué hacemos hoy?"),
    ("What's up?", "Not much, ready to help. What do you need?", "¿Qué tal?", "¡Bien! ¿En qué te ayudo?"),
    (
        "Nice to meet you.",
        "Nice to meet you too! Tell me what you need.",
        "Encantado de conocerte.",
        "¡Igualmente! Dime qué necesitas.",
    ),
    (
        "Brilliant, cheers for that.",
        "Glad it helped! Anything else?",
        "Me salvaste el día, gracias.",
        "¡Me alegro de que te sirviera! ¿Algo más?",
    ),
    ("Perfect, thank you.", "You're welcome!", "Perfecto, gracias.", "¡De nada!"),
    ("See you later", "See you later!", "Hasta luego", "¡Hasta luego!"),
    (
        "Sorry, my mistake.",
        "No problem at all. What would you like to do now?",
        "Perdona, me equivoqué.",
        "No pasa nada. ¿Qué quieres hacer ahora?",
    ),
    ("Are you there?", "Yes, I'm here. What do you need?", "¿Sigues ahí?", "Sí, aquí estoy. ¿Qué necesitas?"),
    ("Hello thau", "Hello! What can I help you with?", "Hola, thau", "¡Hola! ¿En qué te puedo ayudar?"),
    (
        "What's your name?",
        "I'm thau, your local terminal assistant.",
        "¿Cómo te llamas?",
        "Soy thau, tu asistente local en la terminal.",
    ),
    (
        "Great job, thanks!",
        "Thank you! Happy to help.",
        "¡Buen trabajo, gracias!",
        "¡Gracias! Encantado de ayudar.",
    ),
    ("morning!", "Morning! What's on the list today?", "¡Buen día!", "¡Buen día! ¿Qué hay para hoy?"),
    (
        "Never mind, forget it.",
        "No problem. I'm here if you need anything.",
        "Déjalo, no importa.",
        "Sin problema. Aquí estoy si necesitas algo.",
    ),
    ("Cool, thanks", "Anytime!", "Genial, gracias", "¡Cuando quieras!"),
    (
        "I'm back.",
        "Welcome back! Where were we?",
        "Ya volví.",
        "¡Bienvenido de nuevo! ¿Por dónde íbamos?",
    ),
]

# A thing to explain ("a variable", "recursion", "the speed of light").
CONCEPT_MORE = {
    "en": [
        "Can you explain {concept} to me?",
        "I'm new to this. What is {concept}?",
        "Explain {concept} in simple terms.",
        "What do you know about {concept}?",
        "Give me a short explanation of {concept}.",
        "Tell me what {concept} is.",
        "I've been reading about {concept} but I'm lost. Can you explain it?",
        "Sorry if this is basic, but what is {concept}?",
        "Just from what you know: what is {concept}?",
        "Can you walk me through {concept}?",
        "What exactly is {concept}?",
        "Help me understand {concept}.",
        "Briefly, what is {concept}?",
        "Could you tell me what {concept} is, in a couple of lines?",
        "what is {concept}",
        "Explain {concept} like I'm five.",
        "Someone at work mentioned {concept}. What is it?",
    ],
    "es": [
        "¿Me explicas {concept}?",
        "Soy nuevo en esto: ¿qué es {concept}?",
        "Explica {concept} con palabras sencillas.",
        "¿Qué sabes de {concept}?",
        "Dame una explicación corta de {concept}.",
        "Cuéntame qué es {concept}.",
        "Estoy leyendo sobre {concept} y no me entero. ¿Me lo explicas?",
        "Perdona si es básico, pero ¿qué es {concept}?",
        "Con lo que sabes, sin buscar nada: ¿qué es {concept}?",
        "¿Me podés explicar {concept}?",
        "¿Qué es exactamente {concept}?",
        "Ayúdame a entender {concept}.",
        "Brevemente, ¿qué es {concept}?",
        "¿Me cuentas en un par de líneas qué es {concept}?",
        "que es {concept}",
        "Explícame {concept} como si tuviera cinco años.",
        "Un compañero del trabajo mencionó {concept}. ¿Qué es?",
    ],
}

# Small arithmetic ("{a} {op} {b}" with op in + - *), answered without running anything.
ARITHMETIC_MORE = {
    "en": [
        "what's {a} {op} {b}",
        "{a} {op} {b}?",
        "Quick math: {a} {op} {b}.",
        "Tell me the result of {a} {op} {b}.",
        "Solve {a} {op} {b}.",
        "No need for code: what is {a} {op} {b}?",
        "What do you get if you do {a} {op} {b}?",
        "Mental math, {a} {op} {b}?",
        "I'm checking my homework. What's {a} {op} {b}?",
    ],
    "es": [
        "cuánto es {a} {op} {b}",
        "¿{a} {op} {b}?",
        "Rápido: {a} {op} {b}.",
        "Dime el resultado de {a} {op} {b}.",
        "Resuelve {a} {op} {b}.",
        "Sin usar código: ¿cuánto es {a} {op} {b}?",
        "¿Qué sale de {a} {op} {b}?",
        "¿Cuánto te da {a} {op} {b}?",
        "Estoy repasando los deberes. ¿Cuánto es {a} {op} {b}?",
    ],
}

# A function to write in the reply: an English relative clause ("reverses a string"), a
# Spanish subjunctive one ("invierta una cadena").
CODE_MORE = {
    "en": [
        "I need a Python function that {task}.",
        "Can you write me a function that {task}?",
        "Write a short function that {task}; no need to run it.",
        "What would a Python function that {task} look like?",
        "Show me how to write a function that {task}.",
        "Could you code up a function that {task}?",
        "Just show me the code: a function that {task}.",
        "python function that {task}",
        "I'm learning Python. How do I make a function that {task}?",
        "Can I see an example of a function that {task}?",
        "Sketch a quick Python function that {task}.",
    ],
    "es": [
        "Necesito una función en Python que {task}.",
        "¿Me escribes una función que {task}?",
        "Escribe una función corta que {task}; no hace falta ejecutarla.",
        "¿Cómo sería una función de Python que {task}?",
        "Enséñame a escribir una función que {task}.",
        "¿Me programas una función que {task}?",
        "Solo el código: una función que {task}.",
        "función en python que {task}",
        "Estoy aprendiendo Python. ¿Cómo hago una función que {task}?",
        "¿Me pasás un ejemplo de función que {task}?",
        "Hazme una función rápida en Python que {task}.",
    ],
}

# A phrase to translate: English into Spanish, Spanish into English.
TRANSLATE_MORE = {
    "en": [
        "What's the Spanish for '{phrase}'?",
        "How would I say '{phrase}' in Spanish?",
        "'{phrase}' in Spanish?",
        "Can you put '{phrase}' into Spanish?",
        "I'm going to Madrid next week. How do I say '{phrase}' in Spanish?",
        "Spanish translation of '{phrase}', please.",
        "Say '{phrase}' in Spanish.",
        "How does '{phrase}' translate into Spanish?",
    ],
    "es": [
        "¿Cómo digo '{phrase}' en inglés?",
        "Pásame '{phrase}' al inglés.",
        "¿'{phrase}' en inglés?",
        "¿Me traduces '{phrase}' al inglés?",
        "Viajo a Londres la semana que viene. ¿Cómo se dice '{phrase}' en inglés?",
        "Traducción al inglés de '{phrase}', por favor.",
        "Dime '{phrase}' en inglés.",
        "¿Cómo se traduce '{phrase}' al inglés?",
    ],
}
