using System.Net;
using System.Text;
using NetObserv.Flows.LokiPush;
using NetObserv.Flows.Tests.Ipfix;
using NetObserv.Flows.Validation;

namespace NetObserv.Flows.Tests.LokiPush;

public sealed class LokiPushFlowReaderTests
{
    private static FlowRecord SecondRecord() => new()
    {
        TimeFlowStartMs = 1_700_000_100_000,
        TimeFlowEndMs = 1_700_000_105_000,
        TimeReceived = 1_700_000_106,
        SrcAddr = IPAddress.Parse("10.129.2.7"),
        DstAddr = IPAddress.Parse("172.30.0.10"),
        SrcPort = 53000,
        DstPort = 53,
        Proto = 17,
        Etype = 2048,
        Bytes = 300,
        Packets = 2,
        Sampling = 1,
        FlowDirection = 2,
        Interfaces = ["br-ex"],
        IfDirections = [0],
        AgentIP = IPAddress.Parse("192.168.1.11"),
        Src = new KubernetesMetadata { Name = "api-1", Type = "Pod", Namespace = "shop", OwnerName = "api", OwnerType = "StatefulSet" },
        Dst = new KubernetesMetadata { Name = "dns-default", Type = "Service", Namespace = "openshift-dns", OwnerName = "dns-default", OwnerType = "Service" },
        K8SFlowLayer = "infra",
    };

    private static LokiPushRequest Decode(IEnumerable<PushStream> streams, LokiLabelLimits? limits = null)
    {
        var request = new LokiPushRequest();
        Assert.True(LokiPushJsonDecoder.TryDecode(PushBodies.Json(streams), request, limits ?? LokiLabelLimits.Default,
            out var error), error);
        return request;
    }

    private static LokiPushBatch Read(LokiPushRequest request, string tenant = "default", int maxLineBytes = 1 << 20)
    {
        var batch = new LokiPushBatch();
        LokiPushFlowReader.Read(request, tenant, maxLineBytes, batch);
        return batch;
    }

    [Fact]
    public void Read_WithValidator_LineTheStoreCannotHoldRejectedWithItsReasonOthersKept()
    {
        var now = DateTimeOffset.FromUnixTimeMilliseconds(SecondRecord().TimeFlowEndMs + 60_000);
        var validator = new FlowValidator(TimeSpan.FromDays(7), TimeSpan.FromMinutes(10), new ManualTimeProvider(now));
        var longNamespace = SecondRecord();
        // Within the label value limit (2048 bytes, checked first) but past what a namespace can be.
        longNamespace.Src.Namespace = new string('n', 2_000);
        var badPort = SecondRecord();
        badPort.SrcPort = 70_000;
        var old = SecondRecord();
        old.TimeFlowStartMs = 0;
        old.TimeFlowEndMs = now.AddDays(-8).ToUnixTimeMilliseconds();
        var streams = new[] { SecondRecord(), longNamespace, badPort, old }.Select(r => PushBodies.FlpStream(r));
        var request = Decode(streams);
        var batch = new LokiPushBatch();

        LokiPushFlowReader.Read(request, "default", 1 << 20, validator, batch);

        Assert.Single(batch.Records);
        Assert.Equal(3, batch.Rejected);
        Assert.Equal(1, batch.RejectedByReason["text_too_long"]);
        Assert.Equal(1, batch.RejectedByReason["value_out_of_range"]);
        Assert.Equal(1, batch.RejectedByReason["too_old"]);
        Assert.Contains(batch.Errors, e => e.Contains("entry 0: SrcK8S_Namespace is 2000 bytes long, more than 253",
            StringComparison.Ordinal));
        Assert.Contains(batch.Errors, e => e.Contains("SrcPort 70000 is outside 0..65535", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_FlpSplitLines_RebuildsEveryField()
    {
        FlowRecord[] records = [FlowRecordJsonTests.FullRecord(), SecondRecord()];
        var streams = records.Select(r => PushBodies.FlpStream(r)).ToArray();
        Assert.DoesNotContain("SrcK8S_Namespace", streams[0].Entries[0].Line, StringComparison.Ordinal);

        var batch = Read(Decode(streams), tenant: "team-a");

        Assert.Equal(0, batch.Rejected);
        Assert.Equal(records.Length, batch.Records.Count);
        for (var i = 0; i < records.Length; i++)
        {
            Assert.Equal(FlowRecordJson.ToJson(records[i]), FlowRecordJson.ToJson(batch.Records[i]));
            Assert.Equal("team-a", batch.Records[i].Tenant);
        }
    }

    [Fact]
    public void Read_EveryFieldAsLabel_RebuildsEveryField()
    {
        var record = FlowRecordJsonTests.FullRecord();
        string[] all =
        [
            "TimeFlowStartMs", "TimeFlowEndMs", "TimeReceived", "SrcAddr", "DstAddr", "SrcMac", "DstMac", "SrcPort",
            "DstPort", "Proto", "Etype", "Dscp", "IcmpType", "IcmpCode", "Bytes", "Packets", "Sampling",
            "FlowDirection", "Duplicate", "AgentIP", "DnsId", "DnsFlags", "DnsLatencyMs", "DnsErrno", "DnsName",
            "TimeFlowRttNs", "PktDropBytes", "PktDropPackets", "PktDropLatestState", "PktDropLatestDropCause",
            "K8S_FlowLayer", "K8S_ClusterName", "_RecordType", "_HashId", "SrcK8S_Name", "SrcK8S_Type",
            "SrcK8S_Namespace", "SrcK8S_OwnerName", "SrcK8S_OwnerType", "SrcK8S_HostIP", "SrcK8S_HostName",
            "SrcK8S_Zone", "DstK8S_Name", "DstK8S_Type", "DstK8S_Namespace", "DstK8S_OwnerName", "DstK8S_OwnerType",
            "DstK8S_HostIP", "DstK8S_HostName",
        ];
        var stream = PushBodies.FlpStream(record, all);

        // 50 labels: over the default limit, which a deployment would raise to send this.
        var batch = Read(Decode([stream], LokiLabelLimits.Default with { MaxLabelNamesPerSeries = all.Length + 1 }));

        Assert.True(batch.Rejected == 0, string.Join("; ", batch.Errors));
        Assert.Equal(FlowRecordJson.ToJson(record), FlowRecordJson.ToJson(Assert.Single(batch.Records)));
    }

    [Fact]
    public void Read_LineHasTheLabelField_LineWins()
    {
        var record = SecondRecord();
        var stream = PushBodies.FlpStream(record, []);
        var labels = new List<KeyValuePair<string, string>>(stream.Labels)
        {
            new("SrcK8S_Namespace", "other"),
            new("FlowDirection", "0"),
        };

        var batch = Read(Decode([stream with { Labels = labels }]));

        var read = Assert.Single(batch.Records);
        Assert.Equal("shop", read.Src.Namespace);
        Assert.Equal(2, read.FlowDirection);
    }

    [Fact]
    public void Read_LineWithoutTimeFlowEndMs_UsesEntryTimestamp()
    {
        var stream = new PushStream([new("app", "netobserv-flowcollector")],
            [new(1_700_000_123_456_789_012, "{\"SrcAddr\":\"10.0.0.1\",\"Bytes\":5}")]);

        var batch = Read(Decode([stream]));

        var read = Assert.Single(batch.Records);
        Assert.Equal(1_700_000_123_456, read.TimeFlowEndMs);
        Assert.Equal(5, read.Bytes);
    }

    [Fact]
    public void Read_UnknownLabels_Ignored()
    {
        var record = SecondRecord();
        var stream = PushBodies.FlpStream(record);
        var labels = new List<KeyValuePair<string, string>>(stream.Labels) { new("cluster", "x"), new("SrcK8S_NetworkName", "n") };

        var batch = Read(Decode([stream with { Labels = labels }]));

        Assert.Equal(0, batch.Rejected);
        Assert.Equal(FlowRecordJson.ToJson(record), FlowRecordJson.ToJson(Assert.Single(batch.Records)));
    }

    [Fact]
    public void Read_BadLinesAmongGood_KeepsGoodAndCountsBadByReason()
    {
        var good = SecondRecord();
        var goodStream = PushBodies.FlpStream(good);
        var labels = goodStream.Labels;
        PushEntry[] entries =
        [
            goodStream.Entries[0],
            new(1, "not json at all"),
            new(2, "[1,2]"),
            new(3, "{\"Bytes\":\"many\"}"),
            new(4, "{\"level\":\"info\",\"msg\":\"hello\"}"),
            goodStream.Entries[0],
        ];
        var body = Encoding.UTF8.GetString(PushBodies.Json([new PushStream(labels, entries)]))
            .Replace("[\"4\",", "[4,", StringComparison.Ordinal);
        var request = new LokiPushRequest();
        Assert.True(LokiPushJsonDecoder.TryDecode(Encoding.UTF8.GetBytes(body), request, out var error), error);

        var batch = Read(request);

        Assert.Equal(2, batch.Records.Count);
        Assert.All(batch.Records, r => Assert.Equal(FlowRecordJson.ToJson(good), FlowRecordJson.ToJson(r)));
        Assert.Equal(4, batch.Rejected);
        Assert.Equal(6, batch.Lines);
        Assert.Equal(3, batch.RejectedByReason[LokiPushRejectReason.InvalidLine]);
        Assert.Equal(1, batch.RejectedByReason[LokiPushRejectReason.InvalidEntry]);
        Assert.Equal(4, batch.Errors.Count);
        Assert.StartsWith("stream {app=\"netobserv-flowcollector\", SrcK8S_Namespace=\"shop\"", batch.Errors[0], StringComparison.Ordinal);
        Assert.Contains("entry 1: invalid JSON", batch.Errors[0], StringComparison.Ordinal);
        Assert.Contains("entry 2: a flow record must be a JSON object", batch.Errors[1], StringComparison.Ordinal);
        Assert.Contains("entry 3: field Bytes:", batch.Errors[2], StringComparison.Ordinal);
        Assert.Contains("entry 4: timestamp must be a string", batch.Errors[3], StringComparison.Ordinal);
    }

    [Fact]
    public void Read_JsonWithoutFlowFields_NotFlowRecord()
    {
        var stream = new PushStream([new("app", "a")], [new(1, "{\"level\":\"info\",\"msg\":\"hello\"}")]);

        var batch = Read(Decode([stream]));

        Assert.Empty(batch.Records);
        Assert.Equal(1, batch.RejectedByReason[LokiPushRejectReason.NotFlowRecord]);
    }

    [Fact]
    public void Read_LabelValueNotFittingAFieldTheLineLacks_RejectsThoseLines()
    {
        var withDirection = "{\"SrcAddr\":\"10.0.0.1\",\"FlowDirection\":1}";
        var withoutDirection = "{\"SrcAddr\":\"10.0.0.2\"}";
        var stream = new PushStream([new("FlowDirection", "egress")], [new(1, withDirection), new(2, withoutDirection)]);

        var batch = Read(Decode([stream]));

        var read = Assert.Single(batch.Records);
        Assert.Equal(IPAddress.Parse("10.0.0.1"), read.SrcAddr);
        Assert.Equal(1, batch.RejectedByReason[LokiPushRejectReason.InvalidLabelValue]);
        Assert.Contains("label FlowDirection=\"egress\" is not a valid FlowDirection", batch.Errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Read_InvalidStreamLabels_RejectsTheWholeStreamOnly()
    {
        var good = PushBodies.FlpStream(SecondRecord());
        var bad = good with { Entries = [good.Entries[0], good.Entries[0], good.Entries[0]] };
        var body = PushBodies.Protobuf([bad, good], s => s.Entries.Count == 3 ? "{app=" : PushBodies.LabelString(s.Labels));
        var request = new LokiPushRequest();
        Assert.True(LokiPushProtobufDecoder.TryDecode(body, request, out var error), error);

        var batch = Read(request);

        Assert.Single(batch.Records);
        Assert.Equal(3, batch.RejectedByReason[LokiPushRejectReason.InvalidLabels]);
        Assert.Equal("stream {}: labels at col 6: expected a quoted label value (3 lines)", Assert.Single(batch.Errors));
    }

    [Theory]
    [InlineData(true, "extra", 40, LokiPushRejectReason.MaxLabelNamesPerSeries, "more than 30 label names (limit 30)")]
    [InlineData(false, "extra", 40, LokiPushRejectReason.MaxLabelNamesPerSeries, "more than 30 label names (limit 30)")]
    [InlineData(true, "n", 1025, LokiPushRejectReason.LabelNameTooLong, "is too long (limit 1024)")]
    [InlineData(false, "n", 1025, LokiPushRejectReason.LabelNameTooLong, "is too long (limit 1024)")]
    [InlineData(true, "v", 2049, LokiPushRejectReason.LabelValueTooLong, "value of label big of 2049 bytes is too long (limit 2048)")]
    [InlineData(false, "v", 2049, LokiPushRejectReason.LabelValueTooLong, "value of label big of 2049 bytes is too long (limit 2048)")]
    public void Read_StreamOverALabelLimit_RejectsTheStreamWithItsReason(bool protobuf, string kind, int size,
        string reason, string message)
    {
        var good = PushBodies.FlpStream(SecondRecord());
        var labels = new List<KeyValuePair<string, string>>(good.Labels);
        switch (kind)
        {
            case "extra":
                labels.AddRange(Enumerable.Range(0, size).Select(i => new KeyValuePair<string, string>($"extra_{i}", "x")));
                break;
            case "n":
                labels.Add(new(new string('n', size), "x"));
                break;
            default:
                labels.Add(new("big", new string('v', size)));
                break;
        }

        var bad = good with { Labels = labels, Entries = [good.Entries[0], good.Entries[0]] };
        var request = new LokiPushRequest();
        if (protobuf)
        {
            Assert.True(LokiPushProtobufDecoder.TryDecode(PushBodies.Protobuf([bad, good]), request, out var error), error);
        }
        else
        {
            request = Decode([bad, good]);
        }

        var batch = Read(request);

        Assert.Equal(FlowRecordJson.ToJson(SecondRecord()), FlowRecordJson.ToJson(Assert.Single(batch.Records)));
        Assert.Equal(2, batch.RejectedByReason[reason]);
        Assert.Equal(2, batch.Rejected);
        Assert.Contains(message, Assert.Single(batch.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Read_LineOverLimit_LineTooLong()
    {
        var stream = PushBodies.FlpStream(SecondRecord());
        var length = Encoding.UTF8.GetByteCount(stream.Entries[0].Line);

        var exact = Read(Decode([stream]), maxLineBytes: length);
        var over = Read(Decode([stream]), maxLineBytes: length - 1);

        Assert.Single(exact.Records);
        Assert.Empty(over.Records);
        Assert.Equal(1, over.RejectedByReason[LokiPushRejectReason.LineTooLong]);
    }

    [Fact]
    public void Read_ManyBadLines_CountsAllDescribesFirstFew()
    {
        var entries = Enumerable.Range(0, 50).Select(i => new PushEntry(i, "x" + i)).ToArray();
        var batch = new LokiPushBatch(maxErrors: 3);

        LokiPushFlowReader.Read(Decode([new PushStream([new("app", "a")], entries)]), "default", 1000, batch);

        Assert.Equal(50, batch.Rejected);
        Assert.Equal(3, batch.Errors.Count);
    }
}
