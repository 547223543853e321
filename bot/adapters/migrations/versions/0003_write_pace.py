"""The writes each installation sent in the last hour, shared by every replica's write pace
(``bot.adapters.pace_postgres``): GitHub's secondary limits count an installation's writes
whichever process sends them."""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE promotion_writes_sent (
    installation_id bigint NOT NULL,
    sent_at double precision NOT NULL  -- seconds since the epoch, on the database's clock
);
CREATE INDEX promotion_writes_sent_order ON promotion_writes_sent (installation_id, sent_at);
"""


def upgrade() -> None:
    op.execute(TABLES)
