"""The words of the multi-turn conversations (conversations.py): how a user asks for each
file action, how a follow-up refers back to the file, and the frames around them.

Tasks name the file ({path}); Spanish tasks are infinitives without a clitic, so that they
fit every Spanish frame ("¿Puedes {task}?", "Tengo que {task}."). Follow-ups refer back to
the file of the previous turn ("it", "that file", "lo"). Every entry keeps the meaning of
its action's call: "copy" is cp to a .bak file, "run" is python3 on the file, "head" is the
first 5 lines.

The eval split holds out the last entry of a frame or follow-up list (the last two from six
entries up; `phrasings.eval_frame_indexes`), and the committed eval set was built with them:
new entries go before those, never after.
"""

from __future__ import annotations

# One entry per phrasing, several to a line (ruff format would give each its own line).
# fmt: off
# action id -> lang -> task phrasings naming the file (any of them may be drawn, in either split)
TASKS: dict[str, dict[str, list[str]]] = {
    "read": {
        "en": [
            "show me {path}", "read {path}", "open {path}", "let me see the contents of {path}", "pull up {path}",
            "display {path}", "check what {path} says", "see what's inside {path}",
        ],
        "es": [
            "ver {path}", "leer {path}", "ver el contenido de {path}", "echar un vistazo a {path}",
            "ver qué pone en {path}", "ver qué hay dentro de {path}", "checar qué dice {path}",
        ],
    },
    "lines": {
        "en": [
            "count the lines in {path}", "get the line count of {path}",
            "find out how many lines are in {path}", "check the number of lines in {path}",
            "see how many lines long {path} is", "give me the line count for {path}",
        ],
        "es": [
            "contar las líneas de {path}", "saber cuántas líneas tiene {path}", "ver cuántas líneas tiene {path}",
            "averiguar el número de líneas de {path}", "sacar el número de líneas de {path}",
            "comprobar cuántas líneas hay en {path}", "obtener el recuento de líneas de {path}",
        ],
    },
    "size": {
        "en": [
            "check how big {path} is", "find out the size of {path}", "see how much space {path} takes up",
            "tell me the file size of {path}", "check the disk usage of {path}", "get the size of {path}",
            "work out how much room {path} uses",
        ],
        "es": [
            "ver cuánto ocupa {path}", "saber el tamaño de {path}", "comprobar cuánto espacio ocupa {path}",
            "averiguar cuánto pesa {path}", "mirar el tamaño de {path}",
            "ver qué tan grande es {path}",
        ],
    },
    "todo": {
        "en": [
            "search {path} for TODO", "look for TODO comments in {path}", "find any TODOs in {path}",
            "check {path} for TODO notes", "see if {path} has any TODOs", "scan {path} for TODOs",

        ],
        "es": [
            "buscar TODO en {path}", "encontrar los TODO de {path}", "ver si {path} tiene algún TODO",
            "buscar comentarios TODO en {path}", "revisar si quedan TODO en {path}",
            "localizar los TODO que haya en {path}", "comprobar si hay TODO pendientes en {path}",
        ],
    },
    "delete": {
        "en": [
            "delete {path}", "erase {path}", "get rid of {path}", "throw away {path}",
            "wipe {path} off the disk", "delete the file {path} for good", "nuke {path}",
        ],
        "es": [
            "borrar {path}", "suprimir {path}", "quitar de en medio {path}",
            "borrar el archivo {path}", "eliminar del todo el fichero {path}", "hacer desaparecer {path}",
            "borrar {path} definitivamente",
        ],
    },
    "copy": {
        "en": [
            "make a backup copy of {path}", "back up {path} to a .bak file", "copy {path} to {path}.bak",
            "save a .bak copy of {path}", "create a backup of {path}",
            "take a backup of {path}",
        ],
        "es": [
            "hacer una copia de seguridad de {path}", "copiar {path} a {path}.bak", "duplicar {path} como {path}.bak",
            "guardar una copia .bak de {path}",
            "hacer un backup de {path}",
        ],
    },
    "head": {
        "en": [
            "show the first 5 lines of {path}", "print the top 5 lines of {path}",
            "give me the first five lines of {path}", "peek at the first 5 lines of {path}",
            "display the opening 5 lines of {path}", "preview the first 5 lines of {path}",
            "look at the top five lines of {path}",
        ],
        "es": [
            "mostrar las 5 primeras líneas de {path}", "ver las primeras 5 líneas de {path}",
            "sacar las cinco primeras líneas de {path}", "echar un ojo a las 5 primeras líneas de {path}",
            "imprimir las 5 primeras líneas de {path}", "listar las primeras cinco líneas de {path}",
            "mostrar solo las 5 primeras líneas de {path}",
        ],
    },
    "run": {
        "en": [
            "run {path}", "execute {path}", "run {path} with python3", "kick off {path}",
            "try running {path}", "start {path} with Python", "fire up {path}",
        ],
        "es": [
            "ejecutar {path}", "correr {path}", "ejecutar {path} con python3", "arrancar {path}",
            "probar a ejecutar {path}", "poner en marcha {path}", "correr {path} con Python",
        ],
    },
    "folder": {
        "en": [
            "list the folder that holds {path}", "show what else is in the folder of {path}",
            "list the directory {path} lives in", "see which files sit next to {path}",
            "show the contents of the folder containing {path}", "look at the directory where {path} is",
            "check what's in the same folder as {path}",
        ],
        "es": [
            "listar la carpeta donde está {path}", "ver qué más hay en la carpeta de {path}",
            "listar el directorio que contiene {path}", "mostrar los archivos que hay junto a {path}",
            "ver el contenido de la carpeta de {path}", "revisar qué hay en el mismo directorio que {path}",
            "listar los ficheros que acompañan a {path}",
        ],
    },
    "append": {
        "en": [
            "add the line 'reviewed' at the end of {path}", "append 'reviewed' to {path}",
            "put 'reviewed' on a new last line of {path}", "write 'reviewed' at the bottom of {path}",
            "add a final line 'reviewed' to {path}", "mark {path} as reviewed by appending the line 'reviewed'",
            "stick the word 'reviewed' at the end of {path}",
        ],
        "es": [
            "añadir la línea 'reviewed' al final de {path}", "agregar 'reviewed' al final de {path}",
            "escribir 'reviewed' en una línea nueva al final de {path}", "poner 'reviewed' al final de {path}",
            "anexar la línea 'reviewed' a {path}", "meter 'reviewed' como última línea de {path}",
            "marcar {path} como revisado añadiendo la línea 'reviewed' al final",
        ],
    },
}
# action id -> lang -> requests referring back to the file. The last one (two from six up) is eval.
FOLLOWUPS: dict[str, dict[str, list[str]]] = {
    "read": {
        "en": [
            "Show me what's in it.", "Open it.", "Let me see it.", "Read it to me.", "What's inside?", "Pull it up.",
            "Can I see the contents?", "Open that file.", "What's in there?", "Give me a look at it.",
            "What does it say?",
        ],
        "es": [
            "Ahora muéstrame el contenido.", "Ábrelo.", "Léelo.", "Enséñamelo.", "A ver qué dice.",
            "Ábreme ese archivo.", "Déjame verlo.", "¿Me lo muestras?", "Muéstrame qué contiene.",
            "¿Qué contiene ese archivo?", "¿Qué pone dentro?",
        ],
    },
    "lines": {
        "en": [
            "Now count its lines.", "How many lines does it have?", "Line count?",
            "Count the lines in it.", "How many lines is that file?", "What's its line count?",
            "Tell me how many lines it has.", "Check how many lines are in it.", "And its line count?",
        ],
        "es": [
            "¿Cuántas líneas tiene?", "Ahora cuenta sus líneas.", "Dime cuántas líneas tiene.",
            "¿Y el número de líneas?", "Cuenta las líneas de ese archivo.", "¿Qué tan largo es, en líneas?",
            "Número de líneas, porfa.", "Averigua cuántas líneas tiene.", "¿Cuántas líneas hay en ese archivo?",
            "¿Y cuántas líneas son?",
        ],
    },
    "size": {
        "en": [
            "How big is it?", "Check its size.", "How much space does it take up?", "What's its size?",
            "How large is that file?", "Size?", "Check how much disk it uses.", "Tell me its file size.",
            "How much room does it take?", "And how big is that file?",
        ],
        "es": [
            "¿Cuánto ocupa?", "Mira su tamaño.", "¿Cuánto pesa?", "¿Qué tamaño tiene?", "Dime cuánto espacio ocupa.",
            "Comprueba su tamaño.", "¿Y de tamaño qué tal?", "¿Qué tan grande es?",
            "¿Cuánto ocupa ese archivo?",
        ],
    },
    "todo": {
        "en": [
            "Are there any TODOs in it?", "Search it for TODO.", "Any TODOs in there?", "Does it have TODO comments?",
            "Look for TODOs in it.", "Check it for TODO notes.", "Find the TODOs in that file.",
            "Anything marked TODO?", "Scan it for TODOs.", "Does that file contain a TODO?", "Any TODO left in it?",
        ],
        "es": [
            "¿Tiene algún TODO?", "Busca TODO ahí dentro.", "¿Hay algún TODO?", "Busca los TODO en ese archivo.",
            "¿Quedan TODO pendientes?", "Mira si tiene comentarios TODO.", "Encuéntrame los TODO.",
            "¿Algún TODO por ahí?", "Revisa si hay TODO.", "¿Contiene algún TODO ese archivo?", "Búscale los TODO.",
        ],
    },
    "delete": {
        "en": [
            "Delete it.", "Now remove it.", "Erase it.", "Bin it.", "Nuke it.", "Remove that file.",
            "Go ahead and delete it.", "We don't need it anymore, delete it.", "Throw it away.",
            "Delete that file, please.", "OK, get rid of it.",
        ],
        "es": [
            "Bórralo.", "Ahora elimínalo.", "Suprímelo.", "Cárgatelo.", "Quítalo de en medio.", "Deshazte de él.",
            "Bórrame ese archivo.", "Ya no lo necesito, bórralo.", "Elimina ese fichero.", "Bórralo ya.",
            "Vale, quítalo.",
        ],
    },
    "copy": {
        "en": [
            "Make a backup of it first.", "Copy it to a .bak file.", "Make a copy of it.",
            "Save a backup first.", "Keep a copy of it, just in case.",
            "Take a backup before we touch it.", "Can you copy it to .bak?", "Stash a .bak copy of it.",
            "Back that file up, please.",
        ],
        "es": [
            "Haz antes una copia.", "Cópialo a un archivo .bak.", "Respáldalo.", "Hazle una copia de seguridad.",
            "Sácale una copia.", "Duplícalo como .bak.", "Guarda una copia por si acaso.", "Haz un backup primero.",
            "¿Le haces una copia?", "Haz una copia .bak de ese archivo.", "Cópialo, por si las moscas.",
        ],
    },
    "head": {
        "en": [
            "Show me its first 5 lines.", "What are the first 5 lines?", "Just the top 5 lines.",
            "Give me the first five lines.", "Peek at the first 5 lines.", "How does it start? First 5 lines.",
            "Print its first five lines.", "Only the first 5 lines, please.", "Let me see the top five lines.",
            "What's in its first 5 lines?",
        ],
        "es": [
            "Enséñame sus 5 primeras líneas.", "¿Cuáles son las 5 primeras líneas?", "Solo las 5 primeras líneas.",
            "Muéstrame las primeras cinco líneas.", "Sácame las 5 primeras líneas.",
            "¿Cómo empieza? Las 5 primeras líneas.", "Échale un ojo a las 5 primeras líneas.",
            "Dame sus primeras 5 líneas.", "A ver las cinco primeras líneas.", "¿Qué dicen sus 5 primeras líneas?",
        ],
    },
    "run": {
        "en": [
            "Now run it.", "Run it with python3.", "Execute it.", "Give it a run.", "Kick it off.", "Fire it up.",
            "Try running it.", "Go ahead and run it.", "Run that script.",
        ],
        "es": [
            "Ahora ejecútalo.", "Ejecútalo con python3.", "Córrelo.", "Arráncalo.", "Prueba a ejecutarlo.",
            "Dale, ejecútalo.", "Ponlo en marcha.", "Ejecuta ese script.", "Córrelo con Python.",
        ],
    },
    "folder": {
        "en": [
            "What else is in that folder?", "List the files next to it.", "Show me the rest of that folder.",
            "List its folder.", "What other files are in there with it?", "List the directory it's in.",
            "Anything else in the same folder?", "Show the folder it lives in.", "Which files sit beside it?",
        ],
        "es": [
            "¿Qué más hay en esa carpeta?", "Lista los archivos que tiene al lado.",
            "Muéstrame el resto de esa carpeta.", "Lista su carpeta.", "¿Qué otros archivos hay junto a él?",
            "Lista el directorio donde está.", "¿Hay algo más en la misma carpeta?", "Muéstrame la carpeta donde está.",
            "¿Qué ficheros tiene al lado?",
        ],
    },
    "append": {
        "en": [
            "Add a line saying 'reviewed' at the end of it.", "Append 'reviewed' to it.",
            "Tack 'reviewed' onto the end.", "Write 'reviewed' at the bottom of it.",
            "Add 'reviewed' as a new last line.", "Stick 'reviewed' at the end of it.",
            "Mark it reviewed: append the line 'reviewed'.", "Finish it off with a line that says 'reviewed'.",
            "Add 'reviewed' at the very end.", "Append the line 'reviewed' to that file.",
        ],
        "es": [
            "Añádele al final una línea que diga 'reviewed'.", "Agrégale 'reviewed' al final.",
            "Pon 'reviewed' al final.", "Escríbele 'reviewed' en una línea nueva al final.",
            "Mete 'reviewed' como última línea.", "Añade 'reviewed' al final del archivo.",
            "Márcalo como revisado: añade la línea 'reviewed'.", "Anéxale la línea 'reviewed'.",
            "Agrega al final la línea 'reviewed'.", "Ponle una línea 'reviewed' al final.",
        ],
    },
}
# Frames that state the file (the first request, or a new file later). The last two are eval.
FRAMES = {
    "en": [
        "Can you {task}?", "Please {task}.", "{Task}.", "I need you to {task}.", "Could you {task} for me?",
        "Hey, {task}.", "{Task}, please.", "Quick one: {task}.", "I'd like you to {task}.",
        "When you get a chance, {task}.", "Do me a favor and {task}.", "Would it be possible to {task}?",
        "I want you to {task}.", "Go ahead and {task}.", "Next, {task}.",
    ],
    "es": [
        "¿Puedes {task}?", "Por favor, quiero {task}.", "Necesito {task}.", "¿Podrías {task}?", "Ayúdame a {task}.",
        "Oye, quiero {task}.", "Quisiera {task}.", "A ver si puedes {task}.", "¿Te importaría {task}?",
        "Tengo que {task}.", "¿Sería posible {task}?", "Hazme el favor de {task}.", "Quiero {task}, porfa.",
        "¿Me echas una mano para {task}?", "Me gustaría {task}.", "Ahora quiero {task}.",
    ],
}
# Two calls in one request: the first result comes back, then the second call. {t1} is always
# done first, whatever the order of the words ("Before you {t2}, {t1}."). The last two are eval.
# The frames that join two plain instructions ("{t1}; next, {t2}.") came after the shipped
# seventeenth pass missed held-out chats in that form; the held-out connector itself is none of them.
PAIR_FRAMES = {
    "en": [
        "Please {t1}, then {t2}.", "First {t1} and then {t2}.", "{t1} and {t2}.",
        "I need you to {t1}; once that's done, {t2}.", "After you {t1}, {t2}.",
        "Before you {t2}, {t1}.", "{t2}, but {t1} first.", "Two things: {t1}, and then {t2}.",
        # Two plain instructions joined by a connector (a user's note to self, not a question).
        "{t1}; when that's done, {t2}.", "{t1}; next, {t2}.", "{t1}. Then {t2}.", "{t1}, and afterwards {t2}.",
        "{t1}; once it's finished, {t2}.", "Step one: {t1}. Step two: {t2}.", "{t1}, followed by this: {t2}.",
        "Would you {t1} and {t2}?", "Can you {t1} and also {t2}?",
    ],
    "es": [
        "Por favor, quiero {t1} y después {t2}.", "Primero necesito {t1} y luego {t2}.",
        "Quiero {t1} y, a continuación, {t2}.", "¿Podrías {t1} y luego {t2}?", "Antes de {t2}, quiero {t1}.",
        "Quisiera {t1} y acto seguido {t2}.", "Hay que {t1} y después {t2}.",
        "Dos cosas: {t1} y luego {t2}.", "Tras {t1}, quiero {t2}.",
        "{t1}; en segundo lugar, {t2}.", "{t1}; luego, {t2}.", "{t1}. Después, {t2}.", "{t1}, y al acabar, {t2}.",
        "Paso uno: {t1}. Paso dos: {t2}.", "{t1}; hecho esto, {t2}.", "{t1} y, terminado eso, {t2}.",
        "Necesito {t1} y, en cuanto termines, {t2}.",
        "¿Puedes {t1} y también {t2}?",
    ],
}
# Direct shell commands, after conversations.COMMANDS' first fifteen: (command, its output).
MORE_COMMANDS = [
    ("nproc", "8"),
    ("arch", "x86_64"),
    ("uname -r", "6.5.0-21-generic"),
    ("getconf LONG_BIT", "64"),
    ("git log --oneline -3", "a1b2c3d Fix login\n9e8f7a6 Add tests\n4d5c6b7 Initial commit"),
    ("git rev-parse --abbrev-ref HEAD", "main"),
    ("git shortlog -sn | head -n 2", "    42\tAna García\n    17\tLuis Pérez"),
    ("git diff --stat", " README.md | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)"),
    ("git log --since=yesterday --oneline", "a1b2c3d Fix login"),
    ("git tag", "v0.1.0\nv0.2.0"),
    ("git status", "On branch main\nnothing to commit, working tree clean"),
    ("git log -1 --format='%h %s'", "a1b2c3d Fix login"),
    ("git config user.name", "Ana García"),
    ("ls src | wc -l", "4"),
    ("echo $SHELL", "/bin/bash"),
    ("which python3", "/usr/bin/python3"),
    ("node --version", "v20.11.1"),
    ("pip --version", "pip 23.3.1 from /usr/lib/python3/dist-packages/pip (python 3.11)"),
    ("free -h", "               total        used        free\nMem:            15Gi       6.1Gi       7.2Gi"),
    ("date +%Y-%m-%d", "2024-03-12"),
    ("date -u", "Tue Mar 12 09:24:31 UTC 2024"),
    ("echo 'hello world'", "hello world"),
    ("echo \"$USER\"", "ana"),
    ("basename \"$PWD\"", "weather"),
    ("grep -c TODO main.py", "1"),
    ("wc -w README.md", "212 README.md"),
    ("ls *.py", "main.py\nsetup.py"),
    ("find . -maxdepth 1 -type d", ".\n./src\n./tests\n./docs"),
    ("du -sh .", "1.4M\t."),
    ("tail -n 1 logs/server.log", "10:02 ERROR database timeout"),
    ("grep -n import src/app.py", "1:import os\n2:from flask import Flask"),
    ("ls -d */", "docs/\nsrc/\ntests/"),
    ("ls -t | head -n 3", "report.txt\nmain.py\nnotes.txt"),
    ("echo $PATH | tr ':' '\\n' | head -n 3", "/usr/local/bin\n/usr/bin\n/bin"),
    ("python3 -c 'import sys; print(sys.platform)'", "linux"),
    ("lsb_release -ds", "Ubuntu 22.04.4 LTS"),
    ("umask", "0022"),
    ("echo $LANG", "en_US.UTF-8"),
    ("sha256sum notes.txt", "3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea  notes.txt"),
]
# Frames for a command given verbatim. The last two are eval.
COMMAND_FRAMES = {
    "en": [
        "Run the shell command {cmd}", "Run {cmd}", "Execute `{cmd}` in the shell.", "Now run {cmd}.", "{cmd}",
        "Can you run {cmd}?", "Try `{cmd}`.", "Run this: {cmd}", "What does {cmd} output?", "$ {cmd}",
        "Execute {cmd} for me, please.", "Quickly run {cmd} in the terminal.", "Please run the command {cmd}.",
        "Type {cmd} in the terminal.",
    ],
    "es": [
        "Ejecuta el comando {cmd}", "Corre {cmd}", "Ejecuta `{cmd}` en la terminal.", "Ahora ejecuta {cmd}.",
        "¿Puedes ejecutar {cmd}?", "Prueba `{cmd}`.", "Ejecuta esto: {cmd}", "¿Qué sale si ejecutas {cmd}?",
        "Haz un {cmd}.", "Córreme {cmd}, porfa.", "Ejecútame `{cmd}`.",
        "Por favor, lanza el comando {cmd}.", "Escribe {cmd} en la terminal.",
    ],
}
# fmt: on
