"""Requests for run_shell and run_python: frames per language, realistic arguments, outputs and replies.

The file-tool families (read, write, list, search) live in `files`; they are re-exported
here so callers keep reaching every call family through `tools`.
"""

from __future__ import annotations

import random

from . import Item, pick_row
from .tools_more import GENERIC_MORE, PYTHON_DIRECT_MORE, SHELL_DIRECT_MORE

# Generic request frames around a task ("show how much disk space is free").
# Spanish tasks are infinitives, so every frame reads naturally. The *_MORE lists (tools_more)
# go before each list's last entries: those are the eval side's (eval_frame_indexes).
GENERIC = {
    "en": [
        "Can you {task}?",
        "Please {task}.",
        "I need you to {task}.",
        "Could you {task} for me?",
        "Hey, {task}",
        "Help me {task}.",
        "Go ahead and {task}.",
        "Would you {task}?",
        *GENERIC_MORE["en"],
        "Quick one: {task}.",
        "I'd like you to {task}, please.",
    ],
    "es": [
        "¿Puedes {task}?",
        "Por favor, {task}.",
        "Necesito {task}.",
        "¿Podrías {task}?",
        "Oye, quiero {task}.",
        "Ayúdame a {task}.",
        "Me gustaría {task}.",
        "¿Me ayudas a {task}?",
        *GENERIC_MORE["es"],
        "Una cosa rápida: {task}.",
        "Quisiera {task}, por favor.",
    ],
}


# --- run_shell ------------------------------------------------------------------
SHELL = [
    (
        "show how much disk space is free",
        "ver cuánto espacio libre queda en el disco",
        "df -h",
        "Filesystem  Size  Used Avail Use% Mounted on\n/dev/sda1   234G  121G  101G  55% /",
        "You have 101G free out of 234G (55% used).",
        "Tienes 101G libres de 234G (55% usado).",
    ),
    (
        "check which Python version is installed",
        "comprobar qué versión de Python está instalada",
        "python3 --version",
        "Python 3.11.7",
        "Python 3.11.7 is installed.",
        "Está instalado Python 3.11.7.",
    ),
    (
        "show the git status of this repo",
        "ver el estado de git de este repositorio",
        "git status --short",
        " M README.md\n?? notes.txt",
        "README.md is modified and notes.txt is untracked.",
        "README.md está modificado y notes.txt no está bajo control de versiones.",
    ),
    (
        "show the last 5 commits",
        "mostrar los últimos 5 commits",
        "git log --oneline -5",
        "a1b2c3d Fix login bug\n9f8e7d6 Add tests\n5c4b3a2 Update docs\n1a2b3c4 Refactor api\n0f9e8d7 Initial commit",
        'The last commit is a1b2c3d "Fix login bug"; the five go back to the initial commit.',
        'El último commit es a1b2c3d "Fix login bug"; los cinco llegan hasta el commit inicial.',
    ),
    (
        "count the lines in main.py",
        "contar las líneas de main.py",
        "wc -l main.py",
        "120 main.py",
        "main.py has 120 lines.",
        "main.py tiene 120 líneas.",
    ),
    (
        "find all the .txt files here",
        "buscar todos los archivos .txt aquí",
        "find . -name '*.txt'",
        "./notes.txt\n./docs/todo.txt",
        "There are two: notes.txt and docs/todo.txt.",
        "Hay dos: notes.txt y docs/todo.txt.",
    ),
    (
        "print the current directory",
        "mostrar el directorio actual",
        "pwd",
        "/home/ana/projects/thau",
        "You are in /home/ana/projects/thau.",
        "Estás en /home/ana/projects/thau.",
    ),
    (
        "show the running processes",
        "ver los procesos en ejecución",
        "ps aux | head -n 5",
        "USER   PID %CPU %MEM COMMAND\nana   1201  2.0  1.1 python app.py\nana   1302  0.5  0.4 bash",
        "The busiest process is python app.py (PID 1201) at 2% CPU.",
        "El proceso más activo es python app.py (PID 1201) con un 2% de CPU.",
    ),
    (
        "create a folder called backups",
        "crear una carpeta llamada backups",
        "mkdir -p backups",
        "",
        "Done: the backups folder is there.",
        "Listo: la carpeta backups ya existe.",
    ),
    (
        "install the requests package",
        "instalar el paquete requests",
        "pip install requests",
        "Successfully installed requests-2.32.3",
        "requests 2.32.3 is installed.",
        "requests 2.32.3 quedó instalado.",
    ),
    (
        "show today's date",
        "mostrar la fecha de hoy",
        "date",
        "Tue Mar 12 10:24:31 CET 2024",
        "Today is Tuesday, March 12, 2024.",
        "Hoy es martes 12 de marzo de 2024.",
    ),
    (
        "check the memory usage",
        "ver el uso de memoria",
        "free -h",
        "       total  used  free\nMem:    16Gi  6.2Gi  7.1Gi",
        "6.2 GiB of 16 GiB are in use; 7.1 GiB are free.",
        "Se usan 6.2 GiB de 16 GiB; quedan 7.1 GiB libres.",
    ),
    (
        "show the size of each folder here",
        "ver el tamaño de cada carpeta aquí",
        "du -sh */",
        "4.0K\tdocs/\n1.2M\tsrc/\n88M\tdata/",
        "data/ is the largest at 88M; src/ is 1.2M and docs/ 4K.",
        "data/ es la más grande con 88M; src/ ocupa 1.2M y docs/ 4K.",
    ),
    (
        "list the installed pip packages",
        "listar los paquetes de pip instalados",
        "pip list",
        "Package    Version\nnumpy      1.26.4\nrequests   2.32.3",
        "numpy 1.26.4 and requests 2.32.3 are installed.",
        "Están instalados numpy 1.26.4 y requests 2.32.3.",
    ),
    (
        "show the last 20 lines of app.log",
        "mostrar las últimas 20 líneas de app.log",
        "tail -n 20 app.log",
        "2024-03-12 10:01 INFO started\n2024-03-12 10:02 ERROR database timeout",
        "The log ends with a database timeout error at 10:02.",
        "El log termina con un error de timeout de la base de datos a las 10:02.",
    ),
    (
        "run the build target of the Makefile",
        "ejecutar el objetivo build del Makefile",
        "make build",
        "gcc -o app main.c\nBuild finished",
        "The build finished without errors.",
        "La compilación terminó sin errores.",
    ),
    (
        "show my username",
        "mostrar mi nombre de usuario",
        "whoami",
        "ana",
        "Your username is ana.",
        "Tu nombre de usuario es ana.",
    ),
    (
        "compress the logs folder into logs.tar.gz",
        "comprimir la carpeta logs en logs.tar.gz",
        "tar -czf logs.tar.gz logs",
        "",
        "Done: logs.tar.gz holds the logs folder.",
        "Listo: logs.tar.gz contiene la carpeta logs.",
    ),
    (
        "check if port 8000 is in use",
        "comprobar si el puerto 8000 está en uso",
        "lsof -i :8000",
        "COMMAND  PID USER  NAME\npython  4242 ana   TCP *:8000 (LISTEN)",
        "Yes, a python process (PID 4242) is listening on port 8000.",
        "Sí, un proceso de python (PID 4242) escucha en el puerto 8000.",
    ),
    (
        "show the PATH variable",
        "mostrar la variable PATH",
        "echo $PATH",
        "/usr/local/bin:/usr/bin:/bin",
        "PATH is /usr/local/bin:/usr/bin:/bin.",
        "PATH es /usr/local/bin:/usr/bin:/bin.",
    ),
    (
        "create a virtual environment called .venv",
        "crear un entorno virtual llamado .venv",
        "python3 -m venv .venv",
        "",
        "The .venv environment is ready; activate it with source .venv/bin/activate.",
        "El entorno .venv está listo; actívalo con source .venv/bin/activate.",
    ),
    (
        "switch to a new git branch called feature/login",
        "cambiar a una rama nueva de git llamada feature/login",
        "git checkout -b feature/login",
        "Switched to a new branch 'feature/login'",
        "You are now on the new branch feature/login.",
        "Ya estás en la rama nueva feature/login.",
    ),
    (
        "show the first lines of data.csv",
        "ver las primeras líneas de data.csv",
        "head -n 5 data.csv",
        "id,name,score\n1,Ana,91\n2,Luis,78",
        "data.csv has the columns id, name and score.",
        "data.csv tiene las columnas id, name y score.",
    ),
    (
        "check the uptime of this machine",
        "ver cuánto tiempo lleva encendida esta máquina",
        "uptime",
        " 10:30:01 up 3 days,  2:14,  1 user,  load average: 0.31, 0.40, 0.38",
        "The machine has been up for 3 days and 2 hours.",
        "La máquina lleva encendida 3 días y 2 horas.",
    ),
]


def shell(rng: random.Random) -> Item:
    """A shell task in words."""
    en, es, command, output, answer_en, answer_es = pick_row(rng, SHELL)
    return Item(
        {"en": {"task": en}, "es": {"task": es}}, {"command": command}, output, {"en": answer_en, "es": answer_es}
    )


SHELL_DIRECT = {
    "en": [
        "Run `{command}`",
        "Run this command: {command}",
        "Execute {command} in the shell.",
        *SHELL_DIRECT_MORE["en"],
        "Please run {command} and tell me what it says.",
    ],
    "es": [
        "Ejecuta `{command}`",
        "Ejecuta este comando: {command}",
        "Corre {command} en la terminal.",
        *SHELL_DIRECT_MORE["es"],
        "Por favor, ejecuta {command} y dime qué sale.",
    ],
}


def shell_direct(rng: random.Random) -> Item:
    """A shell command the user typed out."""
    _en, _es, command, output, answer_en, answer_es = pick_row(rng, SHELL)
    words = {"command": command}
    return Item({"en": words, "es": words}, {"command": command}, output, {"en": answer_en, "es": answer_es})


# --- run_python -----------------------------------------------------------------
PYTHON = [
    (
        "calculate the factorial of 20",
        "calcular el factorial de 20",
        "import math\nprint(math.factorial(20))",
        "2432902008176640000",
    ),
    ("compute 2 to the power of 100", "calcular 2 elevado a 100", "print(2 ** 100)", "1267650600228229401496703205376"),
    (
        "generate 5 random numbers between 1 and 100",
        "generar 5 números aleatorios entre 1 y 100",
        "import random\nprint([random.randint(1, 100) for _ in range(5)])",
        "[17, 83, 42, 5, 66]",
    ),
    (
        "sort the list [5, 3, 9, 1] with Python",
        "ordenar la lista [5, 3, 9, 1] con Python",
        "print(sorted([5, 3, 9, 1]))",
        "[1, 3, 5, 9]",
    ),
    (
        "find the prime numbers below 50",
        "encontrar los números primos menores que 50",
        "print([n for n in range(2, 50) if all(n % d for d in range(2, n))])",
        "[2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47]",
    ),
    (
        "compute the mean of 4, 8, 15, 16, 23 and 42",
        "calcular la media de 4, 8, 15, 16, 23 y 42",
        "import statistics\nprint(statistics.mean([4, 8, 15, 16, 23, 42]))",
        "18",
    ),
    (
        "reverse the string 'hola mundo' in Python",
        "invertir la cadena 'hola mundo' en Python",
        "print('hola mundo'[::-1])",
        "odnum aloh",
    ),
    (
        "convert 100 Fahrenheit to Celsius with Python",
        "convertir 100 grados Fahrenheit a Celsius con Python",
        "print((100 - 32) * 5 / 9)",
        "37.77777777777778",
    ),
    (
        "compute the first 10 Fibonacci numbers",
        "calcular los primeros 10 números de Fibonacci",
        "a, b = 0, 1\nfib = []\nfor _ in range(10):\n    fib.append(a)\n    a, b = b, a + b\nprint(fib)",
        "[0, 1, 1, 2, 3, 5, 8, 13, 21, 34]",
    ),
    (
        "compute the SHA-256 hash of the word thau",
        "calcular el hash SHA-256 de la palabra thau",
        "import hashlib\nprint(hashlib.sha256(b'thau').hexdigest())",
        "6b1f7e3c0a4d1e8f9a2b5c7d3e4f60718293a4b5c6d7e8f90a1b2c3d4e5f6071",
    ),
    (
        "get the square root of 2 to 10 decimals",
        "obtener la raíz cuadrada de 2 con 10 decimales",
        "import math\nprint(f'{math.sqrt(2):.10f}')",
        "1.4142135624",
    ),
    ("calculate 15% of 2340 using Python", "calcular el 15% de 2340 usando Python", "print(2340 * 0.15)", "351.0"),
    (
        "count the vowels in 'murcielago' with Python",
        "contar las vocales de 'murcielago' con Python",
        "print(sum(c in 'aeiou' for c in 'murcielago'))",
        "5",
    ),
    (
        "check what weekday 2024-12-25 is with Python",
        "ver con Python qué día de la semana es el 2024-12-25",
        "import datetime\nprint(datetime.date(2024, 12, 25).strftime('%A'))",
        "Wednesday",
    ),
    (
        "sum the numbers from 1 to 1000 in Python",
        "sumar los números del 1 al 1000 en Python",
        "print(sum(range(1, 1001)))",
        "500500",
    ),
    (
        "compute the compound interest on 1000 at 5% for 10 years",
        "calcular el interés compuesto de 1000 al 5% durante 10 años",
        "print(round(1000 * 1.05 ** 10, 2))",
        "1628.89",
    ),
    (
        'parse the JSON \'{"a": 1, "b": [2, 3]}\' in Python and print its keys',
        'leer el JSON \'{"a": 1, "b": [2, 3]}\' en Python e imprimir sus claves',
        'import json\nprint(list(json.loads(\'{"a": 1, "b": [2, 3]}\')))',
        "['a', 'b']",
    ),
    (
        "generate a random password of 16 characters",
        "generar una contraseña aleatoria de 16 caracteres",
        "import secrets\nprint(secrets.token_urlsafe(12))",
        "q3Vx_9LmZt2aBc7D",
    ),
]


def python(rng: random.Random) -> Item:
    """A computation to run in Python, in words."""
    en, es, code, output = pick_row(rng, PYTHON)
    return Item(
        {"en": {"task": en}, "es": {"task": es}},
        {"code": code},
        output,
        {"en": f"The result is {output}.", "es": f"El resultado es {output}."},
    )


PYTHON_DIRECT = {
    "en": [
        "Run this Python code:\n{code}",
        "Execute this in Python:\n```python\n{code}\n```",
        "What does this print?\n{code}",
        *PYTHON_DIRECT_MORE["en"],
        "Try running this snippet:\n{code}",
    ],
    "es": [
        "Ejecuta este código Python:\n{code}",
        "Corre esto en Python:\n```python\n{code}\n```",
        "¿Qué imprime esto?\n{code}",
        *PYTHON_DIRECT_MORE["es"],
        "Prueba a ejecutar este fragmento:\n{code}",
    ],
}


def python_direct(rng: random.Random) -> Item:
    """Python code the user pasted."""
    _en, _es, code, output = pick_row(rng, PYTHON)
    words = {"code": code}
    return Item(
        {"en": words, "es": words}, {"code": code}, output, {"en": f"It prints {output}.", "es": f"Imprime {output}."}
    )
