-- Storage v2, part 3 (native mode): flow_rows with the columns of flow_rows_layout, range-partitioned
-- by day on time_end like flows before it (flow_rows_pYYYYMMDD, created ahead and dropped past
-- retention by the backend).
CREATE TABLE flow_rows (LIKE flow_rows_layout INCLUDING ALL) PARTITION BY RANGE (time_end);
DROP TABLE flow_rows_layout;

-- Rows arrive in time order, so a block range summary finds a time window in a few pages; the
-- planner reads the newest rows window by window. Endpoint ids answer namespace and workload filters.
CREATE INDEX flow_rows_time_brin ON flow_rows USING brin (time_end) WITH (pages_per_range = 16);

-- The days of the previous flows table get their partition here, so its rows can move over.
DO $$
DECLARE
    part record;
    day date;
BEGIN
    IF to_regclass('flows') IS NULL THEN
        RETURN;
    END IF;
    FOR part IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'flows'::regclass AND c.relname ~ '^flows_p[0-9]{8}$'
    LOOP
        day := to_date(substr(part.relname, 8), 'YYYYMMDD');
        EXECUTE format('CREATE TABLE flow_rows_p%s PARTITION OF flow_rows FOR VALUES FROM (%L) TO (%L)',
            to_char(day, 'YYYYMMDD'), day::text || ' 00:00:00+00', (day + 1)::text || ' 00:00:00+00');
    END LOOP;
END
$$;
