using CsCheck;
using NetObserv.Flows.LokiPush;
using Snappier;
using Xunit.Abstractions;

namespace NetObserv.Flows.Tests.LokiPush;

/// <summary>
/// Property-based fuzzing of both push decoders through their fuzzing entry points (decode, then read the
/// lines as the endpoint does): random bytes, random snappy blocks and mutations of valid bodies never throw
/// and allocate at most a bounded multiple of the body. See <see cref="FuzzRun"/> for long runs.
/// </summary>
public sealed class LokiPushFuzzTests(ITestOutputHelper output)
{
    // A rejected line costs its entry, its reason and a description (about 600 bytes) however short it
    // is (`["1",""]` is 9 bytes of JSON, 6 of protobuf); an accepted one a FlowRecord. 200 bytes per byte.
    private const long BytesPerInputByte = 200;
    private const long FixedBytes = 64 * 1024;

    private static readonly byte[] s_jsonInteresting = "\\\"{}[],:0123456789-+.eEtfnul \t\n"u8.ToArray();
    private static readonly byte[] s_protobufInteresting = [0x00, 0x01, 0x02, 0x08, 0x0A, 0x12, 0x1A, 0x22, 0x7F, 0x80, 0xFF];

    private static List<PushStream> Streams()
    {
        var full = FlowRecordJsonTests.FullRecord();
        var other = FlowRecordJsonTests.FullRecord();
        other.Src.Namespace = "other";
        return
        [
            PushBodies.FlpStream(full),
            PushBodies.FlpStream(other),
            new([new("app", "we\"ird\\ns\n"), new("SrcK8S_Namespace", "caf\u00e9")],
            [
                new(1_700_000_000_123_456_789, "{\"Bytes\":10,\"SrcAddr\":\"10.0.0.1\"}", [new("trace_id", "abc")]),
                new(1_700_000_001_000_000_000, "{}"),
            ]),
        ];
    }

    private static byte[][] JsonCorpus() =>
    [
        PushBodies.Json(Streams()),
        PushBodies.Json(Streams().Take(1)),
        "{\"streams\":[{\"stream\":{\"a\":\"\\u00e9\\n\"},\"values\":[[\"1\",\"{\\\"Bytes\\\":1}\",{\"k\":\"v\"}]]}]}"u8.ToArray(),
    ];

    private static byte[][] ProtobufCorpus() =>
    [
        PushBodies.Protobuf(Streams()),
        PushBodies.Protobuf(Streams().Take(1)),
        PushBodies.Protobuf(Streams(), s => s.Labels.Count == 2 ? "{app=`raw`, b=\"\\x41\\u00e9\\101\"}" : PushBodies.LabelString(s.Labels)),
    ];

    private static byte[] Compress(byte[] plain) => Snappy.CompressToArray(plain);

    private void Report(string name, double worst) =>
        output.WriteLine($"{name}: at most {worst:F1} bytes allocated per input byte");

    [Fact]
    public void JsonDecoder_ValidCorpus_ReadsEveryFlowLine()
    {
        var corpus = JsonCorpus();

        Assert.Equal(3, LokiPushJsonDecoder.Fuzz(corpus[0]));
        Assert.Equal(1, LokiPushJsonDecoder.Fuzz(corpus[1]));
        Assert.Equal(1, LokiPushJsonDecoder.Fuzz(corpus[2]));
    }

    [Fact]
    public void JsonDecoder_RandomBytes_NeverThrowsAllocationBounded()
    {
        var inputs = Gen.OneOf(Gen.Byte.Array[0, 512], Gen.Char["{}[]\",:0123456789aeflnrstu\\ "].Array[0, 512]
            .Select(chars => System.Text.Encoding.UTF8.GetBytes(chars)));

        Report("json random", FuzzRun.Check("json random", inputs, b => LokiPushJsonDecoder.Fuzz(b), null,
            BytesPerInputByte, FixedBytes, 2_000));
    }

    [Fact]
    public void JsonDecoder_MutatedBodies_NeverThrowsAllocationBounded()
    {
        var inputs = FuzzRun.Mutations(JsonCorpus(), s_jsonInteresting);

        Report("json mutated", FuzzRun.Check("json mutated", inputs, b => LokiPushJsonDecoder.Fuzz(b), null,
            BytesPerInputByte, FixedBytes, 3_000));
    }

    [Fact]
    public void ProtobufDecoder_ValidCorpus_ReadsEveryFlowLine()
    {
        var corpus = ProtobufCorpus();

        Assert.Equal(3, LokiPushProtobufDecoder.Fuzz(Snappy.CompressToArray(corpus[0])));
        Assert.Equal(1, LokiPushProtobufDecoder.Fuzz(Snappy.CompressToArray(corpus[1])));
        Assert.Equal(3, LokiPushProtobufDecoder.Fuzz(Snappy.CompressToArray(corpus[2])));
    }

    [Fact]
    public void ProtobufDecoder_RandomBytesAndRandomSnappyBlocks_NeverThrowsAllocationBounded()
    {
        var inputs = Gen.OneOf(
            Gen.Byte.Array[0, 512],
            Gen.Byte.Array[0, 512].Select(Compress),
            Gen.Select(Gen.Byte.Array[1, 8], Gen.Int[1, 4096], (run, times) =>
                Snappy.CompressToArray([.. Enumerable.Repeat(run, times).SelectMany(b => b)])));

        Report("protobuf random", FuzzRun.Check("protobuf random", inputs,
            b => LokiPushProtobufDecoder.Fuzz(b), null, BytesPerInputByte, FixedBytes, 2_000));
    }

    [Fact]
    public void ProtobufDecoder_MutatedBodies_NeverThrowsAllocationBounded()
    {
        var corpus = ProtobufCorpus();
        // Mutated protobuf in a valid snappy block, or a mutated snappy block.
        var inputs = Gen.OneOf(
            FuzzRun.Mutations(corpus, s_protobufInteresting).Select(Compress),
            FuzzRun.Mutations([.. corpus.Select(Compress)], s_protobufInteresting));

        Report("protobuf mutated", FuzzRun.Check("protobuf mutated", inputs,
            b => LokiPushProtobufDecoder.Fuzz(b), null, BytesPerInputByte, FixedBytes, 3_000));
    }
}
