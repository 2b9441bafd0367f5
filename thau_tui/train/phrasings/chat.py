"""Requests that need no tool: greetings, facts, explanations, arithmetic, code written in the reply."""

from __future__ import annotations

import random

from . import Item
from .chat_more import ARITHMETIC_MORE, CODE_MORE, CONCEPT_MORE, GREETINGS_MORE, TRANSLATE_MORE

# The *_MORE lists (chat_more) go before each list's last entries: those are the eval
# side's (eval_frame_indexes), so they stay last.

GREETINGS = [
    ("hello", "Hello! How can I help you today?", "hola", "¡Hola! ¿En qué te puedo ayudar hoy?"),
    ("Hi there!", "Hi! What can I do for you?", "¡Buenas!", "¡Buenas! ¿Qué necesitas?"),
    (
        "Good morning",
        "Good morning! What are we working on today?",
        "Buenos días",
        "¡Buenos días! ¿En qué trabajamos hoy?",
    ),
    ("hey", "Hey! What do you need?", "hey", "¡Hey! ¿Qué necesitas?"),
    (
        "How are you?",
        "I'm doing well, thanks for asking. How can I help?",
        "¿Cómo estás?",
        "Muy bien, gracias por preguntar. ¿En qué te ayudo?",
    ),
    ("Thanks!", "You're welcome!", "¡Gracias!", "¡De nada!"),
    (
        "Thank you, that worked.",
        "Great, glad it worked!",
        "Gracias, funcionó.",
        "¡Genial, me alegro de que funcionara!",
    ),
    (
        "Who are you?",
        "I'm thau, an assistant that runs locally in your terminal. I can answer questions and use tools "
        "like the shell, Python and files when that helps.",
        "¿Quién eres?",
        "Soy thau, un asistente que funciona en local en tu terminal. Respondo preguntas y uso herramientas como la "
        "terminal, Python y archivos cuando ayuda.",
    ),
    (
        "What can you do?",
        "I can answer questions, explain code, and, with your approval, run shell commands and "
        "Python, read and write files, search code and generate images.",
        "¿Qué puedes hacer?",
        "Puedo responder preguntas, explicar código y, con tu permiso, ejecutar comandos y Python, leer y escribir "
        "archivos, buscar en el código y generar imágenes.",
    ),
    ("Good night!", "Good night! See you next time.", "¡Buenas noches!", "¡Buenas noches! Hasta la próxima."),
    ("bye", "Bye! Have a good day.", "adiós", "¡Adiós! Que tengas un buen día."),
    (
        "Tell me a joke",
        "Why do programmers prefer dark mode? Because light attracts bugs.",
        "Cuéntame un chiste",
        "¿Por qué los programadores prefieren el modo oscuro? Porque la luz atrae a los bugs.",
    ),
    *GREETINGS_MORE,
    ("ok", "Okay! Tell me if you need anything else.", "vale", "¡Vale! Dime si necesitas algo más."),
    (
        "Are you online?",
        "No, I run entirely on your computer; nothing you type leaves it.",
        "¿Estás conectado a internet?",
        "No, funciono entero en tu ordenador; nada de lo que escribes sale de él.",
    ),
]


def greeting(rng: random.Random) -> Item:
    """Small talk: the reply is a sentence, never a tool."""
    en, reply_en, es, reply_es = GREETINGS[rng.randrange(len(GREETINGS))]
    return Item({"en": {"text": en}, "es": {"text": es}}, answer={"en": reply_en, "es": reply_es})


GREETING_FRAMES = {"en": ["{text}"], "es": ["{text}"]}

CONCEPTS = [
    (
        "a variable",
        "A variable is a name that refers to a value stored in memory, so you can use and change it later.",
        "una variable",
        "Una variable es un nombre que apunta a un valor guardado en memoria, para usarlo y cambiarlo después.",
    ),
    (
        "recursion",
        "Recursion is when a function calls itself on a smaller piece of the problem until it reaches a base case.",
        "la recursión",
        "La recursión es cuando una función se llama a sí misma con una parte más pequeña del problema hasta llegar a un caso base.",
    ),
    (
        "an API",
        "An API is a set of rules that lets one program ask another for data or actions.",
        "una API",
        "Una API es un conjunto de reglas que permite a un programa pedir datos o acciones a otro.",
    ),
    (
        "git",
        "Git is a version control system: it records snapshots of your files so you can compare, undo and share changes.",
        "git",
        "Git es un sistema de control de versiones: guarda instantáneas de tus archivos para comparar, deshacer y compartir cambios.",
    ),
    (
        "the ls command",
        "ls lists the files and folders in a directory; ls -l adds sizes, owners and dates.",
        "el comando ls",
        "ls lista los archivos y carpetas de un directorio; ls -l añade tamaños, dueños y fechas.",
    ),
    (
        "grep",
        "grep searches text for lines that match a pattern, for example grep -r TODO src/.",
        "grep",
        "grep busca en un texto las líneas que coinciden con un patrón, por ejemplo grep -r TODO src/.",
    ),
    (
        "a list comprehension",
        "A list comprehension builds a list in one expression, like [x * 2 for x in nums].",
        "una comprensión de listas",
        "Una comprensión de listas construye una lista en una expresión, como [x * 2 for x in nums].",
    ),
    (
        "JSON",
        "JSON is a text format for data made of objects, arrays, strings, numbers, booleans and null.",
        "JSON",
        "JSON es un formato de texto para datos con objetos, arrays, cadenas, números, booleanos y null.",
    ),
    (
        "machine learning",
        "Machine learning is building programs that learn patterns from data instead of following hand-written rules.",
        "el aprendizaje automático",
        "El aprendizaje automático consiste en crear programas que aprenden patrones de los datos en vez de seguir reglas escritas a mano.",
    ),
    (
        "a LoRA adapter",
        "A LoRA adapter is a small set of low-rank weights added to a model to fine-tune it cheaply.",
        "un adaptador LoRA",
        "Un adaptador LoRA es un conjunto pequeño de pesos de bajo rango que se añade a un modelo para ajustarlo con poco coste.",
    ),
    (
        "photosynthesis",
        "Photosynthesis is how plants turn light, water and carbon dioxide into sugar and oxygen.",
        "la fotosíntesis",
        "La fotosíntesis es el proceso por el que las plantas convierten luz, agua y dióxido de carbono en azúcar y oxígeno.",
    ),
    (
        "a black hole",
        "A black hole is a region of space where gravity is so strong that not even light can escape.",
        "un agujero negro",
        "Un agujero negro es una región del espacio donde la gravedad es tan fuerte que ni la luz puede escapar.",
    ),
    (
        "HTTP",
        "HTTP is the protocol browsers and servers use to request and send web pages and data.",
        "HTTP",
        "HTTP es el protocolo que usan navegadores y servidores para pedir y enviar páginas y datos.",
    ),
    (
        "a virtual environment",
        "A virtual environment is an isolated folder of Python packages for one project.",
        "un entorno virtual",
        "Un entorno virtual es una carpeta aislada de paquetes de Python para un proyecto.",
    ),
    (
        "Big O notation",
        "Big O notation describes how the running time of an algorithm grows with the input size.",
        "la notación Big O",
        "La notación Big O describe cómo crece el tiempo de un algoritmo con el tamaño de la entrada.",
    ),
    (
        "a Python decorator",
        "A decorator is a function that wraps another function to add behaviour, written with @name above it.",
        "un decorador de Python",
        "Un decorador es una función que envuelve a otra para añadirle comportamiento; se escribe con @nombre encima.",
    ),
    (
        "DNS",
        "DNS translates domain names like example.com into the IP addresses computers use.",
        "DNS",
        "DNS traduce nombres de dominio como example.com a las direcciones IP que usan los ordenadores.",
    ),
    (
        "an SQL JOIN",
        "A JOIN combines rows from two tables that share a value in a related column.",
        "un JOIN de SQL",
        "Un JOIN combina filas de dos tablas que comparten un valor en una columna relacionada.",
    ),
    (
        "a Docker container",
        "A container packages an app with its dependencies so it runs the same everywhere.",
        "un contenedor Docker",
        "Un contenedor empaqueta una aplicación con sus dependencias para que funcione igual en todas partes.",
    ),
    (
        "the capital of France",
        "The capital of France is Paris.",
        "la capital de Francia",
        "La capital de Francia es París.",
    ),
    (
        "the speed of light",
        "Light travels at about 299,792 kilometres per second in a vacuum.",
        "la velocidad de la luz",
        "La luz viaja a unos 299.792 kilómetros por segundo en el vacío.",
    ),
    (
        "an async function",
        "An async function can pause at await points so other work runs while it waits for I/O.",
        "una función async",
        "Una función async puede pausarse en cada await para que otro trabajo avance mientras espera E/S.",
    ),
    (
        "a hash table",
        "A hash table stores key-value pairs and finds a value by hashing its key, usually in constant time.",
        "una tabla hash",
        "Una tabla hash guarda pares clave-valor y encuentra un valor aplicando un hash a su clave, normalmente en tiempo constante.",
    ),
    (
        "the difference between a list and a tuple",
        "A list can change after it is created; a tuple cannot.",
        "la diferencia entre una lista y una tupla",
        "Una lista se puede modificar después de crearla; una tupla no.",
    ),
    (
        "a unit test",
        "A unit test checks one small piece of code, like a function, in isolation.",
        "un test unitario",
        "Un test unitario comprueba una pieza pequeña de código, como una función, de forma aislada.",
    ),
    (
        "the Pythagorean theorem",
        "In a right triangle, a² + b² = c², where c is the hypotenuse.",
        "el teorema de Pitágoras",
        "En un triángulo rectángulo, a² + b² = c², donde c es la hipotenusa.",
    ),
]
CONCEPT_FRAMES = {
    "en": [
        "What is {concept}?",
        "Explain {concept} briefly.",
        "Can you tell me about {concept}?",
        "In one sentence, what is {concept}?",
        "I don't understand {concept}. What is it?",
        *CONCEPT_MORE["en"],
        "Quick question: what's {concept}?",
        "Describe {concept} for a beginner.",
    ],
    "es": [
        "¿Qué es {concept}?",
        "Explícame {concept} brevemente.",
        "¿Me hablas de {concept}?",
        "En una frase, ¿qué es {concept}?",
        "No entiendo {concept}. ¿Qué es?",
        *CONCEPT_MORE["es"],
        "Pregunta rápida: ¿qué es {concept}?",
        "Describe {concept} para un principiante.",
    ],
}


def concept(rng: random.Random) -> Item:
    """A question the assistant answers from what it knows."""
    en, answer_en, es, answer_es = CONCEPTS[rng.randrange(len(CONCEPTS))]
    return Item({"en": {"concept": en}, "es": {"concept": es}}, answer={"en": answer_en, "es": answer_es})


ARITHMETIC_FRAMES = {
    "en": [
        "What is {a} {op} {b}?",
        "How much is {a} {op} {b}?",
        "Compute {a} {op} {b} in your head.",
        *ARITHMETIC_MORE["en"],
        "{a} {op} {b} = ?",
    ],
    "es": [
        "¿Cuánto es {a} {op} {b}?",
        "¿Cuánto da {a} {op} {b}?",
        "Calcula de cabeza {a} {op} {b}.",
        *ARITHMETIC_MORE["es"],
        "{a} {op} {b} = ?",
    ],
}


def arithmetic(rng: random.Random) -> Item:
    """Small arithmetic answered directly (no need for Python)."""
    a, b = rng.randint(2, 60), rng.randint(2, 30)
    op = rng.choice(["+", "-", "*"])
    value = a + b if op == "+" else a - b if op == "-" else a * b
    words = {"a": str(a), "b": str(b), "op": op}
    return Item({"en": words, "es": words}, answer={"en": f"{a} {op} {b} = {value}.", "es": f"{a} {op} {b} = {value}."})


CODE_TASKS = [
    ("reverses a string", "invierta una cadena", "def reverse(text):\n    return text[::-1]"),
    ("checks if a number is even", "compruebe si un número es par", "def is_even(n):\n    return n % 2 == 0"),
    ("returns the maximum of a list", "devuelva el máximo de una lista", "def maximum(items):\n    return max(items)"),
    (
        "counts the words in a sentence",
        "cuente las palabras de una frase",
        "def count_words(text):\n    return len(text.split())",
    ),
    (
        "reads a file and returns its lines",
        "lea un archivo y devuelva sus líneas",
        "def read_lines(path):\n    with open(path, encoding='utf-8') as f:\n        return f.read().splitlines()",
    ),
    (
        "computes the factorial of n",
        "calcule el factorial de n",
        "def factorial(n):\n    return 1 if n < 2 else n * factorial(n - 1)",
    ),
    (
        "removes duplicates from a list keeping the order",
        "quite los duplicados de una lista manteniendo el orden",
        "def unique(items):\n    return list(dict.fromkeys(items))",
    ),
    (
        "converts Celsius to Fahrenheit",
        "convierta Celsius a Fahrenheit",
        "def to_fahrenheit(c):\n    return c * 9 / 5 + 32",
    ),
    (
        "checks if a word is a palindrome",
        "compruebe si una palabra es un palíndromo",
        "def is_palindrome(word):\n    word = word.lower()\n    return word == word[::-1]",
    ),
    ("merges two dictionaries", "combine dos diccionarios", "def merge(a, b):\n    return {**a, **b}"),
]
CODE_FRAMES = {
    "en": [
        "Write a Python function that {task}.",
        "Show me a Python function that {task}.",
        "How would I write a function that {task}?",
        *CODE_MORE["en"],
        "Give me code for a function that {task}.",
    ],
    "es": [
        "Escribe una función en Python que {task}.",
        "Muéstrame una función de Python que {task}.",
        "¿Cómo escribo una función que {task}?",
        *CODE_MORE["es"],
        "Dame el código de una función que {task}.",
    ],
}


def code(rng: random.Random) -> Item:
    """Code the user asked to see, written in the reply rather than run."""
    en, es, snippet = CODE_TASKS[rng.randrange(len(CODE_TASKS))]
    block = f"```python\n{snippet}\n```"
    return Item(
        {"en": {"task": en}, "es": {"task": es}},
        answer={"en": f"Here it is:\n{block}", "es": f"Aquí la tienes:\n{block}"},
    )


PHRASES = [
    ("good morning", "buenos días"),
    ("thank you very much", "muchas gracias"),
    ("where is the station?", "¿dónde está la estación?"),
    ("I like coffee", "me gusta el café"),
    ("see you tomorrow", "hasta mañana"),
    ("the file is empty", "el archivo está vacío"),
    ("happy birthday", "feliz cumpleaños"),
    ("how much does it cost?", "¿cuánto cuesta?"),
]
TRANSLATE_FRAMES = {
    "en": [
        "How do you say '{phrase}' in Spanish?",
        "Translate '{phrase}' to Spanish.",
        *TRANSLATE_MORE["en"],
        "What is '{phrase}' in Spanish?",
    ],
    "es": [
        "¿Cómo se dice '{phrase}' en inglés?",
        "Traduce '{phrase}' al inglés.",
        *TRANSLATE_MORE["es"],
        "¿Qué es '{phrase}' en inglés?",
    ],
}


def translate(rng: random.Random) -> Item:
    """A translation, answered directly."""
    en, es = PHRASES[rng.randrange(len(PHRASES))]
    return Item(
        {"en": {"phrase": en}, "es": {"phrase": es}}, answer={"en": f'In Spanish: "{es}".', "es": f'En inglés: "{en}".'}
    )
