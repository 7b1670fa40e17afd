-- Rollups: additive aggregates per minute and per hour, maintained by the ingest path with
-- INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x, so they work on plain PostgreSQL, across
-- replicas and for late data. Key columns are nullable like their flows twins (an absent namespace
-- stays NULL); NULLS NOT DISTINCT (PostgreSQL 15+) makes NULL keys conflict as equal.
CREATE TABLE flow_rollup_1m (
    tenant              text        NOT NULL,
    bucket              timestamptz NOT NULL,
    src_k8s_namespace   text,
    src_k8s_owner_type  text,
    src_k8s_owner_name  text,
    dst_k8s_namespace   text,
    dst_k8s_owner_type  text,
    dst_k8s_owner_name  text,
    flow_direction      integer,
    k8s_flow_layer      text,
    k8s_cluster_name    text,
    bytes               bigint NOT NULL,
    packets             bigint NOT NULL,
    sampled_bytes       bigint NOT NULL,
    sampled_packets     bigint NOT NULL,
    flows               bigint NOT NULL
);

CREATE UNIQUE INDEX flow_rollup_1m_key ON flow_rollup_1m (
    tenant, bucket, src_k8s_namespace, src_k8s_owner_type, src_k8s_owner_name,
    dst_k8s_namespace, dst_k8s_owner_type, dst_k8s_owner_name, flow_direction, k8s_flow_layer,
    k8s_cluster_name) NULLS NOT DISTINCT;

CREATE TABLE flow_rollup_1h (LIKE flow_rollup_1m INCLUDING DEFAULTS);

CREATE UNIQUE INDEX flow_rollup_1h_key ON flow_rollup_1h (
    tenant, bucket, src_k8s_namespace, src_k8s_owner_type, src_k8s_owner_name,
    dst_k8s_namespace, dst_k8s_owner_type, dst_k8s_owner_name, flow_direction, k8s_flow_layer,
    k8s_cluster_name) NULLS NOT DISTINCT;

CREATE INDEX flow_rollup_1m_bucket_idx ON flow_rollup_1m (tenant, bucket);
CREATE INDEX flow_rollup_1h_bucket_idx ON flow_rollup_1h (tenant, bucket);
