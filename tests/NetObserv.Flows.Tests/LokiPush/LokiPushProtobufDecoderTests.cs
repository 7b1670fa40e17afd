using System.Buffers;
using System.Text;
using NetObserv.Flows.LokiPush;
using Snappier;

namespace NetObserv.Flows.Tests.LokiPush;

public sealed class LokiPushProtobufDecoderTests
{
    private static readonly PushStream[] s_streams =
    [
        new([new("app", "netobserv-flowcollector"), new("SrcK8S_Namespace", "we\"ird\\ns")],
            [
                new(1_700_000_000_123_456_789, "{\"Bytes\":10}", [new("trace_id", "abc")]),
                new(1_700_000_001_000_000_000, "caf\u00e9"),
            ]),
        new([new("app", "x")], [new(0, "")]),
    ];

    [Fact]
    public void TryDecode_SnappyPushRequest_ReadsStreamsIgnoringHashFormatAndMetadata()
    {
        var compressed = PushBodies.SnappyProtobuf(s_streams);

        var status = LokiPushProtobufDecoder.TryDecompress(compressed, 1 << 20, out var buffer, out var length,
            out var error);
        Assert.Equal(LokiPushDecodeStatus.Ok, status);
        try
        {
            var request = new LokiPushRequest();
            Assert.True(LokiPushProtobufDecoder.TryDecode(buffer.AsMemory(0, length), request, out error), error);

            Assert.Equal(s_streams.Length, request.Streams.Count);
            for (var s = 0; s < s_streams.Length; s++)
            {
                Assert.Null(request.Streams[s].LabelError);
                Assert.Equal(s_streams[s].Labels, request.Streams[s].Labels);
                Assert.Equal(s_streams[s].Entries.Count, request.Streams[s].Entries.Count);
                for (var e = 0; e < s_streams[s].Entries.Count; e++)
                {
                    var decoded = request.Streams[s].Entries[e];
                    Assert.Null(decoded.Error);
                    Assert.Equal(s_streams[s].Entries[e].TimestampNs, decoded.TimestampNs);
                    Assert.Equal(s_streams[s].Entries[e].Line, Encoding.UTF8.GetString(decoded.Line.Span));
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer!);
        }
    }

    [Fact]
    public void TryDecode_MetadataPastTheBound_FirstPairsKeptOthersCounted()
    {
        var pairs = Enumerable.Range(0, 100).Select(i => new KeyValuePair<string, string>($"m{i}", "v")).ToList();
        var request = new LokiPushRequest();

        Assert.True(LokiPushProtobufDecoder.TryDecode(PushBodies.Protobuf([new([new("app", "a")], [new(5, "line", pairs)])]),
            request, out var error), error);

        var entry = Assert.Single(Assert.Single(request.Streams).Entries);
        Assert.Equal(pairs.Take(LokiPushEntry.MaxMetadata), entry.Metadata);
        Assert.Equal(100 - LokiPushEntry.MaxMetadata, entry.MetadataDropped);
    }

    [Fact]
    public void TryDecode_BadLabelString_MarksOnlyThatStream()
    {
        var body = PushBodies.Protobuf(s_streams, s => s.Labels[0].Value == "x" ? "{app=x}" : PushBodies.LabelString(s.Labels));
        var request = new LokiPushRequest();

        Assert.True(LokiPushProtobufDecoder.TryDecode(body, request, out var error), error);

        Assert.Null(request.Streams[0].LabelError);
        Assert.Equal("labels at col 6: expected a quoted label value", request.Streams[1].LabelError);
        Assert.Single(request.Streams[1].Entries);
    }

    [Fact]
    public void TryDecompress_OverLimit_TooLargeBeforeAllocating()
    {
        var compressed = Snappy.CompressToArray(new byte[10_000]);

        var status = LokiPushProtobufDecoder.TryDecompress(compressed, 9_999, out var buffer, out _, out var error);

        Assert.Equal(LokiPushDecodeStatus.TooLarge, status);
        Assert.Null(buffer);
        Assert.Equal("decompressed body of 10000 bytes exceeds the limit of 9999 bytes", error);
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF })]
    [InlineData(new byte[] { 0x05, 0x00, 0x41 })]
    public void TryDecompress_NotSnappy_Invalid(byte[] body)
    {
        var status = LokiPushProtobufDecoder.TryDecompress(body, 1 << 20, out var buffer, out _, out var error);

        Assert.Equal(LokiPushDecodeStatus.Invalid, status);
        Assert.Null(buffer);
        Assert.StartsWith("invalid snappy block", error, StringComparison.Ordinal);
    }

    /// <summary>Found by fuzzing: a few bytes claiming 60 MiB had a 64 MiB buffer rented before failing.</summary>
    [Fact]
    public void TryDecompress_ClaimsMoreThanSnappyCanEncode_InvalidWithoutAllocating()
    {
        // Varint 60 MiB, then one literal tag of 4 bytes.
        byte[] block = [0x80, 0x80, 0x80, 0x1E, 0x0C, 1, 2, 3, 4];
        var before = GC.GetAllocatedBytesForCurrentThread();

        var status = LokiPushProtobufDecoder.TryDecompress(block, 64 << 20, out var buffer, out _, out var error);

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(LokiPushDecodeStatus.Invalid, status);
        Assert.Null(buffer);
        Assert.Equal("invalid snappy block: 9 bytes cannot hold the 62914560 bytes it claims", error);
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated");
    }

    [Fact]
    public void TryDecompress_MostCompressibleBody_Accepted()
    {
        var plain = new byte[1 << 20];
        var block = Snappy.CompressToArray(plain);

        var status = LokiPushProtobufDecoder.TryDecompress(block, 1 << 20, out var buffer, out var length, out var error);

        Assert.True(status == LokiPushDecodeStatus.Ok, error);
        Assert.Equal(plain.Length, length);
        Assert.True(plain.Length > block.Length * 21, $"{block.Length} bytes");
        ArrayPool<byte>.Shared.Return(buffer!);
    }

    [Fact]
    public void TryDecode_EveryTruncation_FailsCleanlyOrReadsAPrefix()
    {
        var body = PushBodies.Protobuf(s_streams);

        for (var cut = 0; cut < body.Length; cut++)
        {
            var request = new LokiPushRequest();
            var ok = LokiPushProtobufDecoder.TryDecode(body.AsMemory(0, cut), request, out var error);

            Assert.True(ok || error!.StartsWith("protobuf at byte ", StringComparison.Ordinal),
                $"cut {cut}: {error} ({Convert.ToHexString(body, 0, cut)})");
        }
    }

    [Theory]
    [InlineData("0a", "protobuf at byte 1: truncated varint")]
    [InlineData("0a05", "protobuf at byte 1: length runs past the end of the message")]
    [InlineData("11", "protobuf at byte 1: truncated fixed-size field")]
    [InlineData("1d0102", "protobuf at byte 1: truncated fixed-size field")]
    [InlineData("0b", "protobuf at byte 1: field 1 has wire type 3, expected 2")]
    [InlineData("13", "protobuf at byte 1: unsupported wire type 3")]
    [InlineData("00", "protobuf at byte 0: invalid field number")]
    [InlineData("08ffffffffffffffffffff01", "protobuf at byte 1: field 1 has wire type 0, expected 2")]
    [InlineData("10ffffffffffffffffffff01", "protobuf at byte 1: varint longer than 10 bytes")]
    public void TryDecode_Malformed_ReportsOffset(string hex, string expected)
    {
        var request = new LokiPushRequest();

        Assert.False(LokiPushProtobufDecoder.TryDecode(Convert.FromHexString(hex), request, out var error));

        Assert.Equal(expected, error);
    }

    [Fact]
    public void TryDecode_NegativeNanos_EntryErrorKeepsOthers()
    {
        // StreamAdapter { labels "{a=\"b\"}", entries [ {timestamp {seconds 1, nanos -1}, line "x"}, {line "y"} ] }
        var labels = Encoding.UTF8.GetBytes("{a=\"b\"}");
        byte[] timestamp = [0x08, 0x01, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];
        byte[] bad = [0x0A, (byte)timestamp.Length, .. timestamp, 0x12, 0x01, (byte)'x'];
        byte[] good = [0x12, 0x01, (byte)'y'];
        byte[] stream = [0x0A, (byte)labels.Length, .. labels, 0x12, (byte)bad.Length, .. bad, 0x12, (byte)good.Length, .. good];
        byte[] body = [0x0A, (byte)stream.Length, .. stream];
        var request = new LokiPushRequest();

        Assert.True(LokiPushProtobufDecoder.TryDecode(body, request, out var error), error);

        var entries = Assert.Single(request.Streams).Entries;
        Assert.Equal("timestamp 1s -1ns is out of range", entries[0].Error);
        Assert.Null(entries[1].Error);
        Assert.Equal(0, entries[1].TimestampNs);
        Assert.Equal("y", Encoding.UTF8.GetString(entries[1].Line.Span));
    }

    [Fact]
    public void Read_LineNotUtf8_RejectedAsInvalidLine()
    {
        // StreamAdapter { labels "{a=\"b\"}", entries [ {line 7B FF 7D}, {line "{\"Bytes\":1}"} ] }
        var labels = Encoding.UTF8.GetBytes("{a=\"b\"}");
        var goodLine = Encoding.UTF8.GetBytes("{\"Bytes\":1}");
        byte[] bad = [0x12, 0x03, 0x7B, 0xFF, 0x7D];
        byte[] good = [0x12, (byte)goodLine.Length, .. goodLine];
        byte[] stream = [0x0A, (byte)labels.Length, .. labels, 0x12, (byte)bad.Length, .. bad, 0x12, (byte)good.Length, .. good];
        byte[] body = [0x0A, (byte)stream.Length, .. stream];
        var request = new LokiPushRequest();
        Assert.True(LokiPushProtobufDecoder.TryDecode(body, request, out var error), error);
        var batch = new LokiPushBatch();

        LokiPushFlowReader.Read(request, "default", 1000, batch);

        Assert.Equal(1, Assert.Single(batch.Records).Bytes);
        Assert.Equal(1, batch.RejectedByReason[LokiPushRejectReason.InvalidLine]);
        Assert.Equal("stream {a=\"b\"} entry 0: line is not valid UTF-8", Assert.Single(batch.Errors));
    }
}
