"""More of the `TRAIN` vocabulary: domains, verbs, objects, parameter kinds and frames.

schema_vocab_train.py merges these into `TRAIN`, after its own entries (frames go
before the last two of each list, which data.py holds out for the eval split).
Every phrase states its value verbatim, so a call's arguments can be read back from
the request text. Like the rest of `TRAIN`, disjoint from `HELDOUT`.
"""

from __future__ import annotations

from . import schema_params_life, schema_params_work
from .schema_vocabulary import Obj, Verb

MORE_PARAMS = {p.name: p for p in [*schema_params_work.PARAMS, *schema_params_life.PARAMS]}


MORE_DOMAINS = {
    "banking": "online bank",
    "smarthome": "smart home hub",
    "devops": "deployment platform",
    "lab": "lab notebook",
    "school": "school portal",
    "clinic": "clinic system",
    "streaming": "video streaming service",
    "gaming": "game server",
    "warehouse": "warehouse system",
    "store": "store back office",
    "dining": "restaurant app",
    "rentals": "car rental service",
}

MORE_VERBS = [
    Verb("delete", "delete", "borra", "borrar"),
    Verb("export", "export", "exporta", "exportar"),
    Verb("share", "share", "comparte", "compartir"),
    Verb("archive", "archive", "archiva", "archivar"),
    Verb("renew", "renew", "renueva", "renovar"),
    Verb("duplicate", "duplicate", "duplica", "duplicar"),
    Verb("approve", "approve", "aprueba", "aprobar"),
    Verb("track", "track", "rastrea", "rastrear"),
    Verb("print", "print", "imprime", "imprimir"),
    Verb("restore", "restore", "restaura", "restaurar"),
    Verb("validate", "validate", "valida", "validar"),
    Verb("enroll", "enroll", "inscribe", "inscribir"),
    Verb("pause", "pause", "pausa", "pausar"),
    Verb("publish", "publish", "publica", "publicar"),
    Verb("confirm", "confirm", "confirma", "confirmar"),
    Verb("submit", "submit", "tramita", "tramitar"),
    Verb("compare", "compare", "compara", "comparar"),
    Verb("sync", "sync", "sincroniza", "sincronizar"),
    Verb("review", "review", "revisa", "revisar"),
    Verb("configure", "configure", "configura", "configurar"),
]

MORE_OBJECTS = [
    Obj(
        "bank_transfer",
        "a bank transfer",
        "una transferencia",
        "banking",
        ("iban", "transfer_amount", "currency", "memo", "instant", "start_date"),
    ),
    Obj(
        "savings_goal",
        "a savings goal",
        "una meta de ahorro",
        "banking",
        ("goal_name", "target_amount", "months", "auto_save", "owner"),
    ),
    Obj(
        "budget",
        "a budget",
        "un presupuesto",
        "banking",
        ("spend_category", "monthly_limit", "alert_percent", "currency", "recipients"),
    ),
    Obj(
        "thermostat",
        "the thermostat",
        "el termostato",
        "smarthome",
        ("room", "temperature_c", "hvac_mode", "weekdays", "time_window"),
    ),
    Obj(
        "light_scene",
        "a lighting scene",
        "una escena de luces",
        "smarthome",
        ("room", "brightness", "light_tone", "time", "weekdays", "floors"),
    ),
    Obj(
        "deployment",
        "a deployment",
        "un despliegue",
        "devops",
        ("service_name", "version", "environment", "replicas", "canary", "resources"),
    ),
    Obj(
        "alert_rule",
        "an alert rule",
        "una regla de alerta",
        "devops",
        ("service_name", "metric", "threshold", "window_minutes", "channels"),
    ),
    Obj(
        "firewall_rule",
        "a firewall rule",
        "una regla de cortafuegos",
        "devops",
        ("service_name", "ports", "environment", "expires"),
    ),
    Obj(
        "backup",
        "a backup",
        "una copia de seguridad",
        "devops",
        ("service_name", "retention_days", "compress", "weekdays", "time"),
    ),
    Obj(
        "experiment",
        "an experiment",
        "un experimento",
        "lab",
        ("sample_id", "temperature_c", "run_hours", "replicates", "reagents", "start_date"),
    ),
    Obj(
        "assignment",
        "an assignment",
        "una tarea",
        "school",
        ("course_code", "title", "expires", "max_score", "late_allowed"),
    ),
    Obj(
        "exam",
        "an exam",
        "un examen",
        "school",
        ("course_code", "start_date", "time", "room_code", "question_count", "duration_minutes"),
    ),
    Obj(
        "appointment",
        "a medical appointment",
        "una cita médica",
        "clinic",
        ("patient_id", "specialty", "start_date", "time", "video_call", "phone"),
    ),
    Obj(
        "medication_plan",
        "a medication plan",
        "un plan de medicación",
        "clinic",
        ("patient_id", "medication", "dose_mg", "times_per_day", "with_food", "months"),
    ),
    Obj(
        "watchlist_entry",
        "a watchlist entry",
        "una entrada de la lista de series",
        "streaming",
        ("show_title", "season", "episode", "subtitles", "quality"),
    ),
    Obj(
        "match",
        "a match",
        "una partida",
        "gaming",
        ("game_mode", "max_players", "map_name", "ranked", "server_region"),
    ),
    Obj(
        "stock_move",
        "a stock movement",
        "un movimiento de stock",
        "warehouse",
        ("warehouse_code", "sku", "pallets", "dock", "start_date"),
    ),
    Obj(
        "delivery_route",
        "a delivery route",
        "una ruta de reparto",
        "warehouse",
        ("stops", "driver", "vehicle", "time", "express"),
    ),
    Obj(
        "coupon",
        "a discount coupon",
        "un cupón de descuento",
        "store",
        ("coupon_code", "discount_percent", "min_order", "single_use", "expires"),
    ),
    Obj(
        "store_visit",
        "a store visit",
        "una visita a tienda",
        "store",
        ("address", "start_date", "time_window", "phone", "owner"),
    ),
    Obj(
        "table_booking",
        "a table",
        "una mesa",
        "dining",
        ("restaurant", "party_size", "start_date", "time", "outdoor", "dietary"),
    ),
    Obj(
        "rental_car",
        "a rental car",
        "un coche de alquiler",
        "rentals",
        ("pickup_town", "start_date", "rental_days", "car_class", "driver_age", "child_seat"),
    ),
    Obj(
        "charging_spot",
        "a charging spot",
        "un punto de carga",
        "rentals",
        ("location", "time_window", "vehicle", "start_date"),
    ),
]

# Frames for both languages; they go before the eval split's last two frames of each list.
MORE_FRAMES = {
    "en": [
        "{v} {o} {m}, thanks",
        "Hey, {v} {o} {m} when you get a chance.",
        "Would you {v} {o} {m} for me?",
        "Quick one: {v} {o} {m}.",
        "I'm sorting things out today, so {v} {o} {m}.",
        "We should {v} {o} {m}. Can you handle it?",
        "Using the tools you have, {v} {o} {m}.",
        "It would be great if you could {v} {o} {m}.",
        "My manager asked me to {v} {o} {m}. Can you do that?",
        "Let's {v} {o} {m}.",
    ],
    "es": [
        "{v_imp} {o} {m}, gracias",
        "Oye, {v_imp} {o} {m} cuando puedas.",
        "¿Me echas una mano para {v_inf} {o} {m}?",
        "Rápido: {v_imp} {o} {m}.",
        "Estoy organizando cosas hoy, así que {v_imp} {o} {m}.",
        "Tenemos que {v_inf} {o} {m}. ¿Te encargas?",
        "Con las herramientas que tienes, {v_imp} {o} {m}.",
        "Me vendría genial que pudieras {v_inf} {o} {m}.",
        "Mi jefa me pidió {v_inf} {o} {m}. ¿Puedes hacerlo?",
        "Vamos a {v_inf} {o} {m}.",
    ],
}
