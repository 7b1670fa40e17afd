using System.Text;
using NetObserv.Flows.LokiPush;

namespace NetObserv.Flows.Tests.LokiPush;

public sealed class LokiPushJsonDecoderTests
{
    [Fact]
    public void TryDecode_StreamsAndValues_ReadsLabelsTimestampsAndLines()
    {
        PushStream[] streams =
        [
            new([new("app", "netobserv-flowcollector"), new("SrcK8S_Namespace", "shop")],
                [new(1_700_000_000_123_456_789, "{\"Bytes\":10,\"DnsName\":\"a \\\"quoted\\\" name\"}"), new(2, "plain")]),
            new([new("app", "x")], [new(3, "caf\u00e9")]),
        ];
        var request = new LokiPushRequest();

        Assert.True(LokiPushJsonDecoder.TryDecode(PushBodies.Json(streams), request, out var error), error);

        Assert.Equal(2, request.Streams.Count);
        for (var s = 0; s < streams.Length; s++)
        {
            Assert.Null(request.Streams[s].LabelError);
            Assert.Equal(streams[s].Labels, request.Streams[s].Labels);
            Assert.Equal(streams[s].Entries.Count, request.Streams[s].Entries.Count);
            for (var e = 0; e < streams[s].Entries.Count; e++)
            {
                var decoded = request.Streams[s].Entries[e];
                Assert.Null(decoded.Error);
                Assert.Equal(streams[s].Entries[e].TimestampNs, decoded.TimestampNs);
                Assert.Equal(streams[s].Entries[e].Line, Encoding.UTF8.GetString(decoded.Line.Span));
            }
        }
    }

    [Fact]
    public void TryDecode_StructuredMetadata_KeptBesideTheLine()
    {
        PushStream[] streams =
        [
            new([new("app", "a")], [new(5, "line", [new("trace_id", "abc"), new("pod", "p")])]),
        ];
        var request = new LokiPushRequest();

        Assert.True(LokiPushJsonDecoder.TryDecode(PushBodies.Json(streams), request, out var error), error);

        var entry = Assert.Single(Assert.Single(request.Streams).Entries);
        Assert.Null(entry.Error);
        Assert.Equal(5, entry.TimestampNs);
        Assert.Equal("line", Encoding.UTF8.GetString(entry.Line.Span));
        Assert.Equal([new("trace_id", "abc"), new("pod", "p")], entry.Metadata);
        Assert.Equal(0, entry.MetadataDropped);
    }

    [Fact]
    public void TryDecode_MetadataPastTheBound_FirstPairsKeptOthersCounted()
    {
        var pairs = Enumerable.Range(0, 100).Select(i => new KeyValuePair<string, string>($"m{i}", "v")).ToList();
        var body = PushBodies.Json([new([new("app", "a")], [new(5, "line", pairs)])]);
        // A value that is not a string is dropped too.
        var text = Encoding.UTF8.GetString(body).Replace("\"m0\":\"v\"", "\"m0\":{\"x\":1}", StringComparison.Ordinal);
        var request = new LokiPushRequest();

        Assert.True(LokiPushJsonDecoder.TryDecode(Encoding.UTF8.GetBytes(text), request, out var error), error);

        var entry = Assert.Single(Assert.Single(request.Streams).Entries);
        Assert.Equal(pairs.Skip(1).Take(LokiPushEntry.MaxMetadata), entry.Metadata);
        Assert.Equal(100 - LokiPushEntry.MaxMetadata, entry.MetadataDropped);
    }

    [Fact]
    public void TryDecode_PropertiesInAnyOrderAndUnknownOnes_Read()
    {
        var body = """
            {"extra":{"x":[1,2]},"streams":[{"values":[["7","l"]],"other":true,"stream":{"a":"b"}}],"more":1}
            """u8.ToArray();
        var request = new LokiPushRequest();

        Assert.True(LokiPushJsonDecoder.TryDecode(body, request, out var error), error);

        var stream = Assert.Single(request.Streams);
        Assert.Equal([new KeyValuePair<string, string>("a", "b")], stream.Labels);
        Assert.Equal(7, Assert.Single(stream.Entries).TimestampNs);
    }

    [Theory]
    [InlineData("""[[7,"l"]]""", "timestamp must be a string of nanoseconds since the epoch")]
    [InlineData("""[["x","l"]]""", "timestamp must be a string of nanoseconds since the epoch")]
    [InlineData("""[["-5","l"]]""", "timestamp must be a string of nanoseconds since the epoch")]
    [InlineData("""[["7",{"a":1}]]""", "line must be a string")]
    [InlineData("""[["7"]]""", "a value needs a timestamp and a line")]
    public void TryDecode_BadEntry_EntryErrorOthersKept(string badValues, string expected)
    {
        var body = Encoding.UTF8.GetBytes(
            "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":" + badValues + "},"
            + "{\"stream\":{\"a\":\"c\"},\"values\":[[\"9\",\"good\"]]}]}");
        var request = new LokiPushRequest();

        Assert.True(LokiPushJsonDecoder.TryDecode(body, request, out var error), error);

        Assert.Equal(expected, Assert.Single(request.Streams[0].Entries).Error);
        var good = Assert.Single(request.Streams[1].Entries);
        Assert.Null(good.Error);
        Assert.Equal("good", Encoding.UTF8.GetString(good.Line.Span));
    }

    [Theory]
    [InlineData("{\"streams\":[{\"stream\":{\"a-b\":\"c\"},\"values\":[]}]}", "invalid label name \"a-b\"")]
    [InlineData("{\"streams\":[{\"stream\":{\"a\":\"c\",\"a\":\"d\"},\"values\":[]}]}", "duplicate label name a")]
    public void TryDecode_BadLabelName_StreamLabelError(string json, string expected)
    {
        var request = new LokiPushRequest();

        Assert.True(LokiPushJsonDecoder.TryDecode(Encoding.UTF8.GetBytes(json), request, out var error), error);

        Assert.Equal(expected, Assert.Single(request.Streams).LabelError);
    }

    [Fact]
    public void TryDecode_LabelNotUtf8_Fails()
    {
        byte[] body = [.. "{\"streams\":[{\"stream\":{\"a\":\""u8, 0xFF, .. "\"},\"values\":[]}]}"u8];
        var request = new LokiPushRequest();

        Assert.False(LokiPushJsonDecoder.TryDecode(body, request, out var error));

        Assert.StartsWith("invalid JSON:", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{\"streams\":{}}")]
    [InlineData("{\"streams\":[1]}")]
    [InlineData("{\"streams\":[{\"stream\":[]}]}")]
    [InlineData("{\"streams\":[{\"stream\":{\"a\":1}}]}")]
    [InlineData("{\"streams\":[{\"values\":{}}]}")]
    [InlineData("{\"streams\":[{\"values\":[\"7\"]}]}")]
    [InlineData("{\"streams\":[]")]
    [InlineData("{\"streams\":[]} {}")]
    public void TryDecode_NotAPushRequest_Fails(string json)
    {
        var request = new LokiPushRequest();

        Assert.False(LokiPushJsonDecoder.TryDecode(Encoding.UTF8.GetBytes(json), request, out var error));

        Assert.False(string.IsNullOrEmpty(error));
    }
}
