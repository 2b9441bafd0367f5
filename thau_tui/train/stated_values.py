"""Requests that state their values, drawn from large generated vocabularies: the call
must carry each value exactly as stated (issue 16, argument fidelity).

The single-request phrasings (phrasings/) have a handful of values per tool: eight
file texts, a dozen search patterns, eighteen doc names. A model trained on them
learns the values by heart: on held-out requests it wrote 'Buy milk\\n' style text
with a newline the user never typed, and dropped sizes and words it had not seen.
Here every value is put together from word lists (thousands of file texts, paths,
identifiers, commands, image prompts and sizes), so the only way to get the call
right is to copy what the request says. Text the user quotes is written exactly
as quoted, without a newline added (write_file's append starts a new line itself).

A kind of its own ("stated", share 0 by default, so the default data set does not
change); a recipe turns it on with kind_shares. No value, frame or path here is one
of heldout.py's: `held_values()` lists them and `draw` never returns one.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import heldout

# --- vocabularies ------------------------------------------------------------------
DIRS = ["", "notes/", "docs/", "out/", "data/", "logs/", "reports/", "config/", "scripts/", "src/app/", "web/"]
DIRS += ["lists/", "archive/2024/", "api/", "drafts/", "home/", "ops/", "site/content/"]
NAMES = ["plan", "draft", "ideas", "todo", "report", "summary", "settings", "changes", "week12", "backup", "agenda"]
NAMES += ["recipes", "contacts", "release_notes", "budget", "reading_list", "meeting-03", "errors", "status", "hosts"]
EXTS = [".txt", ".md", ".log", ".csv", ".json", ".yaml", ".ini", ".rst", ".py", ".toml"]
FOLDERS = ["src", "tests", "docs", "scripts", "assets", "data/raw", "src/api", "web/static", "config", "tools"]
FOLDERS += ["examples", "lib", "notebooks", "reports/2025", "app/models", "infra", "locales/es", "bin"]

TEXT_EN = {
    "verb": ["call", "email", "pay", "book", "check", "fix", "clean", "buy", "send", "review", "print", "return"],
    "obj": ["the dentist", "the landlord", "the gas bill", "two train tickets", "the bike brakes", "the sink"],
    "obj2": ["bread and eggs", "the slides for Friday", "the signed contract", "the library books", "the tyres"],
    "when": ["", "", " on Monday", " before 9", " tomorrow", " this week", " at noon", " after lunch"],
    "thing": ["backup", "deploy", "nightly build", "migration", "import job", "sync", "test run", "release"],
    "status": ["finished", "failed at step 3", "started", "was skipped", "took 14 minutes", "is green again"],
}
TEXT_ES = {
    "verb": ["pagar", "comprar", "revisar", "arreglar", "enviar", "imprimir", "devolver", "limpiar", "reservar"],
    "obj": ["la factura del gas", "dos billetes de tren", "los frenos de la bici", "el fregadero", "la mesa"],
    "obj2": ["pan y huevos", "las diapositivas del viernes", "el contrato firmado", "los libros de la biblioteca"],
    "when": ["", "", " el lunes", " antes de las 9", " mañana", " esta semana", " al mediodía", " después de comer"],
    "thing": ["copia de seguridad", "despliegue", "compilación nocturna", "migración", "importación", "prueba"],
    "status": ["terminada", "fallida en el paso 3", "iniciada", "omitida", "en verde otra vez", "de 14 minutos"],
}
SETTINGS = ["PORT", "LOG_LEVEL", "TIMEZONE", "MAX_UPLOAD_MB", "THEME", "CACHE_TTL", "DB_NAME", "REGION"]
SETTING_VALUES = ["8080", "debug", "Europe/Madrid", "25", "dark", "300", "shop_dev", "eu-west-1", "info", "5432"]

IDENT_VERBS = ["get", "load", "save", "build", "check", "send", "read", "make", "update", "render", "validate"]
IDENT_NOUNS = ["user", "config", "token", "cache", "order", "path", "item", "session", "record", "invoice", "route"]
IDENT_KINDS = ["Service", "Loader", "Error", "Client", "Manager", "View", "Schema", "Factory"]
CONST_SUFFIXES = ["TIMEOUT", "LIMIT", "RETRIES", "URL", "DIR", "SIZE", "VERSION"]
MARKERS = ["XXX", "HACK", "NOTE", "BUG", "DEPRECATED", "noqa", "type: ignore"]

DOC_NAMES = [
    "json.dumps",
    "json.loads",
    "os.path.join",
    "os.listdir",
    "re.sub",
    "re.findall",
    "collections.Counter",
    "collections.defaultdict",
    "collections.deque",
    "datetime.timedelta",
    "datetime.datetime.strptime",
    "random.choice",
    "random.shuffle",
    "math.isclose",
    "math.gcd",
    "statistics.median",
    "csv.DictReader",
    "subprocess.run",
    "shutil.copytree",
    "shutil.rmtree",
    "pathlib.Path.read_text",
    "itertools.chain",
    "itertools.product",
    "itertools.combinations",
    "functools.partial",
    "functools.reduce",
    "operator.itemgetter",
    "textwrap.dedent",
    "string.Template",
    "logging.basicConfig",
    "argparse.ArgumentParser",
    "sqlite3.connect",
    "typing.Optional",
    "dataclasses.field",
    "enum.Enum",
    "contextlib.suppress",
    "tempfile.TemporaryDirectory",
    "glob.glob",
    "time.perf_counter",
    "hashlib.sha256",
    "base64.b64encode",
    "uuid.uuid4",
    "urllib.parse.urlparse",
    "bisect.insort",
    "zipfile.ZipFile",
    "decimal.Decimal",
    "fractions.Fraction",
    "str.partition",
    "str.zfill",
    "list.sort",
    "dict.setdefault",
    "sorted",
    "isinstance",
    "print",
    "open",
    "range",
    "round",
    "divmod",
]

IMAGE_EN = {
    "adj": ["small", "rusty", "glowing", "sleepy", "striped", "wooden", "golden", "tiny", "ancient", "friendly"],
    "subject": ["robot", "owl", "sailboat", "teapot", "castle", "bicycle", "whale", "cactus", "tram", "dragon"],
    "place": ["on a hill", "in the rain", "under the stars", "by a river", "in a snowy forest", "on a kitchen table"],
    "style": ["", "", ", watercolor", ", pixel art", ", oil painting", ", isometric", ", studio photo"],
}
IMAGE_ES = {
    "subject": [("robot", "m"), ("búho", "m"), ("velero", "m"), ("tetera", "f"), ("castillo", "m"), ("ballena", "f")],
    "adj": [("pequeño", "pequeña"), ("oxidado", "oxidada"), ("dorado", "dorada"), ("dormido", "dormida")],
    "place": ["en una colina", "bajo la lluvia", "bajo las estrellas", "junto a un río", "en un bosque nevado"],
    "style": ["", "", ", acuarela", ", pixel art", ", pintura al óleo", ", foto de estudio"],
}
SIZES = [256, 320, 384, 448, 512, 576, 640, 704, 768, 832, 896, 960, 1024]

COMMANDS = [
    "wc -l {file}",
    "head -n {k} {file}",
    "tail -n {k} {file}",
    "du -sh {folder}",
    "ls -la {folder}",
    "grep -c {ident} {file}",
    "grep -rn {ident} {folder}",
    "file {file}",
    "stat {file}",
    "md5sum {file}",
    "sort {file} | uniq -c",
    "find {folder} -name '*{ext}'",
    "git log --oneline -{k}",
    "git diff --stat",
    "git show --stat HEAD~{k}",
    "date +%F",
    "uname -r",
    "df -h .",
    "whoami",
    "echo $SHELL",
    "which python3",
    "python3 --version",
    "cat {file}",
    "ls {folder} | wc -l",
    "tree -L {k} {folder}",
    "cut -d, -f{k} {file}",
]


def _path(rng: random.Random) -> str:
    return rng.choice(DIRS) + rng.choice(NAMES) + rng.choice(EXTS)


def _text(rng: random.Random, lang: str) -> str:
    """A short text a user asks to write: a task, a status line or a setting."""
    words = TEXT_EN if lang == "en" else TEXT_ES
    roll = rng.random()
    if roll < 0.5:
        return f"{rng.choice(words['verb'])} {rng.choice(words['obj'] + words['obj2'])}{rng.choice(words['when'])}"
    if roll < 0.8:
        return f"{rng.choice(words['thing'])} {rng.choice(words['status'])}"
    return f"{rng.choice(SETTINGS)}={rng.choice(SETTING_VALUES)}"


def _ident(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.4:
        return f"{rng.choice(IDENT_VERBS)}_{rng.choice(IDENT_NOUNS)}"
    if roll < 0.65:
        return rng.choice(IDENT_NOUNS).capitalize() + rng.choice(IDENT_KINDS)
    if roll < 0.85:
        return f"{rng.choice(IDENT_NOUNS).upper()}_{rng.choice(CONST_SUFFIXES)}"
    return rng.choice(MARKERS)


def _image(rng: random.Random, lang: str) -> str:
    if lang == "en" or rng.random() < 0.3:  # some Spanish requests name the picture in English
        w = IMAGE_EN
        adj = rng.choice(w["adj"])
        return f"{'an' if adj[0] in 'aeiou' else 'a'} {adj} {rng.choice(w['subject'])} {rng.choice(w['place'])}" + (
            rng.choice(w["style"])
        )
    w = IMAGE_ES
    noun, gender = rng.choice(w["subject"])
    adj = rng.choice(w["adj"])[0 if gender == "m" else 1]
    article = "un" if gender == "m" else "una"
    return f"{article} {noun} {adj} {rng.choice(w['place'])}{rng.choice(w['style'])}"


def _command(rng: random.Random) -> str:
    return rng.choice(COMMANDS).format(
        file=_path(rng),
        folder=rng.choice(FOLDERS),
        ident=_ident(rng).split(":")[0],
        k=rng.randint(2, 9),
        ext=rng.choice(EXTS),
    )


# --- what a request states, per tool ------------------------------------------------
@dataclass(frozen=True)
class Family:
    """One way of asking: the tool, EN/ES frames, and a draw of the frame's fields and the call's arguments."""

    id: str
    tool: str
    frames: dict[str, list[str]]
    draw: Callable[[random.Random, str], tuple[dict[str, Any], dict[str, Any]]]


def _write(rng: random.Random, lang: str) -> tuple[dict[str, Any], dict[str, Any]]:
    path, text = _path(rng), _text(rng, lang)
    return {"path": path, "text": text}, {"path": path, "content": text}


def _append(rng: random.Random, lang: str) -> tuple[dict[str, Any], dict[str, Any]]:
    path, text = _path(rng), _text(rng, lang)
    return {"path": path, "text": text}, {"path": path, "content": text, "mode": "append"}


def _size_image(rng: random.Random, lang: str) -> tuple[dict[str, Any], dict[str, Any]]:
    prompt, w, h = _image(rng, lang), rng.choice(SIZES), rng.choice(SIZES)
    return {"prompt": prompt, "w": w, "h": h}, {"prompt": prompt, "width": w, "height": h}


def _seed_image(rng: random.Random, lang: str) -> tuple[dict[str, Any], dict[str, Any]]:
    prompt, seed, steps = _image(rng, lang), rng.randint(0, 99999), rng.choice([10, 15, 20, 25, 30, 40, 50])
    return {"prompt": prompt, "seed": seed, "steps": steps}, {"prompt": prompt, "seed": seed, "steps": steps}


def _search_in(rng: random.Random, lang: str) -> tuple[dict[str, Any], dict[str, Any]]:
    pattern, folder = _ident(rng), rng.choice(FOLDERS)
    return {"pattern": pattern, "dir": folder}, {"pattern": pattern, "path": folder}


def _one(key: str, arg: str, make: Callable[[random.Random], str]):
    def draw(rng: random.Random, lang: str) -> tuple[dict[str, Any], dict[str, Any]]:
        value = make(rng)
        return {key: value}, {arg: value}

    return draw


FAMILIES = [
    Family(
        "write",
        "write_file",
        {
            "en": [
                "Write '{text}' to {path}.",
                'Put the text "{text}" in {path}.',
                "Create {path} containing exactly: {text}",
                'Save "{text}" as {path}.',
                "Make {path} say '{text}'.",
                "Overwrite {path} with '{text}'.",
                "Store the words '{text}' in {path}.",
            ],
            "es": [
                "Escribe '{text}' en {path}.",
                'Pon el texto "{text}" en {path}.',
                "Crea {path} con exactamente: {text}",
                'Guarda "{text}" como {path}.',
                "Haz que {path} diga '{text}'.",
                "Sobrescribe {path} con '{text}'.",
                "Almacena las palabras '{text}' en {path}.",
            ],
        },
        _write,
    ),
    Family(
        "append",
        "write_file",
        {
            "en": [
                "Append '{text}' to {path}.",
                'Add the line "{text}" to the end of {path}.',
                "Add '{text}' to {path}, keeping what is there.",
                "At the end of {path}, add: {text}",
                "Append a line to {path}: '{text}'.",
                "Without erasing {path}, add '{text}' to it.",
                'Add "{text}" at the bottom of {path}.',
            ],
            "es": [
                "Añade '{text}' a {path}.",
                'Agrega la línea "{text}" al final de {path}.',
                "Añade '{text}' a {path}, conservando lo que hay.",
                "Al final de {path}, añade: {text}",
                "Añade una línea a {path}: '{text}'.",
                "Sin borrar {path}, agrégale '{text}'.",
                'Añade "{text}" abajo del todo en {path}.',
            ],
        },
        _append,
    ),
    Family(
        "read",
        "read_file",
        {
            "en": ["Read {path}.", "Open {path} and show it to me.", "Print the file {path}.", "Show {path}."],
            "es": ["Lee {path}.", "Abre {path} y enséñamelo.", "Imprime el archivo {path}.", "Muestra {path}."],
        },
        _one("path", "path", _path),
    ),
    Family(
        "list",
        "list_directory",
        {
            "en": ["List {dir}.", "What files does the {dir} folder hold?", "Show the contents of {dir}/."],
            "es": ["Lista {dir}.", "¿Qué archivos guarda la carpeta {dir}?", "Muestra el contenido de {dir}/."],
        },
        _one("dir", "path", lambda rng: rng.choice(FOLDERS)),
    ),
    Family(
        "search",
        "search_code",
        {
            "en": ["Search the code for {pattern}.", "Find every use of {pattern}.", "Grep for {pattern}."],
            "es": ["Busca {pattern} en el código.", "Encuentra cada uso de {pattern}.", "Haz grep de {pattern}."],
        },
        _one("pattern", "pattern", _ident),
    ),
    Family(
        "search_in",
        "search_code",
        {
            "en": [
                "Search {dir} for {pattern}.",
                "Which files under {dir} contain {pattern}?",
                "Find {pattern} in {dir}.",
            ],
            "es": [
                "Busca {pattern} en {dir}.",
                "¿Qué archivos de {dir} contienen {pattern}?",
                "Encuentra {pattern} en {dir}.",
            ],
        },
        _search_in,
    ),
    Family(
        "docs",
        "search_docs",
        {
            "en": [
                "Look up {name} in the Python docs.",
                "What does the documentation say about {name}?",
                "Docs for {name}, please.",
                "Check the Python documentation of {name}.",
            ],
            "es": [
                "Busca {name} en la documentación de Python.",
                "¿Qué dice la documentación sobre {name}?",
                "La documentación de {name}, por favor.",
                "Consulta la documentación de Python de {name}.",
            ],
        },
        _one("name", "query", lambda rng: rng.choice(DOC_NAMES)),
    ),
    Family(
        "image_size",
        "generate_image",
        {
            "en": [
                "Draw {prompt}, {w}x{h}.",
                "Make a {w}x{h} image of {prompt}.",
                "Generate {prompt} at {w} by {h}.",
                "An image of {prompt}, {w} wide and {h} high.",
                "Please do {prompt}; the size is {w}x{h} pixels.",
                "I'm after {prompt} at a resolution of {w}x{h}.",
                "Picture request: {prompt}. Output {w}x{h} px.",
                "Create a picture of {prompt} in {w}x{h}.",
            ],
            "es": [
                "Dibuja {prompt}, {w}x{h}.",
                "Haz una imagen de {w}x{h} de {prompt}.",
                "Genera {prompt} a {w} por {h}.",
                "Una imagen de {prompt}, de {w} de ancho y {h} de alto.",
                "Haz {prompt}, porfa; el tamaño es {w}x{h} píxeles.",
                "Busco {prompt} con una resolución de {w}x{h}.",
                "Petición de imagen: {prompt}. Salida de {w}x{h} px.",
                "Crea un dibujo de {prompt} en {w}x{h}.",
            ],
        },
        _size_image,
    ),
    Family(
        "image_seed",
        "generate_image",
        {
            "en": [
                "Draw {prompt} with seed {seed} and {steps} steps.",
                "Generate {prompt}; seed {seed}, {steps} steps.",
            ],
            "es": [
                "Dibuja {prompt} con semilla {seed} y {steps} pasos.",
                "Genera {prompt}; semilla {seed}, {steps} pasos.",
            ],
        },
        _seed_image,
    ),
    Family(
        "shell",
        "run_shell",
        {
            "en": ["Run `{cmd}`.", "Execute {cmd} for me.", "In the shell: {cmd}", "Can you run {cmd}?"],
            "es": ["Ejecuta `{cmd}`.", "Lanza {cmd} por mí.", "En la terminal: {cmd}", "¿Puedes ejecutar {cmd}?"],
        },
        _one("cmd", "command", _command),
    ),
    Family(
        "tests",
        "run_tests",
        {
            "en": ["Run the tests in {path}.", "Test {path} with pytest.", "Run pytest on {path}."],
            "es": ["Ejecuta los tests de {path}.", "Prueba {path} con pytest.", "Pasa pytest sobre {path}."],
        },
        _one("path", "path", lambda rng: f"tests/test_{rng.choice(IDENT_VERBS)}_{rng.choice(IDENT_NOUNS)}.py"),
    ),
]


def held_values() -> set[str]:
    """Every string value of heldout.py's built-in cases and files (not enum choices such as
    mode 'append'): never drawn here."""
    out: set[str] = {f[0] for f in heldout.HELD_FILES} | {c for c, _ in heldout.HELD_COMMANDS}
    for _tool, _en, _es, values, build in heldout.BUILTIN:
        for value in values:
            out |= {v for k, v in build(value).items() if isinstance(v, str) and k not in ("mode", "analysis_type")}
    return out


HELD = held_values()


def stated_request(
    rng: random.Random, lang: str, frames_of: Callable[[Family], list[int]]
) -> tuple[Family, int, str, dict[str, Any]]:
    """A family, the index of its frame, the request's text and the call's arguments (no held-out value)."""
    family = rng.choice(FAMILIES)
    index = rng.choice(frames_of(family))
    for _ in range(50):
        fields, args = family.draw(rng, lang)
        if not {v for v in args.values() if isinstance(v, str)} & HELD:
            return family, index, family.frames[lang][index].format(**fields), args
    raise ValueError(f"stated_values: 50 draws of {family.id!r} all hit held-out values; widen its word lists")
