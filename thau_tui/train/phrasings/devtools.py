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
    "bisect",
    "shutil.copytree",
    "textwrap.dedent",
    "statistics",
    "os.path.splitext",
    "contextlib.suppress",
    "typing.NamedTuple",
]
DOCS = {
    "en": [
        "Look up the docs for {query}.",
        "What does the documentation say about {query}?",
        "Search the Python docs for {query}.",
        "Find the documentation of {query}.",
        "How does {query} work? Check the documentation.",
        "Pull up the docs on {query}.",
        "I keep forgetting the arguments of {query}; look it up in the docs.",
        "docs for {query}",
        "Could you search the documentation for {query}?",
        "What do the official docs say about {query}?",
        "I'd like to read the documentation of {query}.",
        "Find me the reference page for {query}.",
        "Can you look up {query} in the Python reference?",
        "I'm writing a script and need the docs for {query}.",
        "Check the docs: {query}.",
        "Open the reference for {query}.",
    ],
    "es": [
        "Busca en la documentación {query}.",
        "¿Qué dice la documentación de {query}?",
        "Busca {query} en la documentación de Python.",
        "Encuentra la documentación de {query}.",
        "¿Cómo funciona {query}? Mira la documentación.",
        "Sácame la documentación de {query}.",
        "Siempre olvido los argumentos de {query}; búscalo en la documentación.",
        "docs de {query}",
        "¿Podrías buscar {query} en la documentación?",
        "¿Qué dice la documentación oficial sobre {query}?",
        "Me gustaría leer la documentación de {query}.",
        "Encuéntrame la página de referencia de {query}.",
        "¿Puedes buscar {query} en la referencia de Python?",
        "Estoy escribiendo un script y necesito la documentación de {query}.",
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
            "Would this code pass a security audit?\n{code}",
            "Any security issues in this?\n{code}",
            "{code}\n\nIs there anything dangerous in this code?",
            "Do a security review of this code:\n{code}",
            "I'm about to ship this. Could it be exploited?\n{code}",
            "Scan this for vulnerabilities, please:\n```python\n{code}\n```",
            "Is this code vulnerable to attacks?\n{code}",
            "Audit this snippet for vulnerabilities:\n{code}",
        ],
        "es": [
            "Revisa este código en busca de problemas de seguridad:\n{code}",
            "¿Pasaría este código una auditoría de seguridad?\n{code}",
            "¿Hay algún problema de seguridad en esto?\n{code}",
            "{code}\n\n¿Hay algo peligroso en este código?",
            "Hazle una revisión de seguridad a este código:\n{code}",
            "Voy a subir esto a producción. ¿Se podría explotar?\n{code}",
            "Escanea esto en busca de vulnerabilidades, porfa:\n```python\n{code}\n```",
            "¿Este código es vulnerable a ataques?\n{code}",
            "Audita este fragmento por vulnerabilidades:\n{code}",
        ],
    },
    "syntax": {
        "en": [
            "Is this valid Python?\n{code}",
            "Check the syntax of this code:\n{code}",
            "Will this even parse?\n{code}",
            "{code}\n\nIs the syntax right?",
            "Check this snippet for syntax mistakes:\n{code}",
            "I typed this quickly; is the syntax OK?\n{code}",
            "Validate the syntax:\n```python\n{code}\n```",
            "Is this syntactically correct?\n{code}",
            "Does this code have syntax errors?\n{code}",
        ],
        "es": [
            "¿Es Python válido?\n{code}",
            "Revisa la sintaxis de este código:\n{code}",
            "¿Esto se puede parsear?\n{code}",
            "{code}\n\n¿Está bien la sintaxis?",
            "Busca errores de sintaxis en este fragmento:\n{code}",
            "Lo escribí rápido; ¿la sintaxis está bien?\n{code}",
            "Valida la sintaxis:\n```python\n{code}\n```",
            "¿Es sintácticamente correcto esto?\n{code}",
            "¿Tiene errores de sintaxis este código?\n{code}",
        ],
    },
    "complexity": {
        "en": [
            "How complex is this function?\n{code}",
            "Measure the complexity of this code:\n{code}",
            "Is this function too complex?\n{code}",
            "{code}\n\nHow complicated is this code?",
            "Analyze the complexity of this snippet:\n{code}",
            "My reviewer says this is too nested. Can you measure its complexity?\n{code}",
            "Compute a complexity score for:\n```python\n{code}\n```",
            "What's the complexity of this code?\n{code}",
            "Give me the cyclomatic complexity of:\n{code}",
        ],
        "es": [
            "¿Qué tan compleja es esta función?\n{code}",
            "Mide la complejidad de este código:\n{code}",
            "¿Es demasiado compleja esta función?\n{code}",
            "{code}\n\n¿Qué tan complicado es este código?",
            "Analiza la complejidad de este fragmento:\n{code}",
            "Mi revisor dice que esto está muy anidado. ¿Puedes medir su complejidad?\n{code}",
            "Calcula la complejidad de:\n```python\n{code}\n```",
            "¿Cuál es la complejidad de este código?\n{code}",
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
        "Please run {what}.",
        "Kick off {what} and show me the results.",
        "I just changed the login code; run {what} to see if anything broke.",
        "Could you run {what} for me?",
        "Run {what} and give me a summary.",
        "Go ahead and run {what}.",
        "Fire up pytest on {what}.",
        "Before I commit, run {what}.",
        "I'd like you to run {what} now.",
        "run {what} pls",
        "Execute {what} and tell me what fails.",
    ],
    "es": [
        "Ejecuta {what}.",
        "¿Puedes correr {what}?",
        "Corre {what} con pytest.",
        "Comprueba si pasan {what}.",
        "Corre {what}, por favor.",
        "Lanza {what} y enséñame los resultados.",
        "Acabo de cambiar el login; ejecuta {what} a ver si algo se rompió.",
        "¿Me puedes ejecutar {what}?",
        "Ejecuta {what} y dame un resumen.",
        "Dale, corre {what}.",
        "Pásale pytest a {what}.",
        "Antes de hacer commit, ejecuta {what}.",
        "Quiero que ejecutes {what} ahora.",
        "corre {what} porfa",
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
        "I'm getting {error} when I run this. What's wrong?\n{code}",
        "{code}\n\nThis throws {error}. Can you debug it?",
        "Help me figure out where this {error} comes from:\n{code}",
        "Running this gives me {error}. Debug it please:\n```python\n{code}\n```",
        "I've been stuck on this for an hour: {error}\n{code}",
        "Can you track down the {error} in this code?\n{code}",
        "Got {error} from the snippet below, any idea why?\n{code}",
        "Trace this bug for me. Error: {error}\n{code}",
        "Fix this, I get {error}:\n{code}",
    ],
    "es": [
        "Esto falla con {error}. Ayúdame a depurarlo:\n{code}",
        "¿Por qué me da {error} aquí?\n{code}",
        "Depura este código, lanza {error}:\n{code}",
        "Me sale {error} al ejecutar esto. ¿Qué está mal?\n{code}",
        "{code}\n\nEsto lanza {error}. ¿Puedes depurarlo?",
        "Ayúdame a encontrar de dónde viene este {error}:\n{code}",
        "Al correr esto me da {error}. Depúralo, porfa:\n```python\n{code}\n```",
        "Llevo una hora atascado con esto: {error}\n{code}",
        "¿Puedes rastrear el {error} en este código?\n{code}",
        "El fragmento de abajo me tira {error}, ¿alguna idea de por qué?\n{code}",
        "Encuéntrame el bug. Error: {error}\n{code}",
        "Arregla esto, me sale {error}:\n{code}",
    ],
}
DEBUG_NO_ERROR = {
    "en": [
        "Debug this code:\n{code}",
        "Something is wrong with this, can you debug it?\n{code}",
        "This doesn't work and I don't know why:\n{code}",
        "{code}\n\nCan you debug this?",
        "Find the bug in this snippet:\n{code}",
        "Something's off here. Help me debug:\n```python\n{code}\n```",
        "Could you step through this and see where it goes wrong?\n{code}",
        "My script crashes somewhere in here, debug it please:\n{code}",
        "Run this under the debugger and tell me what breaks:\n{code}",
    ],
    "es": [
        "Depura este código:\n{code}",
        "Algo falla aquí, ¿puedes depurarlo?\n{code}",
        "Esto no funciona y no sé por qué:\n{code}",
        "{code}\n\n¿Puedes depurar esto?",
        "Encuentra el bug en este fragmento:\n{code}",
        "Algo anda mal aquí. Ayúdame a depurarlo:\n```python\n{code}\n```",
        "¿Podrías recorrer esto paso a paso y ver dónde falla?\n{code}",
        "Mi script revienta por aquí en algún lado, depúralo porfa:\n{code}",
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
    "en": [
        "{request}",
        "{request} Thanks.",
        "{request} Please.",
        "Hey. {request}",
        "Quick one: {request}",
        "{request} When you get a chance.",
        "OK, next thing. {request}",
        "{request} Thanks in advance!",
        "Right. {request}",
        "Hmm. {request}",
    ],
    "es": [
        "{request}",
        "{request} Gracias.",
        "{request} Por favor.",
        "Oye. {request}",
        "Una cosita: {request}",
        "{request} Cuando puedas.",
        "Vale, siguiente cosa. {request}",
        "{request} ¡Gracias de antemano!",
        "Bueno. {request}",
        "Mmm. {request}",
    ],
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
