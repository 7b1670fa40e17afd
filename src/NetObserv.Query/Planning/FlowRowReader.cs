using System.Net;
using NetObserv.Flows;
using Npgsql;

namespace NetObserv.Query.Planning;

/// <summary>Reads a <c>flows</c> row (selected with <see cref="Columns"/>) into a <see cref="FlowRecord"/>.</summary>
internal static class FlowRowReader
{
    public const string Columns =
        "time_end, time_start, time_received, tenant, src_addr, dst_addr, src_mac::text, dst_mac::text, src_port, " +
        "dst_port, proto, etype, flags, dscp, icmp_type, icmp_code, bytes, packets, sampling, flow_direction, " +
        "interfaces, if_directions, duplicate, agent_ip, dns_id, dns_flags, dns_latency_ms, dns_errno, dns_name, " +
        "rtt_ns, pkt_drop_bytes, pkt_drop_packets, pkt_drop_latest_state, pkt_drop_latest_drop_cause, " +
        "src_k8s_name, src_k8s_type, src_k8s_namespace, src_k8s_owner_name, src_k8s_owner_type, src_k8s_host_ip, " +
        "src_k8s_host_name, src_k8s_zone, dst_k8s_name, dst_k8s_type, dst_k8s_namespace, dst_k8s_owner_name, " +
        "dst_k8s_owner_type, dst_k8s_host_ip, dst_k8s_host_name, dst_k8s_zone, k8s_flow_layer, k8s_cluster_name, " +
        "record_type, hash_id, src_subnet_label, dst_subnet_label, extra_fields::text";

    /// <summary>How many columns <see cref="Columns"/> selects (further columns of a statement start here).</summary>
    public const int ColumnCount = 57;

    /// <summary>Reads the current row; returns the record and the row's time (ns since the epoch).</summary>
    public static FlowRecord Read(NpgsqlDataReader r, out long timestampNs)
    {
        var end = r.GetDateTime(0);
        timestampNs = (end.Ticks - DateTime.UnixEpoch.Ticks) * 100;
        var record = new FlowRecord
        {
            TimeFlowEndMs = (end.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond,
            TimeFlowStartMs = (r.GetDateTime(1).Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond,
            TimeReceived = (r.GetDateTime(2).Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond,
            Tenant = r.GetString(3),
            SrcAddr = Address(r, 4),
            DstAddr = Address(r, 5),
            SrcMac = r.IsDBNull(6) ? null : FlowRecordJson.ParseMac(r.GetString(6)),
            DstMac = r.IsDBNull(7) ? null : FlowRecordJson.ParseMac(r.GetString(7)),
            SrcPort = Int(r, 8),
            DstPort = Int(r, 9),
            Proto = Int(r, 10),
            Etype = Int(r, 11),
            Flags = Int(r, 12),
            Dscp = Int(r, 13),
            IcmpType = Int(r, 14),
            IcmpCode = Int(r, 15),
            Bytes = r.GetInt64(16),
            Packets = r.GetInt64(17),
            Sampling = Int(r, 18),
            FlowDirection = Int(r, 19),
            Interfaces = r.IsDBNull(20) ? null : r.GetFieldValue<string[]>(20),
            IfDirections = r.IsDBNull(21) ? null : r.GetFieldValue<int[]>(21),
            Duplicate = r.IsDBNull(22) ? null : r.GetBoolean(22),
            AgentIP = Address(r, 23),
            DnsId = Int(r, 24),
            DnsFlags = Int(r, 25),
            DnsLatencyMs = Long(r, 26),
            DnsErrno = Int(r, 27),
            DnsName = Text(r, 28),
            TimeFlowRttNs = Long(r, 29),
            PktDropBytes = Long(r, 30),
            PktDropPackets = Long(r, 31),
            PktDropLatestState = Text(r, 32),
            PktDropLatestDropCause = Text(r, 33),
            K8SFlowLayer = Text(r, 50),
            K8SClusterName = Text(r, 51),
            RecordType = Text(r, 52),
            HashId = Text(r, 53),
            ExtraFields = Text(r, 56),
        };
        ReadKubernetes(r, 34, record.Src);
        ReadKubernetes(r, 42, record.Dst);
        record.Src.SubnetLabel = Text(r, 54);
        record.Dst.SubnetLabel = Text(r, 55);
        return record;
    }

    private static void ReadKubernetes(NpgsqlDataReader r, int first, KubernetesMetadata m)
    {
        m.Name = Text(r, first);
        m.Type = Text(r, first + 1);
        m.Namespace = Text(r, first + 2);
        m.OwnerName = Text(r, first + 3);
        m.OwnerType = Text(r, first + 4);
        m.HostIP = Address(r, first + 5);
        m.HostName = Text(r, first + 6);
        m.Zone = Text(r, first + 7);
    }

    private static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static int? Int(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt32(i);

    private static long? Long(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);

    private static IPAddress? Address(NpgsqlDataReader r, int i) =>
        r.IsDBNull(i) ? null : r.GetFieldValue<IPAddress>(i);
}
