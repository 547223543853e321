"""Alembic's entry point: runs the revisions on the connection ``postgres_schema.upgrade``
hands over (no ORM, no metadata: each revision writes its SQL)."""

from alembic import context

context.configure(connection=context.config.attributes["connection"])
with context.begin_transaction():
    context.run_migrations()
