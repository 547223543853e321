"""Alembic migrations of the PostgreSQL queue's schema (``promotion-bot db upgrade``):
procrastinate's own tables, then ours beside them."""
