using System.Net;
using NetObserv.Flows.Tests.Ipfix;
using NetObserv.Flows.Validation;

namespace NetObserv.Flows.Tests.Validation;

public sealed class FlowValidatorTests
{
    private static readonly DateTimeOffset s_now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly long s_nowMs = s_now.ToUnixTimeMilliseconds();
    private static readonly TimeSpan s_retention = TimeSpan.FromDays(7);
    private static readonly TimeSpan s_skew = TimeSpan.FromMinutes(10);
    private static readonly FlowValidator s_validator = new(s_retention, s_skew, new ManualTimeProvider(s_now));

    /// <summary>A flow with every field set, each at an ordinary value.</summary>
    private static FlowRecord Valid() => new()
    {
        TimeFlowStartMs = s_nowMs - 5_000,
        TimeFlowEndMs = s_nowMs - 1_000,
        TimeReceived = s_nowMs / 1000,
        SrcAddr = IPAddress.Parse("10.0.0.1"),
        DstAddr = IPAddress.Parse("10.0.0.2"),
        SrcMac = 0x0A5800000001,
        DstMac = 0x0A5800000002,
        SrcPort = 40_000,
        DstPort = 443,
        Proto = 6,
        Etype = 2048,
        Flags = 0x112,
        Dscp = 46,
        IcmpType = 8,
        IcmpCode = 0,
        Bytes = 1_000,
        Packets = 3,
        Sampling = 50,
        FlowDirection = 2,
        Interfaces = ["eth0", "br-ex"],
        IfDirections = [0, 1],
        DnsId = 4242,
        DnsFlags = 0x8180,
        DnsLatencyMs = 3,
        DnsErrno = 0,
        DnsName = "api.example.com",
        TimeFlowRttNs = 120_000,
        PktDropBytes = 66,
        PktDropPackets = 1,
        PktDropLatestState = "TCP_ESTABLISHED",
        PktDropLatestDropCause = "SKB_DROP_REASON_NO_SOCKET",
        Src = new KubernetesMetadata
        {
            Name = "web-0",
            Type = "Pod",
            Namespace = "shop",
            OwnerName = "web",
            OwnerType = "Deployment",
            HostName = "node-1",
            Zone = "zone-a",
        },
        Dst = new KubernetesMetadata
        {
            Name = "db-0",
            Type = "Pod",
            Namespace = "data",
            OwnerName = "db",
            OwnerType = "StatefulSet",
            HostName = "node-2",
            Zone = "zone-b",
        },
        K8SFlowLayer = "app",
        K8SClusterName = "prod",
        RecordType = "flowLog",
        HashId = "abc123",
        Tenant = "team-a",
    };

    private static FlowRejection Validate(Action<FlowRecord> change)
    {
        var record = Valid();
        change(record);
        return s_validator.Validate(record, s_nowMs);
    }

    [Fact]
    public void Validate_EveryFieldOrdinary_Accepted()
    {
        var rejection = s_validator.Validate(Valid());

        Assert.False(rejection.IsRejected);
        Assert.Equal("valid", rejection.ToString());
    }

    [Fact]
    public void Validate_EveryFieldAtItsLimit_Accepted()
    {
        var rejection = Validate(r =>
        {
            r.TimeFlowEndMs = s_nowMs + (long)s_skew.TotalMilliseconds;
            r.TimeFlowStartMs = s_nowMs - (long)s_retention.TotalMilliseconds;
            r.SrcPort = 65_535;
            r.DstPort = 0;
            r.Proto = 255;
            r.Etype = 65_535;
            r.Flags = 65_535;
            r.Dscp = 63;
            r.IcmpType = 255;
            r.IcmpCode = 255;
            r.Sampling = int.MaxValue;
            r.Bytes = long.MaxValue / int.MaxValue;
            r.Packets = long.MaxValue / int.MaxValue;
            r.PktDropBytes = long.MaxValue;
            r.SrcMac = FlowLimits.MaxMac;
            r.Interfaces = [.. Enumerable.Repeat(new string('i', FlowLimits.TextBytes), FlowLimits.MaxInterfaces)];
            r.IfDirections = [.. Enumerable.Repeat(1, FlowLimits.MaxInterfaces)];
            r.Src.Namespace = new string('n', FlowLimits.NameBytes);
            r.Dst.OwnerName = new string('o', FlowLimits.NameBytes);
            r.Src.Zone = new string('z', FlowLimits.LabelValueBytes);
            r.HashId = new string('h', FlowLimits.TextBytes);
            r.Tenant = new string('t', FlowLimits.TenantBytes);
        });

        Assert.False(rejection.IsRejected, rejection.ToString());
    }

    public static TheoryData<string, long, string> Numbers => new()
    {
        { "SrcPort", 65_536, "SrcPort 65536 is outside 0..65535" },
        { "SrcPort", -1, "SrcPort -1 is outside 0..65535" },
        { "DstPort", 70_000, "DstPort 70000 is outside 0..65535" },
        { "Proto", 300, "Proto 300 is outside 0..255" },
        { "Etype", 65_536, "Etype 65536 is outside 0..65535" },
        { "Flags", 65_536, "Flags 65536 is outside 0..65535" },
        { "Dscp", 64, "Dscp 64 is outside 0..63" },
        { "IcmpType", 256, "IcmpType 256 is outside 0..255" },
        { "IcmpCode", -3, "IcmpCode -3 is outside 0..255" },
        { "Sampling", -1, "Sampling -1 is outside 0..2147483647" },
        { "FlowDirection", 3, "FlowDirection 3 is outside 0..2" },
        { "FlowDirection", 99, "FlowDirection 99 is outside 0..2" },
        { "DnsId", 65_536, "DnsId 65536 is outside 0..65535" },
        { "DnsFlags", -1, "DnsFlags -1 is outside 0..65535" },
        { "DnsErrno", -1, "DnsErrno -1 is outside 0..2147483647" },
        { "IfDirections", 2, "IfDirections 2 is outside 0..1" },
        { "SrcMac", 1L << 48, "SrcMac 281474976710656 is outside 0..281474976710655" },
    };

    [Theory]
    [MemberData(nameof(Numbers))]
    public void Validate_NumberOutOfRange_ValueOutOfRangeNamingTheField(string field, long value, string message)
    {
        var rejection = Validate(r =>
        {
            var v = (int)Math.Clamp(value, int.MinValue, int.MaxValue);
            switch (field)
            {
                case "SrcPort": r.SrcPort = v; break;
                case "DstPort": r.DstPort = v; break;
                case "Proto": r.Proto = v; break;
                case "Etype": r.Etype = v; break;
                case "Flags": r.Flags = v; break;
                case "Dscp": r.Dscp = v; break;
                case "IcmpType": r.IcmpType = v; break;
                case "IcmpCode": r.IcmpCode = v; break;
                case "Sampling": r.Sampling = v; break;
                case "FlowDirection": r.FlowDirection = v; break;
                case "DnsId": r.DnsId = v; break;
                case "DnsFlags": r.DnsFlags = v; break;
                case "DnsErrno": r.DnsErrno = v; break;
                case "IfDirections": r.IfDirections = [0, v]; break;
                case "SrcMac": r.SrcMac = (ulong)value; break;
            }
        });

        Assert.Equal(FlowRejectReason.ValueOutOfRange, rejection.Reason);
        Assert.Equal("value_out_of_range", rejection.ReasonName);
        Assert.Equal(field, rejection.Field);
        Assert.Equal(message, rejection.ToString());
    }

    [Theory]
    [InlineData("Bytes")]
    [InlineData("Packets")]
    [InlineData("PktDropBytes")]
    [InlineData("PktDropPackets")]
    [InlineData("DnsLatencyMs")]
    [InlineData("TimeFlowRttNs")]
    public void Validate_NegativeCounter_CounterOutOfRange(string field)
    {
        var rejection = Validate(r =>
        {
            switch (field)
            {
                case "Bytes": r.Bytes = -1; break;
                case "Packets": r.Packets = long.MinValue; break;
                case "PktDropBytes": r.PktDropBytes = -5; break;
                case "PktDropPackets": r.PktDropPackets = -5; break;
                case "DnsLatencyMs": r.DnsLatencyMs = -5; break;
                default: r.TimeFlowRttNs = -5; break;
            }
        });

        Assert.Equal(FlowRejectReason.CounterOutOfRange, rejection.Reason);
        Assert.Equal("counter_out_of_range", rejection.ReasonName);
        Assert.Equal(field, rejection.Field);
    }

    [Fact]
    public void Validate_SampledBytesPastInt64_CounterOutOfRange()
    {
        var rejection = Validate(r =>
        {
            r.Sampling = 1000;
            r.Bytes = (long.MaxValue / 1000) + 1;
        });

        Assert.Equal(FlowRejectReason.CounterOutOfRange, rejection.Reason);
        Assert.Equal("Bytes * Sampling", rejection.Field);
        Assert.Equal(((Int128)((long.MaxValue / 1000) + 1)) * 1000, rejection.Value);
    }

    public static TheoryData<string, int, int> Texts => new()
    {
        { "SrcK8S_Namespace", FlowLimits.NameBytes + 1, FlowLimits.NameBytes },
        { "DstK8S_Namespace", 3_000, FlowLimits.NameBytes },
        { "SrcK8S_OwnerName", 1024 * 1024, FlowLimits.NameBytes },
        { "DstK8S_Name", FlowLimits.NameBytes + 1, FlowLimits.NameBytes },
        { "SrcK8S_HostName", FlowLimits.NameBytes + 1, FlowLimits.NameBytes },
        { "SrcK8S_Type", FlowLimits.LabelValueBytes + 1, FlowLimits.LabelValueBytes },
        { "DstK8S_OwnerType", FlowLimits.LabelValueBytes + 1, FlowLimits.LabelValueBytes },
        { "DstK8S_Zone", FlowLimits.LabelValueBytes + 1, FlowLimits.LabelValueBytes },
        { "K8S_FlowLayer", FlowLimits.LabelValueBytes + 1, FlowLimits.LabelValueBytes },
        { "_RecordType", FlowLimits.LabelValueBytes + 1, FlowLimits.LabelValueBytes },
        { "K8S_ClusterName", FlowLimits.NameBytes + 1, FlowLimits.NameBytes },
        { "DnsName", FlowLimits.NameBytes + 1, FlowLimits.NameBytes },
        { "_HashId", FlowLimits.TextBytes + 1, FlowLimits.TextBytes },
        { "PktDropLatestState", FlowLimits.TextBytes + 1, FlowLimits.TextBytes },
        { "PktDropLatestDropCause", FlowLimits.TextBytes + 1, FlowLimits.TextBytes },
        { "Interfaces", FlowLimits.TextBytes + 1, FlowLimits.TextBytes },
        { "Tenant", FlowLimits.TenantBytes + 1, FlowLimits.TenantBytes },
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void Validate_TextPastItsCap_TextTooLongNamingTheField(string field, int length, int cap)
    {
        var text = new string('x', length);
        var rejection = Validate(r =>
        {
            switch (field)
            {
                case "SrcK8S_Namespace": r.Src.Namespace = text; break;
                case "DstK8S_Namespace": r.Dst.Namespace = text; break;
                case "SrcK8S_OwnerName": r.Src.OwnerName = text; break;
                case "DstK8S_Name": r.Dst.Name = text; break;
                case "SrcK8S_HostName": r.Src.HostName = text; break;
                case "SrcK8S_Type": r.Src.Type = text; break;
                case "DstK8S_OwnerType": r.Dst.OwnerType = text; break;
                case "DstK8S_Zone": r.Dst.Zone = text; break;
                case "K8S_FlowLayer": r.K8SFlowLayer = text; break;
                case "_RecordType": r.RecordType = text; break;
                case "K8S_ClusterName": r.K8SClusterName = text; break;
                case "DnsName": r.DnsName = text; break;
                case "_HashId": r.HashId = text; break;
                case "PktDropLatestState": r.PktDropLatestState = text; break;
                case "PktDropLatestDropCause": r.PktDropLatestDropCause = text; break;
                case "Interfaces": r.Interfaces = ["eth0", text]; break;
                case "Tenant": r.Tenant = text; break;
            }
        });

        Assert.Equal(FlowRejectReason.TextTooLong, rejection.Reason);
        Assert.Equal("text_too_long", rejection.ReasonName);
        Assert.Equal(field, rejection.Field);
        Assert.Equal($"{field} is {length} bytes long, more than {cap}", rejection.ToString());
    }

    [Fact]
    public void Validate_TextCountedInUtf8Bytes_MultibyteNamePastCapRefused()
    {
        // 100 characters, 300 bytes: within 253 characters, past 253 bytes.
        var wide = Validate(r => r.Src.Namespace = new string('\u20AC', 100));
        var fits = Validate(r => r.Src.Namespace = new string('\u20AC', 84));

        Assert.Equal(FlowRejectReason.TextTooLong, wide.Reason);
        Assert.Equal(300, wide.Value);
        Assert.False(fits.IsRejected);
    }

    [Fact]
    public void Validate_TooManyInterfaces_Refused()
    {
        var names = Validate(r => r.Interfaces = [.. Enumerable.Repeat("eth0", FlowLimits.MaxInterfaces + 1)]);
        var directions = Validate(r => r.IfDirections = [.. Enumerable.Repeat(0, FlowLimits.MaxInterfaces + 1)]);

        Assert.Equal((FlowRejectReason.TooManyInterfaces, "Interfaces"), (names.Reason, names.Field));
        Assert.Equal((FlowRejectReason.TooManyInterfaces, "IfDirections"), (directions.Reason, directions.Field));
        Assert.Equal("too_many_interfaces", names.ReasonName);
    }

    [Fact]
    public void Validate_EndOneMillisecondBeforeRetention_TooOld()
    {
        var oldest = s_nowMs - (long)s_retention.TotalMilliseconds;

        var rejection = Validate(r =>
        {
            r.TimeFlowStartMs = 0;
            r.TimeFlowEndMs = oldest - 1;
        });
        var atEdge = Validate(r =>
        {
            r.TimeFlowStartMs = 0;
            r.TimeFlowEndMs = oldest;
        });

        Assert.Equal((FlowRejectReason.TooOld, "TimeFlowEndMs"), (rejection.Reason, rejection.Field));
        Assert.Equal("too_old", rejection.ReasonName);
        Assert.Equal(
            $"TimeFlowEndMs {oldest - 1} is before 2026-11-25T12:00:00Z, the start of the retention window (Storage:Retention)",
            rejection.ToString());
        Assert.False(atEdge.IsRejected);
    }

    [Theory]
    [InlineData(1900)]
    [InlineData(1969)]
    [InlineData(1970)]
    [InlineData(2025)]
    public void Validate_EndInAnOldYear_TooOld(int year)
    {
        var rejection = Validate(r =>
        {
            r.TimeFlowStartMs = 0;
            r.TimeFlowEndMs = new DateTimeOffset(year, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        });

        Assert.Equal(FlowRejectReason.TooOld, rejection.Reason);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(86_400_000)]
    [InlineData(long.MaxValue / 2)]
    public void Validate_EndPastSkew_TooFarInFuture(long pastSkewMs)
    {
        var newest = s_nowMs + (long)s_skew.TotalMilliseconds;

        var rejection = Validate(r => r.TimeFlowEndMs = newest + pastSkewMs);

        Assert.Equal((FlowRejectReason.TooFarInFuture, "TimeFlowEndMs"), (rejection.Reason, rejection.Field));
        Assert.Equal("too_far_in_future", rejection.ReasonName);
        Assert.EndsWith("now plus the allowed clock skew (Ingest:MaxFutureSkew)", rejection.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Year9999_TooFarInFuture()
    {
        var rejection = Validate(r =>
            r.TimeFlowEndMs = new DateTimeOffset(9999, 6, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds());

        Assert.Equal(FlowRejectReason.TooFarInFuture, rejection.Reason);
    }

    [Fact]
    public void Validate_StartAfterEnd_StartAfterEnd()
    {
        var rejection = Validate(r => r.TimeFlowStartMs = r.TimeFlowEndMs + 1);

        Assert.Equal((FlowRejectReason.StartAfterEnd, "TimeFlowStartMs"), (rejection.Reason, rejection.Field));
        Assert.Equal("start_after_end", rejection.ReasonName);
    }

    [Fact]
    public void Validate_StartBeforeRetentionEndInside_TooOld()
    {
        var rejection = Validate(r => r.TimeFlowStartMs = s_nowMs - (long)s_retention.TotalMilliseconds - 1);

        Assert.Equal((FlowRejectReason.TooOld, "TimeFlowStartMs"), (rejection.Reason, rejection.Field));
    }

    [Fact]
    public void Validate_StartAbsent_Accepted()
    {
        Assert.False(Validate(r => r.TimeFlowStartMs = 0).IsRejected);
    }

    [Fact]
    public void Validate_ClockMoves_WindowMovesWithIt()
    {
        var clock = new ManualTimeProvider(s_now);
        var validator = new FlowValidator(s_retention, s_skew, clock);
        var record = Valid();
        record.TimeFlowStartMs = 0;
        record.TimeFlowEndMs = s_nowMs + (long)TimeSpan.FromHours(1).TotalMilliseconds;

        var before = validator.Validate(record);
        clock.Advance(TimeSpan.FromHours(1));
        var after = validator.Validate(record);
        clock.Advance(s_retention + TimeSpan.FromHours(1));
        var later = validator.Validate(record);

        Assert.Equal(FlowRejectReason.TooFarInFuture, before.Reason);
        Assert.False(after.IsRejected);
        Assert.Equal(FlowRejectReason.TooOld, later.Reason);
    }

    [Fact]
    public void Validate_RetentionOfMillennia_DescribesTheBoundWithoutThrowing()
    {
        var validator = new FlowValidator(TimeSpan.MaxValue, TimeSpan.Zero, new ManualTimeProvider(s_now));
        var record = Valid();
        record.TimeFlowStartMs = 0;
        record.TimeFlowEndMs = long.MinValue;

        var rejection = validator.Validate(record);

        Assert.Equal(FlowRejectReason.TooOld, rejection.Reason);
        Assert.Contains("0001-01-01T00:00:00Z", rejection.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ReasonName_EveryReason_DistinctSnakeCase()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var reason in FlowValidator.Reasons)
        {
            var name = FlowValidator.ReasonName(reason);
            Assert.Matches("^[a-z_]+$", name);
            Assert.NotEqual("none", name);
            Assert.True(names.Add(name), name);
        }

        Assert.Equal(Enum.GetValues<FlowRejectReason>().Length - 1, names.Count);
    }

    [Fact]
    public void Validate_ValidRecord_AllocatesNothing()
    {
        var record = Valid();
        s_validator.Validate(record, s_nowMs);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            s_validator.Validate(record, s_nowMs);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
