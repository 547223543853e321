"""The bot's tables beside procrastinate's: deliveries, what a job carries that procrastinate's
row does not, dedupe keys, versions seen and installation throttles.

``promotion_jobs`` has one row per ``procrastinate_jobs`` row the bot defers (deleted with
it); the job's kind is procrastinate's ``task_name``, its payload ``args ->> 'payload'``, its
serial key ``lock`` and its coalesce key ``queueing_lock``.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE promotion_deliveries (
    delivery_id text PRIMARY KEY,  -- X-GitHub-Delivery (or the registry's id): stored once
    source text NOT NULL,
    event text NOT NULL,
    status text NOT NULL,
    received_at timestamptz NOT NULL,
    headers jsonb NOT NULL,
    body bytea NOT NULL
);
CREATE INDEX promotion_deliveries_received ON promotion_deliveries (received_at);
-- lz4 compresses a 28 kB body several times faster than the default pglz (a server built
-- without it keeps pglz).
DO $$
BEGIN
    ALTER TABLE promotion_deliveries ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN NULL;
END;
$$;

CREATE TABLE promotion_jobs (
    job_id bigint PRIMARY KEY REFERENCES procrastinate_jobs (id) ON DELETE CASCADE,
    installation_id bigint,
    dedupe_key text,
    merged integer NOT NULL DEFAULT 1,  -- jobs coalesced into this one, itself included
    waits integer NOT NULL DEFAULT 0,  -- leases that ended in RetryLater (not attempts)
    ready_since timestamptz NOT NULL DEFAULT now(),
    last_error text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX promotion_jobs_installation ON promotion_jobs (installation_id)
    WHERE installation_id IS NOT NULL;
CREATE INDEX promotion_jobs_updated ON promotion_jobs (updated_at);

-- Unique across every replica until pruned: a key enqueued once is never enqueued again.
CREATE TABLE promotion_dedupe_keys (
    dedupe_key text PRIMARY KEY,
    job_id bigint,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX promotion_dedupe_keys_created ON promotion_dedupe_keys (created_at);

CREATE SEQUENCE promotion_versions_seen_seq;
CREATE TABLE promotion_versions_seen (
    subject text NOT NULL,
    tag text NOT NULL,
    digest text,
    seen_at timestamptz NOT NULL DEFAULT now(),
    seq bigint NOT NULL DEFAULT nextval('promotion_versions_seen_seq'),  -- sighting order
    PRIMARY KEY (subject, tag)
);
CREATE INDEX promotion_versions_seen_order ON promotion_versions_seen (subject, seq);

CREATE TABLE promotion_throttles (
    installation_id bigint PRIMARY KEY,
    until timestamptz NOT NULL,
    reason text NOT NULL
);
"""


def upgrade() -> None:
    op.execute(TABLES)
