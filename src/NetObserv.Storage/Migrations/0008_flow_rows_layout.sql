-- Storage v2, part 2: the columns of flow_rows, the narrow flow table, stated once. Each mode's next
-- migration creates flow_rows LIKE this table (partitioned by day natively, a hypertable with
-- TimescaleDB) and drops it. Columns are ordered widest first so a row carries no alignment padding;
-- time_start and time_received are kept as offsets from time_end (milliseconds, seconds); text
-- repeated from flow to flow is in the dictionaries (src_endpoint, dst_endpoint, context).
CREATE TABLE flow_rows_layout (
    time_end                    timestamptz NOT NULL,
    bytes                       bigint      NOT NULL,
    packets                     bigint      NOT NULL,
    rtt_ns                      bigint,
    dns_latency_ms              bigint,
    pkt_drop_bytes              bigint,
    pkt_drop_packets            bigint,
    duration_ms                 integer     NOT NULL,
    received_offset_s           integer     NOT NULL,
    src_endpoint                integer     NOT NULL,
    dst_endpoint                integer     NOT NULL,
    context                     integer     NOT NULL,
    src_port                    integer,
    dst_port                    integer,
    flags                       integer,
    dns_id                      integer,
    dns_flags                   integer,
    dns_errno                   integer,
    proto                       smallint,
    dscp                        smallint,
    icmp_type                   smallint,
    icmp_code                   smallint,
    src_addr                    inet,
    dst_addr                    inet,
    dns_name                    text,
    pkt_drop_latest_state       text,
    pkt_drop_latest_drop_cause  text,
    hash_id                     text,
    extra_fields                jsonb
);
