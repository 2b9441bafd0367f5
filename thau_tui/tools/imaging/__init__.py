"""Text-to-image with a local diffusers model: loading, generating, the saved images.

The generate_image tool (tools/images.py), the benchmark and the gallery's
re-run all go through `generate`; the gallery lists with `list_images`.
"""

from .generate import GenerationCancelled, generate
from .pipeline import ImageModelError, clear_cache, family_defaults, load_pipeline, resolve_model
from .records import ImageRecord, list_images

__all__ = [
    "GenerationCancelled",
    "ImageModelError",
    "ImageRecord",
    "clear_cache",
    "family_defaults",
    "generate",
    "list_images",
    "load_pipeline",
    "resolve_model",
]
