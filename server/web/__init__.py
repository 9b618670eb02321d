"""Server-rendered pages: public disclosure and managers' views."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register page blueprints (added as the pages are built)."""
