using System.Net;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using NetObserv.Flows;
using NetObserv.Flows.Pbflow;
using Record = NetObserv.Flows.Pbflow.Record;

namespace NetObserv.Testing;

/// <summary>
/// A value for every field of <see cref="FlowFields"/> and for the fields without a column
/// (<see cref="FlowFields.KnownExtraNames"/> and custom ones), so a layer that misses a field fails a test.
/// Values survive every layer unchanged (integers, normalised addresses, no key a jsonb would reorder away).
/// </summary>
public static class FlowFieldSamples
{
    /// <summary>The extra fields of <see cref="Full"/>: every known name without a column, and custom ones.</summary>
    public const string ExtraFieldsJson = """
        {"DnsFlagsResponseCode":"NXDomain","PktDropLatestFlags":16,
        "NetworkEvents":[{"Action":"allow","Direction":"ingress","Feature":"acl","Name":"np1","Namespace":"payments","Type":"NetworkPolicy"}],
        "Udns":["","primary-udn"],"ZoneId":3,"XlatSrcAddr":"10.128.0.99","XlatDstAddr":"172.30.0.1","XlatSrcPort":1234,
        "XlatDstPort":8080,"IPSecStatus":"success","IPSecRetCode":0,"TLSVersion":"TLS 1.3",
        "TLSTypes":["ClientHello","ServerHello"],"TLSCipherSuite":"TLS_AES_128_GCM_SHA256","TLSGroup":"x25519",
        "TLSMismatch":true,"QuicVersion":1,"QuicSeenLongHdr":1,"QuicSeenShortHdr":0,"SrcK8S_NetworkName":"primary",
        "DstK8S_NetworkName":"default","XlatSrcK8S_Name":"frontend-1","XlatDstK8S_Name":"api","_IsFirst":true,
        "numFlowLogs":3,"Bytes_AB":100,"Bytes_BA":200,"Packets_AB":1,"Packets_BA":2,"MaxTimeFlowRttNs":99999,
        "CustomTeam":"payments","custom_nested":{"a":[1,"b",{"c":null}],"d":-2.5}}
        """;

    /// <summary>A flow with every field set (and <see cref="ExtraFieldsJson"/>), ending at <paramref name="endMs"/>.</summary>
    public static FlowRecord Full(long endMs, string hashId = "sample-1", bool ipv6 = false) => new()
    {
        TimeFlowStartMs = endMs - 1_234,
        TimeFlowEndMs = endMs,
        TimeReceived = (endMs / 1000) + 1,
        SrcAddr = IPAddress.Parse(ipv6 ? "fd01::5" : "10.128.0.5"),
        DstAddr = IPAddress.Parse(ipv6 ? "2001:db8::77" : "172.30.0.10"),
        SrcMac = 0x0A580A800005,
        DstMac = 0x112233445566,
        SrcPort = 40000,
        DstPort = 8443,
        Proto = 6,
        Etype = ipv6 ? 0x86DD : 0x0800,
        Flags = 0x112,
        Dscp = 46,
        IcmpType = 3,
        IcmpCode = 1,
        Bytes = 123_456,
        Packets = 789,
        Sampling = 50,
        FlowDirection = 1,
        Interfaces = ["veth0a1b", "br-ex"],
        IfDirections = [0, 1],
        Duplicate = true,
        AgentIP = IPAddress.Parse("10.0.0.10"),
        DnsId = 4242,
        DnsFlags = 0x8183,
        DnsLatencyMs = 17,
        DnsErrno = 5,
        DnsName = "api.payments.svc.cluster.local",
        TimeFlowRttNs = 1_234_500,
        PktDropBytes = 3000,
        PktDropPackets = 2,
        PktDropLatestState = "TCP_ESTABLISHED",
        PktDropLatestDropCause = "SKB_DROP_REASON_NO_SOCKET",
        Src = new KubernetesMetadata
        {
            Name = "frontend-7d4f9-abcde",
            Type = "Pod",
            Namespace = "payments",
            OwnerName = "frontend",
            OwnerType = "Deployment",
            HostIP = IPAddress.Parse("10.0.0.10"),
            HostName = "worker-1",
            Zone = "zone-a",
            SubnetLabel = "Pods",
        },
        Dst = new KubernetesMetadata
        {
            Name = "api",
            Type = "Service",
            Namespace = "payments-api",
            OwnerName = "api",
            OwnerType = "Service",
            HostIP = IPAddress.Parse("10.0.0.11"),
            HostName = "worker-2",
            Zone = "zone-b",
            SubnetLabel = "Services",
        },
        K8SFlowLayer = "app",
        K8SClusterName = "east",
        RecordType = "endConnection",
        HashId = hashId,
        ExtraFields = ExtraFieldsJson,
    };

    /// <summary>The <see cref="FlowFields"/> names the eBPF agent itself sends (the others come from flowlogs-pipeline).</summary>
    public static readonly IReadOnlySet<string> AgentFieldNames = new HashSet<string>(StringComparer.Ordinal)
    {
        "TimeFlowStartMs", "TimeFlowEndMs", "TimeReceived", "SrcAddr", "DstAddr", "SrcMac", "DstMac", "SrcPort",
        "DstPort", "Proto", "Etype", "Flags", "Dscp", "IcmpType", "IcmpCode", "Bytes", "Packets", "Sampling",
        "FlowDirection", "Interfaces", "IfDirections", "Duplicate", "AgentIP", "DnsId", "DnsFlags", "DnsLatencyMs",
        "DnsErrno", "DnsName", "TimeFlowRttNs", "PktDropBytes", "PktDropPackets", "PktDropLatestState",
        "PktDropLatestDropCause",
    };

    /// <summary>
    /// The extra fields <see cref="PbflowRecords"/> carry, as the agent's decoder names and writes them.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> PbflowExtraFields = new Dictionary<string, string>
    {
        ["DnsFlagsResponseCode"] = "\"NXDomain\"",
        ["PktDropLatestFlags"] = "16",
        ["NetworkEvents"] = "[{\"Action\":\"allow\",\"Feature\":\"acl\",\"Name\":\"np1\"}]",
        ["Udns"] = "[\"\",\"primary-udn\"]",
        ["ZoneId"] = "3",
        ["XlatSrcAddr"] = "\"10.128.0.99\"",
        ["XlatDstAddr"] = "\"172.30.0.1\"",
        ["XlatSrcPort"] = "1234",
        ["XlatDstPort"] = "8080",
        ["IPSecStatus"] = "\"success\"",
        ["IPSecRetCode"] = "0",
        ["TLSVersion"] = "\"TLS 1.3\"",
        ["TLSTypes"] = "[\"ClientHello\",\"ServerHello\"]",
        ["TLSCipherSuite"] = "\"TLS_AES_128_GCM_SHA256\"",
        ["TLSGroup"] = "\"x25519\"",
        ["TLSMismatch"] = "true",
        ["QuicVersion"] = "1",
        ["QuicSeenLongHdr"] = "1",
        ["QuicSeenShortHdr"] = "0",
    };

    /// <summary>
    /// Agent records that together set every field the agent can send: a TCP one with every optional feature
    /// (DNS, drops, RTT, network events, xlat, IPsec, UDNs, TLS, QUIC) and an ICMP one (type and code).
    /// </summary>
    public static Record[] PbflowRecords(long endMs)
    {
        var tcp = new Record
        {
            EthProtocol = 0x0800,
            Direction = Direction.Egress,
            TimeFlowStart = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(endMs - 1_234)),
            TimeFlowEnd = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(endMs)),
            DataLink = new DataLink { SrcMac = 0x0A580A800005, DstMac = 0x112233445566 },
            Network = new Network { SrcAddr = Ip("10.128.0.5"), DstAddr = Ip("172.30.0.10"), Dscp = 46 },
            Transport = new Transport { SrcPort = 40000, DstPort = 8443, Protocol = 6 },
            Bytes = 123_456,
            Packets = 789,
            Duplicate = true,
            AgentIp = Ip("10.0.0.10"),
            Flags = 0x112,
            PktDropBytes = 3000,
            PktDropPackets = 2,
            PktDropLatestFlags = 16,
            PktDropLatestState = 1,
            PktDropLatestDropCause = 3,
            DnsId = 4242,
            DnsFlags = 0x8183,
            DnsLatency = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(17)),
            TimeFlowRtt = Duration.FromTimeSpan(TimeSpan.FromTicks(12_345)),
            DnsErrno = 5,
            DupList =
            {
                new DupMapEntry { Interface = "veth0a1b", Direction = Direction.Ingress },
                new DupMapEntry { Interface = "br-ex", Direction = Direction.Egress, Udn = "primary-udn" },
            },
            NetworkEventsMetadata =
            {
                new NetworkEvent { Events = { ["Feature"] = "acl", ["Action"] = "allow", ["Name"] = "np1" } },
            },
            Xlat = new Xlat
            {
                SrcAddr = Ip("10.128.0.99"),
                DstAddr = Ip("172.30.0.1"),
                SrcPort = 1234,
                DstPort = 8080,
                ZoneId = 3,
            },
            Sampling = 50,
            IpsecEncrypted = 1,
            DnsName = "api.payments.svc.cluster.local",
            SslVersion = 0x0304,
            SslMismatch = true,
            TlsTypes = 3,
            TlsCipherSuite = 0x1301,
            TlsKeyShare = 29,
            Quic = new Quic { Version = 1, SeenLongHdr = 1, SeenShortHdr = 0 },
        };
        var icmp = new Record
        {
            EthProtocol = 0x0800,
            Direction = Direction.Ingress,
            TimeFlowStart = tcp.TimeFlowStart,
            TimeFlowEnd = tcp.TimeFlowEnd,
            Network = new Network { SrcAddr = Ip("10.128.0.6"), DstAddr = Ip("10.128.0.7") },
            Transport = new Transport { Protocol = 1 },
            IcmpType = 3,
            IcmpCode = 1,
            Bytes = 84,
            Packets = 1,
            AgentIp = Ip("10.0.0.10"),
        };
        return [tcp, icmp];
    }

    /// <summary>An agent <see cref="IP"/>.</summary>
    public static IP Ip(string address)
    {
        var bytes = IPAddress.Parse(address).GetAddressBytes();
        return bytes.Length == 4
            ? new IP { Ipv4 = ((uint)bytes[0] << 24) | ((uint)bytes[1] << 16) | ((uint)bytes[2] << 8) | bytes[3] }
            : new IP { Ipv6 = ByteString.CopyFrom(bytes) };
    }
}
