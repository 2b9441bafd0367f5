"""generate_image: draw a picture with the local diffusers model named in config.images."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Tool, ToolContext, ToolResult
from .imaging import GenerationCancelled, generate, list_images
from .imaging.records import ImageRecord

if TYPE_CHECKING:
    from ..config import ImagesConfig

__all__ = ["TOOLS", "generate", "generate_image", "list_images", "ImageRecord"]


def _settings(ctx: ToolContext) -> ImagesConfig:
    if ctx.config is not None:
        return ctx.config.images
    from ..config import ImagesConfig

    return ImagesConfig()


def generate_image(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """The tool function: generate, then tell the model where the file is and the UI what to show."""
    try:
        record = generate(
            _settings(ctx),
            prompt=args["prompt"],
            negative_prompt=args.get("negative_prompt"),
            width=args.get("width"),
            height=args.get("height"),
            steps=args.get("steps"),
            guidance=args.get("guidance"),
            seed=args.get("seed"),
            on_progress=ctx.progress,
            cancel_event=ctx.cancel_event,
        )
    except GenerationCancelled as exc:
        return ToolResult(output=str(exc), ok=False, data={"cancelled": True, "step": exc.step, "steps": exc.steps})
    size_kb = record.path.stat().st_size / 1024
    output = (
        f"Saved a {record.width}x{record.height} image to {record.path} ({size_kb:.0f} KB; "
        f"seed {record.seed}, {record.steps} steps, {record.duration_s:.1f} s). It is shown to the user."
    )
    data = {"image_path": str(record.path), "sidecar": str(record.sidecar), **record.metadata()}
    return ToolResult(output=output, data=data)


TOOLS = [
    Tool(
        name="generate_image",
        description=(
            "Generate an image from a text prompt with the local Stable Diffusion model and save it as PNG. "
            "Returns the file path."
        ),
        summary="draw an image from a text prompt; returns the PNG path",
        parameters={
            "type": "object",
            "properties": {
                "prompt": {"type": "string", "description": "What the image shows"},
                "negative_prompt": {"type": "string", "description": "What the image should not show"},
                "width": {"type": "integer", "minimum": 16, "maximum": 2048, "description": "Pixels; a multiple of 8"},
                "height": {"type": "integer", "minimum": 16, "maximum": 2048, "description": "Pixels; a multiple of 8"},
                "steps": {"type": "integer", "minimum": 1, "maximum": 150, "description": "Denoising steps"},
                "guidance": {"type": "number", "minimum": 0, "maximum": 30, "description": "Prompt adherence (CFG)"},
                "seed": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 4294967295,
                    "description": "Same seed, same image",
                },
            },
            "required": ["prompt"],
            "additionalProperties": False,
        },
        risk="exec",
        function=generate_image,
    )
]
