-- Storage v2, part 4: the rows of the previous flows table move to flow_rows and its dictionaries,
-- the table is dropped, and flows becomes a view with the same columns (plus the new ones at the
-- end), so ad hoc SQL and the query planner keep reading flows as before.

-- Nothing else touches the tables while the rows move: with TimescaleDB, a compression or retention job
-- working on a chunk while this transaction changes it (or grants on it) fails the migration with
-- "tuple concurrently updated". A job already running is waited for; one starting waits for the commit.
LOCK TABLE flows, flow_rows IN ACCESS EXCLUSIVE MODE;

INSERT INTO flow_endpoints (key_hash, type, namespace, name, owner_type, owner_name, host_ip, host_name, zone,
    subnet_label)
SELECT flow_endpoint_key(type, namespace, name, owner_type, owner_name, host_ip, host_name, zone, subnet_label),
    type, namespace, name, owner_type, owner_name, host_ip, host_name, zone, subnet_label
FROM (
    SELECT src_k8s_type AS type, src_k8s_namespace AS namespace, src_k8s_name AS name,
        src_k8s_owner_type AS owner_type, src_k8s_owner_name AS owner_name, src_k8s_host_ip AS host_ip,
        src_k8s_host_name AS host_name, src_k8s_zone AS zone, NULL::text AS subnet_label
    FROM flows
    UNION
    SELECT dst_k8s_type, dst_k8s_namespace, dst_k8s_name, dst_k8s_owner_type, dst_k8s_owner_name, dst_k8s_host_ip,
        dst_k8s_host_name, dst_k8s_zone, NULL::text
    FROM flows
    UNION
    SELECT NULL, NULL, NULL, NULL, NULL, NULL::inet, NULL, NULL, NULL
) e
ON CONFLICT ON CONSTRAINT flow_endpoints_key DO NOTHING;

INSERT INTO flow_contexts (key_hash, tenant, flow_direction, interfaces, if_directions, duplicate, agent_ip, src_mac,
    dst_mac, etype, sampling, k8s_flow_layer, k8s_cluster_name, record_type)
SELECT DISTINCT flow_context_key(tenant, flow_direction, interfaces, if_directions, duplicate, agent_ip, src_mac,
        dst_mac, etype, sampling, k8s_flow_layer, k8s_cluster_name, record_type),
    tenant, flow_direction, interfaces, if_directions, duplicate, agent_ip, src_mac, dst_mac, etype,
    sampling, k8s_flow_layer, k8s_cluster_name, record_type
FROM flows
ON CONFLICT ON CONSTRAINT flow_contexts_key DO NOTHING;

-- Dictionary rows are matched on their key hash. Values past a narrower column's range become NULL.
INSERT INTO flow_rows (time_end, bytes, packets, rtt_ns, dns_latency_ms, pkt_drop_bytes, pkt_drop_packets, duration_ms,
    received_offset_s, src_endpoint, dst_endpoint, context, src_port, dst_port, flags, dns_id, dns_flags, dns_errno,
    proto, dscp, icmp_type, icmp_code, src_addr, dst_addr, dns_name, pkt_drop_latest_state,
    pkt_drop_latest_drop_cause, hash_id, extra_fields)
SELECT f.time_end, f.bytes, f.packets, f.rtt_ns, f.dns_latency_ms, f.pkt_drop_bytes, f.pkt_drop_packets,
    least(greatest(round(extract(epoch FROM f.time_end - f.time_start) * 1000), -2147483648), 2147483647)::integer,
    least(greatest(floor(extract(epoch FROM f.time_received)) - floor(extract(epoch FROM f.time_end)),
        -2147483648), 2147483647)::integer,
    s.id, d.id, c.id, f.src_port, f.dst_port, f.flags, f.dns_id, f.dns_flags, f.dns_errno,
    CASE WHEN f.proto BETWEEN -32768 AND 32767 THEN f.proto END,
    CASE WHEN f.dscp BETWEEN -32768 AND 32767 THEN f.dscp END,
    CASE WHEN f.icmp_type BETWEEN -32768 AND 32767 THEN f.icmp_type END,
    CASE WHEN f.icmp_code BETWEEN -32768 AND 32767 THEN f.icmp_code END,
    f.src_addr, f.dst_addr, f.dns_name, f.pkt_drop_latest_state, f.pkt_drop_latest_drop_cause, f.hash_id, NULL
FROM flows f
JOIN flow_endpoints s
    ON s.key_hash = flow_endpoint_key(f.src_k8s_type, f.src_k8s_namespace, f.src_k8s_name, f.src_k8s_owner_type,
        f.src_k8s_owner_name, f.src_k8s_host_ip, f.src_k8s_host_name, f.src_k8s_zone, NULL)
JOIN flow_endpoints d
    ON d.key_hash = flow_endpoint_key(f.dst_k8s_type, f.dst_k8s_namespace, f.dst_k8s_name, f.dst_k8s_owner_type,
        f.dst_k8s_owner_name, f.dst_k8s_host_ip, f.dst_k8s_host_name, f.dst_k8s_zone, NULL)
JOIN flow_contexts c
    ON c.key_hash = flow_context_key(f.tenant, f.flow_direction, f.interfaces, f.if_directions, f.duplicate,
        f.agent_ip, f.src_mac, f.dst_mac, f.etype, f.sampling, f.k8s_flow_layer, f.k8s_cluster_name, f.record_type);

DROP VIEW flows_v;
DROP TABLE flows;

-- flows: one row per flow with every field under its snake_case name (see docs/sql.md).
-- LEFT JOINs on primary keys: a query that reads no dictionary column does not join it.
CREATE VIEW flows AS
SELECT
    r.time_end,
    r.time_end - r.duration_ms * interval '1 millisecond' AS time_start,
    to_timestamp(floor(extract(epoch FROM r.time_end)) + r.received_offset_s) AS time_received,
    c.tenant,
    r.src_addr,
    r.dst_addr,
    c.src_mac,
    c.dst_mac,
    r.src_port,
    r.dst_port,
    r.proto::integer AS proto,
    c.etype,
    r.flags,
    r.dscp::integer AS dscp,
    r.icmp_type::integer AS icmp_type,
    r.icmp_code::integer AS icmp_code,
    r.bytes,
    r.packets,
    c.sampling,
    c.flow_direction,
    c.interfaces,
    c.if_directions,
    c.duplicate,
    c.agent_ip,
    r.dns_id,
    r.dns_flags,
    r.dns_latency_ms,
    r.dns_errno,
    r.dns_name,
    r.rtt_ns,
    r.pkt_drop_bytes,
    r.pkt_drop_packets,
    r.pkt_drop_latest_state,
    r.pkt_drop_latest_drop_cause,
    s.name AS src_k8s_name,
    s.type AS src_k8s_type,
    s.namespace AS src_k8s_namespace,
    s.owner_name AS src_k8s_owner_name,
    s.owner_type AS src_k8s_owner_type,
    s.host_ip AS src_k8s_host_ip,
    s.host_name AS src_k8s_host_name,
    s.zone AS src_k8s_zone,
    d.name AS dst_k8s_name,
    d.type AS dst_k8s_type,
    d.namespace AS dst_k8s_namespace,
    d.owner_name AS dst_k8s_owner_name,
    d.owner_type AS dst_k8s_owner_type,
    d.host_ip AS dst_k8s_host_ip,
    d.host_name AS dst_k8s_host_name,
    d.zone AS dst_k8s_zone,
    c.k8s_flow_layer,
    c.k8s_cluster_name,
    c.record_type,
    r.hash_id,
    s.subnet_label AS src_subnet_label,
    d.subnet_label AS dst_subnet_label,
    r.extra_fields,
    r.src_endpoint,
    r.dst_endpoint,
    r.context
FROM flow_rows r
LEFT JOIN flow_contexts c ON c.id = r.context
LEFT JOIN flow_endpoints s ON s.id = r.src_endpoint
LEFT JOIN flow_endpoints d ON d.id = r.dst_endpoint;

COMMENT ON VIEW flows IS
    'One row per flow: flow_rows joined with flow_contexts and flow_endpoints, every field under its '
    'snake_case NetObserv name; extra_fields holds the fields a sender sent that have no column.';

ALTER VIEW flows ALTER COLUMN tenant SET DEFAULT 'default';
ALTER VIEW flows ALTER COLUMN bytes SET DEFAULT 0;
ALTER VIEW flows ALTER COLUMN packets SET DEFAULT 0;

-- INSERT INTO flows (ad hoc imports, tests) goes to flow_rows with its dictionary ids. The backend's
-- writer does the same with a binary COPY and ids cached in the process.
CREATE FUNCTION flows_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO flow_rows (time_end, bytes, packets, rtt_ns, dns_latency_ms, pkt_drop_bytes, pkt_drop_packets,
        duration_ms, received_offset_s, src_endpoint, dst_endpoint, context, src_port, dst_port, flags, dns_id,
        dns_flags, dns_errno, proto, dscp, icmp_type, icmp_code, src_addr, dst_addr, dns_name,
        pkt_drop_latest_state, pkt_drop_latest_drop_cause, hash_id, extra_fields)
    VALUES (NEW.time_end, coalesce(NEW.bytes, 0), coalesce(NEW.packets, 0), NEW.rtt_ns, NEW.dns_latency_ms,
        NEW.pkt_drop_bytes, NEW.pkt_drop_packets,
        -- An absent time_start or time_received is an offset of 0 (greatest and least skip NULLs).
        least(greatest(coalesce(round(extract(epoch FROM NEW.time_end - NEW.time_start) * 1000), 0), -2147483648),
            2147483647)::integer,
        least(greatest(coalesce(floor(extract(epoch FROM NEW.time_received)) - floor(extract(epoch FROM NEW.time_end)),
            0), -2147483648), 2147483647)::integer,
        flow_endpoint_id(NEW.src_k8s_type, NEW.src_k8s_namespace, NEW.src_k8s_name, NEW.src_k8s_owner_type,
            NEW.src_k8s_owner_name, NEW.src_k8s_host_ip, NEW.src_k8s_host_name, NEW.src_k8s_zone, NEW.src_subnet_label),
        flow_endpoint_id(NEW.dst_k8s_type, NEW.dst_k8s_namespace, NEW.dst_k8s_name, NEW.dst_k8s_owner_type,
            NEW.dst_k8s_owner_name, NEW.dst_k8s_host_ip, NEW.dst_k8s_host_name, NEW.dst_k8s_zone, NEW.dst_subnet_label),
        flow_context_id(coalesce(NEW.tenant, 'default'), NEW.flow_direction, NEW.interfaces, NEW.if_directions,
            NEW.duplicate, NEW.agent_ip, NEW.src_mac, NEW.dst_mac, NEW.etype, NEW.sampling, NEW.k8s_flow_layer,
            NEW.k8s_cluster_name, NEW.record_type),
        NEW.src_port, NEW.dst_port, NEW.flags, NEW.dns_id, NEW.dns_flags, NEW.dns_errno, NEW.proto, NEW.dscp,
        NEW.icmp_type, NEW.icmp_code, NEW.src_addr, NEW.dst_addr, NEW.dns_name, NEW.pkt_drop_latest_state,
        NEW.pkt_drop_latest_drop_cause, NEW.hash_id, NEW.extra_fields);
    RETURN NEW;
END
$$;

CREATE TRIGGER flows_insert INSTEAD OF INSERT ON flows FOR EACH ROW EXECUTE FUNCTION flows_insert();

-- flows_v: the flow view with friendly derived columns (as before the move).
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

GRANT SELECT ON ALL TABLES IN SCHEMA public TO netobserv_reader;
