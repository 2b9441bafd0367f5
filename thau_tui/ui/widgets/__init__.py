"""Widgets the chat mounts: tool cards, question cards, messages."""
