"""The statements of the PostgreSQL queue (``bot.adapters.queue_postgres``) that take more than a
line: procrastinate's functions called inside the bot's transactions, and the bot's tables."""

from __future__ import annotations

# A lease is held while the job is running under the worker and attempt its token names.
FENCE = "id = %(id)s AND status = 'doing' AND worker_id = %(worker)s AND attempts = %(attempts)s"

# Jobs whose worker was pruned (silent for a lease term) go back to waiting, due now; a retry
# counts the lost lease as an attempt.
PRUNE_STALLED = "SELECT worker_id FROM procrastinate_prune_stalled_workers_v1(%(term)s)"
RECOVER_STALLED = """
WITH stalled AS (
    SELECT id FROM procrastinate_jobs
    WHERE status = 'doing' AND worker_id IS NULL AND queue_name = %(queue)s
    ORDER BY id FOR UPDATE SKIP LOCKED
)
SELECT procrastinate_retry_job_v2(id, now(), NULL, NULL, NULL) FROM stalled
"""

# No row when the worker is gone (pruned once silent for a lease term); else procrastinate's
# fetch, a row of NULLs when no job is runnable. The lock keeps another replica from pruning
# the worker before the job fetched for it is committed.
FETCH = """
SELECT f.id, f.task_name AS kind, f.args ->> 'payload' AS payload, f.attempts,
       f.lock AS serial_key, f.scheduled_at
FROM (SELECT id FROM procrastinate_workers WHERE id = %(worker)s FOR KEY SHARE) AS w,
     LATERAL procrastinate_fetch_job_v2(ARRAY[%(queue)s]::varchar[], w.id) AS f
"""

# A fetched job: its worker's heartbeat beaten (the lease starts a full term), its coalesce key
# released (a leased job absorbs no new event: a newer one makes a job of its own, and a retry
# never meets a waiting job of the same key), and the job as ``Job``'s columns, what the bot's
# row says of it included (the fetched columns by name, with the lease token).
CLAIM = """
WITH beat AS (SELECT procrastinate_update_heartbeat_v1(%(worker)s)),
     released AS (UPDATE procrastinate_jobs SET queueing_lock = NULL
                  WHERE id = %(id)s AND queueing_lock IS NOT NULL)
SELECT job_id, %(kind)s::text, %(payload)s::text, %(attempts)s::int - waits + 1,
       %(worker)s || ':' || %(attempts)s, merged, %(serial_key)s::text, installation_id,
       dedupe_key, greatest(0, extract(epoch FROM now() - greatest(
           ready_since, %(scheduled_at)s::timestamptz)))::float8, waits
FROM promotion_jobs, beat WHERE job_id = %(id)s
"""

# The job's row locked while its lease holds (none when lost): a recovery cannot slip between.
HOLD = f"SELECT id FROM procrastinate_jobs WHERE {FENCE} FOR UPDATE"

# Done or dead, while the lease holds.
FINISH = f"""
WITH held AS ({HOLD}),
     finished AS (
        SELECT procrastinate_finish_job_v1(id, %(status)s::procrastinate_job_status, false)
        FROM held)
UPDATE promotion_jobs p SET last_error = %(error)s, updated_at = now()
FROM held, finished WHERE p.job_id = held.id
"""

COALESCE = """
WITH merged AS (
    UPDATE procrastinate_jobs SET args = %(args)s
    WHERE queueing_lock = %(coalesce_key)s AND status = 'todo' AND queue_name = %(queue)s
    RETURNING id
)
UPDATE promotion_jobs p SET merged = p.merged + 1, updated_at = now()
FROM merged WHERE p.job_id = merged.id
RETURNING p.job_id
"""

# A job (``NewJob``'s fields by name) of a throttled installation is due when the throttle ends.
DEFER = """
WITH deferred AS (
    SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(
        %(queue)s, %(kind)s, 0, %(serial_key)s, %(coalesce_key)s, %(args)s,
        (SELECT until FROM promotion_throttles
         WHERE installation_id = %(installation_id)s AND until > now())
    )::procrastinate_job_to_defer_v1])) AS id
)
INSERT INTO promotion_jobs (job_id, installation_id, dedupe_key)
SELECT id, %(installation_id)s, %(dedupe_key)s FROM deferred
RETURNING job_id
"""

# Binary parameters: a body travels as its bytes, not four times as many hex digits to escape.
INSERT_DELIVERIES = """
INSERT INTO promotion_deliveries (delivery_id, source, event, status, received_at, headers, body)
SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::timestamptz[],
                     %b::jsonb[], %b::bytea[])
ON CONFLICT (delivery_id) DO NOTHING
RETURNING delivery_id
"""

# Jobs without keys or installation, from arrays of their kinds, serial keys and payloads.
DEFER_MANY = """
WITH deferred AS (
    SELECT unnest(procrastinate_defer_jobs_v1(ARRAY(
        SELECT ROW(%(queue)s, kind, 0, lock, NULL, jsonb_build_object('payload', payload), NULL)
                   ::procrastinate_job_to_defer_v1
        FROM unnest(%(kinds)s::text[], %(locks)s::text[], %(payloads)s::text[])
             AS jobs (kind, lock, payload)))) AS id
)
INSERT INTO promotion_jobs (job_id) SELECT id FROM deferred
"""

# The installation waits until the later of its throttles, and so do its waiting jobs.
THROTTLE = """
WITH throttle AS (
    INSERT INTO promotion_throttles AS t (installation_id, until, reason)
    VALUES (%(installation)s, now() + %(after)s, %(reason)s)
    ON CONFLICT (installation_id)
    DO UPDATE SET until = greatest(t.until, excluded.until), reason = excluded.reason
    RETURNING until
)
UPDATE procrastinate_jobs j SET scheduled_at = throttle.until
FROM promotion_jobs p, throttle
WHERE p.job_id = j.id AND p.installation_id = %(installation)s AND j.status = 'todo'
  AND (j.scheduled_at IS NULL OR j.scheduled_at < throttle.until)
"""

RETRY = """
SELECT procrastinate_retry_job_v2(
    %(id)s,
    greatest(now() + %(after)s,
             (SELECT until FROM promotion_throttles WHERE installation_id = %(installation)s)),
    NULL, NULL, NULL)
"""

# A tag seen again takes its newest digest and moves to the newest place.
RECORD_SEEN = """
INSERT INTO promotion_versions_seen AS v (subject, tag, digest) VALUES (%s, %s, %s)
ON CONFLICT (subject, tag) DO UPDATE
SET digest = coalesce(excluded.digest, v.digest), seen_at = excluded.seen_at, seq = excluded.seq
"""
TRIM_SEEN = """
DELETE FROM promotion_versions_seen WHERE subject = %(subject)s AND seq < (
    SELECT seq FROM promotion_versions_seen WHERE subject = %(subject)s
    ORDER BY seq DESC OFFSET %(skip)s LIMIT 1)
"""

# One statement, one snapshot: the deletes of the WITH run whether read or not; the jobs' own
# rows (promotion_jobs) go with them (ON DELETE CASCADE).
PRUNE = """
WITH keys AS (DELETE FROM promotion_dedupe_keys WHERE created_at < now() - %(age)s),
     throttles AS (DELETE FROM promotion_throttles WHERE until < now() - %(age)s),
     deliveries AS (DELETE FROM promotion_deliveries WHERE received_at < now() - %(age)s)
DELETE FROM procrastinate_jobs j USING promotion_jobs p
WHERE p.job_id = j.id AND j.status = 'succeeded' AND p.updated_at < now() - %(age)s
"""

# Ready counts every waiting job; the oldest age only those due (not waiting out a backoff or
# a throttle).
STATS = """
SELECT
    (SELECT jsonb_object_agg(status, n) FROM (
        SELECT status, count(*) AS n FROM procrastinate_jobs
        WHERE queue_name = %(queue)s GROUP BY status) counts),
    (SELECT count(*) FROM promotion_deliveries),
    (SELECT extract(epoch FROM now() - min(greatest(p.ready_since, j.scheduled_at)))::float8
     FROM procrastinate_jobs j JOIN promotion_jobs p ON p.job_id = j.id
     WHERE j.status = 'todo' AND j.queue_name = %(queue)s
       AND (j.scheduled_at IS NULL OR j.scheduled_at <= now()))
"""
