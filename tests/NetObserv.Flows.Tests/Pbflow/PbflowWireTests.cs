using System.Buffers;
using Google.Protobuf;
using NetObserv.Flows.Pbflow;
using Record = NetObserv.Flows.Pbflow.Record;

namespace NetObserv.Flows.Tests.Pbflow;

public sealed class PbflowWireTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(10_000)]
    public void TryCountRecords_SerializedRecords_CountsEntries(int entries)
    {
        var records = new Records();
        for (var i = 0; i < entries; i++)
        {
            records.Entries.Add(new Record { Bytes = (ulong)i, DnsName = new string('x', i % 300) });
        }

        Assert.True(PbflowWire.TryCountRecords(new ReadOnlySequence<byte>(records.ToByteArray()), out var count));
        Assert.Equal(entries, count);
    }

    [Fact]
    public void TryCountRecords_SplitAcrossSegments_SameCount()
    {
        var records = new Records();
        for (var i = 0; i < 50; i++)
        {
            records.Entries.Add(new Record { Bytes = (ulong)i * 1_000_000, Interface = "veth" + i });
        }

        var bytes = records.ToByteArray();
        var sequence = Segments.Split(bytes, 3);

        Assert.True(PbflowWire.TryCountRecords(sequence, out var count));
        Assert.Equal(50, count);
    }

    [Fact]
    public void TryCountRecords_UnknownFieldsOfEveryWireType_SkippedNotCounted()
    {
        var records = new Records { Entries = { new Record(), new Record { Bytes = 1 } } };
        var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        output.WriteTag(9, WireFormat.WireType.Varint);
        output.WriteUInt64(300);
        output.WriteTag(10, WireFormat.WireType.Fixed64);
        output.WriteFixed64(1);
        output.WriteTag(11, WireFormat.WireType.Fixed32);
        output.WriteFixed32(1);
        output.WriteTag(12, WireFormat.WireType.LengthDelimited);
        output.WriteString("future");
        output.Flush();
        var bytes = records.ToByteArray().Concat(stream.ToArray()).ToArray();

        Assert.True(PbflowWire.TryCountRecords(new ReadOnlySequence<byte>(bytes), out var count));
        Assert.Equal(2, count);
        Assert.Equal(2, Records.Parser.ParseFrom(bytes).Entries.Count);
    }

    [Theory]
    [InlineData(new byte[] { 0x0A, 0xFF, 0xFF, 0x01 })]
    [InlineData(new byte[] { 0x0A })]
    [InlineData(new byte[] { 0x0B, 0x00 })]
    [InlineData(new byte[] { 0x00, 0x00 })]
    [InlineData(new byte[] { 0x09, 0x01, 0x02 })]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF })]
    public void TryCountRecords_Malformed_False(byte[] body) =>
        Assert.False(PbflowWire.TryCountRecords(new ReadOnlySequence<byte>(body), out _));

    [Fact]
    public void TryCountRecords_RandomBytes_NeverThrows()
    {
        var random = new Random(11);
        var valid = new Records { Entries = { new Record { Bytes = 5, Interface = "eth0" }, new Record() } }.ToByteArray();
        for (var i = 0; i < 20_000; i++)
        {
            var body = (byte[])valid.Clone();
            body[random.Next(body.Length)] = (byte)random.Next(256);
            var sequence = new ReadOnlySequence<byte>(body, 0, random.Next(body.Length + 1));

            PbflowWire.TryCountRecords(sequence, out var count);

            Assert.InRange(count, 0, body.Length);
        }
    }

    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Split(byte[] bytes, int size)
        {
            var first = new Segments(bytes.AsMemory(0, Math.Min(size, bytes.Length)), 0);
            var last = first;
            for (var offset = size; offset < bytes.Length; offset += size)
            {
                var next = new Segments(bytes.AsMemory(offset, Math.Min(size, bytes.Length - offset)), offset);
                last.Next = next;
                last = next;
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }
}
