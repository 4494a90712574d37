"""Piccolo's configuration: the engine comes from DATABASE_URL (see app/db.py)."""

from app.db import APP_REGISTRY, DB

__all__ = ["APP_REGISTRY", "DB"]
