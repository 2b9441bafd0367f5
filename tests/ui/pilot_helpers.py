"""Kept for the UI tests that still import wait_until from here; it lives in tests/waiting.py."""

from __future__ import annotations

from waiting import wait_until

__all__ = ["wait_until"]
