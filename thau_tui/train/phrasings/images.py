"""Requests for generate_image: subjects in both languages, sometimes a size, steps or seed."""

from __future__ import annotations

import random

from . import Item, Slot

# The prompt argument keeps the user's own words (a small model copies far more
# reliably than it translates).
SUBJECTS = [
    ("a space cat", "un gato espacial"),
    ("a lighthouse at sunset", "un faro al atardecer"),
    ("a watercolor fox in a forest", "un zorro en acuarela en un bosque"),
    ("a futuristic city at night", "una ciudad futurista de noche"),
    ("a cup of coffee on a wooden table", "una taza de café sobre una mesa de madera"),
    ("a robot reading a book", "un robot leyendo un libro"),
    ("a mountain lake at dawn", "un lago de montaña al amanecer"),
    ("an astronaut riding a horse", "un astronauta montando a caballo"),
    ("a cozy cabin in the snow", "una cabaña acogedora en la nieve"),
    ("a dragon made of clouds", "un dragón hecho de nubes"),
    ("a pixel art castle", "un castillo en pixel art"),
    ("a bowl of ramen, studio lighting", "un tazón de ramen con luz de estudio"),
    ("a sunflower field under a blue sky", "un campo de girasoles bajo un cielo azul"),
    ("a portrait of an old fisherman", "un retrato de un viejo pescador"),
    ("a tiny house on a floating island", "una casita en una isla flotante"),
    ("a red bicycle in the rain", "una bicicleta roja bajo la lluvia"),
    ("a owl wearing glasses", "un búho con gafas"),
    ("the surface of Mars, photorealistic", "la superficie de Marte, fotorrealista"),
    ("a koi pond in autumn", "un estanque de carpas koi en otoño"),
    ("a steam train crossing a bridge", "un tren de vapor cruzando un puente"),
    ("a jellyfish glowing in the dark", "una medusa brillando en la oscuridad"),
    ("a vintage typewriter on a desk", "una máquina de escribir antigua sobre un escritorio"),
    ("a snowy owl on a branch", "un búho nival en una rama"),
    ("a hot air balloon over the valley", "un globo aerostático sobre el valle"),
    ("a street market at night", "un mercado callejero de noche"),
    ("a knight made of glass", "un caballero de cristal"),
    ("a greenhouse full of orchids", "un invernadero lleno de orquídeas"),
    ("a sailboat in a storm", "un velero en una tormenta"),
    ("a bakery window in winter", "el escaparate de una panadería en invierno"),
    ("a chess board on the moon", "un tablero de ajedrez en la luna"),
]

IMAGE = {
    "en": [
        "Generate an image of {subject}.",
        "Draw {subject}.",
        "Make a picture of {subject}.",
        "Create an image: {subject}.",
        "Can you paint {subject}?",
        "I want an image of {subject}.",
        "Could you generate a picture of {subject}?",
        "I'd love an illustration of {subject}.",
        "Could you sketch {subject} for me?",
        "image: {subject}",
        "I'm making a poster and need an image of {subject}.",
        "Please create a picture showing {subject}.",
        "Can you whip up an image of {subject}?",
        "Generate a picture: {subject}.",
        "What would {subject} look like? Make me an image.",
        "Use the image tool to draw {subject}.",
        "I need a picture of {subject} for my slides.",
        "Produce an image of {subject}.",
        "Imagine {subject} and generate it.",
        "Show me {subject} as an image.",
        "Render {subject}.",
    ],
    "es": [
        "Genera una imagen de {subject}.",
        "Dibuja {subject}.",
        "Haz una imagen de {subject}.",
        "Crea una imagen: {subject}.",
        "¿Puedes pintar {subject}?",
        "Quiero una imagen de {subject}.",
        "¿Podrías generar una imagen de {subject}?",
        "Me encantaría una ilustración de {subject}.",
        "¿Me bosquejas {subject}?",
        "imagen: {subject}",
        "Estoy haciendo un póster y necesito una imagen de {subject}.",
        "Por favor, crea una imagen que muestre {subject}.",
        "¿Me haces una imagen de {subject}?",
        "Genera un dibujo: {subject}.",
        "¿Cómo se vería {subject}? Hazme una imagen.",
        "Usa la herramienta de imágenes para dibujar {subject}.",
        "Necesito una foto de {subject} para mis diapositivas.",
        "Créame una imagen de {subject}.",
        "Imagina {subject} y genera la imagen.",
        "Muéstrame {subject} en una imagen.",
        "Genera {subject}.",
    ],
}
IMAGE_OPTIONS = {
    "size": {
        "en": [
            "Generate a {width}x{height} image of {subject}.",
            "Draw {subject} at {width} by {height} pixels.",
            "Create a {width}x{height} picture of {subject}.",
            "Make {subject}, size {width}x{height}.",
            "Can you generate {subject} at {width}x{height}?",
            "I need a {width} by {height} image of {subject}.",
            "Draw {subject}. Dimensions: {width}x{height}.",
            "For my wallpaper: {subject}, {width}x{height} pixels.",
            "Create an image of {subject} that is {width} pixels wide and {height} pixels tall.",
            "Paint {subject} in {width}x{height}, please.",
            "I want {subject}; make it {width}x{height} pixels.",
            "A picture of {subject} please, sized {width}x{height}.",
            "Could I get {subject} in {width}x{height} px?",
            "Render {subject} with width {width} and height {height}.",
            "I need {subject}, {width} wide and {height} high.",
        ],
        "es": [
            "Genera una imagen de {subject} de {width}x{height}.",
            "Dibuja {subject} a {width} por {height} píxeles.",
            "Crea una imagen de {width}x{height} de {subject}.",
            "Haz {subject}, tamaño {width}x{height}.",
            "¿Puedes generar {subject} a {width}x{height}?",
            "Necesito una imagen de {width} por {height} de {subject}.",
            "Dibuja {subject}. Dimensiones: {width}x{height}.",
            "Para mi fondo de pantalla: {subject}, {width}x{height} píxeles.",
            "Crea una imagen de {subject} de {width} píxeles de ancho y {height} de alto.",
            "Pinta {subject} en {width}x{height}, porfa.",
            "Quiero {subject}; que sea de {width}x{height} píxeles.",
            "Una imagen de {subject}, porfa, con tamaño {width}x{height}.",
            "¿Me das {subject} en {width}x{height} px?",
            "Genera {subject} con ancho {width} y alto {height}.",
            "Necesito {subject}, de {width} de ancho y {height} de alto.",
        ],
    },
    "seed": {
        "en": [
            "Make an image of {subject}, seed {seed}.",
            "Generate {subject} using seed {seed}.",
            "Generate {subject} with seed {seed} so I can reproduce it.",
            "Seed {seed}: {subject}.",
            "Can you make a picture of {subject}? Use seed {seed}.",
            "I want {subject}, and fix the seed at {seed}.",
            "Draw {subject} (seed={seed}).",
            "Reproducible image please: {subject}, seed {seed}.",
            "Draw {subject} with the random seed set to {seed}.",
        ],
        "es": [
            "Haz una imagen de {subject} con semilla {seed}.",
            "Genera {subject} usando la semilla {seed}.",
            "Genera {subject} con semilla {seed} para poder repetirlo.",
            "Semilla {seed}: {subject}.",
            "¿Me haces una imagen de {subject}? Usa la semilla {seed}.",
            "Quiero {subject}, y fija la semilla en {seed}.",
            "Dibuja {subject} (seed={seed}).",
            "Imagen reproducible, porfa: {subject}, semilla {seed}.",
            "Dibuja {subject} con la semilla aleatoria en {seed}.",
        ],
    },
    "steps": {
        "en": [
            "Generate {subject} with {steps} steps.",
            "Draw {subject} using {steps} inference steps.",
            "Draw {subject} and run {steps} denoising steps.",
            "Generate an image of {subject}; set steps to {steps}.",
            "Can you render {subject} with {steps} sampling steps?",
            "Please make {subject} using {steps} steps.",
            "Use {steps} steps for an image of {subject}.",
            "Generate {subject} in {steps} inference steps.",
            "Make a picture of {subject}, {steps} steps.",
        ],
        "es": [
            "Genera {subject} con {steps} pasos.",
            "Dibuja {subject} usando {steps} pasos de inferencia.",
            "Dibuja {subject} con {steps} pasos de difusión.",
            "Genera una imagen de {subject}; pon los pasos en {steps}.",
            "¿Puedes renderizar {subject} con {steps} pasos de muestreo?",
            "Por favor, haz {subject} usando {steps} pasos.",
            "Usa {steps} pasos para una imagen de {subject}.",
            "Genera {subject} en {steps} pasos de inferencia.",
            "Haz una imagen de {subject}, {steps} pasos.",
        ],
    },
}
SIZES = [
    (512, 512), (768, 512), (512, 768), (1024, 1024), (256, 256), (640, 480),
    (896, 512), (512, 896), (1024, 576), (576, 1024), (832, 448), (384, 640), (448, 320), (960, 544),
]  # fmt: skip
# Spanish requests keep the user's words; some users write the subject in English.
CODE_SWITCH = 0.3


def _subject(rng: random.Random) -> tuple[str, str]:
    """An (EN, ES) subject; now and then the Spanish request names it in English."""
    en, es = SUBJECTS[rng.randrange(len(SUBJECTS))]
    return (en, en) if rng.random() < CODE_SWITCH else (en, es)


def image(rng: random.Random) -> Item:
    """A plain image request."""
    en, es = _subject(rng)
    return Item(
        {"en": {"subject": en}, "es": {"subject": es}},
        {"prompt": Slot("subject")},
        "saved image 1 of 1 to images/0001.png (512x512, 20 steps, 4.2 s)",
        {"en": "Here is your image: images/0001.png.", "es": "Aquí tienes tu imagen: images/0001.png."},
    )


def image_options(option: str):
    """A drawer of image requests that name a size, a seed or a step count."""

    def draw(rng: random.Random) -> Item:
        en, es = _subject(rng)
        width, height = SIZES[rng.randrange(len(SIZES))]
        seed, steps = rng.choice([7, 42, 123, 2024, 31337]), rng.choice([10, 20, 25, 30, 50])
        args: dict = {"prompt": Slot("subject")}
        if option == "size":
            args.update(width=width, height=height)
        elif option == "seed":
            args["seed"] = seed
        else:
            args["steps"] = steps
        common = {"width": str(width), "height": str(height), "seed": str(seed), "steps": str(steps)}
        return Item(
            {"en": {"subject": en, **common}, "es": {"subject": es, **common}},
            args,
            f"saved image 1 of 1 to images/0002.png ({args.get('width', 512)}x{args.get('height', 512)})",
            {"en": "Done: images/0002.png.", "es": "Listo: images/0002.png."},
        )

    return draw
