"""Training: data set building, LoRA training, evaluation, GGUF adapter export.

Heavy imports (torch, transformers, peft) happen inside the functions that need
them, so importing this package stays cheap for the chat.
"""
