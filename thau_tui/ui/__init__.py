"""The Textual user interface: the app, its screens and widgets. Nothing in engine/ or tools/ imports this."""
