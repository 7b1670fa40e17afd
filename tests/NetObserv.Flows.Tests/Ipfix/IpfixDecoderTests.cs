using System.Net;
using NetObserv.Flows.Ipfix;
using F = NetObserv.Flows.Tests.Ipfix.IpfixTestMessage.Field;

namespace NetObserv.Flows.Tests.Ipfix;

public sealed class IpfixDecoderTests
{
    private static readonly IPAddress s_exporter = IPAddress.Parse("192.0.2.10");
    private static readonly IPAddress s_otherExporter = IPAddress.Parse("192.0.2.11");
    private static readonly DateTimeOffset s_now = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);

    private readonly ManualTimeProvider _clock = new(s_now);

    private IpfixDecoder NewDecoder(IpfixDecoderOptions? options = null) => new(options, _clock);

    private static List<FlowRecord> DecodeAll(IpfixDecoder decoder, IPAddress exporter, params byte[][] packets)
    {
        var output = new List<FlowRecord>();
        foreach (var packet in packets)
        {
            decoder.Decode(packet, exporter, output);
        }

        return output;
    }

    [Fact]
    public void Decode_IPv4TemplateThenData_MapsEveryField()
    {
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix().Template(256,
            new F(8, 4), new F(12, 4), new F(7, 2), new F(11, 2), new F(4, 1), new F(5, 1), new F(6, 2),
            new F(1, 8), new F(2, 8), new F(10, 4), new F(14, 4), new F(56, 6), new F(80, 6), new F(61, 1),
            new F(152, 8), new F(153, 8)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256)
            .Ip("10.1.2.3").Ip("10.4.5.6").U16(43210).U16(443).U8(6).U8(0xB8).U16(0x12)
            .U64(123_456).U64(789).U32(3).U32(7).Mac(0x112233445566).Mac(0xAABBCCDDEEFF).U8(1)
            .U64(1_764_064_800_000).U64(1_764_064_805_500).EndSet().ToArray();

        var records = DecodeAll(decoder, s_exporter, template, data);

        var r = Assert.Single(records);
        Assert.Equal(IPAddress.Parse("10.1.2.3"), r.SrcAddr);
        Assert.Equal(IPAddress.Parse("10.4.5.6"), r.DstAddr);
        Assert.Equal(43210, r.SrcPort);
        Assert.Equal(443, r.DstPort);
        Assert.Equal(6, r.Proto);
        Assert.Equal(0xB8 >> 2, r.Dscp);
        Assert.Equal(0x12, r.Flags);
        Assert.Equal(123_456, r.Bytes);
        Assert.Equal(789, r.Packets);
        Assert.Equal(["3", "7"], r.Interfaces!);
        Assert.Equal([0, 1], r.IfDirections!);
        Assert.Equal(0x112233445566UL, r.SrcMac);
        Assert.Equal(0xAABBCCDDEEFFUL, r.DstMac);
        Assert.Equal(1, r.FlowDirection);
        Assert.Equal(1_764_064_800_000, r.TimeFlowStartMs);
        Assert.Equal(1_764_064_805_500, r.TimeFlowEndMs);
        Assert.Equal(0x0800, r.Etype);
        Assert.Equal(s_exporter, r.AgentIP);
        Assert.Equal(s_now.ToUnixTimeSeconds(), r.TimeReceived);
        Assert.Null(r.Sampling);
        Assert.Null(r.IcmpType);
        Assert.Equal(1, decoder.Counters.Records);
        Assert.Equal(1, decoder.Counters.Templates);
    }

    [Fact]
    public void Decode_IPv6IcmpTemplate_MapsAddressesAndTypeCode()
    {
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix().Template(300,
            new F(27, 16), new F(28, 16), new F(4, 1), new F(139, 2), new F(85, 8), new F(86, 4)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(300)
            .Ip("2001:db8::1").Ip("2001:db8::2").U8(58).U16((128 << 8) | 3).U64(640).U32(5).EndSet().ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, template, data));

        Assert.Equal(IPAddress.Parse("2001:db8::1"), r.SrcAddr);
        Assert.Equal(IPAddress.Parse("2001:db8::2"), r.DstAddr);
        Assert.Equal(0x86DD, r.Etype);
        Assert.Equal(58, r.Proto);
        Assert.Equal(128, r.IcmpType);
        Assert.Equal(3, r.IcmpCode);
        Assert.Equal(640, r.Bytes);
        Assert.Equal(5, r.Packets);
    }

    [Theory]
    [InlineData(32, 0)]    // icmpTypeCodeIPv4
    [InlineData(176, 177)] // icmpTypeIPv4 + icmpCodeIPv4
    [InlineData(178, 179)] // icmpTypeIPv6 + icmpCodeIPv6
    public void Decode_IcmpElements_MapTypeAndCode(int typeElement, int codeElement)
    {
        var decoder = NewDecoder();
        var fields = codeElement == 0
            ? new[] { new F(4, 1), new F(typeElement, 2) }
            : [new F(4, 1), new F(typeElement, 1), new F(codeElement, 1)];
        var template = IpfixTestMessage.Ipfix().Template(256, fields).ToArray();
        var set = IpfixTestMessage.Ipfix().BeginSet(256).U8(1);
        set = codeElement == 0 ? set.U16((8 << 8) | 3) : set.U8(8).U8(3);
        var data = set.EndSet().ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, template, data));

        Assert.Equal(8, r.IcmpType);
        Assert.Equal(3, r.IcmpCode);
    }

    [Fact]
    public void Decode_OctetCountPastInt64_RecordDroppedAsCounterOutOfRangeNeighboursKept()
    {
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix().Template(256, new F(7, 2), new F(1, 8), new F(2, 8)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256)
            .U16(1).U64(100).U64(1)
            .U16(2).U64(ulong.MaxValue).U64(1)
            .U16(3).U64(300).U64((ulong)long.MaxValue + 1)
            .U16(4).U64((ulong)long.MaxValue).U64(4)
            .EndSet().ToArray();

        var records = DecodeAll(decoder, s_exporter, template, data);

        Assert.Equal([1, 4], records.Select(r => r.SrcPort!.Value));
        Assert.Equal(long.MaxValue, records[1].Bytes);
        Assert.Equal(2, decoder.Counters.Dropped(IpfixDropReason.CounterOutOfRange));
    }

    [Fact]
    public void Decode_WideFieldsPastTheirRange_KeptWholeForValidationNotMasked()
    {
        var decoder = NewDecoder();
        // Ports, protocol and ethertype in 4-byte fields: 70,000 must not become 4,464.
        var template = IpfixTestMessage.Ipfix().Template(256, new F(7, 4), new F(11, 4), new F(4, 2), new F(256, 4))
            .ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U32(70_000).U32(443).U16(300).U32(0x10800).EndSet().ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, template, data));

        Assert.Equal(70_000, r.SrcPort);
        Assert.Equal(300, r.Proto);
        Assert.Equal(0x10800, r.Etype);
    }

    [Fact]
    public void Decode_SecondsPastMillisecondRange_SaturatesInsteadOfWrapping()
    {
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix().Template(256, new F(150, 8), new F(151, 8)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U64(1).U64((ulong)long.MaxValue / 100).EndSet().ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, template, data));

        Assert.Equal(long.MaxValue / 1000 * 1000, r.TimeFlowEndMs);
    }

    [Fact]
    public void Decode_IcmpElementsOnTcpFlow_Ignored()
    {
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix().Template(256, new F(4, 1), new F(32, 2)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U8(6).U16(0x0303).EndSet().ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, template, data));

        Assert.Null(r.IcmpType);
        Assert.Null(r.IcmpCode);
    }

    [Fact]
    public void Decode_PostMacElements_UsedWhenPlainOnesAbsent()
    {
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix().Template(256, new F(81, 6), new F(57, 6)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).Mac(0x0A0B0C0D0E0F).Mac(0x010203040506).EndSet().ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, template, data));

        Assert.Equal(0x0A0B0C0D0E0FUL, r.SrcMac);
        Assert.Equal(0x010203040506UL, r.DstMac);
    }

    [Fact]
    public void Decode_DeltaAndTotalCounts_DeltaWins()
    {
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix().Template(256, new F(85, 8), new F(1, 4), new F(86, 8), new F(2, 2)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U64(999_999).U32(1500).U64(888).U16(3).EndSet().ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, template, data));

        Assert.Equal(1500, r.Bytes);
        Assert.Equal(3, r.Packets);
    }

    [Fact]
    public void Decode_StartEndSeconds_ConvertedToMilliseconds()
    {
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix().Template(256, new F(150, 4), new F(151, 4)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U32(1_764_064_800).U32(1_764_064_830).EndSet().ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, template, data));

        Assert.Equal(1_764_064_800_000, r.TimeFlowStartMs);
        Assert.Equal(1_764_064_830_000, r.TimeFlowEndMs);
    }

    [Theory]
    [InlineData(154, 155)] // dateTimeMicroseconds
    [InlineData(156, 157)] // dateTimeNanoseconds
    public void Decode_NtpTimestamps_ConvertedToUnixMilliseconds(int startElement, int endElement)
    {
        const ulong NtpOffset = 2_208_988_800;
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix().Template(256, new F(startElement, 8), new F(endElement, 8)).ToArray();

        // 1,764,064,800.25 s and 1,764,064,801.5 s: fractions of 2^32.
        var start = ((1_764_064_800 + NtpOffset) << 32) | 0x4000_0000UL;
        var end = ((1_764_064_801 + NtpOffset) << 32) | 0x8000_0000UL;
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U64(start).U64(end).EndSet().ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, template, data));

        Assert.Equal(1_764_064_800_250, r.TimeFlowStartMs);
        Assert.Equal(1_764_064_801_500, r.TimeFlowEndMs);
    }

    [Fact]
    public void Decode_SysUpTimeWithSystemInitOptionsRecord_UsesInitTime()
    {
        const long Init = 1_764_000_000_000;
        var decoder = NewDecoder();
        var options = IpfixTestMessage.Ipfix(exportTime: 1_764_000_100).BeginSet(3).OptionsTemplateRecord(257, 1, new F(149, 4), new F(160, 8)).EndSet()
            .BeginSet(257).U32(1).U64(Init).EndSet().ToArray();
        var template = IpfixTestMessage.Ipfix(exportTime: 1_764_000_100).Template(256, new F(22, 4), new F(21, 4), new F(1, 4)).ToArray();
        var data = IpfixTestMessage.Ipfix(exportTime: 1_764_000_100).BeginSet(256).U32(5_000).U32(9_000).U32(100).EndSet().ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, options, template, data));

        Assert.Equal(Init + 5_000, r.TimeFlowStartMs);
        Assert.Equal(Init + 9_000, r.TimeFlowEndMs);
        Assert.Equal(1, decoder.Counters.OptionsRecords);
    }

    [Fact]
    public void Decode_SysUpTimeWithSystemInitInRecord_UsesRecordValue()
    {
        const long Init = 1_764_000_000_000;
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix(exportTime: 1_764_000_100).Template(256, new F(160, 8), new F(22, 4), new F(21, 4)).ToArray();
        var data = IpfixTestMessage.Ipfix(exportTime: 1_764_000_100).BeginSet(256).U64(Init).U32(10).U32(20).EndSet().ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, template, data));

        Assert.Equal(Init + 10, r.TimeFlowStartMs);
        Assert.Equal(Init + 20, r.TimeFlowEndMs);
    }

    [Fact]
    public void Decode_SysUpTimeBeforeSystemInit_WrapsBack()
    {
        // An exporter whose init time is later than the flow (a replayed capture): the offset is
        // -11,182 ms written as an unsigned 32-bit number.
        const long Init = 1_795_601_943_181;
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix(exportTime: 1_795_601_944).Template(256, new F(160, 8), new F(22, 4), new F(21, 4))
            .ToArray();
        var data = IpfixTestMessage.Ipfix(exportTime: 1_795_601_944).BeginSet(256)
            .U64(Init).U32(unchecked((uint)-11_182)).U32(unchecked((uint)-9_182)).EndSet().ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, template, data));

        Assert.Equal(Init - 11_182, r.TimeFlowStartMs);
        Assert.Equal(Init - 9_182, r.TimeFlowEndMs);
    }

    [Fact]
    public void Decode_NetflowV9UptimeWrapped_SwitchedTimesBeforeWrap()
    {
        // Uptime wrapped to 1,000 ms; the flow started 3,000 ms before the export (offset 2^32 - 2,000).
        const uint Unix = 1_764_064_800;
        var decoder = NewDecoder();
        var packet = IpfixTestMessage.NetflowV9(1_000, Unix)
            .Template(260, new F(22, 4), new F(21, 4))
            .BeginSet(260).U32(unchecked((uint)-2_000)).U32(500).EndSet().ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, packet));

        Assert.Equal((Unix * 1000L) - 3_000, r.TimeFlowStartMs);
        Assert.Equal((Unix * 1000L) - 500, r.TimeFlowEndMs);
    }

    [Fact]
    public void Decode_NoTimeFields_UsesExportTime()
    {
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix(exportTime: 1_764_064_999).Template(256, new F(1, 4)).ToArray();
        var data = IpfixTestMessage.Ipfix(exportTime: 1_764_064_999).BeginSet(256).U32(1).EndSet().ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, template, data));

        Assert.Equal(1_764_064_999_000, r.TimeFlowStartMs);
        Assert.Equal(1_764_064_999_000, r.TimeFlowEndMs);
    }

    [Fact]
    public void Decode_NetflowV9_UsesHeaderUptimeForSwitchedTimes()
    {
        const uint Unix = 1_764_064_800;
        const uint Uptime = 3_600_000;
        var decoder = NewDecoder();
        var packet = IpfixTestMessage.NetflowV9(Uptime, Unix, sourceId: 7)
            .Template(260, new F(8, 4), new F(12, 4), new F(22, 4), new F(21, 4), new F(1, 4), new F(2, 4), new F(6, 1))
            .BeginSet(260).Ip("10.0.0.1").Ip("10.0.0.2").U32(3_590_000).U32(3_595_000).U32(4242).U32(7).U8(0x1B)
            .EndSet(padding: 3).ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, packet));

        var init = (Unix * 1000L) - Uptime;
        Assert.Equal(init + 3_590_000, r.TimeFlowStartMs);
        Assert.Equal(init + 3_595_000, r.TimeFlowEndMs);
        Assert.Equal(4242, r.Bytes);
        Assert.Equal(7, r.Packets);
        Assert.Equal(0x1B, r.Flags);
        Assert.Equal(IPAddress.Parse("10.0.0.1"), r.SrcAddr);
    }

    [Fact]
    public void Decode_SamplingIntervalInRecord_SetsSampling()
    {
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix().Template(256, new F(1, 4), new F(34, 4)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U32(100).U32(64).EndSet().ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, template, data));

        Assert.Equal(64, r.Sampling);
        Assert.Equal(6400, r.SampledBytes);
    }

    [Fact]
    public void Decode_PacketIntervalAndSpace_SamplingIsOneInIntervalPlusSpace()
    {
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix().Template(256, new F(1, 4), new F(305, 4), new F(306, 4)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U32(100).U32(1).U32(399).EndSet().ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, template, data));

        Assert.Equal(400, r.Sampling);
    }

    [Fact]
    public void Decode_SamplerOptionsRecord_AppliedToSameExporterOnly()
    {
        var decoder = NewDecoder();
        var options = IpfixTestMessage.Ipfix().BeginSet(3).OptionsTemplateRecord(400, 1, new F(48, 2), new F(34, 4)).EndSet()
            .BeginSet(400).U16(5).U32(250).EndSet().ToArray();
        var template = IpfixTestMessage.Ipfix().Template(256, new F(1, 4)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U32(10).EndSet().ToArray();

        var sampled = DecodeAll(decoder, s_exporter, options, template, data);
        var other = DecodeAll(decoder, s_otherExporter, template, data);

        Assert.Equal(250, Assert.Single(sampled).Sampling);
        Assert.Null(Assert.Single(other).Sampling);
    }

    [Fact]
    public void Decode_SamplerIdInData_UsesThatSampler()
    {
        var decoder = NewDecoder();
        var options = IpfixTestMessage.Ipfix().BeginSet(3).OptionsTemplateRecord(400, 1, new F(302, 4), new F(305, 4), new F(306, 4))
            .EndSet().BeginSet(400).U32(1).U32(1).U32(9).U32(2).U32(1).U32(49).EndSet().ToArray();
        var template = IpfixTestMessage.Ipfix().Template(256, new F(302, 4), new F(1, 4)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U32(1).U32(10).U32(2).U32(20).EndSet().ToArray();

        var records = DecodeAll(decoder, s_exporter, options, template, data);

        Assert.Equal(2, records.Count);
        Assert.Equal(10, records[0].Sampling);
        Assert.Equal(50, records[1].Sampling);
    }

    [Fact]
    public void Decode_DefaultSamplingConfigured_AppliedWhenExporterReportsNone()
    {
        var decoder = NewDecoder(new IpfixDecoderOptions { DefaultSampling = 50 });
        var template = IpfixTestMessage.Ipfix().Template(256, new F(1, 4)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U32(10).EndSet().ToArray();

        Assert.Equal(50, Assert.Single(DecodeAll(decoder, s_exporter, template, data)).Sampling);
    }

    [Fact]
    public void Decode_NetflowV9SamplerOptions_AppliedToData()
    {
        var decoder = NewDecoder();

        // Options template: scope System (type 1, 4 bytes); options FLOW_SAMPLER_ID (48, 1),
        // FLOW_SAMPLER_MODE (49, 1), FLOW_SAMPLER_RANDOM_INTERVAL (50, 4); then 2 bytes of padding.
        var packet = IpfixTestMessage.NetflowV9(1000, 1_764_064_800)
            .BeginSet(1).U16(270).U16(4).U16(12).U16(1).U16(4).U16(48).U16(1).U16(49).U16(1).U16(50).U16(4).EndSet(padding: 2)
            .BeginSet(270).U32(0).U8(3).U8(2).U32(128).EndSet(padding: 2)
            .Template(271, new F(1, 4), new F(48, 1))
            .BeginSet(271).U32(77).U8(3).EndSet(padding: 3).ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, packet));

        Assert.Equal(128, r.Sampling);
        Assert.Equal(77, r.Bytes);
        Assert.True(decoder.Counters.Dropped(IpfixDropReason.BadTemplate) == 0);
    }

    [Fact]
    public void Decode_VariableLengthFields_ShortAndLongForms()
    {
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix().Template(256, new F(82, 65535), new F(1, 4), new F(96, 65535), new F(2, 4)).ToArray();
        var longValue = new byte[300];
        var data = IpfixTestMessage.Ipfix().BeginSet(256)
            .U8(4).Raw("eth0"u8).U32(11).U8(255).U16(300).Raw(longValue).U32(1)
            .U8(3).Raw("br0"u8).U32(22).U8(0).U32(2)
            .EndSet().ToArray();

        var records = DecodeAll(decoder, s_exporter, template, data);

        Assert.Equal(2, records.Count);
        Assert.Equal(["eth0"], records[0].Interfaces!);
        Assert.Equal(11, records[0].Bytes);
        Assert.Equal(1, records[0].Packets);
        Assert.Equal(["br0"], records[1].Interfaces!);
        Assert.Equal(22, records[1].Bytes);
        Assert.Equal(2, records[1].Packets);
    }

    [Fact]
    public void Decode_EnterpriseElements_SkippedByLength()
    {
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix().Template(256,
            new F(1, 4, Enterprise: 2), new F(1, 4), new F(7733, 65535, Enterprise: 2), new F(2, 4)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U32(9999).U32(500).U8(5).Raw("ns-01"u8).U32(4).EndSet().ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, template, data));

        Assert.Equal(500, r.Bytes);
        Assert.Equal(4, r.Packets);
    }

    [Fact]
    public void Decode_TemplateWithdrawn_LaterDataCountedMissing()
    {
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix().Template(256, new F(1, 4)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U32(10).EndSet().ToArray();
        var withdraw = IpfixTestMessage.Ipfix().BeginSet(2).U16(256).U16(0).EndSet().ToArray();

        var before = DecodeAll(decoder, s_exporter, template, data);
        var after = DecodeAll(decoder, s_exporter, withdraw, data);

        Assert.Single(before);
        Assert.Empty(after);
        Assert.Equal(1, decoder.Counters.Dropped(IpfixDropReason.MissingTemplate));
    }

    [Fact]
    public void Decode_WithdrawAllTemplates_RemovesDataTemplatesKeepsOptions()
    {
        var decoder = NewDecoder();
        var setup = IpfixTestMessage.Ipfix()
            .BeginSet(2).TemplateRecord(256, new F(1, 4)).TemplateRecord(257, new F(2, 4)).EndSet()
            .BeginSet(3).OptionsTemplateRecord(258, 1, new F(48, 1), new F(34, 4)).EndSet().ToArray();
        var withdrawAll = IpfixTestMessage.Ipfix().BeginSet(2).U16(2).U16(0).EndSet().ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U32(1).EndSet().BeginSet(257).U32(1).EndSet()
            .BeginSet(258).U8(1).U32(20).EndSet().ToArray();

        var records = DecodeAll(decoder, s_exporter, setup, withdrawAll, data);

        Assert.Empty(records);
        Assert.Equal(2, decoder.Counters.Dropped(IpfixDropReason.MissingTemplate));
        Assert.Equal(1, decoder.Counters.OptionsRecords);
    }

    [Fact]
    public void Decode_SetPadding_Ignored()
    {
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix().BeginSet(2).TemplateRecord(256, new F(1, 4), new F(2, 2)).EndSet(padding: 2).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U32(10).U16(1).U32(20).U16(2).EndSet(padding: 5).ToArray();

        var records = DecodeAll(decoder, s_exporter, template, data);

        Assert.Equal([10L, 20L], records.Select(r => r.Bytes));
        Assert.Equal(0, IpfixDecodeCountersTotal(decoder.Counters));
    }

    [Fact]
    public void Decode_DataBeforeTemplate_CountedAndKeptNothingThenDecodesAfterTemplate()
    {
        var decoder = NewDecoder();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U32(10).EndSet().ToArray();
        var template = IpfixTestMessage.Ipfix().Template(256, new F(1, 4)).ToArray();
        var output = new List<FlowRecord>();

        var early = decoder.Decode(data, s_exporter, output);
        DecodeAll(decoder, s_exporter, template);
        var late = decoder.Decode(data, s_exporter, output);

        Assert.Equal(IpfixDropReason.MissingTemplate, early.Reason);
        Assert.Equal(0, early.Records);
        Assert.True(late.IsClean);
        Assert.Equal(10, Assert.Single(output).Bytes);
        Assert.Equal(1, decoder.Counters.Dropped(IpfixDropReason.MissingTemplate));
    }

    [Fact]
    public void Decode_SameTemplateIdFromOtherExporterOrDomain_KeptApart()
    {
        var decoder = NewDecoder();
        var a = IpfixTestMessage.Ipfix(domain: 1).Template(256, new F(1, 4)).ToArray();
        var b = IpfixTestMessage.Ipfix(domain: 2).Template(256, new F(2, 4)).ToArray();
        var c = IpfixTestMessage.Ipfix(domain: 1).Template(256, new F(1, 2), new F(2, 2)).ToArray();
        var dataDomain1 = IpfixTestMessage.Ipfix(domain: 1).BeginSet(256).U32(0x00050006).EndSet().ToArray();
        var dataDomain2 = IpfixTestMessage.Ipfix(domain: 2).BeginSet(256).U32(0x00050006).EndSet().ToArray();

        DecodeAll(decoder, s_exporter, a, b);
        DecodeAll(decoder, s_otherExporter, c);
        var r1 = Assert.Single(DecodeAll(decoder, s_exporter, dataDomain1));
        var r2 = Assert.Single(DecodeAll(decoder, s_exporter, dataDomain2));
        var r3 = Assert.Single(DecodeAll(decoder, s_otherExporter, dataDomain1));

        Assert.Equal((0x00050006L, 0L), (r1.Bytes, r1.Packets));
        Assert.Equal((0L, 0x00050006L), (r2.Bytes, r2.Packets));
        Assert.Equal((5L, 6L), (r3.Bytes, r3.Packets));
    }

    [Fact]
    public void Decode_TemplateOlderThanLifetime_DataCountedMissing()
    {
        var decoder = NewDecoder(new IpfixDecoderOptions { TemplateLifetime = TimeSpan.FromMinutes(5) });
        var template = IpfixTestMessage.Ipfix().Template(256, new F(1, 4)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U32(10).EndSet().ToArray();

        DecodeAll(decoder, s_exporter, template);
        _clock.Advance(TimeSpan.FromMinutes(4));
        var inTime = DecodeAll(decoder, s_exporter, data);
        DecodeAll(decoder, s_exporter, template); // refresh
        _clock.Advance(TimeSpan.FromMinutes(4));
        var refreshed = DecodeAll(decoder, s_exporter, data);
        _clock.Advance(TimeSpan.FromMinutes(2));
        var expired = DecodeAll(decoder, s_exporter, data);

        Assert.Single(inTime);
        Assert.Single(refreshed);
        Assert.Empty(expired);
        Assert.Equal(1, decoder.Counters.Dropped(IpfixDropReason.MissingTemplate));
    }

    [Fact]
    public void Decode_ExporterLimitReached_LeastRecentlySeenForgottenNewOneKept()
    {
        var decoder = NewDecoder(new IpfixDecoderOptions { MaxExporters = 4 });
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U32(10).EndSet().ToArray();
        var template = IpfixTestMessage.Ipfix().Template(256, new F(1, 4)).ToArray();
        var exporters = Enumerable.Range(1, 5).Select(i => IPAddress.Parse("198.18.0." + i)).ToArray();

        for (var i = 0; i < 4; i++)
        {
            DecodeAll(decoder, exporters[i], template);
            _clock.Advance(TimeSpan.FromSeconds(1));
        }

        DecodeAll(decoder, exporters[4], template);

        Assert.Equal(4, decoder.ExporterCount);
        Assert.Empty(DecodeAll(decoder, exporters[0], data));
        Assert.Single(DecodeAll(decoder, exporters[4], data));
    }

    [Fact]
    public void Decode_ReducedSizeEncoding_ReadsShortIntegers()
    {
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix().Template(256, new F(1, 3), new F(2, 1), new F(152, 6)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U8(0x01).U16(0x0203).U8(9)
            .U16(0x0191).U32(0xB8B3_5C00).EndSet().ToArray();

        var r = Assert.Single(DecodeAll(decoder, s_exporter, template, data));

        Assert.Equal(0x010203, r.Bytes);
        Assert.Equal(9, r.Packets);
        Assert.Equal(0x0191_B8B3_5C00, r.TimeFlowStartMs);
    }

    public static TheoryData<string, byte[], IpfixDropReason> MalformedPackets()
    {
        var good = IpfixTestMessage.Ipfix().Template(256, new F(1, 4)).ToArray();
        var data = new TheoryData<string, byte[], IpfixDropReason>
        {
            { "empty", [], IpfixDropReason.TruncatedHeader },
            { "three bytes", [0, 10, 0], IpfixDropReason.TruncatedHeader },
            { "ipfix header cut", good[..12], IpfixDropReason.TruncatedHeader },
            { "v9 header cut", IpfixTestMessage.NetflowV9(1, 2).ToArray()[..15], IpfixDropReason.TruncatedHeader },
            { "version 5", [0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], IpfixDropReason.UnknownVersion },
            { "version 11", [0, 11, .. good[2..]], IpfixDropReason.UnknownVersion },
            { "length past packet", good[..^1], IpfixDropReason.BadMessageLength },
            { "length below header", [.. good[..2], 0, 8, .. good[4..]], IpfixDropReason.BadMessageLength },
            {
                "set length below 4",
                IpfixTestMessage.Ipfix().U16(256).U16(2).U32(0).ToArray(), IpfixDropReason.BadSetLength
            },
            {
                "set length past message",
                IpfixTestMessage.Ipfix().U16(256).U16(40).U32(0).ToArray(), IpfixDropReason.BadSetLength
            },
            {
                "trailing bytes after sets",
                IpfixTestMessage.Ipfix().U16(10).U16(4).U16(0).ToArray(), IpfixDropReason.BadSetLength
            },
            {
                "zero-length template",
                IpfixTestMessage.Ipfix().Template(256, new F(1, 0), new F(2, 0)).ToArray(), IpfixDropReason.BadTemplate
            },
            {
                "v9 template without fields",
                IpfixTestMessage.NetflowV9(1, 2).BeginSet(0).U16(256).U16(0).U32(0).EndSet().ToArray(), IpfixDropReason.BadTemplate
            },
            {
                "absurd field count",
                IpfixTestMessage.Ipfix().BeginSet(2).U16(256).U16(60000).U16(1).U16(4).EndSet().ToArray(), IpfixDropReason.BadTemplate
            },
            {
                "more fields than any template has",
                IpfixTestMessage.Ipfix().Template(256, Enumerable.Repeat(new F(1, 1), IpfixDecoder.MaxFieldsPerTemplate + 1).ToArray())
                    .ToArray(),
                IpfixDropReason.BadTemplate
            },
            {
                "template id below 256",
                IpfixTestMessage.Ipfix().BeginSet(2).U16(100).U16(1).U16(1).U16(4).EndSet().ToArray(), IpfixDropReason.BadTemplate
            },
            {
                "enterprise number cut",
                IpfixTestMessage.Ipfix().BeginSet(2).U16(256).U16(1).U16(0x8001).U16(4).U16(0).EndSet().ToArray(), IpfixDropReason.BadTemplate
            },
            {
                "options scope count zero",
                IpfixTestMessage.Ipfix().BeginSet(3).U16(256).U16(1).U16(0).U16(34).U16(4).EndSet().ToArray(), IpfixDropReason.BadTemplate
            },
            {
                "options scope count above field count",
                IpfixTestMessage.Ipfix().BeginSet(3).U16(256).U16(1).U16(2).U16(34).U16(4).EndSet().ToArray(), IpfixDropReason.BadTemplate
            },
            {
                "v9 options lengths past flowset",
                IpfixTestMessage.NetflowV9(1, 2).BeginSet(1).U16(256).U16(4).U16(400).U16(1).U16(4).EndSet().ToArray(), IpfixDropReason.BadTemplate
            },
            {
                "variable-length field past set",
                IpfixTestMessage.Ipfix().Template(256, new F(82, 65535)).BeginSet(256).U8(20).Raw("eth0"u8).EndSet().ToArray(),
                IpfixDropReason.BadRecord
            },
            {
                "long variable-length prefix cut",
                IpfixTestMessage.Ipfix().Template(256, new F(82, 65535)).BeginSet(256).U8(255).U8(1).EndSet().ToArray(),
                IpfixDropReason.BadRecord
            },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(MalformedPackets))]
    public void Decode_MalformedPacket_CountedByReasonWithoutThrowing(string name, byte[] packet, IpfixDropReason reason)
    {
        var decoder = NewDecoder();
        var output = new List<FlowRecord>();

        var result = decoder.Decode(packet, s_exporter, output);

        Assert.True(result.Reason == reason, $"{name}: expected {reason}, got {result.Reason} at {result.Offset}");
        Assert.Empty(output);
        Assert.Equal(1, decoder.Counters.Dropped(reason));
    }

    [Fact]
    public void Decode_MalformedPacketFromOneExporter_OthersTemplatesIntact()
    {
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix().Template(256, new F(1, 4)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U32(10).EndSet().ToArray();

        // Same template id, from another exporter, with a field count that cannot be true.
        var bad = IpfixTestMessage.Ipfix().BeginSet(2).U16(256).U16(9000).U16(2).U16(4).EndSet().ToArray();
        var badSameExporter = IpfixTestMessage.Ipfix().BeginSet(2).U16(256).U16(2).U16(2).U16(4).EndSet().ToArray();

        DecodeAll(decoder, s_exporter, template);
        DecodeAll(decoder, s_otherExporter, bad);
        DecodeAll(decoder, s_exporter, badSameExporter);
        var r = Assert.Single(DecodeAll(decoder, s_exporter, data));

        Assert.Equal(10, r.Bytes);
        Assert.Equal(2, decoder.Counters.Dropped(IpfixDropReason.BadTemplate));
    }

    [Fact]
    public void Decode_RecordsBeforeMalformedSet_Kept()
    {
        var decoder = NewDecoder();
        var packet = IpfixTestMessage.Ipfix().Template(256, new F(1, 4))
            .BeginSet(256).U32(10).U32(20).EndSet().U16(256).U16(50).ToArray();

        var output = new List<FlowRecord>();
        var result = decoder.Decode(packet, s_exporter, output);

        Assert.Equal(2, result.Records);
        Assert.Equal(IpfixDropReason.BadSetLength, result.Reason);
        // Header 16, template set 12, data set 12: the bad set starts at 40.
        Assert.Equal(16 + 12 + 12, result.Offset);
    }

    [Fact]
    public void Decode_IPv4MappedExporter_SameSessionAsIPv4()
    {
        var decoder = NewDecoder();
        var template = IpfixTestMessage.Ipfix().Template(256, new F(1, 4)).ToArray();
        var data = IpfixTestMessage.Ipfix().BeginSet(256).U32(10).EndSet().ToArray();

        DecodeAll(decoder, s_exporter.MapToIPv6(), template);
        var r = Assert.Single(DecodeAll(decoder, s_exporter, data));

        Assert.Equal(s_exporter, r.AgentIP);
    }

    [Fact]
    public void Fuzz_ValidMessage_ReturnsItsRecords()
    {
        var packet = IpfixTestMessage.Ipfix().Template(256, new F(1, 4)).BeginSet(256).U32(10).EndSet().ToArray();

        // Decoded twice by the fuzz entry point: once per pass.
        Assert.Equal(2, IpfixDecoder.Fuzz(packet));
    }

    private static long IpfixDecodeCountersTotal(IpfixDecodeCounters counters)
    {
        long total = 0;
        foreach (var reason in IpfixDecodeCounters.Reasons)
        {
            total += counters.Dropped(reason);
        }

        return total;
    }
}
