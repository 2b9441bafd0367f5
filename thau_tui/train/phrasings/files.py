"""Requests for read_file, write_file, list_directory and search_code: files, folders and patterns."""

from __future__ import annotations

import random

from . import Item, pick_row

# --- files ------------------------------------------------------------------------
FILES = [
    ("README.md", "# Weather app\nA small CLI that prints the forecast.\n\nRun: python main.py --city Madrid"),
    ("src/main.py", "def main():\n    print('Hello from main')\n\n\nif __name__ == '__main__':\n    main()"),
    ("config.yaml", "server:\n  port: 8080\n  debug: false\ndatabase:\n  url: sqlite:///app.db"),
    ("notes/todo.txt", "- fix the login bug\n- write tests for the api\n- update the docs"),
    ("requirements.txt", "requests==2.32.3\nflask==3.0.2\npytest==8.1.1"),
    ("docs/index.md", "# Documentation\nStart with the installation guide, then the tutorial."),
    (
        "app/models.py",
        "class User:\n    def __init__(self, name, email):\n        self.name = name\n        self.email = email",
    ),
    ("data/users.csv", "id,name,email\n1,Ana,ana@example.com\n2,Luis,luis@example.com"),
    (".gitignore", "__pycache__/\n.venv/\n*.log"),
    ("tests/test_api.py", "def test_health(client):\n    assert client.get('/health').status_code == 200"),
    ("package.json", '{\n  "name": "web",\n  "version": "1.2.0",\n  "scripts": {"start": "node server.js"}\n}'),
    (
        "Dockerfile",
        'FROM python:3.11-slim\nCOPY . /app\nRUN pip install -r /app/requirements.txt\nCMD ["python", "/app/main.py"]',
    ),
    ("pyproject.toml", '[project]\nname = "weather"\nversion = "0.3.1"\ndependencies = ["requests"]'),
    ("scripts/deploy.sh", "#!/bin/sh\nset -e\nrsync -a dist/ server:/var/www/app"),
]

READ = {
    "en": [
        "Read {path}",
        "Show me the contents of {path}.",
        "What's in {path}?",
        "Open the file {path}.",
        "Can you read {path} for me?",
        "Print the file {path}.",
        "Let me see {path}.",
    ],
    "es": [
        "Lee {path}",
        "Muéstrame el contenido de {path}.",
        "¿Qué hay en {path}?",
        "Abre el archivo {path}.",
        "¿Puedes leer {path}?",
        "Enséñame el archivo {path}.",
        "Quiero ver {path}.",
    ],
}


def read(rng: random.Random) -> Item:
    """A file to read."""
    path, content = pick_row(rng, FILES)
    lines = content.count("\n") + 1
    words = {"path": path}
    return Item(
        {"en": words, "es": words},
        {"path": path},
        content,
        {
            "en": f"{path} has {lines} lines. It starts with: {content.splitlines()[0]}",
            "es": f"{path} tiene {lines} líneas. Empieza con: {content.splitlines()[0]}",
        },
    )


# Text the request states (quoted, or "the line ...") is written exactly as stated, with no
# newline added: write_file's append starts a new line itself. Code and made-up text end with one.
WRITES = [
    ("hello.py", "print('Hello, world!')\n", "a hello world script", "un script de hola mundo"),
    ("notes.txt", "Buy milk", "the note 'Buy milk'", "la nota 'Buy milk'"),
    ("todo.md", "- [ ] write the report\n", "a todo item to write the report", "una tarea para escribir el informe"),
    (".env", "DEBUG=true", "the line DEBUG=true", "la línea DEBUG=true"),
    ("greet.py", "def greet(name):\n    return f'Hola, {name}!'\n", "a greet function", "una función greet"),
    ("data/empty.csv", "id,name\n", "a CSV header with id and name", "una cabecera CSV con id y name"),
    ("README.md", "# My project", "a title '# My project'", "un título '# My project'"),
    ("log.txt", "Run finished at 10:00", "the line 'Run finished at 10:00'", "la línea 'Run finished at 10:00'"),
]

WRITE = {
    "en": [
        "Create {path} with {what}.",
        "Write {what} to {path}.",
        "Save {what} in a file called {path}.",
        "Make a file {path} containing {what}.",
        "Put {what} into {path}.",
    ],
    "es": [
        "Crea {path} con {what}.",
        "Escribe {what} en {path}.",
        "Guarda {what} en un archivo llamado {path}.",
        "Haz un archivo {path} que contenga {what}.",
        "Pon {what} en {path}.",
    ],
}
APPEND = {
    "en": ["Append {what} to {path}.", "Add {what} at the end of {path}.", "Add {what} to {path} without erasing it."],
    "es": [
        "Añade {what} al final de {path}.",
        "Agrega {what} a {path} sin borrar lo que tiene.",
        "Añade {what} a {path}.",
    ],
}


def write(rng: random.Random, mode: str | None = None) -> Item:
    """A file to write (or append to, with mode="append")."""
    path, content, what_en, what_es = pick_row(rng, WRITES)
    args = {"path": path, "content": content}
    if mode:
        args["mode"] = mode
    verb = ("Added to", "Añadido a") if mode == "append" else ("Wrote", "Escrito")
    return Item(
        {"en": {"path": path, "what": what_en}, "es": {"path": path, "what": what_es}},
        args,
        f"wrote {len(content.encode())} bytes to {path}",
        {"en": f"{verb[0]} {path}.", "es": f"{verb[1]} {path}."},
    )


FOLDERS = [
    (".", "this folder", "esta carpeta"),
    (".", "the current directory", "el directorio actual"),
    ("src", "the src folder", "la carpeta src"),
    ("tests", "the tests folder", "la carpeta tests"),
    ("docs", "the docs directory", "el directorio docs"),
    ("data", "the data folder", "la carpeta data"),
    ("scripts", "the scripts folder", "la carpeta scripts"),
    ("assets/images", "assets/images", "assets/images"),
    ("notebooks", "the notebooks folder", "la carpeta notebooks"),
    ("app", "the app directory", "el directorio app"),
]
LISTINGS = [
    ["main.py", "README.md", "requirements.txt", "src/", "tests/"],
    ["index.md", "install.md", "tutorial.md"],
    ["users.csv", "sales_2023.csv", "raw/"],
    ["logo.png", "banner.jpg", "icon.svg"],
    ["test_api.py", "test_models.py", "conftest.py"],
    ["deploy.sh", "backup.sh"],
    ["analysis.ipynb", "plots.ipynb"],
]
LIST = {
    "en": [
        "List the files in {where}.",
        "What files are in {where}?",
        "Show me what's inside {where}.",
        "What's in {where}?",
        "Can you list {where}?",
        "Which files does {where} have?",
        "Give me a listing of {where}.",
    ],
    "es": [
        "Lista los archivos de {where}.",
        "¿Qué archivos hay en {where}?",
        "Muéstrame qué hay dentro de {where}.",
        "¿Qué hay en {where}?",
        "¿Puedes listar {where}?",
        "¿Qué archivos tiene {where}?",
        "Dame un listado de {where}.",
    ],
}


def listing(rng: random.Random) -> Item:
    """A folder to list."""
    path, where_en, where_es = pick_row(rng, FOLDERS)
    entries = LISTINGS[rng.randrange(len(LISTINGS))]
    shown = ", ".join(entries)
    return Item(
        {"en": {"where": where_en}, "es": {"where": where_es}},
        {"path": path},
        "\n".join(entries),
        {"en": f"It has {len(entries)} entries: {shown}.", "es": f"Tiene {len(entries)} elementos: {shown}."},
    )


PATTERNS = [
    "def main",
    "TODO",
    "import requests",
    "class User",
    "load_config",
    "FIXME",
    "api_key",
    "async def",
    "logging.getLogger",
    "SECRET_KEY",
    "open(",
    "subprocess.run",
]
SEARCH = {
    "en": [
        "Find where {pattern} appears in the code.",
        "Search the code for {pattern}.",
        "Where is {pattern} used?",
        "Grep the project for {pattern}.",
        "Look for {pattern} in the codebase.",
        "Which files mention {pattern}?",
    ],
    "es": [
        "Busca dónde aparece {pattern} en el código.",
        "Busca {pattern} en el código.",
        "¿Dónde se usa {pattern}?",
        "Haz un grep de {pattern} en el proyecto.",
        "Encuentra {pattern} en el código.",
        "¿Qué archivos mencionan {pattern}?",
    ],
}
SEARCH_IN = {
    "en": ["Search for {pattern} in {where}.", "Find {pattern} inside {where}.", "Look for {pattern} under {where}."],
    "es": [
        "Busca {pattern} en {where}.",
        "Encuentra {pattern} dentro de {where}.",
        "Mira si {pattern} aparece en {where}.",
    ],
}


def search(rng: random.Random, with_path: bool = False) -> Item:
    """A pattern to search for, with a folder when with_path."""
    pattern = PATTERNS[rng.randrange(len(PATTERNS))]
    args = {"pattern": pattern}
    words_en, words_es = {"pattern": pattern}, {"pattern": pattern}
    if with_path:
        path, where_en, where_es = pick_row(rng, FOLDERS[2:])
        args["path"] = path
        words_en["where"], words_es["where"] = where_en, where_es
    hits = f"src/app.py:12: {pattern}\nsrc/utils.py:40: {pattern}"
    return Item(
        {"en": words_en, "es": words_es},
        args,
        hits,
        {
            "en": f"{pattern} appears in src/app.py (line 12) and src/utils.py (line 40).",
            "es": f"{pattern} aparece en src/app.py (línea 12) y src/utils.py (línea 40).",
        },
    )
