using System.Buffers.Binary;
using System.Net;
using Google.Protobuf.WellKnownTypes;
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
        rejection = Unrepresentable(record);
        return rejection.IsRejected ? null : MapValid(record, timeReceivedSeconds);
    }

    /// <summary>
    /// Maps one agent record whose values can be represented (see <see cref="TryMap"/>); throws
    /// <see cref="ArgumentOutOfRangeException"/> otherwise.
    /// </summary>
    public static FlowRecord Map(Record record, long timeReceivedSeconds) =>
        TryMap(record, timeReceivedSeconds, out var rejection)
        ?? throw new ArgumentOutOfRangeException(nameof(record), rejection.ToString());

    private static FlowRejection Unrepresentable(Record r)
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

        if (r.DnsId != 0 && r.DnsLatency is { } latency && !FitsMilliseconds(latency.Seconds))
        {
            return new(FlowRejectReason.CounterOutOfRange, "DnsLatencyMs", latency.Seconds, MaxMillisecondSeconds);
        }

        if (r.TimeFlowRtt is { } rtt && rtt.Seconds is < -MaxNanosecondSeconds or > MaxNanosecondSeconds)
        {
            return new(FlowRejectReason.CounterOutOfRange, "TimeFlowRttNs", rtt.Seconds, MaxNanosecondSeconds);
        }

        return default;
    }

    private static FlowRecord MapValid(Record record, long timeReceivedSeconds)
    {
        var flow = new FlowRecord
        {
            TimeFlowStartMs = ToUnixMilliseconds(record.TimeFlowStart),
            TimeFlowEndMs = ToUnixMilliseconds(record.TimeFlowEnd),
            TimeReceived = timeReceivedSeconds,
            Bytes = (long)record.Bytes,
            Packets = (long)record.Packets,
            AgentIP = AgentAddress(record.AgentIp),
            FlowDirection = (int)record.Direction,
        };

        if (record.EthProtocol != 0)
        {
            flow.Etype = ClampToInt(record.EthProtocol);
        }

        if (record.DataLink is { } link)
        {
            flow.SrcMac = link.SrcMac & MacMask;
            flow.DstMac = link.DstMac & MacMask;
        }

        if (record.EthProtocol is EtherTypeIPv4 or EtherTypeIPv6)
        {
            MapNetwork(record, flow);
        }

        MapInterfaces(record, flow);

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
            flow.DnsLatencyMs = record.DnsLatency is { } latency ? ToMilliseconds(latency) : 0;
            if (record.DnsName.Length > 0)
            {
                flow.DnsName = record.DnsName;
            }
        }

        if (record.DnsErrno != 0)
        {
            flow.DnsErrno = ClampToInt(record.DnsErrno);
        }

        if (record.TimeFlowRtt is { } rtt && ToNanoseconds(rtt) is var rttNs and not 0)
        {
            flow.TimeFlowRttNs = rttNs;
        }

        if (record.PktDropLatestDropCause != 0 || record.PktDropPackets != 0)
        {
            flow.PktDropBytes = (long)record.PktDropBytes;
            flow.PktDropPackets = (long)record.PktDropPackets;
            flow.PktDropLatestState = PbflowNames.TcpState(record.PktDropLatestState);
            flow.PktDropLatestDropCause = PbflowNames.DropCause(record.PktDropLatestDropCause);
        }

        PbflowExtraFields.Map(record, flow);
        return flow;
    }

    /// <summary>
    /// The agent's IPv4 address, shared with the previous record's when it is the same (every record of a
    /// message comes from one agent): one object less per flow.
    /// </summary>
    private static IPAddress? AgentAddress(IP? ip)
    {
        if (ip is not { IpFamilyCase: IP.IpFamilyOneofCase.Ipv4 })
        {
            return ToAddress(ip);
        }

        var last = s_lastAgent;
        if (last is not null && last.Value == ip.Ipv4)
        {
            return last.Address;
        }

        var address = ToAddress(ip);
        s_lastAgent = new AgentIPv4(ip.Ipv4, address!);
        return address;
    }

    [ThreadStatic]
    private static AgentIPv4? s_lastAgent;

    private sealed record AgentIPv4(uint Value, IPAddress Address);

    /// <summary>An address from the agent's <see cref="IP"/> message; null when absent or malformed.</summary>
    public static IPAddress? ToAddress(IP? ip)
    {
        if (ip is null)
        {
            return null;
        }

        switch (ip.IpFamilyCase)
        {
            case IP.IpFamilyOneofCase.Ipv4:
                Span<byte> v4 = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(v4, ip.Ipv4);
                return new IPAddress(v4);
            case IP.IpFamilyOneofCase.Ipv6 when ip.Ipv6.Length == 16:
                var address = new IPAddress(ip.Ipv6.Span);
                return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            default:
                return null;
        }
    }

    private static void MapNetwork(Record record, FlowRecord flow)
    {
        if (record.Network is { } network)
        {
            flow.SrcAddr = ToAddress(network.SrcAddr);
            flow.DstAddr = ToAddress(network.DstAddr);
            flow.Dscp = ClampToInt(network.Dscp);
        }

        var transport = record.Transport;
        var proto = transport is null ? 0 : ClampToInt(transport.Protocol);
        flow.Proto = proto;
        switch (proto)
        {
            case ProtoTcp or ProtoUdp or ProtoSctp:
                flow.SrcPort = ClampToInt(transport!.SrcPort);
                flow.DstPort = ClampToInt(transport.DstPort);
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

    private static void MapInterfaces(Record record, FlowRecord flow)
    {
        var dupList = record.DupList;
        if (dupList.Count > 0)
        {
            var names = new string[dupList.Count];
            var directions = new int[dupList.Count];
            for (var i = 0; i < dupList.Count; i++)
            {
                names[i] = dupList[i].Interface;
                directions[i] = (int)dupList[i].Direction;
            }

            flow.Interfaces = names;
            flow.IfDirections = directions;
        }
        else if (record.Interface.Length > 0)
        {
            flow.Interfaces = [record.Interface];
            flow.IfDirections = [(int)record.Direction];
        }
    }

    /// <summary>Epoch milliseconds; seconds past the millisecond range saturate (far outside any retention window).</summary>
    private static long ToUnixMilliseconds(Timestamp? timestamp) =>
        timestamp is null ? 0
            : (Math.Clamp(timestamp.Seconds, -MaxMillisecondSeconds, MaxMillisecondSeconds) * 1000)
                + (timestamp.Nanos / 1_000_000);

    private static bool FitsMilliseconds(long seconds) => seconds is >= -MaxMillisecondSeconds and <= MaxMillisecondSeconds;

    private static long ToMilliseconds(Duration duration) =>
        (duration.Seconds * 1000) + (duration.Nanos / 1_000_000);

    private static long ToNanoseconds(Duration duration) =>
        (duration.Seconds * 1_000_000_000) + duration.Nanos;

    private static int ClampToInt(uint value) => value > int.MaxValue ? int.MaxValue : (int)value;
}
