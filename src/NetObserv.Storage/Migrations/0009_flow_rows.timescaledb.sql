-- Storage v2, part 3 (TimescaleDB mode): flow_rows with the columns of flow_rows_layout, as a
-- hypertable on time_end with one-day chunks, compressed after a day and dropped past retention by
-- TimescaleDB's jobs (the backend keeps the retention job's interval equal to Storage:Retention).
CREATE TABLE flow_rows (LIKE flow_rows_layout INCLUDING ALL);
DROP TABLE flow_rows_layout;

-- No default btree on time_end: chunks already bound the time, and the BRIN summary below finds a
-- window inside a chunk at a fraction of a btree's size.
SELECT create_hypertable('flow_rows', 'time_end', chunk_time_interval => INTERVAL '1 day',
    create_default_indexes => false);

CREATE INDEX flow_rows_time_brin ON flow_rows USING brin (time_end) WITH (pages_per_range = 16);

-- Compressed chunks: no segments; rows ordered by conversation (source and destination endpoint,
-- destination port, context), then time, so neighbouring values repeat. Measured on 6 h of demo
-- traffic (docs/benchmarks.md): 28 B/flow, against 49 segmented by context and ordered by time, and
-- 35 unsegmented and ordered by time. TimescaleDB keeps each batch's min/max time_end for the
-- planner's time windows.
ALTER TABLE flow_rows SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = '',
    timescaledb.compress_orderby = 'src_endpoint, dst_endpoint, dst_port, context, time_end DESC');

SELECT add_compression_policy('flow_rows', compress_after => INTERVAL '1 day');
SELECT add_retention_policy('flow_rows', drop_after => INTERVAL '7 days');
