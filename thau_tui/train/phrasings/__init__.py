"""What users say, in English and Spanish, and what a good assistant does about it.

`catalog.call_families()` gathers the requests that need a tool (frames x realistic
argument values, with a plausible tool output and the answer after it: `tools`,
`files`, `devtools`, `images`); `catalog.chat_families()` those that need none
(`chat`: greetings, facts, explanations, code written in the answer);
`catalog.written_families()` requests that sound like tasks but want words (`writing`). A family's frames are its templates: the train/eval split keeps
each template on one side only, so eval measures phrasings the model never saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Slot:
    """An argument value taken from the request's own words (e.g. an image prompt)."""

    name: str


@dataclass
class Item:
    """One concrete request: the words to put in a frame, the call, its output, the reply after it."""

    words: dict[str, dict[str, str]]  # lang -> slot -> text
    arguments: dict[str, Any] = field(default_factory=dict)
    output: str = ""
    answer: dict[str, str] = field(default_factory=dict)  # lang -> reply (after the result, or the no-call reply)

    def arguments_for(self, lang: str) -> dict[str, Any]:
        """The call's arguments, with Slot markers filled in from `lang`'s words."""
        return {k: self.words[lang][v.name] if isinstance(v, Slot) else v for k, v in self.arguments.items()}


@dataclass
class Family:
    """Frames (templates) per language plus a way to draw items that fit them."""

    id: str
    tool: str | None
    frames: dict[str, list[str]]
    draw: Callable[[Any, int], Item]  # (rng, frame index) -> item
    weight: float = 1.0
    frames_id: str | None = None  # families sharing one frame list share template ids

    def template_id(self, lang: str, index: int) -> str:
        return f"{self.frames_id or self.id}.{lang}.{index}"


def pick_row(rng, rows: list[tuple]) -> tuple:
    """One row of a value table (one draw of `rng`, the same for every table)."""
    return rows[rng.randrange(len(rows))]


def eval_frame_indexes(count: int) -> set[int]:
    """Which frames of a list are held out for eval: the last one, the last two from six up."""
    if count < 3:
        return set()
    return {count - 1, count - 2} if count >= 6 else {count - 1}
