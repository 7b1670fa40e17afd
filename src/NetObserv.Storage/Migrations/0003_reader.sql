-- Ad hoc SQL: documented views and a read-only role (see docs/sql.md).

-- netobserv_reader: NOLOGIN, so it is granted to login roles (GRANT netobserv_reader TO alice).
-- Roles belong to the whole server, and several databases may migrate at once: create it only
-- when missing and tolerate a concurrent creator.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'netobserv_reader') THEN
        BEGIN
            CREATE ROLE netobserv_reader NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$$;

-- flows_v: the flow table with friendly derived columns.
CREATE VIEW flows_v AS
SELECT
    f.*,
    f.bytes * greatest(coalesce(f.sampling, 1), 1)::bigint AS sampled_bytes,
    f.packets * greatest(coalesce(f.sampling, 1), 1)::bigint AS sampled_packets,
    (extract(epoch FROM f.time_end - f.time_start) * 1000)::bigint AS duration_ms,
    CASE f.flow_direction WHEN 0 THEN 'ingress' WHEN 1 THEN 'egress' WHEN 2 THEN 'inner' END AS direction_name,
    CASE f.proto
        WHEN 1 THEN 'ICMP' WHEN 6 THEN 'TCP' WHEN 17 THEN 'UDP' WHEN 58 THEN 'ICMPv6' WHEN 132 THEN 'SCTP'
        ELSE f.proto::text
    END AS proto_name,
    coalesce(f.src_k8s_owner_name, f.src_k8s_name, host(f.src_addr)) AS src_workload,
    coalesce(f.dst_k8s_owner_name, f.dst_k8s_name, host(f.dst_addr)) AS dst_workload
FROM flows f;

COMMENT ON VIEW flows_v IS
    'One row per flow (all flows columns) plus sampled_bytes/sampled_packets (corrected for sampling), '
    'duration_ms, direction_name, proto_name and src/dst_workload (owner, else name, else address).';

-- volumetry_by_namespace_v: hourly traffic between namespaces, from the hourly rollup.
CREATE VIEW volumetry_by_namespace_v AS
SELECT
    r.bucket,
    r.tenant,
    r.src_k8s_namespace,
    r.dst_k8s_namespace,
    sum(r.bytes)::bigint AS bytes,
    sum(r.sampled_bytes)::bigint AS sampled_bytes,
    sum(r.packets)::bigint AS packets,
    sum(r.sampled_packets)::bigint AS sampled_packets,
    sum(r.flows)::bigint AS flows
FROM flow_rollup_1h r
GROUP BY r.bucket, r.tenant, r.src_k8s_namespace, r.dst_k8s_namespace;

COMMENT ON VIEW volumetry_by_namespace_v IS
    'Hourly bytes, sampling-corrected bytes, packets and flow counts per tenant and source/destination '
    'namespace (NULL namespace: outside the cluster or not enriched).';

-- Read access to this database: current tables and views, and those created later by the backend
-- (daily partitions) through default privileges.
DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO netobserv_reader', current_database());
END
$$;
GRANT USAGE ON SCHEMA public TO netobserv_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO netobserv_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO netobserv_reader;
