using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NetObserv.Flows.Fields;
using NetObserv.Flows.Validation;

namespace NetObserv.Flows.Tests.Fields;

/// <summary>Fields without a column from a hostile sender: bounded, dropped and counted, the flow kept.</summary>
public class FlowExtraFieldsWriterTests
{
    private const string Base = "{\"TimeFlowEndMs\":1780000000000,\"Bytes\":10,\"SrcAddr\":\"10.0.0.1\"";

    private static FlowRecord Parse(string extra)
    {
        Assert.True(FlowRecordJson.TryParse(Base + "," + extra + "}", out var record, out var error), error);
        Assert.Equal(10, record.Bytes);
        return record;
    }

    private static string Nested(int depth) =>
        string.Concat(Enumerable.Repeat("[", depth)) + "1" + string.Concat(Enumerable.Repeat("]", depth));

    [Fact]
    public void Parse_NestingUpToTheBound_KeptDeeperDroppedAndCounted()
    {
        var record = Parse($"\"ok\":{Nested(FlowExtraFieldsWriter.MaxDepth)},\"deep\":{Nested(FlowExtraFieldsWriter.MaxDepth + 1)}");
        var extra = JsonNode.Parse(record.ExtraFields!)!.AsObject();
        Assert.True(extra.ContainsKey("ok"));
        Assert.False(extra.ContainsKey("deep"));
        Assert.Equal(1, record.ExtraFieldsDropped);
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e999")]
    [InlineData("123456789012345678901234567890123456789012345")]
    public void Parse_NumberOutOfBounds_FieldDroppedOthersKept(string number)
    {
        var record = Parse($"\"big\":{number},\"nested\":{{\"n\":[{number}]}},\"fine\":12.5");
        Assert.Equal("{\"fine\":12.5}", record.ExtraFields);
        Assert.Equal(2, record.ExtraFieldsDropped);
    }

    [Fact]
    public void Parse_NulInNamesAndValues_BecomesReplacementCharacter()
    {
        var record = Parse("\"a\\u0000b\":\"x\\u0000y\",\"o\":{\"k\\u0000\":[\"\\u0000\"]}");
        Assert.DoesNotContain("\\u0000", record.ExtraFields, StringComparison.Ordinal);
        Assert.DoesNotContain('\0', record.ExtraFields!);
        var extra = JsonNode.Parse(record.ExtraFields!)!.AsObject();
        Assert.Equal("x\uFFFDy", (string?)extra["a\uFFFDb"]);
        Assert.Equal("\uFFFD", (string?)extra["o"]!["k\uFFFD"]![0]);
    }

    [Fact]
    public void Parse_UnpairedSurrogateEscape_FieldDropped()
    {
        var record = Parse("\"bad\":\"\\ud800\",\"good\":\"g\"");
        Assert.Equal("{\"good\":\"g\"}", record.ExtraFields);
        Assert.Equal(1, record.ExtraFieldsDropped);
    }

    [Fact]
    public void Parse_PastTheSizeBound_LaterFieldsDroppedAndCountedTheFlowKept()
    {
        var fields = new StringBuilder();
        for (var i = 0; i < 100; i++)
        {
            fields.Append(i == 0 ? "" : ",").Append($"\"f{i:D3}\":\"{new string('v', 200)}\"");
        }

        var record = Parse(fields.ToString());
        Assert.True(Encoding.UTF8.GetByteCount(record.ExtraFields!) <= FlowLimits.ExtraFieldsBytes);
        var kept = JsonNode.Parse(record.ExtraFields!)!.AsObject().Count;
        Assert.True(kept > 30, kept.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(100 - kept, record.ExtraFieldsDropped);
        Assert.False(new FlowValidator(TimeSpan.FromDays(36_500), TimeSpan.FromDays(36_500), TimeProvider.System)
            .Validate(record).IsRejected);
    }

    [Fact]
    public void Validator_CountsDroppedExtraFields()
    {
        var validator = new FlowValidator(TimeSpan.FromDays(36_500), TimeSpan.FromDays(36_500), TimeProvider.System);
        validator.Validate(Parse($"\"deep\":{Nested(40)}"));
        validator.Validate(Parse("\"big\":1e999,\"big2\":-1e999"));
        Assert.Equal(3, validator.ExtraFieldsDropped);
    }

    [Fact]
    public void Writer_FirstFieldOfANameWins()
    {
        using var writer = new FlowExtraFieldsWriter();
        Assert.True(writer.AddString("a", "1"));
        Assert.False(writer.AddNumber("a", 2));
        using var doc = JsonDocument.Parse("{\"b\":[true,null,{\"c\":\"d\"}]}");
        Assert.True(writer.Add("b", doc.RootElement.GetProperty("b")));
        Assert.Equal("{\"a\":\"1\",\"b\":[true,null,{\"c\":\"d\"}]}", writer.Build());
        Assert.Equal(0, writer.Dropped);
    }

    [Fact]
    public void Writer_NothingKept_BuildsNull()
    {
        using var writer = new FlowExtraFieldsWriter(maxBytes: 4);
        Assert.False(writer.AddString("long", "value"));
        Assert.Null(writer.Build());
        Assert.Equal(1, writer.Dropped);
    }
}
