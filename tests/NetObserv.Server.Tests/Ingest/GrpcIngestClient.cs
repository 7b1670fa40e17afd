using System.Net;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using NetObserv.Flows.Pbflow;

namespace NetObserv.Server.Tests.Ingest;

/// <summary>A real gRPC client for the collector, and agent-shaped records to send.</summary>
internal static class GrpcIngestClient
{
    private static readonly Method<byte[], byte[]> s_rawSend = new(MethodType.Unary, "pbflow.Collector", "Send",
        Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));

    public static GrpcChannel Channel(int port) =>
        GrpcChannel.ForAddress($"http://127.0.0.1:{port}", new GrpcChannelOptions { MaxSendMessageSize = null });

    /// <summary>Calls <c>Send</c> with <paramref name="body"/> as it is, well-formed or not.</summary>
    public static Task<byte[]> SendRawAsync(GrpcChannel channel, byte[] body) =>
        channel.CreateCallInvoker().AsyncUnaryCall(s_rawSend, null, new CallOptions(), body).ResponseAsync;

    public static IP Ip(string address)
    {
        var bytes = IPAddress.Parse(address).GetAddressBytes();
        return bytes.Length == 4
            ? new IP { Ipv4 = ((uint)bytes[0] << 24) | ((uint)bytes[1] << 16) | ((uint)bytes[2] << 8) | bytes[3] }
            : new IP { Ipv6 = ByteString.CopyFrom(bytes) };
    }

    /// <summary>A TCP record with every field the agent can set; <paramref name="seq"/> makes it unique.</summary>
    public static Flows.Pbflow.Record FullRecord(bool ipv6, uint seq, long endMs)
    {
        return new Flows.Pbflow.Record
        {
            EthProtocol = ipv6 ? 0x86DDu : 0x0800u,
            Direction = Direction.Egress,
            TimeFlowStart = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(endMs - 4_321)),
            TimeFlowEnd = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(endMs)),
            DataLink = new DataLink { SrcMac = 0x0A580A800005, DstMac = 0x112233445566 },
            Network = new Network
            {
                SrcAddr = Ip(ipv6 ? "fd01::5" : "10.128.0.5"),
                DstAddr = Ip(ipv6 ? "2001:db8::77" : "172.30.0.10"),
                Dscp = 46,
            },
            Transport = new Transport { SrcPort = 40000 + seq, DstPort = 8443, Protocol = 6 },
            Bytes = 1_000_000 + seq,
            Packets = 700 + seq,
            Interface = "eth0",
            Duplicate = true,
            AgentIp = Ip(ipv6 ? "fd00::10" : "10.0.0.10"),
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
                new DupMapEntry { Interface = "br-ex", Direction = Direction.Egress },
            },
            Xlat = new Xlat { SrcAddr = Ip("10.128.0.99"), SrcPort = 1, DstPort = 2, ZoneId = 3 },
            Sampling = 50,
            IpsecEncrypted = 1,
            DnsName = "api.payments.svc.cluster.local",
            SslVersion = 0x0304,
            TlsTypes = 3,
            TlsCipherSuite = 0x1301,
            TlsKeyShare = 29,
            Quic = new Quic { Version = 1, SeenLongHdr = 1 },
        };
    }

    /// <summary>A small UDP record for volume tests.</summary>
    public static Flows.Pbflow.Record SmallRecord(uint seq, long endMs) => new()
    {
        EthProtocol = 0x0800,
        TimeFlowStart = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(endMs - 1000)),
        TimeFlowEnd = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(endMs)),
        Network = new Network { SrcAddr = new IP { Ipv4 = 0x0A800000 + seq }, DstAddr = new IP { Ipv4 = 0x0A810001 } },
        Transport = new Transport { SrcPort = 5000 + (seq % 50000), DstPort = 53, Protocol = 17 },
        Bytes = 100 + seq,
        Packets = 1,
        AgentIp = new IP { Ipv4 = 0x0A00000A },
    };

    public static Records Batch(int count, uint first, long endMs)
    {
        var records = new Records();
        for (var i = 0; i < count; i++)
        {
            records.Entries.Add(SmallRecord(first + (uint)i, endMs));
        }

        return records;
    }
}
