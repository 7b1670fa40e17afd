using System.Net;

namespace NetObserv.Flows;

/// <summary>
/// The canonical flow: every decoder (pbflow, IPFIX, NetFlow v9, Loki push) produces it and the
/// batch writer consumes it. Property names follow the NetObserv flow format; the JSON form
/// (<see cref="FlowRecordJson"/>) uses the exact NetObserv field names (<c>SrcK8S_Namespace</c>).
/// A null property is an absent field.
/// </summary>
public sealed class FlowRecord
{
    /// <summary>First packet, Unix epoch milliseconds (<c>TimeFlowStartMs</c>).</summary>
    public long TimeFlowStartMs { get; set; }

    /// <summary>Last packet, Unix epoch milliseconds (<c>TimeFlowEndMs</c>); the time key of storage.</summary>
    public long TimeFlowEndMs { get; set; }

    /// <summary>When the collector decoded the flow, Unix epoch seconds (<c>TimeReceived</c>).</summary>
    public long TimeReceived { get; set; }

    public IPAddress? SrcAddr { get; set; }
    public IPAddress? DstAddr { get; set; }

    /// <summary>Source MAC as a 48-bit number (11:22:33:44:55:66 is 0x112233445566).</summary>
    public ulong? SrcMac { get; set; }

    /// <summary>Destination MAC as a 48-bit number.</summary>
    public ulong? DstMac { get; set; }

    public int? SrcPort { get; set; }
    public int? DstPort { get; set; }

    /// <summary>IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6).</summary>
    public int? Proto { get; set; }

    /// <summary>Ethertype (2048 IPv4, 34525 IPv6).</summary>
    public int? Etype { get; set; }

    /// <summary>TCP flags as the agent sends them (FIN 1, SYN 2, ... plus SYN_ACK 256, FIN_ACK 512, RST_ACK 1024).</summary>
    public int? Flags { get; set; }

    public int? Dscp { get; set; }
    public int? IcmpType { get; set; }
    public int? IcmpCode { get; set; }

    /// <summary>Bytes seen (sampled: multiply by <see cref="Sampling"/> for an estimate of the real volume).</summary>
    public long Bytes { get; set; }

    /// <summary>Packets seen (sampled).</summary>
    public long Packets { get; set; }

    /// <summary>Sampling interval: 1 in N packets; null, 0 or 1 mean every packet.</summary>
    public int? Sampling { get; set; }

    /// <summary>0 ingress, 1 egress, 2 inner (same node), from the reporting node's point of view.</summary>
    public int? FlowDirection { get; set; }

    /// <summary>Interface names the flow was seen on.</summary>
    public string[]? Interfaces { get; set; }

    /// <summary>Direction per interface (0 ingress, 1 egress), parallel to <see cref="Interfaces"/>.</summary>
    public int[]? IfDirections { get; set; }

    public bool? Duplicate { get; set; }

    /// <summary>The reporting node's IP.</summary>
    public IPAddress? AgentIP { get; set; }

    public int? DnsId { get; set; }
    public int? DnsFlags { get; set; }
    public long? DnsLatencyMs { get; set; }
    public int? DnsErrno { get; set; }
    public string? DnsName { get; set; }

    /// <summary>TCP smoothed round-trip time in nanoseconds.</summary>
    public long? TimeFlowRttNs { get; set; }

    public long? PktDropBytes { get; set; }
    public long? PktDropPackets { get; set; }
    public string? PktDropLatestState { get; set; }
    public string? PktDropLatestDropCause { get; set; }

    /// <summary>Kubernetes metadata of the source address.</summary>
    public KubernetesMetadata Src { get; set; } = new();

    /// <summary>Kubernetes metadata of the destination address.</summary>
    public KubernetesMetadata Dst { get; set; } = new();

    /// <summary><c>app</c> or <c>infra</c>.</summary>
    public string? K8SFlowLayer { get; set; }

    public string? K8SClusterName { get; set; }

    /// <summary><c>_RecordType</c>: flowLog, newConnection, heartbeat, endConnection.</summary>
    public string? RecordType { get; set; }

    /// <summary><c>_HashId</c>: conversation id.</summary>
    public string? HashId { get; set; }

    /// <summary>
    /// Every other field the sender sent (known to flowlogs-pipeline but without a property here, or
    /// custom), as the text of one JSON object; null when there is none. Kept as sent and rendered
    /// back into the record's JSON line.
    /// </summary>
    public string? ExtraFields { get; set; }

    /// <summary>
    /// Fields the decoder dropped instead of keeping them in <see cref="ExtraFields"/> (too deep, a number out of
    /// bounds, or past the size bound); counted at ingest, not stored.
    /// </summary>
    public int ExtraFieldsDropped { get; set; }

    /// <summary>
    /// The store's dictionary ids of this record's endpoints and context, when the ingest door found them in
    /// the store's cache (default otherwise). Not a flow field: never rendered, journaled or stored.
    /// </summary>
    public FlowKeyIds KeyIds { get; set; }

    /// <summary>Tenant the flow belongs to (from <c>X-Scope-OrgID</c> or the ingest endpoint).</summary>
    public string Tenant { get; set; } = DefaultTenant;

    /// <summary>The tenant used when a request names none.</summary>
    public const string DefaultTenant = "default";

    /// <summary>Bytes corrected for sampling: <c>Bytes * max(Sampling, 1)</c>.</summary>
    public long SampledBytes => Bytes * SamplingFactor;

    /// <summary>Packets corrected for sampling.</summary>
    public long SampledPackets => Packets * SamplingFactor;

    /// <summary>The multiplier that turns sampled counts into estimated counts.</summary>
    public int SamplingFactor => Sampling is > 1 ? Sampling.Value : 1;
}
