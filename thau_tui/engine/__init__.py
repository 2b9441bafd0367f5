"""The assistant without a screen. Nothing in here imports Textual."""
