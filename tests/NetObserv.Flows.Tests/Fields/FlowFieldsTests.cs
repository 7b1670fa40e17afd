using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;
using NetObserv.Flows.Fields;
using NetObserv.Flows.LokiPush;
using NetObserv.Flows.Pbflow;
using NetObserv.Flows.Tests.LokiPush;
using NetObserv.Testing;

namespace NetObserv.Flows.Tests.Fields;

public class FlowFieldsTests
{
    private const long EndMs = 1_780_000_000_000;

    public static TheoryData<string> FieldNames()
    {
        var data = new TheoryData<string>();
        foreach (var field in FlowFields.All)
        {
            data.Add(field.Name);
        }

        return data;
    }

    [Fact]
    public void All_NamesAndColumns_AreUnique()
    {
        Assert.Equal(FlowFields.All.Count, FlowFields.All.Select(f => f.Name).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(FlowFields.All.Count, FlowFields.All.Select(f => f.Column).Distinct(StringComparer.Ordinal).Count());
        Assert.All(FlowFields.KnownExtraNames, name => Assert.False(FlowFields.IsKnown(name), name));
    }

    [Fact]
    public void Sample_SetsEveryFieldAndEveryKnownExtraName()
    {
        var sample = FlowFieldSamples.Full(EndMs);
        Assert.All(FlowFields.All, f => Assert.True(f.IsPresent(sample), f.Name));
        var extra = JsonNode.Parse(sample.ExtraFields!)!.AsObject();
        Assert.All(FlowFields.KnownExtraNames, name => Assert.True(extra.ContainsKey(name), name));
    }

    [Theory]
    [MemberData(nameof(FieldNames))]
    public void Accessors_SetThenGet_RoundTripAndCopy(string name)
    {
        Assert.True(FlowFields.TryGet(name, out var field));
        var sample = FlowFieldSamples.Full(EndMs);
        var empty = new FlowRecord();
        Assert.False(field.IsPresent(empty));
        field.Set(empty, field.Get(sample));
        AssertSameValue(field, sample, empty);
        var copy = new FlowRecord();
        field.Copy(sample, copy);
        AssertSameValue(field, sample, copy);
    }

    [Fact]
    public void Json_Write_WritesEveryFieldOnceAndTheExtraFieldsAfter()
    {
        var json = FlowRecordJson.ToJson(FlowFieldSamples.Full(EndMs));
        var names = new List<string>();
        using (var doc = JsonDocument.Parse(json))
        {
            names.AddRange(doc.RootElement.EnumerateObject().Select(p => p.Name));
        }

        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
        Assert.All(FlowFields.All, f => Assert.Contains(f.Name, names));
        var extras = JsonNode.Parse(FlowFieldSamples.ExtraFieldsJson)!.AsObject().Select(p => p.Key).ToList();
        Assert.All(extras, name => Assert.Contains(name, names));
        Assert.Equal(FlowFields.All.Count + extras.Count, names.Count);
    }

    [Fact]
    public void Json_RoundTrip_KeepsEveryFieldAndTheExtraFields()
    {
        var sample = FlowFieldSamples.Full(EndMs);
        Assert.True(FlowRecordJson.TryParse(FlowRecordJson.ToJson(sample), out var parsed, out var error), error);
        Assert.All(FlowFields.All, f => AssertSameValue(f, sample, parsed));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(sample.ExtraFields!), JsonNode.Parse(parsed.ExtraFields!)));
        Assert.Equal(0, parsed.ExtraFieldsDropped);
    }

    [Theory]
    [MemberData(nameof(FieldNames))]
    public void PushLabel_EveryField_IsReadFromItsLabelTextAndFilledWhenTheLineLacksIt(string name)
    {
        Assert.True(FlowFields.TryGet(name, out var field));
        var sample = FlowFieldSamples.Full(EndMs);
        Assert.True(LokiLabelField.IsFlowField(name));

        // The label's text as flowlogs-pipeline prints it: a string as is, anything else as its JSON.
        using var doc = JsonDocument.Parse(FlowRecordJson.ToJson(sample));
        var value = doc.RootElement.GetProperty(name);
        var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
        var fromLabel = new FlowRecord();
        if (!field.IsArray)
        {
            Assert.True(FlowRecordJson.TrySetFromString(fromLabel, name, text), $"{name}={text}");
            AssertSameValue(field, sample, fromLabel);
        }

        var line = new FlowRecord();
        Assert.Equal(LokiLabelField.Outcome.Filled, LokiLabelField.FillIfAbsent(sample, line, name));
        AssertSameValue(field, sample, line);
        Assert.Equal(LokiLabelField.Outcome.Present, LokiLabelField.FillIfAbsent(new FlowRecord(), line, name));
    }

    [Fact]
    public void Pbflow_AgentRecords_SetEveryAgentFieldAndTheAgentsExtraFields()
    {
        var mapped = FlowFieldSamples.PbflowRecords(EndMs).Select(r => PbflowMapper.Map(r, EndMs / 1000)).ToList();
        foreach (var name in FlowFieldSamples.AgentFieldNames)
        {
            Assert.True(FlowFields.TryGet(name, out var field), name);
            Assert.True(mapped.Any(field.IsPresent), name);
        }

        var extra = JsonNode.Parse(mapped[0].ExtraFields!)!.AsObject();
        Assert.Equal(FlowFieldSamples.PbflowExtraFields.Keys.Order(StringComparer.Ordinal),
            extra.Select(p => p.Key).Order(StringComparer.Ordinal));
        foreach (var (name, expected) in FlowFieldSamples.PbflowExtraFields)
        {
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), extra[name]), $"{name}: {extra[name]}");
        }

        Assert.Null(mapped[1].ExtraFields);
    }

    [Fact]
    public void Pbflow_InterfacesWithoutUdnAndNoOptionalFeature_NoExtraFields()
    {
        var record = FlowFieldSamples.PbflowRecords(EndMs)[1];
        record.DupList.Add(new DupMapEntry { Interface = "eth0", Direction = Direction.Ingress });
        var flow = PbflowMapper.Map(record, 0);
        Assert.Equal("eth0", Assert.Single(flow.Interfaces!));
        Assert.Null(flow.ExtraFields);
    }

    [Fact]
    public void Pbflow_UnknownTlsValues_AreWrittenInHex()
    {
        var record = FlowFieldSamples.PbflowRecords(EndMs)[1];
        record.SslVersion = 0x7F1C;
        record.TlsCipherSuite = 0xABCD;
        record.TlsKeyShare = 0x1234;
        record.DnsId = 1;
        record.DnsFlags = 0x000B;
        var extra = JsonNode.Parse(PbflowMapper.Map(record, 0).ExtraFields!)!.AsObject();
        Assert.Equal("0x7f1c", (string?)extra["TLSVersion"]);
        Assert.Equal("0xabcd", (string?)extra["TLSCipherSuite"]);
        Assert.Equal("0x1234", (string?)extra["TLSGroup"]);
        Assert.Equal("UnDefined", (string?)extra["DnsFlagsResponseCode"]);
    }

    [Fact]
    public void Push_StructuredMetadata_KeptAsExtraFieldsAndFillsKnownFieldsTheLineLacks()
    {
        var sample = FlowFieldSamples.Full(EndMs);
        sample.K8SClusterName = null;
        var stream = PushBodies.FlpStream(sample);
        var entry = stream.Entries[0] with
        {
            Metadata =
            [
                new("K8S_ClusterName", "west"), new("trace_id", "t-42"), new("CustomTeam", "ignored: the line has it"),
            ],
        };
        foreach (var body in new[] { PushBodies.Json([stream with { Entries = [entry] }]), PushBodies.Protobuf([stream with { Entries = [entry] }]) })
        {
            var request = new LokiPushRequest();
            var decoded = body[0] == (byte)'{'
                ? LokiPushJsonDecoder.TryDecode(body, request, out var error)
                : LokiPushProtobufDecoder.TryDecode(body, request, out error);
            Assert.True(decoded, error);
            var batch = new LokiPushBatch();
            LokiPushFlowReader.Read(request, "default", 1 << 20, batch);
            var record = Assert.Single(batch.Records);
            Assert.Equal("west", record.K8SClusterName);
            var extra = JsonNode.Parse(record.ExtraFields!)!.AsObject();
            Assert.Equal("t-42", (string?)extra["trace_id"]);
            Assert.Equal("payments", (string?)extra["CustomTeam"]);
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(FlowFieldSamples.ExtraFieldsJson)!["custom_nested"],
                extra["custom_nested"]));
        }
    }

    internal static void AssertSameValue(FlowFieldSpec field, FlowRecord expected, FlowRecord actual)
    {
        var want = field.Get(expected);
        var got = field.Get(actual);
        if (want is IEnumerable list and not string)
        {
            Assert.Equal(list.Cast<object>(), Assert.IsAssignableFrom<IEnumerable>(got).Cast<object>());
        }
        else
        {
            Assert.Equal(want, got);
        }
    }
}
