using System.Collections.Frozen;
using NetObserv.Flows.Fields;
using S = NetObserv.Flows.Fields.FlowFieldStorage;
using T = NetObserv.Flows.Fields.FlowFieldType;
using X = NetObserv.Flows.Fields.FlowFieldTraits;

namespace NetObserv.Flows;

/// <summary>
/// The field table: every NetObserv field the store has a column for, listed once with its JSON name (as
/// flowlogs-pipeline writes it), its column in the <c>flows</c> view, its type, where the writer keeps it and
/// its accessors on <see cref="FlowRecord"/>. The Loki push label reader, the JSON reader's list of known
/// names, the LogQL field catalog and the sample every layer is tested with take their lists from here; the
/// hand-written hot paths (JSON line, binary COPY, spill codec, row reader) are checked against it by tests.
/// Any other field a sender sends is kept in <see cref="FlowRecord.ExtraFields"/> (see <see cref="FlowRecord.ExtraFields"/>).
/// </summary>
public static class FlowFields
{
    private static readonly FlowFieldSpec[] s_all =
    [
        F("TimeFlowStartMs", "time_start", T.EpochMilliseconds, S.RowOffset, X.NotNullable,
            r => r.TimeFlowStartMs, (r, v) => r.TimeFlowStartMs = v),
        F("TimeFlowEndMs", "time_end", T.EpochMilliseconds, S.Row, X.NotNullable,
            r => r.TimeFlowEndMs, (r, v) => r.TimeFlowEndMs = v),
        F("TimeReceived", "time_received", T.EpochSeconds, S.RowOffset, X.NotNullable,
            r => r.TimeReceived, (r, v) => r.TimeReceived = v),
        F("SrcAddr", "src_addr", T.Address, S.Row, X.None, r => r.SrcAddr, (r, v) => r.SrcAddr = v),
        F("DstAddr", "dst_addr", T.Address, S.Row, X.None, r => r.DstAddr, (r, v) => r.DstAddr = v),
        F("SrcMac", "src_mac", T.Mac, S.SourceEndpoint, X.None, r => r.SrcMac, (r, v) => r.SrcMac = v),
        F("DstMac", "dst_mac", T.Mac, S.DestinationEndpoint, X.None, r => r.DstMac, (r, v) => r.DstMac = v),
        F("SrcPort", "src_port", T.Number, S.Row, X.None, r => r.SrcPort, (r, v) => r.SrcPort = v),
        F("DstPort", "dst_port", T.Number, S.Row, X.None, r => r.DstPort, (r, v) => r.DstPort = v),
        F("Proto", "proto", T.Number, S.Row, X.None, r => r.Proto, (r, v) => r.Proto = v),
        F("Etype", "etype", T.Number, S.Context, X.None, r => r.Etype, (r, v) => r.Etype = v),
        F("Flags", "flags", T.TcpFlags, S.Row, X.None, r => r.Flags, (r, v) => r.Flags = v),
        F("Dscp", "dscp", T.Number, S.Row, X.None, r => r.Dscp, (r, v) => r.Dscp = v),
        F("IcmpType", "icmp_type", T.Number, S.Row, X.None, r => r.IcmpType, (r, v) => r.IcmpType = v),
        F("IcmpCode", "icmp_code", T.Number, S.Row, X.None, r => r.IcmpCode, (r, v) => r.IcmpCode = v),
        F("Bytes", "bytes", T.WideNumber, S.Row, X.NotNullable, r => r.Bytes, (r, v) => r.Bytes = v),
        F("Packets", "packets", T.WideNumber, S.Row, X.NotNullable, r => r.Packets, (r, v) => r.Packets = v),
        F("Sampling", "sampling", T.Number, S.Context, X.None, r => r.Sampling, (r, v) => r.Sampling = v),
        F("FlowDirection", "flow_direction", T.Number, S.Context, X.LokiLabel | X.RollupKey,
            r => r.FlowDirection, (r, v) => r.FlowDirection = v),
        F("Interfaces", "interfaces", T.TextList, S.Context, X.None, r => r.Interfaces, (r, v) => r.Interfaces = v),
        F("IfDirections", "if_directions", T.NumberList, S.Context, X.None,
            r => r.IfDirections, (r, v) => r.IfDirections = v),
        F("Duplicate", "duplicate", T.Boolean, S.Context, X.None, r => r.Duplicate, (r, v) => r.Duplicate = v),
        F("AgentIP", "agent_ip", T.Address, S.Context, X.None, r => r.AgentIP, (r, v) => r.AgentIP = v),
        F("DnsId", "dns_id", T.Number, S.Row, X.None, r => r.DnsId, (r, v) => r.DnsId = v),
        F("DnsFlags", "dns_flags", T.Number, S.Row, X.None, r => r.DnsFlags, (r, v) => r.DnsFlags = v),
        F("DnsLatencyMs", "dns_latency_ms", T.WideNumber, S.Row, X.None,
            r => r.DnsLatencyMs, (r, v) => r.DnsLatencyMs = v),
        F("DnsErrno", "dns_errno", T.Number, S.Row, X.None, r => r.DnsErrno, (r, v) => r.DnsErrno = v),
        F("DnsName", "dns_name", T.Text, S.Row, X.None, r => r.DnsName, (r, v) => r.DnsName = v),
        F("TimeFlowRttNs", "rtt_ns", T.WideNumber, S.Row, X.None, r => r.TimeFlowRttNs, (r, v) => r.TimeFlowRttNs = v),
        F("PktDropBytes", "pkt_drop_bytes", T.WideNumber, S.Row, X.None,
            r => r.PktDropBytes, (r, v) => r.PktDropBytes = v),
        F("PktDropPackets", "pkt_drop_packets", T.WideNumber, S.Row, X.None,
            r => r.PktDropPackets, (r, v) => r.PktDropPackets = v),
        F("PktDropLatestState", "pkt_drop_latest_state", T.Text, S.Row, X.None,
            r => r.PktDropLatestState, (r, v) => r.PktDropLatestState = v),
        F("PktDropLatestDropCause", "pkt_drop_latest_drop_cause", T.Text, S.Row, X.None,
            r => r.PktDropLatestDropCause, (r, v) => r.PktDropLatestDropCause = v),
        .. Endpoint("Src", S.SourceEndpoint, r => r.Src),
        .. Endpoint("Dst", S.DestinationEndpoint, r => r.Dst),
        F("K8S_FlowLayer", "k8s_flow_layer", T.Text, S.Context, X.LokiLabel | X.RollupKey,
            r => r.K8SFlowLayer, (r, v) => r.K8SFlowLayer = v),
        F("K8S_ClusterName", "k8s_cluster_name", T.Text, S.Context, X.LokiLabel | X.RollupKey,
            r => r.K8SClusterName, (r, v) => r.K8SClusterName = v),
        F("_RecordType", "record_type", T.Text, S.Context, X.LokiLabel, r => r.RecordType, (r, v) => r.RecordType = v),
        F("_HashId", "hash_id", T.Text, S.Row, X.None, r => r.HashId, (r, v) => r.HashId = v),
    ];

    private static readonly FrozenDictionary<string, FlowFieldSpec> s_byName =
        s_all.ToFrozenDictionary(f => f.Name, StringComparer.Ordinal);

    /// <summary>Every field with a column, in a fixed order (times, addresses, ..., Kubernetes, conversation).</summary>
    public static IReadOnlyList<FlowFieldSpec> All => s_all;

    /// <summary>The field named <paramref name="name"/> (NetObserv JSON name), if it has a column.</summary>
    public static bool TryGet(string name, out FlowFieldSpec field) => s_byName.TryGetValue(name, out field!);

    /// <summary>True when <paramref name="name"/> is a field with a column (not kept in the extra fields).</summary>
    public static bool IsKnown(string name) => s_byName.ContainsKey(name);

    /// <summary>
    /// Fields flowlogs-pipeline (or the eBPF agent behind it) may send that have no column: they are kept in
    /// <see cref="FlowRecord.ExtraFields"/>, come back in the line and can be filtered with <c>| json</c>.
    /// The pbflow mapper writes the agent's ones (<c>PbflowExtraFields</c>).
    /// </summary>
    public static IReadOnlyList<string> KnownExtraNames { get; } =
    [
        "DnsFlagsResponseCode", "PktDropLatestFlags", "NetworkEvents", "Udns", "ZoneId", "XlatSrcAddr",
        "XlatDstAddr", "XlatSrcPort", "XlatDstPort", "IPSecStatus", "IPSecRetCode", "TLSVersion", "TLSTypes",
        "TLSCipherSuite", "TLSGroup", "TLSMismatch", "QuicVersion", "QuicSeenLongHdr", "QuicSeenShortHdr",
        "SrcK8S_NetworkName", "DstK8S_NetworkName", "XlatSrcK8S_Name", "XlatDstK8S_Name", "_IsFirst",
        "numFlowLogs", "Bytes_AB", "Bytes_BA", "Packets_AB", "Packets_BA", "MaxTimeFlowRttNs",
    ];

    private static FlowFieldSpec F<TValue>(string name, string column, FlowFieldType type, FlowFieldStorage storage,
        FlowFieldTraits traits, Func<FlowRecord, TValue> get, Action<FlowRecord, TValue> set) =>
        FlowFieldSpec.Create(name, column, type, storage, traits, get, set);

    /// <summary>The <c>SrcK8S_*</c> or <c>DstK8S_*</c> fields and the subnet label of one side.</summary>
    private static FlowFieldSpec[] Endpoint(string side, FlowFieldStorage storage, Func<FlowRecord, KubernetesMetadata> m)
    {
        var prefix = side + "K8S_";
        var column = side.ToLowerInvariant() + "_k8s_";
        return
        [
            F(prefix + "Name", column + "name", T.Text, storage, X.None, r => m(r).Name, (r, v) => m(r).Name = v),
            F(prefix + "Type", column + "type", T.Text, storage, X.LokiLabel, r => m(r).Type, (r, v) => m(r).Type = v),
            F(prefix + "Namespace", column + "namespace", T.Text, storage, X.LokiLabel | X.RollupKey,
                r => m(r).Namespace, (r, v) => m(r).Namespace = v),
            F(prefix + "OwnerName", column + "owner_name", T.Text, storage, X.LokiLabel | X.RollupKey,
                r => m(r).OwnerName, (r, v) => m(r).OwnerName = v),
            F(prefix + "OwnerType", column + "owner_type", T.Text, storage, X.RollupKey,
                r => m(r).OwnerType, (r, v) => m(r).OwnerType = v),
            F(prefix + "HostIP", column + "host_ip", T.Address, storage, X.None,
                r => m(r).HostIP, (r, v) => m(r).HostIP = v),
            F(prefix + "HostName", column + "host_name", T.Text, storage, X.None,
                r => m(r).HostName, (r, v) => m(r).HostName = v),
            F(prefix + "Zone", column + "zone", T.Text, storage, X.LokiLabel, r => m(r).Zone, (r, v) => m(r).Zone = v),
            F(side + "SubnetLabel", side.ToLowerInvariant() + "_subnet_label", T.Text, storage, X.None,
                r => m(r).SubnetLabel, (r, v) => m(r).SubnetLabel = v),
        ];
    }
}
