-- The flow table: one row per flow, typed columns named after the NetObserv fields in snake_case.
-- TimescaleDB mode: a hypertable on time_end with one-day chunks, compressed after a day (segmented
-- by tenant, newest first) and dropped past retention by TimescaleDB's own retention job. The
-- backend keeps that job's interval equal to Storage:Retention (see Partitions/).
-- Written for TimescaleDB 2.x (create_hypertable with chunk_time_interval, ALTER TABLE ... SET
-- (timescaledb.compress ...), add_compression_policy, add_retention_policy).
CREATE EXTENSION IF NOT EXISTS timescaledb;

CREATE TABLE flows (
    time_end                    timestamptz NOT NULL,
    time_start                  timestamptz NOT NULL,
    time_received               timestamptz NOT NULL,
    tenant                      text        NOT NULL DEFAULT 'default',
    src_addr                    inet,
    dst_addr                    inet,
    src_mac                     macaddr,
    dst_mac                     macaddr,
    src_port                    integer,
    dst_port                    integer,
    proto                       integer,
    etype                       integer,
    flags                       integer,
    dscp                        integer,
    icmp_type                   integer,
    icmp_code                   integer,
    bytes                       bigint      NOT NULL DEFAULT 0,
    packets                     bigint      NOT NULL DEFAULT 0,
    sampling                    integer,
    flow_direction              integer,
    interfaces                  text[],
    if_directions               integer[],
    duplicate                   boolean,
    agent_ip                    inet,
    dns_id                      integer,
    dns_flags                   integer,
    dns_latency_ms              bigint,
    dns_errno                   integer,
    dns_name                    text,
    rtt_ns                      bigint,
    pkt_drop_bytes              bigint,
    pkt_drop_packets            bigint,
    pkt_drop_latest_state       text,
    pkt_drop_latest_drop_cause  text,
    src_k8s_name                text,
    src_k8s_type                text,
    src_k8s_namespace           text,
    src_k8s_owner_name          text,
    src_k8s_owner_type          text,
    src_k8s_host_ip             inet,
    src_k8s_host_name           text,
    src_k8s_zone                text,
    dst_k8s_name                text,
    dst_k8s_type                text,
    dst_k8s_namespace           text,
    dst_k8s_owner_name          text,
    dst_k8s_owner_type          text,
    dst_k8s_host_ip             inet,
    dst_k8s_host_name           text,
    dst_k8s_zone                text,
    k8s_flow_layer              text,
    k8s_cluster_name            text,
    record_type                 text,
    hash_id                     text
);

SELECT create_hypertable('flows', 'time_end', chunk_time_interval => INTERVAL '1 day');

CREATE INDEX flows_tenant_time_idx ON flows (tenant, time_end DESC);
CREATE INDEX flows_src_ns_time_idx ON flows (tenant, src_k8s_namespace, time_end DESC);
CREATE INDEX flows_dst_ns_time_idx ON flows (tenant, dst_k8s_namespace, time_end DESC);

ALTER TABLE flows SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'tenant',
    timescaledb.compress_orderby = 'time_end DESC');

SELECT add_compression_policy('flows', compress_after => INTERVAL '1 day');
SELECT add_retention_policy('flows', drop_after => INTERVAL '7 days');
