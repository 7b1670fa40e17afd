-- Rollups v3: append-only rows; the coarser levels derived from the per-minute level.
--
-- The writer no longer upserts four levels per batch. It appends the batch's per-minute sums to
-- flow_rollup_1m_delta (a binary COPY, in the same transaction as the flows, so the rollups stay exact
-- after a crash). Every few seconds flow_rollup_compact() moves the closed minutes from the delta into
-- flow_rollup_1m_rows, one row per (bucket, key), and derives the closed 5-minute and hourly buckets
-- from them, in one statement. Minutes that arrive after their coarser bucket was derived (late data,
-- a backfill) are added to that level as extra rows. flow_rollup_watermarks.derived_until says, per
-- derived level, where its rows end: the views add the merged minutes after it and every minute still
-- in the delta on the fly, so every view is current. The 10-minute level has no rows of its own: its
-- view sums the 5-minute one (a BRIN summary on the 10-minute bucket of flow_rollup_5m_rows finds its
-- rows), which reads twice the rows and saves a fifth of the rollup bytes.
--
-- The rows tables are only appended to and pruned, so a BRIN summary on bucket finds a time range
-- (no btree: it was a third of the bytes). A (bucket, key) may be in more than one row (late data,
-- the open minute): readers sum, as every query does. Columns are ordered so a row has no padding;
-- flows is an integer (at most 2^31 flow records per key and bucket). The views keep their columns,
-- so volumetry_by_namespace_v and the INSERT triggers stay.

CREATE TABLE flow_rollup_watermarks (
    level           text        PRIMARY KEY,
    derived_until   timestamptz NOT NULL
);

-- A sum as a bigint, held at its bounds: a sender's absurd counter saturates its rollup rows instead of
-- failing every merge or query that adds it.
CREATE FUNCTION flow_rollup_sum(numeric) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT greatest(least($1, 9223372036854775807), -9223372036854775808)::bigint
$$;

-- The derived levels are complete up to the end of their current bucket (the writer upserted them);
-- on an empty database they are derived from the first minute on.
INSERT INTO flow_rollup_watermarks (level, derived_until)
SELECT l.level, CASE WHEN l.filled
    THEN date_bin(l.width, now(), timestamptz '1970-01-01 00:00:00+00') + l.width ELSE timestamptz '-infinity' END
FROM (VALUES ('5m', interval '5 minutes', EXISTS (SELECT 1 FROM flow_rollup_5m_rows)),
             ('1h', interval '1 hour', EXISTS (SELECT 1 FROM flow_rollup_1h_rows))) l (level, width, filled);

-- The stored levels' new tables, filled from the previous ones (renamed into place below).
DO $$
DECLARE
    level text;
BEGIN
    FOREACH level IN ARRAY ARRAY['1m', '5m', '1h'] LOOP
        EXECUTE format($sql$
            CREATE TABLE %1$I (
                bucket          timestamptz NOT NULL,
                bytes           bigint      NOT NULL,
                packets         bigint      NOT NULL,
                sampled_bytes   bigint,
                sampled_packets bigint,
                key             integer     NOT NULL,
                flows           integer     NOT NULL
            );
            INSERT INTO %1$I (bucket, bytes, packets, sampled_bytes, sampled_packets, key, flows)
            SELECT bucket, bytes, packets, sampled_bytes, sampled_packets, key, flows FROM %2$I ORDER BY bucket, key;
            $sql$, 'flow_rollup_' || level || '_new', 'flow_rollup_' || level || '_rows');
    END LOOP;
END
$$;

-- The writer's per-minute sums, per batch; moved into flow_rollup_1m_rows once the minute is closed.
CREATE TABLE flow_rollup_1m_delta (LIKE flow_rollup_1m_new);

-- What each level adds up to, by bucket and key id (several rows may share both): the stored rows
-- and the delta's minutes (1m); the stored rows and, summed per bucket, the merged minutes after the
-- level's watermark and every minute of the delta (5m, 1h: a delta minute reaches the level's table
-- only when merged); the 5-minute sums per 10 minutes (10m).
CREATE VIEW flow_rollup_1m_sums AS
SELECT bucket, bytes, packets, coalesce(sampled_bytes, bytes) AS sampled_bytes,
    coalesce(sampled_packets, packets) AS sampled_packets, key, flows::bigint AS flows
FROM flow_rollup_1m_new
UNION ALL
SELECT bucket, bytes, packets, coalesce(sampled_bytes, bytes), coalesce(sampled_packets, packets), key, flows::bigint
FROM flow_rollup_1m_delta;

DO $$
DECLARE
    level text;
BEGIN
    FOREACH level IN ARRAY ARRAY['5m', '1h'] LOOP
        EXECUTE format($sql$
            CREATE VIEW %1$I AS
            SELECT bucket, bytes, packets, coalesce(sampled_bytes, bytes) AS sampled_bytes,
                coalesce(sampled_packets, packets) AS sampled_packets, key, flows::bigint AS flows
            FROM %2$I
            UNION ALL
            SELECT date_bin(%3$L, m.bucket, timestamptz '1970-01-01 00:00:00+00'), flow_rollup_sum(sum(m.bytes)),
                flow_rollup_sum(sum(m.packets)), flow_rollup_sum(sum(coalesce(m.sampled_bytes, m.bytes))),
                flow_rollup_sum(sum(coalesce(m.sampled_packets, m.packets))), m.key, sum(m.flows)::bigint
            FROM (
                SELECT bucket, bytes, packets, sampled_bytes, sampled_packets, key, flows FROM flow_rollup_1m_new
                WHERE bucket >= (SELECT w.derived_until FROM flow_rollup_watermarks w WHERE w.level = %4$L)
                UNION ALL
                SELECT bucket, bytes, packets, sampled_bytes, sampled_packets, key, flows FROM flow_rollup_1m_delta
            ) m
            GROUP BY 1, m.key
            $sql$, 'flow_rollup_' || level || '_sums', 'flow_rollup_' || level || '_new',
            CASE level WHEN '5m' THEN '5 minutes' ELSE '1 hour' END, level);
    END LOOP;
END
$$;

CREATE VIEW flow_rollup_10m_sums AS
SELECT date_bin('10 minutes', bucket, timestamptz '1970-01-01 00:00:00+00') AS bucket,
    flow_rollup_sum(sum(bytes)) AS bytes, flow_rollup_sum(sum(packets)) AS packets,
    flow_rollup_sum(sum(sampled_bytes)) AS sampled_bytes, flow_rollup_sum(sum(sampled_packets)) AS sampled_packets, key,
    sum(flows)::bigint AS flows
FROM flow_rollup_5m_sums
GROUP BY 1, key;

-- The readable views read the sums; then the previous tables go and the new ones take their names
-- (the views follow them).
DO $$
DECLARE
    level text;
BEGIN
    FOREACH level IN ARRAY ARRAY['1m', '5m', '10m', '1h'] LOOP
        EXECUTE format($sql$
            CREATE OR REPLACE VIEW %1$I AS
            SELECT k.tenant, r.bucket, k.src_k8s_namespace, k.src_k8s_owner_type, k.src_k8s_owner_name,
                k.dst_k8s_namespace, k.dst_k8s_owner_type, k.dst_k8s_owner_name, k.flow_direction,
                k.k8s_flow_layer, k.k8s_cluster_name, r.bytes, r.packets, r.sampled_bytes, r.sampled_packets,
                r.flows, r.key
            FROM %2$I r
            JOIN flow_rollup_keys k ON k.id = r.key;
            DROP TABLE %3$I;
            $sql$, 'flow_rollup_' || level, 'flow_rollup_' || level || '_sums', 'flow_rollup_' || level || '_rows');
        IF level <> '10m' THEN
            EXECUTE format('ALTER TABLE %I RENAME TO %I; CREATE INDEX %I ON %I USING brin (bucket) '
                'WITH (pages_per_range = 16, autosummarize = on)',
                'flow_rollup_' || level || '_new', 'flow_rollup_' || level || '_rows',
                'flow_rollup_' || level || '_rows_bucket', 'flow_rollup_' || level || '_rows');
        END IF;
    END LOOP;
END
$$;

CREATE INDEX flow_rollup_5m_rows_bucket_10m ON flow_rollup_5m_rows
    USING brin (date_bin('10 minutes', bucket, timestamptz '1970-01-01 00:00:00+00'))
    WITH (pages_per_range = 16, autosummarize = on);

-- Moves the closed minutes (before p_closed) from the delta into flow_rollup_1m_rows and derives the
-- 5-minute and hourly buckets that end by then; minutes older than a level's watermark are added to
-- that level as they are. One statement, one snapshot: the minutes it moves (m) are not in
-- flow_rollup_1m_rows for it yet, so a level takes those moved now below its new watermark plus those
-- merged before and not derived yet. Concurrent callers take turns. Returns the per-minute rows written.
CREATE FUNCTION flow_rollup_compact(p_closed timestamptz) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    w record;
    until_new timestamptz;
    sums constant text := 'flow_rollup_sum(sum(bytes)) AS bytes, flow_rollup_sum(sum(packets)) AS packets, '
        'nullif(flow_rollup_sum(sum(coalesce(sampled_bytes, bytes))), flow_rollup_sum(sum(bytes))) AS sampled_bytes, '
        'nullif(flow_rollup_sum(sum(coalesce(sampled_packets, packets))), flow_rollup_sum(sum(packets))) AS sampled_packets';
    sql_text text;
    moved bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(7236828153656812403);
    sql_text := format($sql$
        WITH d AS (DELETE FROM flow_rollup_1m_delta WHERE bucket < %1$L RETURNING *),
        m AS (SELECT bucket, %2$s, key, sum(flows)::integer AS flows FROM d GROUP BY bucket, key),
        i1m AS (INSERT INTO flow_rollup_1m_rows SELECT * FROM m ORDER BY bucket, key)
        $sql$, p_closed, sums);
    FOR w IN SELECT * FROM flow_rollup_watermarks ORDER BY level FOR UPDATE LOOP
        until_new := greatest(w.derived_until, date_bin(CASE w.level WHEN '5m' THEN interval '5 minutes'
            ELSE interval '1 hour' END, p_closed, timestamptz '1970-01-01 00:00:00+00'));
        sql_text := sql_text || format($sql$,
            %1$I AS (
                INSERT INTO %2$I
                SELECT date_bin(%3$L, bucket, timestamptz '1970-01-01 00:00:00+00') AS b, %4$s, key, sum(flows)::integer
                FROM (SELECT * FROM m WHERE bucket < %6$L
                      UNION ALL SELECT * FROM flow_rollup_1m_rows WHERE bucket >= %5$L AND bucket < %6$L) x
                GROUP BY b, key ORDER BY b, key)
            $sql$, 'i' || w.level, 'flow_rollup_' || w.level || '_rows',
            CASE w.level WHEN '5m' THEN '5 minutes' ELSE '1 hour' END, sums, w.derived_until, until_new);
        UPDATE flow_rollup_watermarks SET derived_until = until_new
        WHERE level = w.level;
    END LOOP;
    EXECUTE sql_text || ' SELECT count(*) FROM m' INTO moved;
    RETURN moved;
END
$$;

-- INSERT INTO a rollup view (rebuilding a level by hand, imports) adds the row with its key's id: into
-- the per-minute delta for flow_rollup_1m (the coarser levels follow from it), into the level's rows
-- for flow_rollup_5m and flow_rollup_1h (a bucket before the level's watermark; later ones are derived
-- from the minutes). flow_rollup_10m sums flow_rollup_5m and takes no rows.
CREATE OR REPLACE FUNCTION flow_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'flow_rollup_10m' THEN
        RAISE EXCEPTION 'flow_rollup_10m sums flow_rollup_5m: insert into flow_rollup_5m or flow_rollup_1m';
    END IF;
    EXECUTE format('INSERT INTO %I (bucket, key, bytes, packets, sampled_bytes, sampled_packets, flows) '
        'VALUES ($1, $2, $3, $4, $5, $6, $7)',
        CASE TG_TABLE_NAME WHEN 'flow_rollup_1m' THEN 'flow_rollup_1m_delta' ELSE TG_TABLE_NAME || '_rows' END)
    USING NEW.bucket,
        flow_rollup_key_id(coalesce(NEW.tenant, 'default'), NEW.src_k8s_namespace, NEW.src_k8s_owner_type,
            NEW.src_k8s_owner_name, NEW.dst_k8s_namespace, NEW.dst_k8s_owner_type, NEW.dst_k8s_owner_name,
            NEW.flow_direction, NEW.k8s_flow_layer, NEW.k8s_cluster_name),
        coalesce(NEW.bytes, 0), coalesce(NEW.packets, 0),
        nullif(coalesce(NEW.sampled_bytes, NEW.bytes, 0), coalesce(NEW.bytes, 0)),
        nullif(coalesce(NEW.sampled_packets, NEW.packets, 0), coalesce(NEW.packets, 0)), coalesce(NEW.flows, 0);
    RETURN NEW;
END
$$;

GRANT SELECT ON flow_rollup_1m_rows, flow_rollup_5m_rows, flow_rollup_1h_rows, flow_rollup_1m_delta,
    flow_rollup_watermarks, flow_rollup_1m_sums, flow_rollup_5m_sums, flow_rollup_10m_sums, flow_rollup_1h_sums
    TO netobserv_reader;
