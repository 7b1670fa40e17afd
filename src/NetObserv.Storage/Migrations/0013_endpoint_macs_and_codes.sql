-- Storage v2, compression: two changes that make a compressed flow smaller without changing what is
-- stored (docs/benchmarks.md, "Storage"; measured on 6 h of demo traffic).
--
-- 1. The MAC addresses move from flow_contexts to flow_endpoints. A context held both MACs, so there were
--    about as many contexts as pairs of pods that talk (2,804 on the demo's traffic, 272 without the
--    MACs); a MAC belongs to one end of a flow, as its Kubernetes fields do (a pod's interface, or the
--    node's or gateway's for an address outside the cluster), so each endpoint row now holds one. Rows
--    written before keep their MACs in their context (their endpoints have none): the flows view reads
--    the endpoint's MAC, else the context's. flow_rows is not rewritten for this.
-- 2. The codes of a flow (TCP flags, DSCP, protocol, ICMP type and code, DNS flags and error number) get
--    domains over their integer types: same values, same ranges, and the flows view shows them as
--    integers as before. A domain changes how TimescaleDB compresses the column: it picks delta-of-delta
--    encoding for the built-in integer types only, and a dictionary for other types that can be hashed,
--    which suits a column of a few distinct values (these seven columns take 0.6 B/flow compressed
--    instead of 2.4). Natively a domain without constraints changes nothing on disk (no table rewrite).
--    TimescaleDB cannot change a column's type while chunks are compressed: compressed chunks of
--    flow_rows are decompressed first (they need their uncompressed size on disk until the compression
--    job's next run compresses them again).
-- With TimescaleDB, compressed batches also grow to up to 16,000 rows (below).

-- Nothing else touches flow_rows meanwhile: a compression or retention job waits for the commit.
LOCK TABLE flow_rows IN ACCESS EXCLUSIVE MODE;

DROP VIEW flows_v;
DROP VIEW flows;

-- Compressed chunks are decompressed for the change of types (2. above).
DO $$
BEGIN
    IF to_regclass('timescaledb_information.chunks') IS NOT NULL THEN
        PERFORM decompress_chunk(format('%I.%I', chunk_schema, chunk_name)::regclass)
        FROM timescaledb_information.chunks
        WHERE hypertable_schema = 'public' AND hypertable_name = 'flow_rows' AND is_compressed;
    END IF;
END
$$;

ALTER TABLE flow_endpoints ADD COLUMN mac macaddr;

COMMENT ON COLUMN flow_contexts.src_mac IS 'MAC of rows written before migration 0013; newer rows keep it in flow_endpoints.mac';
COMMENT ON COLUMN flow_contexts.dst_mac IS 'MAC of rows written before migration 0013; newer rows keep it in flow_endpoints.mac';

-- The key and id functions take the MAC as a tenth field; existing rows get the key of their fields with no MAC.
DROP FUNCTION flow_endpoint_id(text, text, text, text, text, inet, text, text, text);
DROP FUNCTION flow_endpoint_key(text, text, text, text, text, inet, text, text, text);

CREATE FUNCTION flow_endpoint_key(p_type text, p_namespace text, p_name text, p_owner_type text,
    p_owner_name text, p_host_ip inet, p_host_name text, p_zone text, p_subnet_label text, p_mac macaddr)
RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
    SELECT md5(row(p_type, p_namespace, p_name, p_owner_type, p_owner_name, p_host_ip, p_host_name, p_zone,
        p_subnet_label, p_mac)::text)::uuid
$$;

UPDATE flow_endpoints
SET key_hash = flow_endpoint_key(type, namespace, name, owner_type, owner_name, host_ip, host_name, zone, subnet_label,
    mac);

CREATE FUNCTION flow_endpoint_id(p_type text, p_namespace text, p_name text, p_owner_type text,
    p_owner_name text, p_host_ip inet, p_host_name text, p_zone text, p_subnet_label text, p_mac macaddr)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    h uuid := flow_endpoint_key(p_type, p_namespace, p_name, p_owner_type, p_owner_name, p_host_ip, p_host_name,
        p_zone, p_subnet_label, p_mac);
    result integer;
BEGIN
    SELECT id INTO result FROM flow_endpoints WHERE key_hash = h;
    IF result IS NULL THEN
        INSERT INTO flow_endpoints (key_hash, type, namespace, name, owner_type, owner_name, host_ip, host_name, zone,
            subnet_label, mac)
        VALUES (h, p_type, p_namespace, p_name, p_owner_type, p_owner_name, p_host_ip, p_host_name, p_zone,
            p_subnet_label, p_mac)
        ON CONFLICT ON CONSTRAINT flow_endpoints_key DO NOTHING
        RETURNING id INTO result;
        IF result IS NULL THEN
            SELECT id INTO result FROM flow_endpoints WHERE key_hash = h;
        END IF;
    END IF;
    RETURN result;
END
$$;

CREATE DOMAIN flow_code AS integer;
CREATE DOMAIN flow_small_code AS smallint;
COMMENT ON DOMAIN flow_code IS
    'An integer code with few distinct values (flags, DNS flags): TimescaleDB compresses it with a dictionary.';
COMMENT ON DOMAIN flow_small_code IS
    'A smallint code with few distinct values (protocol, DSCP, ICMP): TimescaleDB compresses it with a dictionary.';

ALTER TABLE flow_rows
    ALTER COLUMN flags TYPE flow_code,
    ALTER COLUMN dns_flags TYPE flow_code,
    ALTER COLUMN dns_errno TYPE flow_code,
    ALTER COLUMN proto TYPE flow_small_code,
    ALTER COLUMN dscp TYPE flow_small_code,
    ALTER COLUMN icmp_type TYPE flow_small_code,
    ALTER COLUMN icmp_code TYPE flow_small_code;

-- TimescaleDB: compressed batches of up to 16,000 rows instead of 1,000. Every column of a batch is one value
-- with its own headers and TOAST entry, about 100 bytes: with 29 columns that was about 3 B/flow at 1,000
-- rows. Measured on the same rows (B/flow of the compressed chunk): 26.6 at 1,000, 24.4 at 2,500, 23.3 at
-- 10,000, 22.9 at 16,000, 23.0 at 20,000 and 25,000, 22.8 at 32,767 (TimescaleDB's maximum): the smallest
-- batch at that level keeps what one batch decompresses small (16,000 rows of these columns are about 4 MB).
-- The setting applies, in this database, to the sessions of the role that runs the migrations: the
-- backend's role, which created flow_rows and so runs its compression job.
DO $$
BEGIN
    -- Two steps: a statement naming the view is planned only where the extension is.
    IF to_regclass('timescaledb_information.hypertables') IS NOT NULL THEN
        IF EXISTS (SELECT 1 FROM timescaledb_information.hypertables
                WHERE hypertable_schema = 'public' AND hypertable_name = 'flow_rows') THEN
            EXECUTE format('ALTER ROLE %I IN DATABASE %I SET timescaledb.compression_batch_size_limit = 16000',
                current_user, current_database());
        END IF;
    END IF;
END
$$;

-- flows: the same columns as before; src_mac and dst_mac from the endpoints (or, for older rows, the
-- context), the codes read as integers.
CREATE VIEW flows AS
SELECT
    r.time_end,
    r.time_end - r.duration_ms * interval '1 millisecond' AS time_start,
    to_timestamp(floor(extract(epoch FROM r.time_end)) + r.received_offset_s) AS time_received,
    c.tenant,
    r.src_addr,
    r.dst_addr,
    coalesce(s.mac, c.src_mac) AS src_mac,
    coalesce(d.mac, c.dst_mac) AS dst_mac,
    r.src_port,
    r.dst_port,
    r.proto::integer AS proto,
    c.etype,
    r.flags::integer AS flags,
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
    r.dns_flags::integer AS dns_flags,
    r.dns_latency_ms,
    r.dns_errno::integer AS dns_errno,
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

-- INSERT INTO flows: the MACs go with the endpoints, the context gets none.
CREATE OR REPLACE FUNCTION flows_insert() RETURNS trigger LANGUAGE plpgsql AS $$
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
            NEW.src_k8s_owner_name, NEW.src_k8s_host_ip, NEW.src_k8s_host_name, NEW.src_k8s_zone, NEW.src_subnet_label,
            NEW.src_mac),
        flow_endpoint_id(NEW.dst_k8s_type, NEW.dst_k8s_namespace, NEW.dst_k8s_name, NEW.dst_k8s_owner_type,
            NEW.dst_k8s_owner_name, NEW.dst_k8s_host_ip, NEW.dst_k8s_host_name, NEW.dst_k8s_zone, NEW.dst_subnet_label,
            NEW.dst_mac),
        flow_context_id(coalesce(NEW.tenant, 'default'), NEW.flow_direction, NEW.interfaces, NEW.if_directions,
            NEW.duplicate, NEW.agent_ip, NULL, NULL, NEW.etype, NEW.sampling, NEW.k8s_flow_layer,
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
