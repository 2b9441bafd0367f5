"""Requests for search_docs, analyze_code, run_tests, debug_code and ask_user."""

from __future__ import annotations

import random

from . import Item, Slot

DOC_TOPICS = [
    "pathlib.Path",
    "json.dumps",
    "re.sub",
    "itertools.groupby",
    "asyncio.gather",
    "subprocess.run",
    "collections.Counter",
    "datetime.strptime",
    "functools.lru_cache",
    "os.walk",
    "dataclasses",
    "argparse",
    "logging.basicConfig",
    "zip",
    "enumerate",
    "str.format",
    "sqlite3",
    "csv.DictReader",
]
DOCS = {
    "en": [
        "Look up the docs for {query}.",
        "What does the documentation say about {query}?",
        "Search the Python docs for {query}.",
        "Find the documentation of {query}.",
        "Check the docs: {query}.",
        "Open the reference for {query}.",
    ],
    "es": [
        "Busca en la documentación {query}.",
        "¿Qué dice la documentación de {query}?",
        "Busca {query} en la documentación de Python.",
        "Encuentra la documentación de {query}.",
        "Consulta la documentación: {query}.",
        "Abre la referencia de {query}.",
    ],
}


def docs(rng: random.Random) -> Item:
    """A documentation look-up."""
    query = DOC_TOPICS[rng.randrange(len(DOC_TOPICS))]
    words = {"query": query}
    return Item(
        {"en": words, "es": words},
        {"query": query},
        f"Help on {query}:\n{query}(...)\n    See the module documentation for details.",
        {
            "en": f"The documentation for {query} is above; the signature shows the arguments it takes.",
            "es": f"Arriba está la documentación de {query}; la firma muestra los argumentos que recibe.",
        },
    )


SNIPPETS = [
    "def add(a, b):\n    return a + b",
    "import os\nos.system('rm -rf ' + user_input)",
    "password = 'hunter2'\nprint(password)",
    "for i in range(10)\n    print(i)",
    "def f(x):\n    if x > 0:\n        if x > 10:\n            return 2\n        return 1\n    return 0",
    "eval(input('> '))",
    "def greet(name):\n    print('Hola ' + name",
    "import pickle\ndata = pickle.loads(blob)",
    "def total(items):\n    return sum(i.price for i in items)",
    "x = [1, 2, 3\nprint(x)",
]
ANALYZE = {
    "security": {
        "en": [
            "Check this code for security problems:\n{code}",
            "Is this code safe?\n{code}",
            "Audit this snippet for vulnerabilities:\n{code}",
        ],
        "es": [
            "Revisa este código en busca de problemas de seguridad:\n{code}",
            "¿Es seguro este código?\n{code}",
            "Audita este fragmento por vulnerabilidades:\n{code}",
        ],
    },
    "syntax": {
        "en": [
            "Is this valid Python?\n{code}",
            "Check the syntax of this code:\n{code}",
            "Does this code have syntax errors?\n{code}",
        ],
        "es": [
            "¿Es Python válido?\n{code}",
            "Revisa la sintaxis de este código:\n{code}",
            "¿Tiene errores de sintaxis este código?\n{code}",
        ],
    },
    "complexity": {
        "en": [
            "How complex is this function?\n{code}",
            "Measure the complexity of this code:\n{code}",
            "Give me the cyclomatic complexity of:\n{code}",
        ],
        "es": [
            "¿Qué tan compleja es esta función?\n{code}",
            "Mide la complejidad de este código:\n{code}",
            "Dame la complejidad ciclomática de:\n{code}",
        ],
    },
}


def analyze(kind: str):
    """A drawer of analyze_code requests of one analysis type."""

    def draw(rng: random.Random) -> Item:
        code = SNIPPETS[rng.randrange(len(SNIPPETS))]
        words = {"code": code}
        return Item(
            {"en": words, "es": words},
            {"code": code, "analysis_type": kind},
            f"{kind} analysis: 1 finding",
            {
                "en": f"The {kind} check found one issue, shown above.",
                "es": f"La revisión de {kind} encontró un problema, arriba.",
            },
        )

    return draw


TEST_PATHS = [
    ("tests", "the tests", "los tests"),
    ("tests/test_api.py", "tests/test_api.py", "tests/test_api.py"),
    ("tests/test_models.py", "the model tests", "los tests de modelos"),
    ("tests/unit", "the unit tests", "los tests unitarios"),
    (".", "the whole test suite", "toda la suite de tests"),
]
RUN_TESTS = {
    "en": [
        "Run {what}.",
        "Can you run {what}?",
        "Run {what} with pytest.",
        "Check whether {what} pass.",
        "Execute {what} and tell me what fails.",
    ],
    "es": [
        "Ejecuta {what}.",
        "¿Puedes correr {what}?",
        "Corre {what} con pytest.",
        "Comprueba si pasan {what}.",
        "Ejecuta {what} y dime qué falla.",
    ],
}


def run_tests(rng: random.Random) -> Item:
    """A request to run a test path."""
    path, what_en, what_es = TEST_PATHS[rng.randrange(len(TEST_PATHS))]
    return Item(
        {"en": {"what": what_en}, "es": {"what": what_es}},
        {"path": path},
        "===== 12 passed, 1 failed in 0.84s =====\nFAILED tests/test_api.py::test_login",
        {
            "en": "12 tests passed and 1 failed: test_login in tests/test_api.py.",
            "es": "Pasaron 12 tests y falló 1: test_login en tests/test_api.py.",
        },
    )


BUGS = [
    ("def avg(xs):\n    return sum(xs) / len(xs)\nprint(avg([]))", "ZeroDivisionError: division by zero"),
    ("d = {'a': 1}\nprint(d['b'])", "KeyError: 'b'"),
    ("items = [1, 2, 3]\nprint(items[3])", "IndexError: list index out of range"),
    ("print('total: ' + 5)", 'TypeError: can only concatenate str (not "int") to str'),
    ("import numpy as np\nnp.arange(5).reshape(2, 3)", "ValueError: cannot reshape array of size 5 into shape (2,3)"),
    ("def f():\n    return x + 1\nf()", "NameError: name 'x' is not defined"),
]
DEBUG = {
    "en": [
        "This fails with {error}. Help me debug it:\n{code}",
        "Why do I get {error} here?\n{code}",
        "Debug this code, it raises {error}:\n{code}",
        "Fix this, I get {error}:\n{code}",
    ],
    "es": [
        "Esto falla con {error}. Ayúdame a depurarlo:\n{code}",
        "¿Por qué me da {error} aquí?\n{code}",
        "Depura este código, lanza {error}:\n{code}",
        "Arregla esto, me sale {error}:\n{code}",
    ],
}
DEBUG_NO_ERROR = {
    "en": [
        "Debug this code:\n{code}",
        "Something is wrong with this, can you debug it?\n{code}",
        "Run this under the debugger and tell me what breaks:\n{code}",
    ],
    "es": [
        "Depura este código:\n{code}",
        "Algo falla aquí, ¿puedes depurarlo?\n{code}",
        "Pasa esto por el depurador y dime qué se rompe:\n{code}",
    ],
}


def debug(with_error: bool):
    """A drawer of debug_code requests, with or without the error message."""

    def draw(rng: random.Random) -> Item:
        code, error = BUGS[rng.randrange(len(BUGS))]
        args = {"code": code, "error": error} if with_error else {"code": code}
        words = {"code": code, "error": error}
        return Item(
            {"en": words, "es": words},
            args,
            f"Traceback (most recent call last):\n  ...\n{error}",
            {
                "en": f"The code raises {error.split(':')[0]}; the traceback above shows the failing line.",
                "es": f"El código lanza {error.split(':')[0]}; la traza de arriba muestra la línea que falla.",
            },
        )

    return draw


VAGUE = [
    (
        "Delete the old files.",
        "Which files should I delete, and how old is old?",
        "Borra los archivos viejos.",
        "¿Qué archivos borro y desde qué fecha cuentan como viejos?",
    ),
    (
        "Rename the project.",
        "What new name would you like for the project?",
        "Cambia el nombre del proyecto.",
        "¿Qué nombre nuevo quieres para el proyecto?",
    ),
    (
        "Send the report.",
        "Which report, and who should receive it?",
        "Envía el informe.",
        "¿Qué informe y a quién se lo envío?",
    ),
    (
        "Set up the database for me.",
        "Which database do you want: SQLite, PostgreSQL or MySQL?",
        "Configúrame la base de datos.",
        "¿Qué base de datos quieres: SQLite, PostgreSQL o MySQL?",
    ),
    (
        "Make a file for me.",
        "What should the file be called, and what should it contain?",
        "Hazme un archivo.",
        "¿Cómo se debe llamar el archivo y qué debe contener?",
    ),
    (
        "Deploy it.",
        "Where should I deploy it: staging or production?",
        "Despliégalo.",
        "¿Dónde lo despliego: staging o producción?",
    ),
    (
        "Change the color.",
        "Which element's color, and to what color?",
        "Cambia el color.",
        "¿El color de qué elemento y a qué color?",
    ),
    (
        "Book it for tomorrow.",
        "What should I book, and at what time?",
        "Resérvalo para mañana.",
        "¿Qué debo reservar y a qué hora?",
    ),
    (
        "Update the dependency.",
        "Which dependency should I update, and to which version?",
        "Actualiza la dependencia.",
        "¿Qué dependencia actualizo y a qué versión?",
    ),
    (
        "Clean it up.",
        "What would you like me to clean up: files, code or the git history?",
        "Límpialo.",
        "¿Qué quieres que limpie: archivos, código o el historial de git?",
    ),
]
ASK = {
    "en": ["{request}", "{request} Thanks.", "Hmm. {request}"],
    "es": ["{request}", "{request} Gracias.", "Mmm. {request}"],
}


def ask(rng: random.Random) -> Item:
    """A request too vague to act on: the assistant asks the user first."""
    req_en, q_en, req_es, q_es = VAGUE[rng.randrange(len(VAGUE))]
    return Item(
        {"en": {"request": req_en, "question": q_en}, "es": {"request": req_es, "question": q_es}},
        {"question": Slot("question")},
        "",
        {"en": "Thanks, I'll do that now.", "es": "Gracias, lo hago ahora."},
    )
