using System.Net;
using System.Text.Json;

namespace NetObserv.Flows.Tests;

public sealed class FlowRecordJsonTests
{
    internal static FlowRecord FullRecord() => new()
    {
        TimeFlowStartMs = 1_700_000_000_123,
        TimeFlowEndMs = 1_700_000_001_456,
        TimeReceived = 1_700_000_002,
        SrcAddr = IPAddress.Parse("10.128.0.12"),
        DstAddr = IPAddress.Parse("fd00::1:2"),
        SrcMac = 0x112233445566,
        DstMac = 0x0A0B0C0D0E0F,
        SrcPort = 43512,
        DstPort = 8080,
        Proto = 6,
        Etype = 2048,
        Flags = 2 | 16 | 256,
        Dscp = 10,
        IcmpType = 3,
        IcmpCode = 1,
        Bytes = 123456,
        Packets = 78,
        Sampling = 50,
        FlowDirection = 1,
        Interfaces = ["eth0", "genev_sys_6081"],
        IfDirections = [1, 0],
        Duplicate = false,
        AgentIP = IPAddress.Parse("192.168.1.10"),
        DnsId = 4242,
        DnsFlags = 0x8180,
        DnsLatencyMs = 7,
        DnsErrno = 0,
        DnsName = "api.example.com",
        TimeFlowRttNs = 150_000,
        PktDropBytes = 100,
        PktDropPackets = 2,
        PktDropLatestState = "TCP_ESTABLISHED",
        PktDropLatestDropCause = "SKB_DROP_REASON_NO_SOCKET",
        Src = new KubernetesMetadata
        {
            Name = "web-7d4b9-abcde",
            Type = "Pod",
            Namespace = "shop",
            OwnerName = "web",
            OwnerType = "Deployment",
            HostIP = IPAddress.Parse("192.168.1.10"),
            HostName = "node-a",
            Zone = "zone-1",
        },
        Dst = new KubernetesMetadata
        {
            Name = "db",
            Type = "Service",
            Namespace = "data",
            OwnerName = "db",
            OwnerType = "Service",
        },
        K8SFlowLayer = "app",
        K8SClusterName = "prod",
        RecordType = "flowLog",
        HashId = "abc123",
    };

    [Fact]
    public void Write_FullRecord_UsesNetObservFieldNames()
    {
        var json = FlowRecordJson.ToJson(FullRecord());
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;

        Assert.Equal("shop", root.GetProperty("SrcK8S_Namespace").GetString());
        Assert.Equal("Deployment", root.GetProperty("SrcK8S_OwnerType").GetString());
        Assert.Equal("192.168.1.10", root.GetProperty("SrcK8S_HostIP").GetString());
        Assert.Equal("data", root.GetProperty("DstK8S_Namespace").GetString());
        Assert.Equal("11:22:33:44:55:66", root.GetProperty("SrcMac").GetString());
        Assert.Equal("fd00::1:2", root.GetProperty("DstAddr").GetString());
        Assert.Equal(1_700_000_001_456, root.GetProperty("TimeFlowEndMs").GetInt64());
        Assert.Equal(["SYN", "ACK", "SYN_ACK"], root.GetProperty("Flags").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("app", root.GetProperty("K8S_FlowLayer").GetString());
        Assert.Equal("flowLog", root.GetProperty("_RecordType").GetString());
        Assert.False(root.TryGetProperty("DstK8S_Zone", out _));
    }

    [Fact]
    public void TryParse_WrittenRecord_RoundTripsEveryField()
    {
        var original = FullRecord();

        Assert.True(FlowRecordJson.TryParse(FlowRecordJson.ToJson(original), out var parsed, out var error), error);

        Assert.Equal(FlowRecordJson.ToJson(original), FlowRecordJson.ToJson(parsed));
        Assert.Equal(original.Flags, parsed.Flags);
        Assert.Equal(original.SrcMac, parsed.SrcMac);
        Assert.Equal(original.Src.HostIP, parsed.Src.HostIP);
    }

    [Fact]
    public void Write_EmptyNamespace_IsOmitted()
    {
        var record = new FlowRecord { Src = new KubernetesMetadata { Namespace = "" } };

        var json = FlowRecordJson.ToJson(record);

        Assert.DoesNotContain("SrcK8S_Namespace", json, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_NumericFlags_Accepted()
    {
        Assert.True(FlowRecordJson.TryParse("""{"Flags":18,"Bytes":5}""", out var record, out _));
        Assert.Equal(18, record.Flags);
        Assert.Equal(5, record.Bytes);
    }

    [Theory]
    [InlineData("[1,2]", "JSON object")]
    [InlineData("""{"Bytes":"many"}""", "Bytes")]
    [InlineData("""{"SrcAddr":"not-an-ip"}""", "SrcAddr")]
    [InlineData("{", "invalid JSON")]
    public void TryParse_BadInput_ReportsReason(string json, string expected)
    {
        Assert.False(FlowRecordJson.TryParse(json, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TrySetFromString_LabelValues_SetTypedFields()
    {
        var record = new FlowRecord();

        Assert.True(FlowRecordJson.TrySetFromString(record, "SrcK8S_Namespace", "shop"));
        Assert.True(FlowRecordJson.TrySetFromString(record, "FlowDirection", "2"));
        Assert.False(FlowRecordJson.TrySetFromString(record, "FlowDirection", "sideways"));
        Assert.False(FlowRecordJson.TrySetFromString(record, "app", "netobserv-flowcollector"));

        Assert.Equal("shop", record.Src.Namespace);
        Assert.Equal(2, record.FlowDirection);
    }

    [Fact]
    public void TryParse_PropertyNameNotUtf8_ReturnsFalseWithReason()
    {
        byte[] json = [(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}'];

        Assert.False(FlowRecordJson.TryParse(json, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    public void TrySetFromString_DuplicateAsGoPrintsIt_SetsBoolean(string value, bool expected)
    {
        var record = new FlowRecord();

        Assert.True(FlowRecordJson.TrySetFromString(record, "Duplicate", value));
        Assert.False(FlowRecordJson.TrySetFromString(record, "Duplicate", "maybe"));

        Assert.Equal(expected, record.Duplicate);
    }
}
