using CsCheck;
using Google.Protobuf;
using NetObserv.Flows.Pbflow;
using Xunit.Abstractions;
using Record = NetObserv.Flows.Pbflow.Record;

namespace NetObserv.Flows.Tests.Pbflow;

/// <summary>
/// Property-based fuzzing of a <c>Send</c> as the collector handles it: the generated parser reads the
/// message (its only error is <see cref="InvalidProtocolBufferException"/>), then <see cref="PbflowMapper.TryMap"/>
/// maps every record, which must never throw. Allocation stays within a bounded multiple of the message.
/// </summary>
public sealed class PbflowFuzzTests(ITestOutputHelper output)
{
    // The cheapest record on the wire is an empty entry (2 bytes); it becomes a Record and a FlowRecord with
    // its two KubernetesMetadata: 448 bytes per input byte measured (8,192 empty entries). 640 per byte.
    private const long BytesPerInputByte = 640;
    private const long FixedBytes = 64 * 1024;

    private static readonly byte[] s_interesting = [0x00, 0x01, 0x02, 0x08, 0x0A, 0x12, 0x1A, 0x22, 0x7F, 0x80, 0xFF];

    private static byte[][] Corpus()
    {
        var v6 = PbflowMapperTests.TcpRecord();
        v6.EthProtocol = PbflowMapper.EtherTypeIPv6;
        v6.Network.SrcAddr = new IP { Ipv6 = ByteString.CopyFrom(new byte[16]) };
        v6.Transport.Protocol = 58;
        return
        [
            new Records { Entries = { PbflowMapperTests.TcpRecord() } }.ToByteArray(),
            new Records { Entries = { PbflowMapperTests.TcpRecord(), v6, new Record(), new Record { Bytes = 1 } } }.ToByteArray(),
        ];
    }

    private static void Decode(byte[] message)
    {
        var records = Records.Parser.ParseFrom(message);
        foreach (var record in records.Entries)
        {
            // A value the flow cannot represent is refused with a reason, never thrown.
            _ = PbflowMapper.TryMap(record, 1_780_000_000, out _);
        }
    }

    [Fact]
    public void TryMap_RandomMessages_OnlyParseErrorsAllocationBounded()
    {
        var inputs = Gen.OneOf(
            Gen.Byte.Array[0, 512],
            // Runs of one short field or empty entry, repeated: many cheap records.
            Gen.Select(Gen.Byte.Array[1, 4], Gen.Int[1, 2048], (run, times) =>
                (byte[])[.. Enumerable.Repeat(run, times).SelectMany(b => b)]),
            Gen.Int[1, 8192].Select(times => (byte[])[.. Enumerable.Repeat<byte[]>([0x0A, 0x00], times).SelectMany(b => b)]));

        var worst = FuzzRun.Check("pbflow random", inputs, Decode, typeof(InvalidProtocolBufferException),
            BytesPerInputByte, FixedBytes, 2_000);

        output.WriteLine($"pbflow random: at most {worst:F1} bytes allocated per input byte");
    }

    [Fact]
    public void TryMap_MutatedMessages_OnlyParseErrorsAllocationBounded()
    {
        var worst = FuzzRun.Check("pbflow mutated", FuzzRun.Mutations(Corpus(), s_interesting), Decode,
            typeof(InvalidProtocolBufferException), BytesPerInputByte, FixedBytes, 3_000);

        output.WriteLine($"pbflow mutated: at most {worst:F1} bytes allocated per input byte");
    }

    [Fact]
    public void TryMap_ValidCorpus_MapsEveryRecord()
    {
        var corpus = Corpus();
        var records = Records.Parser.ParseFrom(corpus[1]);
        var into = records.Entries.Select(r => PbflowMapper.TryMap(r, 1_780_000_000, out _)).ToArray();

        Assert.Equal(4, into.Length);
        Assert.Equal(123_456, into[0]!.Bytes);
        Assert.Equal(System.Net.IPAddress.IPv6Any, into[1]!.SrcAddr);
        Assert.Equal(1, into[3]!.Bytes);
    }
}
