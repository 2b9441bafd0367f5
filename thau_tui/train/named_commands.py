"""Requests that name the shell command to use ("show what is in this folder with ls"):
the call is run_shell with that command, even where a dedicated tool (list_directory,
read_file, search_code) could do the task. Often after a cd or another command in the
same chat, so "here" is the shell's folder, not the workspace: the third request of
issue 16's chat (cd /tmp, pwd, then "list the files there with ls") is this case.

A kind of its own ("named_command", share 0 by default, so the default data set does not
change); a recipe turns it on with kind_shares.
"""

from __future__ import annotations

import random

from .conversations import COMMANDS, Turn, shell_turn

# (task in English, task in Spanish, the command the user names, its output)
TASKS = [
    ("show what is in this folder", "ver qué hay en esta carpeta", "ls", "notes.txt\nsrc\ntests"),
    ("see the files here, hidden ones too", "ver los archivos de aquí, también los ocultos", "ls -a", ".\n..\n.git"),
    ("print the contents of notes.txt", "mostrar el contenido de notes.txt", "cat notes.txt", "buy milk\ncall Ana"),
    ("count the lines of main.py", "contar las líneas de main.py", "wc -l main.py", "120 main.py"),
    ("find the TODO lines in src", "encontrar las líneas TODO en src", "grep -rn TODO src", "src/app.py:14: # TODO"),
    ("show the first lines of README.md", "ver las primeras líneas de README.md", "head -n 5 README.md", "# Weather"),
    ("check how big the data folder is", "ver cuánto ocupa la carpeta data", "du -sh data", "24K\tdata"),
    ("find every Python file", "encontrar todos los archivos de Python", "find . -name '*.py'", "./main.py"),
    ("see which folder we are in", "ver en qué carpeta estamos", "pwd", "/tmp"),
    (
        "look at the end of logs/server.log",
        "ver el final de logs/server.log",
        "tail -n 20 logs/server.log",
        "10:02 ERROR",
    ),
    ("count the words in README.md", "contar las palabras de README.md", "wc -w README.md", "212 README.md"),
    ("see who I am logged in as", "ver con qué usuario estoy conectado", "whoami", "ana"),
    ("check which Python is on the PATH", "ver qué Python está en el PATH", "which python3", "/usr/bin/python3"),
    (
        "look at the last three commits",
        "ver los tres últimos commits",
        "git log --oneline -3",
        "a1b2c3d Fix login\n9e8f7a6 Add tests\n4d5c6b7 Initial commit",
    ),
    (
        "see what changed in the working tree",
        "ver qué ha cambiado en el árbol de trabajo",
        "git diff --stat",
        " README.md | 2 +-",
    ),
    ("find out how many CPU cores there are", "saber cuántos núcleos de CPU hay", "nproc", "8"),
    ("check how much memory is free", "ver cuánta memoria queda libre", "free -h", "Mem:  15Gi  6.1Gi  7.2Gi"),
    ("count the Python files in src", "contar los archivos de Python en src", "find src -name '*.py' | wc -l", "4"),
    (
        "show the newest files first",
        "ver primero los archivos más recientes",
        "ls -t",
        "report.txt\nmain.py\nnotes.txt",
    ),
    ("print today's date", "mostrar la fecha de hoy", "date +%F", "2024-03-12"),
    (
        "check the free disk space",
        "comprobar el espacio libre en disco",
        "df -h",
        "Filesystem Size Used Avail\n/dev/sda1 234G 121G 101G",
    ),
    ("see which branch I'm on", "ver en qué rama estoy", "git branch --show-current", "main"),
    (
        "count how many times ERROR appears in logs/server.log",
        "contar cuántas veces sale ERROR en logs/server.log",
        "grep -c ERROR logs/server.log",
        "37",
    ),
    (
        "show the import lines of src/app.py",
        "ver las líneas de import de src/app.py",
        "grep -n '^import' src/app.py",
        "1:import os",
    ),
    ("list only the folders here", "listar solo las carpetas de aquí", "ls -d */", "docs/\nsrc/\ntests/"),
    ("get a checksum of notes.txt", "sacar el checksum de notes.txt", "sha256sum notes.txt", "3f79bb7b435b  notes.txt"),
    # The last two are the eval split's (phrasings.eval_frame_indexes): new rows go above them.
    (
        "list the folder with sizes",
        "listar la carpeta con tamaños",
        "ls -lh",
        "total 8.0K\n-rw-r--r-- 1 ana 4.0K notes.txt",
    ),
    ("sort the lines of names.txt", "ordenar las líneas de names.txt", "sort names.txt", "Ana\nLuis"),
]
# The last two of each language are the eval split's: new frames go above them.
FRAMES = {
    "en": [
        "{Task} with {cmd}.",
        "Use {cmd} to {task}.",
        "{Task} using `{cmd}`.",
        "Run {cmd} to {task}.",
        "Please {task} by running {cmd}.",
        "Could you {task} with `{cmd}`?",
        "{Task}. The command is {cmd}.",
        "To {task}, run {cmd}.",
        "I want to {task}; just use {cmd}.",
        "Run `{cmd}` so I can {task}.",
        "Can you {task}? Use {cmd}.",
        "{Task}; run {cmd} for that.",
    ],
    "es": [
        "{Task} con {cmd}.",
        "Usa {cmd} para {task}.",
        "{Task} usando `{cmd}`.",
        "Ejecuta {cmd} para {task}.",
        "Quiero {task}: ejecuta {cmd}.",
        "¿Podrías {task} con `{cmd}`?",
        "{Task}. El comando es {cmd}.",
        "Para {task}, ejecuta {cmd}.",
        "Necesito {task}; tira de {cmd}.",
        "¿Puedes {task}? Usa {cmd}.",
        "{Task}; ejecuta {cmd} para eso.",
    ],
}
# Commands that may come first in the chat (the folder changes, or something else ran).
BEFORE = [("cd /tmp", ""), ("cd src", ""), ("cd ..", ""), *COMMANDS[3:8]]


def named_turn(rng: random.Random, lang: str, tasks: list[int], frames: list[str]) -> Turn:
    """One request naming its command, the run_shell call, the output and the answer."""
    task_en, task_es, cmd, output = TASKS[rng.choice(tasks)]
    task = task_en if lang == "en" else task_es
    frame = rng.randrange(len(frames))
    text = frames[frame].format(task=task, Task=task[:1].upper() + task[1:], cmd=cmd)
    return shell_turn(lang, text, cmd, output, f"named.{lang}.{frame}")


def named_conversation(
    rng: random.Random, lang: str, tasks: list[int], frames: dict[str, list[str]], command_frames: dict[str, list[str]]
) -> list[Turn]:
    """0-2 shell commands first (often a cd), then a request that names its command."""
    turns = []
    for _ in range(rng.choice([0, 1, 1, 2])):
        cmd, out = rng.choice(BEFORE)
        index = rng.randrange(len(command_frames[lang]))
        turns.append(shell_turn(lang, command_frames[lang][index].format(cmd=cmd), cmd, out))
    turns.append(named_turn(rng, lang, tasks, frames[lang]))
    return turns
