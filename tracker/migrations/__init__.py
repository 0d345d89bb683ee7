"""Alembic migrations of the tracker schema (``tracker.db.open_database`` applies them)."""
