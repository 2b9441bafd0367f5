"""Making one image: settings + call arguments -> PNG + sidecar, with progress and cancel."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any, Callable

from .pipeline import load_pipeline
from .records import ImageRecord, image_path_for, save_image

ProgressFn = Callable[[float, float, str], None]

MAX_SEED = 2**32 - 1


class GenerationCancelled(Exception):
    """The user cancelled between denoising steps; no image was saved."""

    def __init__(self, step: int, steps: int) -> None:
        super().__init__(f"cancelled at step {step}/{steps}")
        self.step = step
        self.steps = steps


def _multiple_of_8(value: int) -> int:
    # The VAE halves the size three times: diffusers refuses sizes not divisible by 8.
    return max(8, int(value) // 8 * 8)


def _pick(call: Any, configured: Any, default: Any) -> Any:
    """Call argument over config over the family default."""
    if call is not None:
        return call
    if configured is not None:
        return configured
    return default


def generate(
    settings: Any,
    prompt: str,
    negative_prompt: str | None = None,
    width: int | None = None,
    height: int | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    seed: int | None = None,
    on_progress: ProgressFn | None = None,
    cancel_event: threading.Event | None = None,
    folder: Path | None = None,
) -> ImageRecord:
    """Draw `prompt` with the model config.images names and save it; returns its record.

    `settings` is config.images (ImagesConfig). Raises ImageModelError when the model
    is missing or broken, GenerationCancelled when `cancel_event` is set between steps.
    """
    import torch

    loaded = load_pipeline(settings, on_progress)
    defaults = loaded.defaults
    width = _multiple_of_8(_pick(width, getattr(settings, "width", None), defaults.width))
    height = _multiple_of_8(_pick(height, getattr(settings, "height", None), defaults.height))
    steps = int(_pick(steps, getattr(settings, "steps", None), defaults.steps))
    guidance = float(_pick(guidance, getattr(settings, "guidance", None), defaults.guidance))
    seed = int(seed) if seed is not None else random.SystemRandom().randint(0, MAX_SEED)
    cancel_event = cancel_event or threading.Event()
    stopped_at: list[int] = []

    def on_step_end(pipe: Any, index: int, _timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        done = index + 1
        if on_progress:
            on_progress(done, steps, f"step {done}/{steps}")
        if cancel_event.is_set() and not stopped_at:
            stopped_at.append(done)
            pipe._interrupt = True  # diffusers' supported way to stop between steps
        return kwargs

    with loaded.lock:  # one generation at a time on a pipeline: the scheduler holds state
        if cancel_event.is_set():
            raise GenerationCancelled(0, steps)
        # A CPU generator gives the same noise for a seed on every device.
        generator = torch.Generator(device="cpu").manual_seed(seed)
        started = time.perf_counter()
        result = loaded.pipe(
            prompt=prompt,
            negative_prompt=negative_prompt or None,
            width=width,
            height=height,
            num_inference_steps=steps,
            guidance_scale=guidance,
            generator=generator,
            callback_on_step_end=on_step_end,
        )
        duration = time.perf_counter() - started
    if stopped_at:
        raise GenerationCancelled(stopped_at[0], steps)
    path = image_path_for(prompt, seed, folder)
    record = ImageRecord(
        path=path,
        sidecar=path.with_suffix(".json"),
        prompt=prompt,
        negative_prompt=negative_prompt or "",
        width=width,
        height=height,
        steps=steps,
        guidance=guidance,
        seed=seed,
        model=str(loaded.model),
        device=loaded.device,
        dtype=loaded.dtype,
        duration_s=round(duration, 3),
    )
    return save_image(result.images[0], record)
