"""Argument fidelity: run_python code that really computes what was asked, and ask_user when a value is missing.

Each computation is a request (EN/ES) with the numbers or words it states, the
code, and the answer the code must print. The builder runs every piece of code
(a subprocess, short timeout) and keeps an example only if it prints exactly
that answer, so the data set never teaches an off-by-one range or a wrong formula.
"""

from __future__ import annotations

import math
import random
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Computation:
    kind: str
    en: str
    es: str
    code: str
    expected: str  # what the code must print (stripped)


def _sum_range(r: random.Random) -> Computation:
    a, b = r.randint(1, 50), r.randint(60, 500)
    return Computation(
        "sum_range",
        f"the sum of the integers from {a} to {b} inclusive",
        f"la suma de los enteros del {a} al {b}, ambos incluidos",
        f"print(sum(range({a}, {b} + 1)))",
        str(sum(range(a, b + 1))),
    )


def _factorial(r: random.Random) -> Computation:
    n = r.randint(5, 25)
    return Computation(
        "factorial",
        f"the factorial of {n}",
        f"el factorial de {n}",
        f"import math\nprint(math.factorial({n}))",
        str(math.factorial(n)),
    )


def _c_to_f(r: random.Random) -> Computation:
    c = r.choice([-40, -10, 0, 12, 25, 37, 100, 18.5, 36.6])
    return Computation(
        "c_to_f",
        f"{c} degrees Celsius in Fahrenheit",
        f"{c} grados Celsius en Fahrenheit",
        f"print(round({c} * 9 / 5 + 32, 2))",
        str(round(c * 9 / 5 + 32, 2)),
    )


def _km_to_miles(r: random.Random) -> Computation:
    km = r.choice([5, 10, 21.1, 42.195, 100, 250, 3.5])
    return Computation(
        "km_to_miles",
        f"{km} km in miles, rounded to 2 decimals",
        f"{km} km en millas, redondeado a 2 decimales",
        f"print(round({km} / 1.609344, 2))",
        str(round(km / 1.609344, 2)),
    )


def _squares(r: random.Random) -> Computation:
    n = r.randint(4, 12)
    return Computation(
        "squares",
        f"the squares of 1 to {n} as a list",
        f"los cuadrados del 1 al {n} en una lista",
        f"print([i * i for i in range(1, {n} + 1)])",
        str([i * i for i in range(1, n + 1)]),
    )


def _primes(r: random.Random) -> Computation:
    n = r.choice([50, 100, 200, 500, 1000])
    count = sum(1 for k in range(2, n + 1) if all(k % d for d in range(2, int(k**0.5) + 1)))
    return Computation(
        "primes",
        f"how many primes there are up to {n}",
        f"cuántos primos hay hasta {n}",
        f"print(sum(1 for k in range(2, {n} + 1) if all(k % d for d in range(2, int(k ** 0.5) + 1))))",
        str(count),
    )


def _reverse(r: random.Random) -> Computation:
    w = r.choice(["terminal", "python", "reconocer", "murcielago", "keyboard", "sandbox"])
    return Computation(
        "reverse", f"the word '{w}' reversed", f"la palabra '{w}' al revés", f"print('{w}'[::-1])", w[::-1]
    )


def _vowels(r: random.Random) -> Computation:
    w = r.choice(["programming language", "hola mundo", "local assistant", "inteligencia artificial"])
    n = sum(ch in "aeiou" for ch in w)
    return Computation(
        "vowels",
        f"how many vowels are in '{w}'",
        f"cuántas vocales tiene '{w}'",
        f"print(sum(ch in 'aeiou' for ch in '{w}'))",
        str(n),
    )


def _mean(r: random.Random) -> Computation:
    xs = [r.randint(1, 99) for _ in range(r.randint(4, 7))]
    listed = ", ".join(map(str, xs))
    return Computation(
        "mean",
        f"the average of {listed}",
        f"la media de {listed}",
        f"values = [{listed}]\nprint(round(sum(values) / len(values), 2))",
        str(round(sum(xs) / len(xs), 2)),
    )


def _gcd(r: random.Random) -> Computation:
    a, b = r.randint(12, 400), r.randint(12, 400)
    return Computation(
        "gcd",
        f"the greatest common divisor of {a} and {b}",
        f"el máximo común divisor de {a} y {b}",
        f"import math\nprint(math.gcd({a}, {b}))",
        str(math.gcd(a, b)),
    )


def _fib(r: random.Random) -> Computation:
    n = r.randint(10, 40)
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return Computation(
        "fibonacci",
        f"the {n}th Fibonacci number (F(0) = 0, F(1) = 1)",
        f"el número de Fibonacci {n} (F(0) = 0, F(1) = 1)",
        f"a, b = 0, 1\nfor _ in range({n}):\n    a, b = b, a + b\nprint(a)",
        str(a),
    )


def _seconds(r: random.Random) -> Computation:
    s = r.randint(100, 90000)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return Computation(
        "hms",
        f"{s} seconds as hours:minutes:seconds",
        f"{s} segundos en horas:minutos:segundos",
        f"h, rest = divmod({s}, 3600)\nm, s = divmod(rest, 60)\nprint(f'{{h}}:{{m:02d}}:{{s:02d}}')",
        f"{h}:{m:02d}:{sec:02d}",
    )


def _power(r: random.Random) -> Computation:
    b, e = r.randint(2, 9), r.randint(5, 30)
    return Computation("power", f"{b} to the power of {e}", f"{b} elevado a {e}", f"print({b} ** {e})", str(b**e))


def _upper_words(r: random.Random) -> Computation:
    s = r.choice(["the quick brown fox", "buenos dias equipo", "local models are fun"])
    return Computation(
        "title", f"'{s}' in title case", f"'{s}' con mayúscula en cada palabra", f"print('{s}'.title())", s.title()
    )


def _percent(r: random.Random) -> Computation:
    p, x = r.choice([5, 12, 15, 21, 33]), r.choice([80, 240, 1250, 19.99, 640])
    return Computation(
        "percent",
        f"{p}% of {x}, rounded to 2 decimals",
        f"el {p}% de {x}, redondeado a 2 decimales",
        f"print(round({x} * {p} / 100, 2))",
        str(round(x * p / 100, 2)),
    )


def _even_sum(r: random.Random) -> Computation:
    n = r.randint(20, 300)
    return Computation(
        "even_sum",
        f"the sum of the even numbers from 1 to {n}",
        f"la suma de los números pares del 1 al {n}",
        f"print(sum(range(2, {n} + 1, 2)))",
        str(sum(range(2, n + 1, 2))),
    )


COMPUTATIONS: list[Callable[[random.Random], Computation]] = [
    _sum_range,
    _factorial,
    _c_to_f,
    _km_to_miles,
    _squares,
    _primes,
    _reverse,
    _vowels,
    _mean,
    _gcd,
    _fib,
    _seconds,
    _power,
    _upper_words,
    _percent,
    _even_sum,
]

PYTHON_FRAMES = {
    "en": [
        "Use Python to compute {what}.",
        "Run some Python that prints {what}.",
        "Calculate {what} with Python.",
        "Write and run Python code to get {what}.",
        "With run_python, work out {what}.",
    ],
    "es": [
        "Usa Python para calcular {what}.",
        "Ejecuta código Python que imprima {what}.",
        "Calcula {what} con Python.",
        "Escribe y ejecuta código Python para obtener {what}.",
        "Con run_python, averigua {what}.",
    ],
}
PYTHON_ANSWER = {"en": "The result is {out}.", "es": "El resultado es {out}."}

_checked: dict[str, bool] = {}


def prints_expected(code: str, expected: str, timeout: float = 5.0) -> bool:
    """Run the code in a fresh interpreter; True when it prints exactly `expected`."""
    key = code + "\0" + expected
    if key not in _checked:
        try:
            done = subprocess.run(
                [sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=timeout, check=False
            )
            _checked[key] = done.returncode == 0 and done.stdout.strip() == expected
        except subprocess.TimeoutExpired:
            _checked[key] = False
    return _checked[key]


def computation(rng: random.Random) -> Computation:
    """A computation whose code has been run and printed the expected answer."""
    for _ in range(10):
        comp = COMPUTATIONS[rng.randrange(len(COMPUTATIONS))](rng)
        if prints_expected(comp.code, comp.expected):
            return comp
    raise RuntimeError("no generated computation printed its expected answer; check thau_tui/train/fidelity.py")


# Requests that leave out the one value needed, and the question to ask (en, es).
UNDERSPECIFIED = [
    (
        "Convert the temperature to Fahrenheit.",
        "Which temperature in Celsius should I convert?",
        "Convierte la temperatura a Fahrenheit.",
        "¿Qué temperatura en grados Celsius convierto?",
    ),
    ("Read the file for me.", "Which file should I read?", "Léeme el archivo.", "¿Qué archivo leo?"),
    ("Delete the folder.", "Which folder should I delete?", "Borra la carpeta.", "¿Qué carpeta borro?"),
    (
        "Make the image bigger.",
        "Which image, and what size do you want?",
        "Haz la imagen más grande.",
        "¿Qué imagen, y de qué tamaño la quieres?",
    ),
    (
        "Run the tests on the module.",
        "Which module's tests should I run?",
        "Ejecuta los tests del módulo.",
        "¿De qué módulo ejecuto los tests?",
    ),
    (
        "Compute the factorial.",
        "The factorial of which number?",
        "Calcula el factorial.",
        "¿El factorial de qué número?",
    ),
    (
        "Add that line to the file.",
        "Which line, and to which file?",
        "Añade esa línea al archivo.",
        "¿Qué línea, y en qué archivo?",
    ),
    ("Search for it in the code.", "What should I search for?", "Búscalo en el código.", "¿Qué debo buscar?"),
    (
        "Rename the file.",
        "Which file, and what should its new name be?",
        "Cambia el nombre del archivo.",
        "¿Qué archivo, y qué nombre nuevo le pongo?",
    ),
    (
        "Convert the amount to euros.",
        "Which amount should I convert, and from which currency?",
        "Convierte la cantidad a euros.",
        "¿Qué cantidad convierto y desde qué moneda?",
    ),
    ("Install the package.", "Which package should I install?", "Instala el paquete.", "¿Qué paquete instalo?"),
    (
        "Resize the photo to the usual size.",
        "What size should the photo be?",
        "Cambia la foto al tamaño de siempre.",
        "¿De qué tamaño debe quedar la foto?",
    ),
]
