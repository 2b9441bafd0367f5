"""One line of code written inline after the question, for debug_code and analyze_code.

The other devtools frames put the code on its own lines, with the error message most of
the time; users also paste a single line straight after a short question ("why does
this fail? x[3]"). Then debug_code takes the code alone (no error was stated, so none is
made up), and a question about safety is analysis_type "security".
"""

from __future__ import annotations

import random

from . import Item

# (code, the error it raises): none of them is a held-out value (heldout.BUILTIN).
FAILING_LINES = [
    ("int('12a')", "ValueError: invalid literal for int() with base 10: '12a'"),
    ("[10, 20][2]", "IndexError: list index out of range"),
    ("{'a': 1}['b']", "KeyError: 'b'"),
    ("len(5)", "TypeError: object of type 'int' has no len()"),
    ("'abc' + 1", 'TypeError: can only concatenate str (not "int") to str'),
    ("1 / 0", "ZeroDivisionError: division by zero"),
    ("None.upper()", "AttributeError: 'NoneType' object has no attribute 'upper'"),
    ("float('1,5')", "ValueError: could not convert string to float: '1,5'"),
    ("print(totl)", "NameError: name 'totl' is not defined"),
    ("[].pop()", "IndexError: pop from empty list"),
    ("'a,b'.split(',')[2]", "IndexError: list index out of range"),
    ("open('missing.txt').read()", "FileNotFoundError: [Errno 2] No such file or directory: 'missing.txt'"),
    ("import numpyy", "ModuleNotFoundError: No module named 'numpyy'"),
    ("math.sqrt(-1)", "ValueError: math domain error"),
    ("dict(a=1).pop('z')", "KeyError: 'z'"),
    ("next(iter([]))", "StopIteration"),
    ("sum(['1', '2'])", "TypeError: unsupported operand type(s) for +: 'int' and 'str'"),
    ("'x'.join([1, 2])", "TypeError: sequence item 0: expected str instance, int found"),
]
DEBUG_INLINE = {
    "en": [
        "Why does this blow up? {code}",
        "What's the bug in `{code}`?",
        "{code} dies with a traceback. Why?",
        "Explain why {code} raises.",
        "Help: {code} keeps failing.",
        "Debug this one-liner: {code}",
        "I ran {code} and got an exception. What's going on?",
        "Track down the error in {code}",
        "Quick one: why won't {code} run?",
        "Where does {code} go wrong?",
    ],
    "es": [
        "¿Por qué revienta esto? {code}",
        "¿Cuál es el bug en `{code}`?",
        "{code} muere con una traza. ¿Por qué?",
        "Explícame por qué {code} lanza un error.",
        "Ayuda: {code} sigue fallando.",
        "Depura esta línea: {code}",
        "Corrí {code} y saltó una excepción. ¿Qué pasa?",
        "Encuentra el error en {code}",
        "Rápido: ¿por qué no corre {code}?",
        "¿Dónde se equivoca {code}?",
    ],
}


def debug_inline(rng: random.Random) -> Item:
    """A failing line asked about inline: debug_code with the code only."""
    code, error = FAILING_LINES[rng.randrange(len(FAILING_LINES))]
    words = {"code": code}
    kind = error.split(":")[0]
    return Item(
        {"en": words, "es": words},
        {"code": code},
        f"Traceback (most recent call last):\n  ...\n{error}",
        {
            "en": f"It raises {kind}: {error.partition(': ')[2] or 'see the traceback above'}.",
            "es": f"Lanza {kind}: {error.partition(': ')[2] or 'mira la traza de arriba'}.",
        },
    )


# Lines a security review should flag; none of them is a held-out value.
RISKY_LINES = [
    "exec(request.args['q'])",
    "subprocess.call(cmd, shell=True)",
    "yaml.load(text)",
    "os.popen('cat ' + path)",
    "marshal.loads(payload)",
    "cursor.execute('SELECT * FROM t WHERE id=' + uid)",
    "requests.get(url, verify=False)",
    "tempfile.mktemp()",
    "hashlib.md5(password.encode())",
    "config = eval(raw)",
    "app.run(debug=True, host='0.0.0.0')",
    "shutil.rmtree(user_dir + '/' + name)",
]
SECURITY_INLINE = {
    "en": [
        "Any risk in this line? {code}",
        "Could someone exploit `{code}`?",
        "Security check, please: {code}",
        "Is `{code}` dangerous to ship?",
        "Spot the vulnerability: {code}",
        "Is {code} an injection risk?",
        "Review {code} for security flaws.",
        "Can attackers abuse {code}?",
        "Would a pentester flag {code}?",
        "Should I worry about {code} from a security angle?",
    ],
    "es": [
        "¿Tiene algún riesgo esta línea? {code}",
        "¿Alguien podría explotar `{code}`?",
        "Revisión de seguridad, porfa: {code}",
        "¿Es peligroso publicar `{code}`?",
        "Encuentra la vulnerabilidad: {code}",
        "¿Es {code} un riesgo de inyección?",
        "Revisa {code} en busca de fallos de seguridad.",
        "¿Pueden los atacantes abusar de {code}?",
        "¿Un pentester marcaría {code}?",
        "¿Debería preocuparme {code} en cuanto a seguridad?",
    ],
}


def security_inline(rng: random.Random) -> Item:
    """A risky line asked about inline: analyze_code with analysis_type security."""
    code = RISKY_LINES[rng.randrange(len(RISKY_LINES))]
    words = {"code": code}
    return Item(
        {"en": words, "es": words},
        {"code": code, "analysis_type": "security"},
        "security analysis: 1 finding",
        {
            "en": "The security check found one issue, shown above.",
            "es": "La revisión de seguridad encontró un problema, arriba.",
        },
    )
