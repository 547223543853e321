"""procrastinate 3.10.0's schema, as published (``procrastinate-3.10.0.sql`` beside this folder).

A later procrastinate is brought in by a new revision that runs its ``sql/migrations`` files
from 3.10.0 on, and pins the new version in ``pyproject.toml``: this file stays as it is.
"""

from pathlib import Path

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = Path(__file__).parent.parent / "procrastinate-3.10.0.sql"


def upgrade() -> None:
    # On the driver's connection, without parameters: psycopg then sends the file as it is
    # (several statements, and the ``%`` of its RAISE messages untouched).
    driver = op.get_bind().connection.driver_connection
    assert driver is not None
    driver.execute(SCHEMA.read_text(encoding="utf-8"))
