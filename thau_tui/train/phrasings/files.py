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
    ("NOTICE", "This product includes software developed by the Weather team.\nCopyright 2024."),
    ("Procfile", "web: gunicorn app:app --workers 2"),
    ("AUTHORS", "Ana Pérez <ana@example.com>\nLuis Gómez <luis@example.com>"),
]

READ = {
    "en": [
        "Read {path}",
        "Show me the contents of {path}.",
        "What's in {path}?",
        "Open the file {path}.",
        "Can you read {path} for me?",
        "Please read {path}.",
        "Could you open {path} and show me what it says?",
        "I'd like to see what's inside {path}.",
        "Pull up {path}, please.",
        "What does {path} contain?",
        "I'm trying to understand this project. Can you show me {path}?",
        "Display {path}.",
        "Go ahead and read {path}.",
        "Give me the contents of {path}.",
        "Mind opening {path}? I want to check something in it.",
        "Before we change anything, read {path} so we know what's there.",
        "hey, what does {path} say?",
        "Dump the contents of {path}.",
        "Print the file {path}.",
        "Let me see {path}.",
    ],
    "es": [
        "Lee {path}",
        "Muéstrame el contenido de {path}.",
        "¿Qué hay en {path}?",
        "Abre el archivo {path}.",
        "¿Puedes leer {path}?",
        "Ábreme {path}, porfa.",
        "¿Me muestras qué pone en {path}?",
        "Me gustaría ver lo que contiene {path}.",
        "Léeme el fichero {path}.",
        "¿Qué contiene {path}?",
        "Estoy revisando el proyecto; ¿me enseñas {path}?",
        "Saca el contenido de {path}.",
        "Necesito ver qué dice {path}.",
        "¿Podrías abrir {path} y mostrarme lo que tiene?",
        "Dale, lee {path}.",
        "Antes de tocar nada, lee {path} para ver qué hay.",
        "oye, ¿qué pone en {path}?",
        "Tráeme el contenido de {path}.",
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
        "Write a file named {path} with {what} in it.",
        "I need {path} to contain {what}. Can you write it?",
        "Please create the file {path} and put {what} in it.",
        "Could you save {what} to {path}?",
        "Set up {path} with {what}.",
        "New file {path}: {what}.",
        "Go ahead and write {what} into {path}.",
        "I'm starting a new project. Write {path} with {what}.",
        "Can you make me {path} containing {what}?",
        "Store {what} in {path}, please.",
        "I'd like {path} created with {what}.",
        "Put {what} into {path}.",
    ],
    "es": [
        "Crea {path} con {what}.",
        "Escribe {what} en {path}.",
        "Guarda {what} en un archivo llamado {path}.",
        "Haz un archivo {path} que contenga {what}.",
        "Escribe un archivo llamado {path} con {what}.",
        "Necesito que {path} tenga {what}. ¿Lo escribes?",
        "Por favor, crea el fichero {path} y mete {what}.",
        "¿Podrías guardar {what} en {path}?",
        "Prepara {path} con {what}.",
        "Archivo nuevo {path}: {what}.",
        "Dale, escribe {what} en {path}.",
        "Estoy empezando un proyecto. Escribe {path} con {what}.",
        "¿Me haces {path} con {what} dentro?",
        "Mete {what} en un archivo {path}.",
        "Quiero que crees {path} con {what}.",
        "Pon {what} en {path}.",
    ],
}
APPEND = {
    "en": [
        "Append {what} to {path}.",
        "Add {what} at the end of {path}.",
        "Tack {what} onto the end of {path}.",
        "Could you add {what} at the bottom of {path}? Keep what's already there.",
        "Append {what} to {path}, don't overwrite it.",
        "I want {what} added to the end of {path}.",
        "Keep {path} as it is and add {what} after the last line.",
        "Please append {what} to the existing {path}.",
        "{path} needs {what} at the end; append it.",
        "Add {what} to {path} without erasing it.",
    ],
    "es": [
        "Añade {what} al final de {path}.",
        "Agrega {what} a {path} sin borrar lo que tiene.",
        "Agrega {what} al final de {path}, sin sobrescribirlo.",
        "¿Puedes añadir {what} al final de {path}? Deja lo que ya hay.",
        "Pega {what} al final de {path}.",
        "Quiero que {what} se agregue al final de {path}.",
        "No borres {path}; solo añádele {what} al final.",
        "Anexa {what} al archivo {path}.",
        "Suma {what} al final de {path} sin tocar lo demás.",
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
        "Show the contents of {where}.",
        "What do we have in {where}?",
        "Could you tell me which files are in {where}?",
        "I'm new to this repo; what's in {where}?",
        "List everything inside {where}, please.",
        "Let me see the files in {where}.",
        "Browse {where} and tell me what's there.",
        "I'd like to know what files live in {where}.",
        "Enumerate the contents of {where}.",
        "What's sitting in {where} right now?",
        "Quick look at {where}: what files are there?",
        "Show me the directory listing for {where}.",
        "Which files does {where} have?",
        "Give me a listing of {where}.",
    ],
    "es": [
        "Lista los archivos de {where}.",
        "¿Qué archivos hay en {where}?",
        "Muéstrame qué hay dentro de {where}.",
        "¿Qué hay en {where}?",
        "¿Puedes listar {where}?",
        "Muestra el contenido de {where}.",
        "¿Qué tenemos en {where}?",
        "¿Me dices qué archivos hay en {where}?",
        "Soy nuevo en este repo; ¿qué hay en {where}?",
        "Lista todo lo que hay dentro de {where}, por favor.",
        "Déjame ver los ficheros de {where}.",
        "Echa un vistazo a {where} y dime qué hay.",
        "Me gustaría saber qué archivos hay en {where}.",
        "Enumera el contenido de {where}.",
        "¿Qué hay ahora mismo en {where}?",
        "Checa qué archivos hay en {where}.",
        "Sácame el listado de {where}.",
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
        "Where do we use {pattern}?",
        "Search for {pattern}, please.",
        "Can you find every occurrence of {pattern}?",
        "I'm refactoring and need to know where {pattern} shows up in the project.",
        "Show me all the places that contain {pattern}.",
        "Find all references to {pattern} in the code.",
        "Search for '{pattern}' across the repo.",
        "Is {pattern} used anywhere in the code?",
        "I'd like to know which files contain {pattern}.",
        "Hunt down {pattern} in the source.",
        "Any matches for {pattern} in the project?",
        "Locate {pattern} in the code, please.",
        "Look for {pattern} in the codebase.",
        "Which files mention {pattern}?",
    ],
    "es": [
        "Busca dónde aparece {pattern} en el código.",
        "Busca {pattern} en el código.",
        "¿Dónde se usa {pattern}?",
        "Haz un grep de {pattern} en el proyecto.",
        "¿Dónde usamos {pattern}?",
        "Búscame {pattern} en el proyecto.",
        "¿Puedes encontrar todas las apariciones de {pattern}?",
        "Estoy refactorizando y necesito saber dónde sale {pattern} en el proyecto.",
        "Muéstrame todos los sitios donde aparece {pattern}.",
        "Encuentra todas las referencias a {pattern} en el código.",
        "Busca '{pattern}' en todo el repo.",
        "¿Se usa {pattern} en algún lado del código?",
        "Me gustaría saber qué archivos contienen {pattern}.",
        "Rastrea {pattern} en el código fuente.",
        "¿Hay coincidencias de {pattern} en el proyecto?",
        "Localiza {pattern} en el código, por favor.",
        "Encuentra {pattern} en el código.",
        "¿Qué archivos mencionan {pattern}?",
    ],
}
SEARCH_IN = {
    "en": [
        "Search for {pattern} in {where}.",
        "Find {pattern} inside {where}.",
        "Grep {where} for {pattern}.",
        "Where does {pattern} show up in {where}?",
        "Only in {where}: find {pattern}.",
        "Can you search {where} for {pattern}?",
        "I think {pattern} is somewhere in {where}. Can you find it?",
        "Which files in {where} contain {pattern}?",
        "Search just {where} for '{pattern}'.",
        "Look for {pattern} under {where}.",
    ],
    "es": [
        "Busca {pattern} en {where}.",
        "Encuentra {pattern} dentro de {where}.",
        "Haz grep de {pattern} en {where}.",
        "¿Dónde sale {pattern} en {where}?",
        "Solo en {where}: encuentra {pattern}.",
        "¿Puedes buscar {pattern} dentro de {where}?",
        "Creo que {pattern} está en algún sitio de {where}. ¿Lo encuentras?",
        "¿Qué archivos de {where} contienen {pattern}?",
        "Busca '{pattern}' únicamente en {where}.",
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
