"""More training frames for `tools`: other registers, word orders and context before the ask.

Only training frames live here; each list in `tools` keeps its eval frames (the last one or
two, `eval_frame_indexes`) at its end, after these.
"""

from __future__ import annotations

# Around a task in words: an English bare infinitive ("show how much disk space is free"),
# a Spanish infinitive ("ver cuánto espacio libre queda en el disco").
GENERIC_MORE = {
    "en": [
        "{task}, please.",
        "Can you please {task}?",
        "Could you please {task}?",
        "Do me a favour and {task}.",
        "I want to {task}.",
        "Need you to {task}.",
        "Let's {task}.",
        "Would you be able to {task}?",
        "Do you think you could {task}?",
        "I was hoping you could {task}.",
        "When you get a chance, {task}.",
        "Can you {task} real quick?",
        "Working on my project here. Can you {task}?",
        "Next thing: {task}.",
        "I'd appreciate it if you could {task}.",
        "Please go ahead and {task} for me.",
        "Can you {task} and tell me what you get?",
        "Mind helping me {task}?",
        "yo, {task}",
        "One more thing: could you {task}?",
        "Before we go on, {task}.",
        "Could I get you to {task}?",
        "Try to {task}, please.",
    ],
    "es": [
        "{task}, por favor.",
        "¿Me puedes {task}?",
        "¿Podés {task}?",
        "Porfa, {task}.",
        "Hazme el favor de {task}.",
        "¿Te encargas de {task}?",
        "¿Serías tan amable de {task}?",
        "Quiero {task}.",
        "A ver, necesito {task}.",
        "Tengo que {task}. ¿Me echas una mano?",
        "¿Te importaría {task}?",
        "Estoy trabajando en el proyecto y necesito {task}.",
        "Antes de seguir, quiero {task}.",
        "¿Me podrías ayudar a {task}?",
        "¿Me ayudás a {task}?",
        "Necesito que me ayudes a {task}.",
        "Por favor, ¿puedes {task}?",
        "Lo siguiente: {task}.",
        "Encárgate de {task}, por favor.",
        "¿Puedes {task} y decirme qué sale?",
        "Vamos a {task}.",
        "¿Me haces el favor de {task}?",
        "Oye, ¿podrías {task}, porfa?",
    ],
}

# A shell command the user typed out.
SHELL_DIRECT_MORE = {
    "en": [
        "Can you run {command}?",
        "Run {command} for me.",
        "Execute the command {command}, please.",
        "What's the output of `{command}`?",
        "Go ahead and run: {command}",
        "$ {command}",
        "Type {command} in the terminal and show me the output.",
        "Could you execute `{command}` in the shell?",
        "I'd like to see what `{command}` returns.",
        "Please execute:\n{command}",
    ],
    "es": [
        "¿Puedes ejecutar {command}?",
        "Lanza `{command}`.",
        "Ejecútame {command}, porfa.",
        "Corré `{command}` en la terminal.",
        "¿Qué devuelve `{command}`?",
        "$ {command}",
        "Pásale {command} a la terminal y enséñame la salida.",
        "Ejecuta el comando {command}, por favor.",
        "Quiero ver la salida de `{command}`.",
        "Por favor, ejecuta:\n{command}",
    ],
}

# Python code the user pasted.
PYTHON_DIRECT_MORE = {
    "en": [
        "Run this:\n```python\n{code}\n```",
        "Can you execute this Python?\n{code}",
        "```python\n{code}\n```\nRun it, please.",
        "Here's some code. Run it and tell me the output:\n{code}",
        "What's the output of this?\n```\n{code}\n```",
        "I wrote this; can you run it?\n{code}",
        "Please execute the following Python code:\n\n{code}",
        "{code}\n\nrun that",
        "Quick test, run:\n{code}",
    ],
    "es": [
        "Ejecuta esto:\n```python\n{code}\n```",
        "¿Puedes ejecutar este Python?\n{code}",
        "```python\n{code}\n```\nEjecútalo, por favor.",
        "Aquí tienes un código. Córrelo y dime la salida:\n{code}",
        "¿Cuál es la salida de esto?\n```\n{code}\n```",
        "Escribí esto, ¿lo puedes ejecutar?\n{code}",
        "Por favor, ejecuta el siguiente código Python:\n\n{code}",
        "{code}\n\nejecuta eso",
        "Prueba rápida, ejecuta:\n{code}",
    ],
}
