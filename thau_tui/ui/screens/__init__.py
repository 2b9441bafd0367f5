"""Screens and modals, each with its .tcss beside it."""
