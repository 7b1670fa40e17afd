namespace NetObserv.Flows.LokiPush;

/// <summary>
/// Copies one NetObserv field, named as flowlogs-pipeline names it in a stream label, from a record built
/// from the stream labels into a record read from the line, unless the line already has it. Absent means
/// null, or 0 for the fields the record keeps as plain numbers (times, <c>Bytes</c>, <c>Packets</c>).
/// </summary>
internal static class LokiLabelField
{
    internal enum Outcome
    {
        /// <summary>Not a flow field (<c>app</c>, for instance): ignored.</summary>
        Unknown,

        /// <summary>The line lacked the field; it now holds the label's value.</summary>
        Filled,

        /// <summary>The line has the field; the line wins.</summary>
        Present,
    }

    private static readonly FlowRecord s_empty = new();

    // Filling from an empty record only ever writes nulls and zeros, so this one stays empty too.
    private static readonly FlowRecord s_sink = new();

    /// <summary>True when <paramref name="name"/> is a flow field this class can fill.</summary>
    public static bool IsFlowField(string name) => FillIfAbsent(s_empty, s_sink, name) != Outcome.Unknown;

    public static Outcome FillIfAbsent(FlowRecord from, FlowRecord to, string name)
    {
        if (name.StartsWith("SrcK8S_", StringComparison.Ordinal))
        {
            return FillKubernetes(from.Src, to.Src, name.AsSpan(7));
        }

        if (name.StartsWith("DstK8S_", StringComparison.Ordinal))
        {
            return FillKubernetes(from.Dst, to.Dst, name.AsSpan(7));
        }

        switch (name)
        {
            case "TimeFlowStartMs":
                if (to.TimeFlowStartMs != 0)
                {
                    return Outcome.Present;
                }

                to.TimeFlowStartMs = from.TimeFlowStartMs;
                return Outcome.Filled;

            case "TimeFlowEndMs":
                if (to.TimeFlowEndMs != 0)
                {
                    return Outcome.Present;
                }

                to.TimeFlowEndMs = from.TimeFlowEndMs;
                return Outcome.Filled;

            case "TimeReceived":
                if (to.TimeReceived != 0)
                {
                    return Outcome.Present;
                }

                to.TimeReceived = from.TimeReceived;
                return Outcome.Filled;

            case "Bytes":
                if (to.Bytes != 0)
                {
                    return Outcome.Present;
                }

                to.Bytes = from.Bytes;
                return Outcome.Filled;

            case "Packets":
                if (to.Packets != 0)
                {
                    return Outcome.Present;
                }

                to.Packets = from.Packets;
                return Outcome.Filled;

            case "SrcAddr":
                if (to.SrcAddr is not null)
                {
                    return Outcome.Present;
                }

                to.SrcAddr = from.SrcAddr;
                return Outcome.Filled;

            case "DstAddr":
                if (to.DstAddr is not null)
                {
                    return Outcome.Present;
                }

                to.DstAddr = from.DstAddr;
                return Outcome.Filled;

            case "AgentIP":
                if (to.AgentIP is not null)
                {
                    return Outcome.Present;
                }

                to.AgentIP = from.AgentIP;
                return Outcome.Filled;

            case "SrcMac":
                if (to.SrcMac is not null)
                {
                    return Outcome.Present;
                }

                to.SrcMac = from.SrcMac;
                return Outcome.Filled;

            case "DstMac":
                if (to.DstMac is not null)
                {
                    return Outcome.Present;
                }

                to.DstMac = from.DstMac;
                return Outcome.Filled;

            case "SrcPort":
                if (to.SrcPort is not null)
                {
                    return Outcome.Present;
                }

                to.SrcPort = from.SrcPort;
                return Outcome.Filled;

            case "DstPort":
                if (to.DstPort is not null)
                {
                    return Outcome.Present;
                }

                to.DstPort = from.DstPort;
                return Outcome.Filled;

            case "Proto":
                if (to.Proto is not null)
                {
                    return Outcome.Present;
                }

                to.Proto = from.Proto;
                return Outcome.Filled;

            case "Etype":
                if (to.Etype is not null)
                {
                    return Outcome.Present;
                }

                to.Etype = from.Etype;
                return Outcome.Filled;

            case "Flags":
                if (to.Flags is not null)
                {
                    return Outcome.Present;
                }

                to.Flags = from.Flags;
                return Outcome.Filled;

            case "Dscp":
                if (to.Dscp is not null)
                {
                    return Outcome.Present;
                }

                to.Dscp = from.Dscp;
                return Outcome.Filled;

            case "IcmpType":
                if (to.IcmpType is not null)
                {
                    return Outcome.Present;
                }

                to.IcmpType = from.IcmpType;
                return Outcome.Filled;

            case "IcmpCode":
                if (to.IcmpCode is not null)
                {
                    return Outcome.Present;
                }

                to.IcmpCode = from.IcmpCode;
                return Outcome.Filled;

            case "Sampling":
                if (to.Sampling is not null)
                {
                    return Outcome.Present;
                }

                to.Sampling = from.Sampling;
                return Outcome.Filled;

            case "FlowDirection":
                if (to.FlowDirection is not null)
                {
                    return Outcome.Present;
                }

                to.FlowDirection = from.FlowDirection;
                return Outcome.Filled;

            case "Interfaces":
                if (to.Interfaces is not null)
                {
                    return Outcome.Present;
                }

                to.Interfaces = from.Interfaces;
                return Outcome.Filled;

            case "IfDirections":
                if (to.IfDirections is not null)
                {
                    return Outcome.Present;
                }

                to.IfDirections = from.IfDirections;
                return Outcome.Filled;

            case "Duplicate":
                if (to.Duplicate is not null)
                {
                    return Outcome.Present;
                }

                to.Duplicate = from.Duplicate;
                return Outcome.Filled;

            case "DnsId":
                if (to.DnsId is not null)
                {
                    return Outcome.Present;
                }

                to.DnsId = from.DnsId;
                return Outcome.Filled;

            case "DnsFlags":
                if (to.DnsFlags is not null)
                {
                    return Outcome.Present;
                }

                to.DnsFlags = from.DnsFlags;
                return Outcome.Filled;

            case "DnsLatencyMs":
                if (to.DnsLatencyMs is not null)
                {
                    return Outcome.Present;
                }

                to.DnsLatencyMs = from.DnsLatencyMs;
                return Outcome.Filled;

            case "DnsErrno":
                if (to.DnsErrno is not null)
                {
                    return Outcome.Present;
                }

                to.DnsErrno = from.DnsErrno;
                return Outcome.Filled;

            case "DnsName":
                if (to.DnsName is not null)
                {
                    return Outcome.Present;
                }

                to.DnsName = from.DnsName;
                return Outcome.Filled;

            case "TimeFlowRttNs":
                if (to.TimeFlowRttNs is not null)
                {
                    return Outcome.Present;
                }

                to.TimeFlowRttNs = from.TimeFlowRttNs;
                return Outcome.Filled;

            case "PktDropBytes":
                if (to.PktDropBytes is not null)
                {
                    return Outcome.Present;
                }

                to.PktDropBytes = from.PktDropBytes;
                return Outcome.Filled;

            case "PktDropPackets":
                if (to.PktDropPackets is not null)
                {
                    return Outcome.Present;
                }

                to.PktDropPackets = from.PktDropPackets;
                return Outcome.Filled;

            case "PktDropLatestState":
                if (to.PktDropLatestState is not null)
                {
                    return Outcome.Present;
                }

                to.PktDropLatestState = from.PktDropLatestState;
                return Outcome.Filled;

            case "PktDropLatestDropCause":
                if (to.PktDropLatestDropCause is not null)
                {
                    return Outcome.Present;
                }

                to.PktDropLatestDropCause = from.PktDropLatestDropCause;
                return Outcome.Filled;

            case "K8S_FlowLayer":
                if (to.K8SFlowLayer is not null)
                {
                    return Outcome.Present;
                }

                to.K8SFlowLayer = from.K8SFlowLayer;
                return Outcome.Filled;

            case "K8S_ClusterName":
                if (to.K8SClusterName is not null)
                {
                    return Outcome.Present;
                }

                to.K8SClusterName = from.K8SClusterName;
                return Outcome.Filled;

            case "_RecordType":
                if (to.RecordType is not null)
                {
                    return Outcome.Present;
                }

                to.RecordType = from.RecordType;
                return Outcome.Filled;

            case "_HashId":
                if (to.HashId is not null)
                {
                    return Outcome.Present;
                }

                to.HashId = from.HashId;
                return Outcome.Filled;

            default:
                return Outcome.Unknown;
        }
    }

    private static Outcome FillKubernetes(KubernetesMetadata from, KubernetesMetadata to, ReadOnlySpan<char> suffix)
    {
        switch (suffix)
        {
            case "Name":
                if (to.Name is not null)
                {
                    return Outcome.Present;
                }

                to.Name = from.Name;
                return Outcome.Filled;

            case "Type":
                if (to.Type is not null)
                {
                    return Outcome.Present;
                }

                to.Type = from.Type;
                return Outcome.Filled;

            case "Namespace":
                if (to.Namespace is not null)
                {
                    return Outcome.Present;
                }

                to.Namespace = from.Namespace;
                return Outcome.Filled;

            case "OwnerName":
                if (to.OwnerName is not null)
                {
                    return Outcome.Present;
                }

                to.OwnerName = from.OwnerName;
                return Outcome.Filled;

            case "OwnerType":
                if (to.OwnerType is not null)
                {
                    return Outcome.Present;
                }

                to.OwnerType = from.OwnerType;
                return Outcome.Filled;

            case "HostIP":
                if (to.HostIP is not null)
                {
                    return Outcome.Present;
                }

                to.HostIP = from.HostIP;
                return Outcome.Filled;

            case "HostName":
                if (to.HostName is not null)
                {
                    return Outcome.Present;
                }

                to.HostName = from.HostName;
                return Outcome.Filled;

            case "Zone":
                if (to.Zone is not null)
                {
                    return Outcome.Present;
                }

                to.Zone = from.Zone;
                return Outcome.Filled;

            default:
                return Outcome.Unknown;
        }
    }
}
