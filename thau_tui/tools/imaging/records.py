"""Generated images on disk: the PNG, its JSON sidecar, and listing them back.

No torch here: the gallery lists images without loading any model.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ... import paths

# The parameters that, with the model, reproduce an image; written to the
# sidecar and to the PNG's text chunks in this order.
METADATA_KEYS = (
    "prompt",
    "negative_prompt",
    "width",
    "height",
    "steps",
    "guidance",
    "seed",
    "model",
    "device",
    "dtype",
    "duration_s",
    "created",
)


_TEXT_KEYS = frozenset({"prompt", "negative_prompt", "model", "device", "dtype", "created"})


@dataclass
class ImageRecord:
    """One generated image: where it is and everything needed to make it again."""

    path: Path
    sidecar: Path
    prompt: str
    negative_prompt: str = ""
    width: int = 0
    height: int = 0
    steps: int = 0
    guidance: float = 0.0
    seed: int = 0
    model: str = ""
    device: str = ""
    dtype: str = ""
    duration_s: float = 0.0
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="milliseconds"))

    def metadata(self) -> dict[str, Any]:
        """The sidecar's content (no file paths: the files may move together)."""
        data = asdict(self)
        return {key: data[key] for key in METADATA_KEYS}

    def params(self) -> dict[str, Any]:
        """The generate_image arguments that make this image again (seed apart)."""
        return {
            "negative_prompt": self.negative_prompt,
            "width": self.width,
            "height": self.height,
            "steps": self.steps,
            "guidance": self.guidance,
        }

    @classmethod
    def from_sidecar(cls, sidecar: Path) -> "ImageRecord":
        """Read a sidecar written by `save_image`; raises ValueError when it is not one."""
        try:
            data = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{sidecar}: not a readable image sidecar ({exc})") from exc
        if not isinstance(data, dict) or "prompt" not in data:
            raise ValueError(f"{sidecar}: not an image sidecar (no 'prompt')")
        known = {key: data[key] for key in METADATA_KEYS if key in data}
        for key, value in known.items():  # a hand-edited "model": null broke the gallery later
            wanted = (str,) if key in _TEXT_KEYS else (int, float)
            if not isinstance(value, wanted) or isinstance(value, bool):
                raise ValueError(f"{sidecar}: {key} is {type(value).__name__}, not {wanted[0].__name__}")
        return cls(path=sidecar.with_suffix(".png"), sidecar=sidecar, **known)


def _slug(prompt: str, words: int = 5) -> str:
    """A few words of the prompt, safe in a file name on every platform."""
    parts = re.findall(r"[A-Za-z0-9]+", prompt.lower())[:words]
    return "-".join(parts)[:48] or "image"


def image_path_for(record_prompt: str, seed: int, folder: Path | None = None) -> Path:
    """A new, unused PNG path: time, seed and a slug of the prompt."""
    folder = folder or paths.images_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{datetime.now():%Y%m%d-%H%M%S}-{seed}-{_slug(record_prompt)}"
    candidate = folder / f"{stem}.png"
    n = 1
    while candidate.exists():
        n += 1
        candidate = folder / f"{stem}-{n}.png"
    return candidate


def save_image(image: Any, record: ImageRecord) -> ImageRecord:
    """Write the PIL image to record.path with PNG text chunks, then its JSON sidecar."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in record.metadata().items():
        info.add_text(key, str(value))
    info.add_text("parameters", json.dumps(record.metadata()))
    record.path.parent.mkdir(parents=True, exist_ok=True)
    image.save(record.path, format="PNG", pnginfo=info)
    record.sidecar.write_text(json.dumps(record.metadata(), indent=2) + "\n", encoding="utf-8")
    return record


def list_images(folder: Path | None = None) -> list[ImageRecord]:
    """Every generated image that still has its PNG, newest first (unreadable sidecars skipped)."""
    folder = folder or paths.images_dir()
    records: list[ImageRecord] = []
    for sidecar in folder.glob("*.json"):
        try:
            record = ImageRecord.from_sidecar(sidecar)
        except (ValueError, TypeError):
            continue
        if record.path.is_file():
            records.append(record)
    # Sidecars written within the same millisecond fall back to the file's write time.
    records.sort(key=lambda r: (r.created, r.sidecar.stat().st_mtime_ns), reverse=True)
    return records
