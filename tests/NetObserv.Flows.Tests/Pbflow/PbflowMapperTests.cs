using System.Globalization;
using System.Net;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using NetObserv.Flows.Pbflow;
using NetObserv.Flows.Validation;
using Record = NetObserv.Flows.Pbflow.Record;

namespace NetObserv.Flows.Tests.Pbflow;

public sealed class PbflowMapperTests
{
    private const long Received = 1_780_000_000;

    internal static Record TcpRecord() => new()
    {
        EthProtocol = 0x0800,
        Direction = Direction.Egress,
        TimeFlowStart = new Timestamp { Seconds = 1_779_999_990, Nanos = 123_456_789 },
        TimeFlowEnd = new Timestamp { Seconds = 1_779_999_995, Nanos = 987_654_321 },
        DataLink = new DataLink { SrcMac = 0x112233445566, DstMac = 0xAABBCCDDEEFF },
        Network = new Network
        {
            SrcAddr = new IP { Ipv4 = 0x0A800005 },
            DstAddr = new IP { Ipv4 = 0xAC1E0A01 },
            Dscp = 46,
        },
        Transport = new Transport { SrcPort = 43210, DstPort = 8080, Protocol = 6 },
        Bytes = 123_456,
        Packets = 789,
        Interface = "eth0",
        Duplicate = true,
        AgentIp = new IP { Ipv4 = 0xC0A80102 },
        Flags = 0x112,
        IcmpType = 3,
        IcmpCode = 4,
        PktDropBytes = 1500,
        PktDropPackets = 2,
        PktDropLatestFlags = 16,
        PktDropLatestState = 1,
        PktDropLatestDropCause = 3,
        DnsId = 31319,
        DnsFlags = 0x8180,
        DnsLatency = new Duration { Seconds = 1, Nanos = 250_000_000 },
        TimeFlowRtt = new Duration { Seconds = 0, Nanos = 1_500_000 },
        DnsErrno = 11,
        DupList =
        {
            new DupMapEntry { Interface = "veth1234", Direction = Direction.Ingress, Udn = "primary" },
            new DupMapEntry { Interface = "br-ex", Direction = Direction.Egress },
        },
        Sampling = 50,
        DnsName = "api.example.com",
    };

    [Fact]
    public void Map_TcpRecordWithEveryField_MapsEachField()
    {
        var flow = PbflowMapper.Map(TcpRecord(), Received);

        Assert.Equal((1_779_999_990L * 1000) + 123, flow.TimeFlowStartMs);
        Assert.Equal((1_779_999_995L * 1000) + 987, flow.TimeFlowEndMs);
        Assert.Equal(Received, flow.TimeReceived);
        Assert.Equal(IPAddress.Parse("10.128.0.5"), flow.SrcAddr);
        Assert.Equal(IPAddress.Parse("172.30.10.1"), flow.DstAddr);
        Assert.Equal(0x112233445566UL, flow.SrcMac);
        Assert.Equal(0xAABBCCDDEEFFUL, flow.DstMac);
        Assert.Equal(43210, flow.SrcPort);
        Assert.Equal(8080, flow.DstPort);
        Assert.Equal(6, flow.Proto);
        Assert.Equal(0x0800, flow.Etype);
        Assert.Equal(0x112, flow.Flags);
        Assert.Equal(46, flow.Dscp);
        Assert.Null(flow.IcmpType);
        Assert.Null(flow.IcmpCode);
        Assert.Equal(123_456, flow.Bytes);
        Assert.Equal(789, flow.Packets);
        Assert.Equal(50, flow.Sampling);
        Assert.Equal(1, flow.FlowDirection);
        Assert.Equal(["veth1234", "br-ex"], flow.Interfaces!);
        Assert.Equal([0, 1], flow.IfDirections!);
        Assert.True(flow.Duplicate);
        Assert.Equal(IPAddress.Parse("192.168.1.2"), flow.AgentIP);
        Assert.Equal(31319, flow.DnsId);
        Assert.Equal(0x8180, flow.DnsFlags);
        Assert.Equal(1250, flow.DnsLatencyMs);
        Assert.Equal(11, flow.DnsErrno);
        Assert.Equal("api.example.com", flow.DnsName);
        Assert.Equal(1_500_000, flow.TimeFlowRttNs);
        Assert.Equal(1500, flow.PktDropBytes);
        Assert.Equal(2, flow.PktDropPackets);
        Assert.Equal("TCP_ESTABLISHED", flow.PktDropLatestState);
        Assert.Equal("SKB_DROP_REASON_NO_SOCKET", flow.PktDropLatestDropCause);
        Assert.True(flow.Src.IsEmpty);
        Assert.True(flow.Dst.IsEmpty);
        Assert.Equal(FlowRecord.DefaultTenant, flow.Tenant);
    }

    [Fact]
    public void Map_AfterWireRoundTrip_SameAsDirect()
    {
        var record = TcpRecord();
        var bytes = new Records { Entries = { record } }.ToByteArray();

        var parsed = Records.Parser.ParseFrom(bytes).Entries[0];

        Assert.Equal(record, parsed);
        Assert.Equal(PbflowMapper.Map(record, Received).DnsName, PbflowMapper.Map(parsed, Received).DnsName);
    }

    [Fact]
    public void Map_IPv6Record_AddressesFromSixteenBytes()
    {
        var src = IPAddress.Parse("fd00:10:244::5");
        var dst = IPAddress.Parse("2001:db8::1:2");
        var record = TcpRecord();
        record.EthProtocol = 0x86DD;
        record.Network.SrcAddr = new IP { Ipv6 = ByteString.CopyFrom(src.GetAddressBytes()) };
        record.Network.DstAddr = new IP { Ipv6 = ByteString.CopyFrom(dst.GetAddressBytes()) };
        record.AgentIp = new IP { Ipv6 = ByteString.CopyFrom(IPAddress.Parse("fd00::1").GetAddressBytes()) };

        var flow = PbflowMapper.Map(record, Received);

        Assert.Equal(src, flow.SrcAddr);
        Assert.Equal(dst, flow.DstAddr);
        Assert.Equal(IPAddress.Parse("fd00::1"), flow.AgentIP);
        Assert.Equal(0x86DD, flow.Etype);
    }

    [Fact]
    public void Map_IPv4MappedIPv6_BecomesIPv4()
    {
        var record = TcpRecord();
        var mapped = IPAddress.Parse("10.1.2.3").MapToIPv6();
        record.Network.SrcAddr = new IP { Ipv6 = ByteString.CopyFrom(mapped.GetAddressBytes()) };

        var flow = PbflowMapper.Map(record, Received);

        Assert.Equal(IPAddress.Parse("10.1.2.3"), flow.SrcAddr);
        Assert.Equal(System.Net.Sockets.AddressFamily.InterNetwork, flow.SrcAddr!.AddressFamily);
    }

    [Fact]
    public void Map_IPv6OfWrongLength_AddressAbsent()
    {
        var record = TcpRecord();
        record.Network.SrcAddr = new IP { Ipv6 = ByteString.CopyFrom(1, 2, 3) };

        var flow = PbflowMapper.Map(record, Received);

        Assert.Null(flow.SrcAddr);
        Assert.Equal(IPAddress.Parse("172.30.10.1"), flow.DstAddr);
    }

    [Fact]
    public void Map_IcmpRecord_SetsTypeAndCodeNotPortsOrFlags()
    {
        var record = TcpRecord();
        record.Transport.Protocol = 1;

        var flow = PbflowMapper.Map(record, Received);

        Assert.Equal(1, flow.Proto);
        Assert.Equal(3, flow.IcmpType);
        Assert.Equal(4, flow.IcmpCode);
        Assert.Null(flow.SrcPort);
        Assert.Null(flow.DstPort);
        Assert.Null(flow.Flags);
    }

    [Fact]
    public void Map_Icmpv6Record_SetsTypeAndCode()
    {
        var record = TcpRecord();
        record.EthProtocol = 0x86DD;
        record.Transport.Protocol = 58;

        var flow = PbflowMapper.Map(record, Received);

        Assert.Equal(3, flow.IcmpType);
        Assert.Equal(4, flow.IcmpCode);
    }

    [Theory]
    [InlineData(17u)]
    [InlineData(132u)]
    public void Map_UdpOrSctpRecord_SetsPortsNotFlags(uint protocol)
    {
        var record = TcpRecord();
        record.Transport.Protocol = protocol;

        var flow = PbflowMapper.Map(record, Received);

        Assert.Equal(43210, flow.SrcPort);
        Assert.Equal(8080, flow.DstPort);
        Assert.Null(flow.Flags);
        Assert.Null(flow.IcmpType);
    }

    [Fact]
    public void Map_NonIpFrame_LeavesNetworkFieldsAbsent()
    {
        var record = TcpRecord();
        record.EthProtocol = 0x0806;

        var flow = PbflowMapper.Map(record, Received);

        Assert.Equal(0x0806, flow.Etype);
        Assert.Null(flow.SrcAddr);
        Assert.Null(flow.DstAddr);
        Assert.Null(flow.Proto);
        Assert.Null(flow.SrcPort);
        Assert.Equal(0x112233445566UL, flow.SrcMac);
    }

    [Fact]
    public void Map_WithoutDupList_UsesLegacyInterfaceAndDirection()
    {
        var record = TcpRecord();
        record.DupList.Clear();

        var flow = PbflowMapper.Map(record, Received);

        Assert.Equal(["eth0"], flow.Interfaces!);
        Assert.Equal([1], flow.IfDirections!);
    }

    [Fact]
    public void Map_OptionalFeaturesOff_LeavesTheirFieldsAbsent()
    {
        var record = new Record
        {
            EthProtocol = 0x0800,
            Network = new Network { SrcAddr = new IP { Ipv4 = 1 }, DstAddr = new IP { Ipv4 = 2 } },
            Transport = new Transport { Protocol = 17, SrcPort = 1, DstPort = 2 },
            TimeFlowRtt = new Duration(),
            Bytes = 10,
            Packets = 1,
        };

        var flow = PbflowMapper.Map(record, Received);

        Assert.Null(flow.DnsId);
        Assert.Null(flow.DnsFlags);
        Assert.Null(flow.DnsLatencyMs);
        Assert.Null(flow.DnsErrno);
        Assert.Null(flow.DnsName);
        Assert.Null(flow.TimeFlowRttNs);
        Assert.Null(flow.PktDropBytes);
        Assert.Null(flow.PktDropLatestState);
        Assert.Null(flow.PktDropLatestDropCause);
        Assert.Null(flow.Sampling);
        Assert.Null(flow.Duplicate);
        Assert.Null(flow.Interfaces);
        Assert.Null(flow.SrcMac);
        Assert.Null(flow.AgentIP);
        Assert.Equal(IPAddress.Parse("0.0.0.1"), flow.SrcAddr);
    }

    [Fact]
    public void Map_MacWithHighBitsSet_KeepsLow48Bits()
    {
        var record = TcpRecord();
        record.DataLink.SrcMac = 0xFFFF_0102_0304_0506;

        var flow = PbflowMapper.Map(record, Received);

        Assert.Equal(0x0102_0304_0506UL, flow.SrcMac);
    }

    [Theory]
    [InlineData("Bytes")]
    [InlineData("Packets")]
    [InlineData("PktDropBytes")]
    [InlineData("PktDropPackets")]
    public void TryMap_CounterPastInt64_RefusedNotWrapped(string field)
    {
        var record = TcpRecord();
        switch (field)
        {
            case "Bytes": record.Bytes = ulong.MaxValue; break;
            case "Packets": record.Packets = (ulong)long.MaxValue + 1; break;
            case "PktDropBytes": record.PktDropBytes = ulong.MaxValue; break;
            default: record.PktDropPackets = ulong.MaxValue; break;
        }

        var flow = PbflowMapper.TryMap(record, Received, out var rejection);

        Assert.Null(flow);
        Assert.Equal(FlowRejectReason.CounterOutOfRange, rejection.Reason);
        Assert.Equal(field, rejection.Field);
        Assert.Throws<ArgumentOutOfRangeException>(() => PbflowMapper.Map(record, Received));
    }

    [Fact]
    public void TryMap_CountersAtInt64Max_Mapped()
    {
        var record = TcpRecord();
        record.Bytes = long.MaxValue;
        record.Packets = long.MaxValue;

        var flow = PbflowMapper.TryMap(record, Received, out var rejection);

        Assert.False(rejection.IsRejected);
        Assert.Equal(long.MaxValue, flow!.Bytes);
        Assert.Equal(long.MaxValue, flow.Packets);
    }

    [Fact]
    public void TryMap_SamplingAndErrnoPastInt32_Refused()
    {
        var sampling = TcpRecord();
        sampling.Sampling = uint.MaxValue;
        var errno = TcpRecord();
        errno.DnsErrno = (uint)int.MaxValue + 1;

        Assert.Null(PbflowMapper.TryMap(sampling, Received, out var samplingRejection));
        Assert.Null(PbflowMapper.TryMap(errno, Received, out var errnoRejection));

        Assert.Equal(("Sampling", FlowRejectReason.ValueOutOfRange), (samplingRejection.Field, samplingRejection.Reason));
        Assert.Equal(("DnsErrno", FlowRejectReason.ValueOutOfRange), (errnoRejection.Field, errnoRejection.Reason));
    }

    [Fact]
    public void TryMap_DurationsPastTheirUnit_RefusedNotWrapped()
    {
        var latency = TcpRecord();
        latency.DnsId = 1;
        latency.DnsLatency = new Duration { Seconds = long.MaxValue / 100 };
        var rtt = TcpRecord();
        rtt.TimeFlowRtt = new Duration { Seconds = long.MinValue };

        Assert.Null(PbflowMapper.TryMap(latency, Received, out var latencyRejection));
        Assert.Null(PbflowMapper.TryMap(rtt, Received, out var rttRejection));

        Assert.Equal("DnsLatencyMs", latencyRejection.Field);
        Assert.Equal("TimeFlowRttNs", rttRejection.Field);
    }

    [Theory]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    [InlineData(long.MaxValue / 100)]
    public void TryMap_TimestampPastMilliseconds_SaturatesOutsideAnyWindow(long seconds)
    {
        var record = TcpRecord();
        record.TimeFlowEnd = new Timestamp { Seconds = seconds };

        var flow = PbflowMapper.TryMap(record, Received, out _)!;

        Assert.Equal(Math.Sign(seconds), Math.Sign(flow.TimeFlowEndMs));
        Assert.True(Math.Abs(flow.TimeFlowEndMs) > 1_000_000_000_000_000, flow.TimeFlowEndMs.ToString(CultureInfo.InvariantCulture));
    }

    [Fact]
    public void TryMap_EthProtocolPastInt32_ClampedOutOfRangeNotWrapped()
    {
        var record = TcpRecord();
        record.EthProtocol = uint.MaxValue;

        var flow = PbflowMapper.TryMap(record, Received, out var rejection)!;

        Assert.False(rejection.IsRejected);
        Assert.Equal(int.MaxValue, flow.Etype);
    }

    [Fact]
    public void ParseAndTryMap_EmptyRecords_HeapPerRecordWithinDocumentedBound()
    {
        // The cheapest record on the wire (2 bytes) is the most expensive per byte on the heap; the bound
        // is stated in the documentation of Ingest:MaxRecordsPerMessage.
        const int Count = 10_000;
        var body = new byte[Count * 2];
        for (var i = 0; i < Count; i++)
        {
            body[i * 2] = 0x0A;
        }

        Records.Parser.ParseFrom(body[..20]);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var records = Records.Parser.ParseFrom(body);
        var flows = new List<FlowRecord>(Count);
        foreach (var record in records.Entries)
        {
            flows.Add(PbflowMapper.TryMap(record, Received, out _)!);
        }

        var perRecord = (GC.GetAllocatedBytesForCurrentThread() - before) / Count;

        Assert.Equal(Count, flows.Count);
        Assert.InRange(perRecord, 1, 1024);
    }

    [Fact]
    public void Parse_EmptyNestedMessages_HeapWithinDocumentedMultipleOfWireSize()
    {
        // One record whose dup_list holds 100,000 empty entries (2 bytes each on the wire).
        const int Count = 100_000;
        var inner = new byte[Count * 3];
        for (var i = 0; i < Count; i++)
        {
            inner[i * 3] = 0xD2; // field 26 (dup_list), length-delimited: tag 0xD2 0x01
            inner[(i * 3) + 1] = 0x01;
        }

        var output = new MemoryStream();
        var coded = new CodedOutputStream(output);
        coded.WriteTag(1, WireFormat.WireType.LengthDelimited);
        coded.WriteBytes(ByteString.CopyFrom(inner));
        coded.Flush();
        var body = output.ToArray();

        var before = GC.GetAllocatedBytesForCurrentThread();
        var records = Records.Parser.ParseFrom(body);
        var flow = PbflowMapper.TryMap(records.Entries[0], Received, out _)!;
        var perWireByte = (GC.GetAllocatedBytesForCurrentThread() - before) / body.Length;

        Assert.Equal(Count, flow.Interfaces!.Length);
        Assert.InRange(perWireByte, 1, 32);
    }

    [Theory]
    [InlineData(1u, "TCP_ESTABLISHED")]
    [InlineData(2u, "TCP_SYN_SENT")]
    [InlineData(6u, "TCP_TIME_WAIT")]
    [InlineData(7u, "TCP_CLOSE")]
    [InlineData(10u, "TCP_LISTEN")]
    [InlineData(12u, "TCP_NEW_SYN_RECV")]
    [InlineData(0u, "0")]
    [InlineData(99u, "99")]
    public void TcpState_Number_NameOrNumberText(uint state, string expected) =>
        Assert.Equal(expected, PbflowNames.TcpState(state));

    [Theory]
    [InlineData(2u, "SKB_DROP_REASON_NOT_SPECIFIED")]
    [InlineData(3u, "SKB_DROP_REASON_NO_SOCKET")]
    [InlineData(8u, "SKB_DROP_REASON_NETFILTER_DROP")]
    [InlineData(28u, "SKB_DROP_REASON_TCP_INVALID_SEQUENCE")]
    [InlineData(80u, "SKB_DROP_REASON_TC_RECLASSIFY_LOOP")]
    [InlineData((3u << 16) + 1, "OVS_DROP_LAST_ACTION")]
    [InlineData((3u << 16) + 11, "OVS_DROP_IP_TTL")]
    [InlineData(81u, "81")]
    [InlineData((3u << 16) + 12, "196620")]
    [InlineData((1u << 16) + 1, "65537")]
    public void DropCause_Number_NameOrNumberText(uint cause, string expected) =>
        Assert.Equal(expected, PbflowNames.DropCause(cause));

    // The agent's wire format (DESIGN.md "Wire facts"): name -> field number.
    [Theory]
    [InlineData("eth_protocol", 1)]
    [InlineData("direction", 2)]
    [InlineData("time_flow_start", 3)]
    [InlineData("time_flow_end", 4)]
    [InlineData("data_link", 5)]
    [InlineData("network", 6)]
    [InlineData("transport", 7)]
    [InlineData("bytes", 8)]
    [InlineData("packets", 9)]
    [InlineData("interface", 10)]
    [InlineData("duplicate", 11)]
    [InlineData("agent_ip", 12)]
    [InlineData("flags", 13)]
    [InlineData("icmp_type", 14)]
    [InlineData("icmp_code", 15)]
    [InlineData("pkt_drop_bytes", 16)]
    [InlineData("pkt_drop_packets", 17)]
    [InlineData("pkt_drop_latest_flags", 18)]
    [InlineData("pkt_drop_latest_state", 19)]
    [InlineData("pkt_drop_latest_drop_cause", 20)]
    [InlineData("dns_id", 21)]
    [InlineData("dns_flags", 22)]
    [InlineData("dns_latency", 23)]
    [InlineData("time_flow_rtt", 24)]
    [InlineData("dns_errno", 25)]
    [InlineData("dup_list", 26)]
    [InlineData("network_events_metadata", 27)]
    [InlineData("xlat", 28)]
    [InlineData("sampling", 29)]
    [InlineData("ipsec_encrypted", 30)]
    [InlineData("ipsec_encrypted_ret", 31)]
    [InlineData("dns_name", 32)]
    [InlineData("ssl_version", 33)]
    [InlineData("ssl_mismatch", 34)]
    [InlineData("tls_types", 35)]
    [InlineData("tls_cipher_suite", 36)]
    [InlineData("tls_key_share", 37)]
    [InlineData("quic", 38)]
    public void RecordDescriptor_Field_HasAgentFieldNumber(string name, int number) =>
        Assert.Equal(number, Record.Descriptor.FindFieldByName(name).FieldNumber);

    [Fact]
    public void Descriptors_ServiceAndSubMessages_MatchAgentWireFormat()
    {
        Assert.Equal("pbflow.Collector", Collector.Descriptor.FullName);
        Assert.Equal("Send", Collector.Descriptor.Methods[0].Name);
        Assert.Equal("pbflow.Records", Collector.Descriptor.Methods[0].InputType.FullName);
        Assert.Equal("pbflow.CollectorReply", Collector.Descriptor.Methods[0].OutputType.FullName);
        Assert.Empty(CollectorReply.Descriptor.Fields.InFieldNumberOrder());
        Assert.Equal(1, Records.Descriptor.FindFieldByName("entries").FieldNumber);
        Assert.Equal(Google.Protobuf.Reflection.FieldType.Fixed32, IP.Descriptor.FindFieldByName("ipv4").FieldType);
        Assert.Equal(1, IP.Descriptor.FindFieldByName("ipv4").FieldNumber);
        Assert.Equal(2, IP.Descriptor.FindFieldByName("ipv6").FieldNumber);
        Assert.Equal(3, Network.Descriptor.FindFieldByName("dscp").FieldNumber);
        Assert.Equal(3, Transport.Descriptor.FindFieldByName("protocol").FieldNumber);
        Assert.Equal(2, DataLink.Descriptor.FindFieldByName("dst_mac").FieldNumber);
        Assert.Equal(3, DupMapEntry.Descriptor.FindFieldByName("udn").FieldNumber);
        Assert.Equal(5, Xlat.Descriptor.FindFieldByName("zone_id").FieldNumber);
        Assert.Equal(3, Quic.Descriptor.FindFieldByName("seen_short_hdr").FieldNumber);
        Assert.Equal(1, NetworkEvent.Descriptor.FindFieldByName("events").FieldNumber);
        Assert.Equal(1, (int)Direction.Egress);
    }

    [Fact]
    public void Parse_HandEncodedIPv4Address_IsBigEndianFixed32()
    {
        // IP { ipv4 = 10.0.0.1 }: tag (1 << 3 | fixed32) = 0x0D, then 0x0A000001 little-endian on the wire.
        var ip = IP.Parser.ParseFrom([0x0D, 0x01, 0x00, 0x00, 0x0A]);

        Assert.Equal(IPAddress.Parse("10.0.0.1"), PbflowMapper.ToAddress(ip));
    }

    [Fact]
    public void Map_RecordsInTurn_EachKeepsOnlyItsOwnExtraFields()
    {
        var withEverything = TcpRecord();
        withEverything.Quic = new Quic { Version = 1, SeenLongHdr = 1 };
        var tlsOnly = new Record { EthProtocol = 0x0800, SslVersion = 0x0304 };
        var none = new Record { EthProtocol = 0x0800 };

        var first = PbflowMapper.Map(withEverything, Received);
        var second = PbflowMapper.Map(tlsOnly, Received);
        var third = PbflowMapper.Map(none, Received);
        var again = PbflowMapper.Map(withEverything, Received);

        Assert.Equal("""{"TLSVersion":"TLS 1.3"}""", second.ExtraFields);
        Assert.Null(third.ExtraFields);
        Assert.Equal(first.ExtraFields, again.ExtraFields);
        Assert.StartsWith("""{"DnsFlagsResponseCode":"NoError","PktDropLatestFlags":16,""", first.ExtraFields,
            StringComparison.Ordinal);
        Assert.EndsWith(""","QuicVersion":1,"QuicSeenLongHdr":1,"QuicSeenShortHdr":0}""", first.ExtraFields,
            StringComparison.Ordinal);
        Assert.Equal(0, second.ExtraFieldsDropped);
    }

    [Fact]
    public void Map_AgentsInTurn_EachRecordKeepsItsAgentsAddress()
    {
        uint[] agents = [0xC0A80102, 0xC0A80102, 0x0A000001, 0xC0A80102, 0x0A000001, 0x0A000001];
        var flows = agents.Select(agent => PbflowMapper.Map(
            new Record { EthProtocol = 0x0800, AgentIp = new IP { Ipv4 = agent } }, Received)).ToList();

        Assert.Equal(
            ["192.168.1.2", "192.168.1.2", "10.0.0.1", "192.168.1.2", "10.0.0.1", "10.0.0.1"],
            flows.Select(f => f.AgentIP!.ToString()));
        var v6 = PbflowMapper.Map(new Record
        {
            EthProtocol = 0x86DD,
            AgentIp = new IP { Ipv6 = ByteString.CopyFrom(IPAddress.Parse("fd00::7").GetAddressBytes()) },
        }, Received);
        Assert.Equal(IPAddress.Parse("fd00::7"), v6.AgentIP);
        Assert.Null(PbflowMapper.Map(new Record { EthProtocol = 0x0800 }, Received).AgentIP);
    }
}
