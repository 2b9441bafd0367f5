"""thau: a terminal assistant over a local GGUF model that calls tools safely."""

__version__ = "0.1.0"
