using System.Buffers.Binary;
using Google.Protobuf.WellKnownTypes;

namespace NetObserv.Flows.Pbflow;

/// <summary>
/// The values of one agent <see cref="Record"/> that <see cref="PbflowMapper"/> turns into columns, as plain
/// fields: filled from a parsed <see cref="Record"/> (<see cref="From"/>) or straight from its bytes by
/// <see cref="PbflowReader"/>, so both paths share one mapping. A nested message's presence is kept where the
/// mapping tells an absent message from an empty one (data link, network, transport, DNS latency, RTT).
/// </summary>
internal struct PbflowValues
{
    public uint EthProtocol;
    public int Direction;
    public bool HasTimeFlowStart;
    public long TimeFlowStartSeconds;
    public int TimeFlowStartNanos;
    public bool HasTimeFlowEnd;
    public long TimeFlowEndSeconds;
    public int TimeFlowEndNanos;
    public bool HasDataLink;
    public ulong SrcMac;
    public ulong DstMac;
    public bool HasNetwork;
    public PbflowAddress SrcAddr;
    public PbflowAddress DstAddr;
    public uint Dscp;
    public bool HasTransport;
    public uint SrcPort;
    public uint DstPort;
    public uint Protocol;
    public ulong Bytes;
    public ulong Packets;
    public string Interface;
    public bool Duplicate;
    public PbflowAddress AgentIp;
    public uint Flags;
    public uint IcmpType;
    public uint IcmpCode;
    public ulong PktDropBytes;
    public ulong PktDropPackets;
    public uint PktDropLatestFlags;
    public uint PktDropLatestState;
    public uint PktDropLatestDropCause;
    public uint DnsId;
    public uint DnsFlags;
    public bool HasDnsLatency;
    public long DnsLatencySeconds;
    public int DnsLatencyNanos;
    public bool HasTimeFlowRtt;
    public long TimeFlowRttSeconds;
    public int TimeFlowRttNanos;
    public uint DnsErrno;

    /// <summary>The <c>dup_list</c> interfaces, null when it is empty.</summary>
    public string[]? DupInterfaces;

    /// <summary>The <c>dup_list</c> directions, parallel to <see cref="DupInterfaces"/>.</summary>
    public int[]? DupDirections;

    public uint Sampling;
    public string DnsName;

    /// <summary>True when the agent saw a drop (a drop cause or dropped packets): the drop fields are mapped.</summary>
    public readonly bool HasDrop => PktDropLatestDropCause != 0 || PktDropPackets != 0;

    /// <summary>The values of a parsed record.</summary>
    public static PbflowValues From(Record r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var v = new PbflowValues
        {
            EthProtocol = r.EthProtocol,
            Direction = (int)r.Direction,
            Bytes = r.Bytes,
            Packets = r.Packets,
            Interface = r.Interface,
            Duplicate = r.Duplicate,
            AgentIp = PbflowAddress.From(r.AgentIp),
            Flags = r.Flags,
            IcmpType = r.IcmpType,
            IcmpCode = r.IcmpCode,
            PktDropBytes = r.PktDropBytes,
            PktDropPackets = r.PktDropPackets,
            PktDropLatestFlags = r.PktDropLatestFlags,
            PktDropLatestState = r.PktDropLatestState,
            PktDropLatestDropCause = r.PktDropLatestDropCause,
            DnsId = r.DnsId,
            DnsFlags = r.DnsFlags,
            DnsErrno = r.DnsErrno,
            Sampling = r.Sampling,
            DnsName = r.DnsName,
        };
        (v.HasTimeFlowStart, v.TimeFlowStartSeconds, v.TimeFlowStartNanos) = Time(r.TimeFlowStart);
        (v.HasTimeFlowEnd, v.TimeFlowEndSeconds, v.TimeFlowEndNanos) = Time(r.TimeFlowEnd);
        (v.HasDnsLatency, v.DnsLatencySeconds, v.DnsLatencyNanos) = Span(r.DnsLatency);
        (v.HasTimeFlowRtt, v.TimeFlowRttSeconds, v.TimeFlowRttNanos) = Span(r.TimeFlowRtt);
        if (r.DataLink is { } link)
        {
            v.HasDataLink = true;
            v.SrcMac = link.SrcMac;
            v.DstMac = link.DstMac;
        }

        if (r.Network is { } network)
        {
            v.HasNetwork = true;
            v.SrcAddr = PbflowAddress.From(network.SrcAddr);
            v.DstAddr = PbflowAddress.From(network.DstAddr);
            v.Dscp = network.Dscp;
        }

        if (r.Transport is { } transport)
        {
            v.HasTransport = true;
            v.SrcPort = transport.SrcPort;
            v.DstPort = transport.DstPort;
            v.Protocol = transport.Protocol;
        }

        if (r.DupList.Count > 0)
        {
            v.DupInterfaces = new string[r.DupList.Count];
            v.DupDirections = new int[r.DupList.Count];
            for (var i = 0; i < r.DupList.Count; i++)
            {
                v.DupInterfaces[i] = r.DupList[i].Interface;
                v.DupDirections[i] = (int)r.DupList[i].Direction;
            }
        }

        return v;
    }

    private static (bool, long, int) Time(Timestamp? t) => t is null ? default : (true, t.Seconds, t.Nanos);

    private static (bool, long, int) Span(Duration? d) => d is null ? default : (true, d.Seconds, d.Nanos);
}

/// <summary>An agent <see cref="IP"/> message's value: which of its <c>oneof</c> is set, and the bytes.</summary>
internal struct PbflowAddress
{
    /// <summary>0 none, 1 <c>ipv4</c>, 2 <c>ipv6</c>.</summary>
    public byte Family;

    /// <summary>The <c>ipv4</c> value (big-endian address in a <c>fixed32</c>).</summary>
    public uint IPv4;

    /// <summary>The <c>ipv6</c> bytes when they are 16 (big-endian).</summary>
    public UInt128 IPv6;

    /// <summary>The <c>ipv6</c> bytes' length (an address only when 16).</summary>
    public int IPv6Length;

    public static PbflowAddress From(IP? ip)
    {
        var a = default(PbflowAddress);
        switch (ip?.IpFamilyCase)
        {
            case IP.IpFamilyOneofCase.Ipv4:
                a.Family = 1;
                a.IPv4 = ip.Ipv4;
                break;
            case IP.IpFamilyOneofCase.Ipv6:
                a.SetIPv6(ip.Ipv6.Span);
                break;
        }

        return a;
    }

    /// <summary>Sets the <c>ipv6</c> member from its bytes.</summary>
    public void SetIPv6(ReadOnlySpan<byte> bytes)
    {
        Family = 2;
        IPv6Length = bytes.Length;
        IPv6 = bytes.Length == 16 ? BinaryPrimitives.ReadUInt128BigEndian(bytes) : default;
    }
}
