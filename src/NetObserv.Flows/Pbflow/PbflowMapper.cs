using System.Buffers.Binary;
using System.Net;
using NetObserv.Flows.Validation;

namespace NetObserv.Flows.Pbflow;

/// <summary>
/// Maps the eBPF agent's <see cref="Record"/> (pbflow) onto <see cref="FlowRecord"/>, the way
/// NetObserv's own decoder reads it:
/// <list type="bullet">
/// <item>addresses, <c>Proto</c> and <c>Dscp</c> only for IPv4/IPv6 frames (<c>eth_protocol</c>
/// 0x0800 / 0x86DD); IPv4 from the big-endian <c>fixed32</c>, IPv6 from 16 bytes, an IPv4-mapped
/// IPv6 address (<c>::ffff:a.b.c.d</c>) as IPv4; an <c>ipv6</c> value that is not 16 bytes is left absent;</item>
/// <item>ports only for TCP, UDP and SCTP; <c>Flags</c> only for TCP; ICMP type and code only for
/// ICMP and ICMPv6;</item>
/// <item>MACs from the low 48 bits of their <c>uint64</c>; timestamps to epoch milliseconds; DNS
/// latency to milliseconds; RTT to nanoseconds (absent when zero);</item>
/// <item><c>Interfaces</c>/<c>IfDirections</c> from <c>dup_list</c>, else from the legacy
/// <c>interface</c> and <c>direction</c>; <c>FlowDirection</c> starts as the agent's <c>direction</c>
/// (0 ingress, 1 egress) and enrichment replaces it when it can tell the node's point of view;</item>
/// <item>DNS id, flags, latency and name when the DNS id is not zero; DNS errno when not zero;</item>
/// <item>drop bytes, packets, state and cause when a drop was seen (a cause or a dropped packet),
/// state and cause named by <see cref="PbflowNames"/>;</item>
/// <item><c>Duplicate</c> only when true, <c>Sampling</c> only when not zero, <c>TimeReceived</c> the
/// caller's clock in epoch seconds.</item>
/// </list>
/// Fields the storage schema has no column for (<c>xlat</c>, <c>network_events_metadata</c>, IPsec, TLS,
/// QUIC, <c>pkt_drop_latest_flags</c>, the DNS response code and the <c>udn</c> of <c>dup_list</c> entries)
/// go to <see cref="FlowRecord.ExtraFields"/> under the agent's names (<see cref="PbflowExtraFields"/>).
/// </summary>
public static class PbflowMapper
{
    /// <summary>ETH_P_IP.</summary>
    public const int EtherTypeIPv4 = 0x0800;

    /// <summary>ETH_P_IPV6.</summary>
    public const int EtherTypeIPv6 = 0x86DD;

    private const int ProtoIcmp = 1;
    private const int ProtoTcp = 6;
    private const int ProtoUdp = 17;
    private const int ProtoIcmpV6 = 58;
    private const int ProtoSctp = 132;
    private const ulong MacMask = 0xFFFF_FFFF_FFFF;

    /// <summary>Seconds whose milliseconds (plus a nanosecond part) fit in a long.</summary>
    private const long MaxMillisecondSeconds = (long.MaxValue / 1000) - 1;

    /// <summary>Seconds whose nanoseconds (plus a nanosecond part) fit in a long.</summary>
    private const long MaxNanosecondSeconds = (long.MaxValue / 1_000_000_000) - 1;

    /// <summary>
    /// Maps one agent record, or refuses it (null, with the reason) when one of its values cannot be
    /// represented in a <see cref="FlowRecord"/>: a <c>uint64</c> counter past <see cref="long.MaxValue"/>, a
    /// <c>uint32</c> sampling or DNS errno past <see cref="int.MaxValue"/>, a DNS latency or RTT whose
    /// milliseconds or nanoseconds overflow. Nothing is wrapped: other <c>uint32</c> fields past
    /// <see cref="int.MaxValue"/> become <see cref="int.MaxValue"/>, which <see cref="FlowValidator"/> refuses as
    /// out of range, and timestamps past the millisecond range saturate far outside any retention window.
    /// <paramref name="timeReceivedSeconds"/> becomes <c>TimeReceived</c>.
    /// </summary>
    public static FlowRecord? TryMap(Record record, long timeReceivedSeconds, out FlowRejection rejection)
    {
        ArgumentNullException.ThrowIfNull(record);
        var values = PbflowValues.From(record);
        var flow = TryMapValues(in values, timeReceivedSeconds, out rejection);
        if (flow is not null)
        {
            PbflowExtraFields.Map(in values, record, flow);
        }

        return flow;
    }

    /// <summary>
    /// Maps one agent record whose values can be represented (see <see cref="TryMap"/>); throws
    /// <see cref="ArgumentOutOfRangeException"/> otherwise.
    /// </summary>
    public static FlowRecord Map(Record record, long timeReceivedSeconds) =>
        TryMap(record, timeReceivedSeconds, out var rejection)
        ?? throw new ArgumentOutOfRangeException(nameof(record), rejection.ToString());

    /// <summary>The columns of a record's values (its extra fields are the caller's), or its rejection.</summary>
    internal static FlowRecord? TryMapValues(in PbflowValues values, long timeReceivedSeconds, out FlowRejection rejection)
    {
        rejection = Unrepresentable(in values);
        return rejection.IsRejected ? null : MapValid(in values, timeReceivedSeconds);
    }

    private static FlowRejection Unrepresentable(in PbflowValues r)
    {
        if (r.Bytes > long.MaxValue)
        {
            return new(FlowRejectReason.CounterOutOfRange, "Bytes", r.Bytes, long.MaxValue);
        }

        if (r.Packets > long.MaxValue)
        {
            return new(FlowRejectReason.CounterOutOfRange, "Packets", r.Packets, long.MaxValue);
        }

        if (r.PktDropBytes > long.MaxValue)
        {
            return new(FlowRejectReason.CounterOutOfRange, "PktDropBytes", r.PktDropBytes, long.MaxValue);
        }

        if (r.PktDropPackets > long.MaxValue)
        {
            return new(FlowRejectReason.CounterOutOfRange, "PktDropPackets", r.PktDropPackets, long.MaxValue);
        }

        if (r.Sampling > int.MaxValue)
        {
            return new(FlowRejectReason.ValueOutOfRange, "Sampling", r.Sampling, int.MaxValue);
        }

        if (r.DnsErrno > int.MaxValue)
        {
            return new(FlowRejectReason.ValueOutOfRange, "DnsErrno", r.DnsErrno, int.MaxValue);
        }

        if (r.DnsId != 0 && r.HasDnsLatency && !FitsMilliseconds(r.DnsLatencySeconds))
        {
            return new(FlowRejectReason.CounterOutOfRange, "DnsLatencyMs", r.DnsLatencySeconds, MaxMillisecondSeconds);
        }

        if (r.HasTimeFlowRtt && r.TimeFlowRttSeconds is < -MaxNanosecondSeconds or > MaxNanosecondSeconds)
        {
            return new(FlowRejectReason.CounterOutOfRange, "TimeFlowRttNs", r.TimeFlowRttSeconds, MaxNanosecondSeconds);
        }

        return default;
    }

    private static FlowRecord MapValid(in PbflowValues record, long timeReceivedSeconds)
    {
        var flow = new FlowRecord
        {
            TimeFlowStartMs = ToUnixMilliseconds(record.HasTimeFlowStart, record.TimeFlowStartSeconds, record.TimeFlowStartNanos),
            TimeFlowEndMs = ToUnixMilliseconds(record.HasTimeFlowEnd, record.TimeFlowEndSeconds, record.TimeFlowEndNanos),
            TimeReceived = timeReceivedSeconds,
            Bytes = (long)record.Bytes,
            Packets = (long)record.Packets,
            AgentIP = AgentAddress(in record.AgentIp),
            FlowDirection = record.Direction,
        };

        if (record.EthProtocol != 0)
        {
            flow.Etype = ClampToInt(record.EthProtocol);
        }

        if (record.HasDataLink)
        {
            flow.SrcMac = record.SrcMac & MacMask;
            flow.DstMac = record.DstMac & MacMask;
        }

        if (record.EthProtocol is EtherTypeIPv4 or EtherTypeIPv6)
        {
            MapNetwork(in record, flow);
        }

        MapInterfaces(in record, flow);

        if (record.Duplicate)
        {
            flow.Duplicate = true;
        }

        if (record.Sampling != 0)
        {
            flow.Sampling = ClampToInt(record.Sampling);
        }

        if (record.DnsId != 0)
        {
            flow.DnsId = ClampToInt(record.DnsId);
            flow.DnsFlags = ClampToInt(record.DnsFlags);
            flow.DnsLatencyMs = record.HasDnsLatency ? (record.DnsLatencySeconds * 1000) + (record.DnsLatencyNanos / 1_000_000) : 0;
            if (record.DnsName.Length > 0)
            {
                flow.DnsName = record.DnsName;
            }
        }

        if (record.DnsErrno != 0)
        {
            flow.DnsErrno = ClampToInt(record.DnsErrno);
        }

        if (record.HasTimeFlowRtt
            && (record.TimeFlowRttSeconds * 1_000_000_000) + record.TimeFlowRttNanos is var rttNs and not 0)
        {
            flow.TimeFlowRttNs = rttNs;
        }

        if (record.HasDrop)
        {
            flow.PktDropBytes = (long)record.PktDropBytes;
            flow.PktDropPackets = (long)record.PktDropPackets;
            flow.PktDropLatestState = PbflowNames.TcpState(record.PktDropLatestState);
            flow.PktDropLatestDropCause = PbflowNames.DropCause(record.PktDropLatestDropCause);
        }

        return flow;
    }

    /// <summary>
    /// The agent's IPv4 address, shared with the previous record's when it is the same (every record of a
    /// message comes from one agent): one object less per flow.
    /// </summary>
    private static IPAddress? AgentAddress(in PbflowAddress ip)
    {
        if (ip.Family != 1)
        {
            return ToAddress(in ip);
        }

        var last = s_lastAgent;
        if (last is not null && last.Value == ip.IPv4)
        {
            return last.Address;
        }

        var address = ToAddress(in ip)!;
        s_lastAgent = new AgentIPv4(ip.IPv4, address);
        return address;
    }

    [ThreadStatic]
    private static AgentIPv4? s_lastAgent;

    private sealed record AgentIPv4(uint Value, IPAddress Address);

    /// <summary>An address from the agent's <see cref="IP"/> message; null when absent or malformed.</summary>
    public static IPAddress? ToAddress(IP? ip)
    {
        var value = PbflowAddress.From(ip);
        return ToAddress(in value);
    }

    private static IPAddress? ToAddress(in PbflowAddress ip)
    {
        Span<byte> bytes = stackalloc byte[16];
        switch (ip.Family)
        {
            case 1:
                BinaryPrimitives.WriteUInt32BigEndian(bytes, ip.IPv4);
                return new IPAddress(bytes[..4]);
            case 2 when ip.IPv6Length == 16:
                BinaryPrimitives.WriteUInt128BigEndian(bytes, ip.IPv6);
                var address = new IPAddress(bytes);
                return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            default:
                return null;
        }
    }

    private static void MapNetwork(in PbflowValues record, FlowRecord flow)
    {
        if (record.HasNetwork)
        {
            flow.SrcAddr = ToAddress(in record.SrcAddr);
            flow.DstAddr = ToAddress(in record.DstAddr);
            flow.Dscp = ClampToInt(record.Dscp);
        }

        var proto = record.HasTransport ? ClampToInt(record.Protocol) : 0;
        flow.Proto = proto;
        switch (proto)
        {
            case ProtoTcp or ProtoUdp or ProtoSctp:
                flow.SrcPort = ClampToInt(record.SrcPort);
                flow.DstPort = ClampToInt(record.DstPort);
                if (proto == ProtoTcp)
                {
                    flow.Flags = ClampToInt(record.Flags);
                }

                break;
            case ProtoIcmp or ProtoIcmpV6:
                flow.IcmpType = ClampToInt(record.IcmpType);
                flow.IcmpCode = ClampToInt(record.IcmpCode);
                break;
        }
    }

    private static void MapInterfaces(in PbflowValues record, FlowRecord flow)
    {
        if (record.DupInterfaces is { Length: > 0 })
        {
            flow.Interfaces = record.DupInterfaces;
            flow.IfDirections = record.DupDirections;
        }
        else if (record.Interface.Length > 0)
        {
            flow.Interfaces = [record.Interface];
            flow.IfDirections = [record.Direction];
        }
    }

    /// <summary>Epoch milliseconds; seconds past the millisecond range saturate (far outside any retention window).</summary>
    private static long ToUnixMilliseconds(bool present, long seconds, int nanos) =>
        !present ? 0 : (Math.Clamp(seconds, -MaxMillisecondSeconds, MaxMillisecondSeconds) * 1000) + (nanos / 1_000_000);

    private static bool FitsMilliseconds(long seconds) => seconds is >= -MaxMillisecondSeconds and <= MaxMillisecondSeconds;

    private static int ClampToInt(uint value) => value > int.MaxValue ? int.MaxValue : (int)value;
}
