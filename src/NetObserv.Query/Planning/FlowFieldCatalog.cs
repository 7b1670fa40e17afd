namespace NetObserv.Query.Planning;

/// <summary>
/// The whitelist of fields a query may name: NetObserv field name -> column of <c>flows</c> (and of
/// the rollups for their key columns, which share the names). Unknown names are absent labels.
/// </summary>
internal static class FlowFieldCatalog
{
    /// <summary>The constant stream label every flow carries.</summary>
    public const string AppLabel = "app";

    /// <summary>The value of <see cref="AppLabel"/>.</summary>
    public const string AppValue = "netobserv-flowcollector";

    /// <summary>Bytes corrected for sampling (<c>Bytes * max(Sampling, 1)</c>); not in the line, a derived field.</summary>
    public const string SampledBytes = "SampledBytes";

    /// <summary>Packets corrected for sampling (<c>Packets * max(Sampling, 1)</c>).</summary>
    public const string SampledPackets = "SampledPackets";

    private const string SampledBytesSql = "(bytes * greatest(coalesce(sampling, 1), 1))";
    private const string SampledPacketsSql = "(packets * greatest(coalesce(sampling, 1), 1))";

    /// <summary>
    /// The rollup column holding the same sum as <paramref name="flowsSql"/>, or null when the rollups
    /// cannot answer it. Rollup value columns: bytes, packets, sampled_bytes, sampled_packets.
    /// </summary>
    public static string? RollupValueColumn(string? flowsSql) => flowsSql switch
    {
        null => null,
        "bytes" => "bytes",
        "packets" => "packets",
        SampledBytesSql => "sampled_bytes",
        SampledPacketsSql => "sampled_packets",
        _ => null,
    };

    private static readonly FlowField[] s_fields =
    [
        new("TimeFlowStartMs", "(extract(epoch from time_start) * 1000)::bigint", FlowFieldKind.Computed, false),
        new("TimeFlowEndMs", "(extract(epoch from time_end) * 1000)::bigint", FlowFieldKind.Computed, false),
        new("TimeReceived", "extract(epoch from time_received)::bigint", FlowFieldKind.Computed, false),
        new("SrcAddr", "src_addr", FlowFieldKind.Cast, false),
        new("DstAddr", "dst_addr", FlowFieldKind.Cast, false),
        new("SrcMac", "src_mac", FlowFieldKind.Cast, false),
        new("DstMac", "dst_mac", FlowFieldKind.Cast, false),
        new("SrcPort", "src_port", FlowFieldKind.Integer, false),
        new("DstPort", "dst_port", FlowFieldKind.Integer, false),
        new("Proto", "proto", FlowFieldKind.Integer, false),
        new("Etype", "etype", FlowFieldKind.Integer, false),
        new("Dscp", "dscp", FlowFieldKind.Integer, false),
        new("IcmpType", "icmp_type", FlowFieldKind.Integer, false),
        new("IcmpCode", "icmp_code", FlowFieldKind.Integer, false),
        new("Bytes", "bytes", FlowFieldKind.Integer, false),
        new("Packets", "packets", FlowFieldKind.Integer, false),
        new("Sampling", "sampling", FlowFieldKind.Integer, false),
        new(SampledBytes, SampledBytesSql, FlowFieldKind.Computed, false),
        new(SampledPackets, SampledPacketsSql, FlowFieldKind.Computed, false),
        new("FlowDirection", "flow_direction", FlowFieldKind.Integer, true),
        new("Duplicate", "duplicate", FlowFieldKind.Cast, false),
        new("AgentIP", "agent_ip", FlowFieldKind.Cast, false),
        new("DnsId", "dns_id", FlowFieldKind.Integer, false),
        new("DnsFlags", "dns_flags", FlowFieldKind.Integer, false),
        new("DnsLatencyMs", "dns_latency_ms", FlowFieldKind.Integer, false),
        new("DnsErrno", "dns_errno", FlowFieldKind.Integer, false),
        new("DnsName", "dns_name", FlowFieldKind.Text, false),
        new("TimeFlowRttNs", "rtt_ns", FlowFieldKind.Integer, false),
        new("PktDropBytes", "pkt_drop_bytes", FlowFieldKind.Integer, false),
        new("PktDropPackets", "pkt_drop_packets", FlowFieldKind.Integer, false),
        new("PktDropLatestState", "pkt_drop_latest_state", FlowFieldKind.Text, false),
        new("PktDropLatestDropCause", "pkt_drop_latest_drop_cause", FlowFieldKind.Text, false),
        new("SrcK8S_Name", "src_k8s_name", FlowFieldKind.Text, false),
        new("SrcK8S_Type", "src_k8s_type", FlowFieldKind.Text, false),
        new("SrcK8S_Namespace", "src_k8s_namespace", FlowFieldKind.Text, true),
        new("SrcK8S_OwnerName", "src_k8s_owner_name", FlowFieldKind.Text, true),
        new("SrcK8S_OwnerType", "src_k8s_owner_type", FlowFieldKind.Text, true),
        new("SrcK8S_HostIP", "src_k8s_host_ip", FlowFieldKind.Cast, false),
        new("SrcK8S_HostName", "src_k8s_host_name", FlowFieldKind.Text, false),
        new("SrcK8S_Zone", "src_k8s_zone", FlowFieldKind.Text, false),
        new("DstK8S_Name", "dst_k8s_name", FlowFieldKind.Text, false),
        new("DstK8S_Type", "dst_k8s_type", FlowFieldKind.Text, false),
        new("DstK8S_Namespace", "dst_k8s_namespace", FlowFieldKind.Text, true),
        new("DstK8S_OwnerName", "dst_k8s_owner_name", FlowFieldKind.Text, true),
        new("DstK8S_OwnerType", "dst_k8s_owner_type", FlowFieldKind.Text, true),
        new("DstK8S_HostIP", "dst_k8s_host_ip", FlowFieldKind.Cast, false),
        new("DstK8S_HostName", "dst_k8s_host_name", FlowFieldKind.Text, false),
        new("DstK8S_Zone", "dst_k8s_zone", FlowFieldKind.Text, false),
        new("K8S_FlowLayer", "k8s_flow_layer", FlowFieldKind.Text, true),
        new("K8S_ClusterName", "k8s_cluster_name", FlowFieldKind.Text, true),
        new("_RecordType", "record_type", FlowFieldKind.Text, false),
        new("_HashId", "hash_id", FlowFieldKind.Text, false),
        new("SrcSubnetLabel", "src_subnet_label", FlowFieldKind.Text, false),
        new("DstSubnetLabel", "dst_subnet_label", FlowFieldKind.Text, false),
    ];

    private static readonly Dictionary<string, FlowField> s_byName =
        s_fields.ToDictionary(f => f.Name, StringComparer.Ordinal);

    /// <summary>Every field, in a fixed order.</summary>
    public static IReadOnlyList<FlowField> All => s_fields;

    public static bool TryGet(string name, out FlowField field) => s_byName.TryGetValue(name, out field!);
}
