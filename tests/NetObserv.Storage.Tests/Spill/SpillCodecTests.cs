using System.Collections;
using System.Net;
using System.Reflection;
using NetObserv.Flows;
using NetObserv.Storage.Spill;
using NetObserv.Testing;

namespace NetObserv.Storage.Tests.Spill;

public sealed class SpillCodecTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("netobserv-spill-codec-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Decode_EncodedRecords_EveryFieldRoundTrips()
    {
        var records = WithEdgeCases(TestFlows.Generate(5_000, seed: 31));
        using var stream = new MemoryStream();

        SpillCodec.Encode(stream, records, 0, records.Count);
        var decoded = new List<FlowRecord>();
        SpillCodec.Decode(stream.ToArray(), 0, records.Count, decoded);

        Assert.Equal(records.Count, decoded.Count);
        for (var i = 0; i < records.Count; i++)
        {
            AssertSameFields(records[i], decoded[i], "record " + i);
        }
    }

    [Fact]
    public void Decode_TwoPayloadsWithTheSameKubernetesText_RecordsShareItsInstances()
    {
        // As live records share the enricher's strings, so the writer finds their ids by identity.
        // Two records built apart: equal text, but their own instances.
        List<FlowRecord> records = [FlowFieldSamples.Full(TestFlows.BaseMs, "a"), FlowFieldSamples.Full(TestFlows.BaseMs, "b")];
        var longName = new string('n', DecodedValues.MaxLength + 1);
        foreach (var record in records)
        {
            record.Dst.Name = longName;
        }

        var first = new List<FlowRecord>();
        var second = new List<FlowRecord>();
        using (var one = new MemoryStream())
        {
            SpillCodec.Encode(one, records, 0, 1);
            SpillCodec.Decode(one.ToArray(), 0, 1, first);
        }

        using (var other = new MemoryStream())
        {
            SpillCodec.Encode(other, records, 1, 1);
            SpillCodec.Decode(other.ToArray(), 0, 1, second);
        }

        var (a, b) = (first[0], second[0]);
        AssertSameFields(records[0], a, "first");
        AssertSameFields(records[1], b, "second");
        foreach (var (x, y) in new[]
        {
            (a.Src.Name, b.Src.Name), (a.Src.Type, b.Src.Type), (a.Src.Namespace, b.Src.Namespace),
            (a.Src.OwnerName, b.Src.OwnerName), (a.Src.OwnerType, b.Src.OwnerType), (a.Src.HostName, b.Src.HostName),
            (a.Src.Zone, b.Src.Zone), (a.Src.SubnetLabel, b.Src.SubnetLabel), (a.Tenant, b.Tenant),
            (a.K8SFlowLayer, b.K8SFlowLayer), (a.K8SClusterName, b.K8SClusterName), (a.RecordType, b.RecordType),
            (a.Dst.Namespace, b.Dst.Namespace),
        })
        {
            Assert.Same(x, y);
        }

        Assert.Same(a.Src.HostIP, b.Src.HostIP);
        // Long text is not kept (the table is bounded in bytes too), only decoded.
        Assert.Equal(longName, b.Dst.Name);
        Assert.NotSame(a.Dst.Name, b.Dst.Name);
    }

    [Fact]
    public void Read_AppendedFiles_RecordsInWriteOrder()
    {
        var records = TestFlows.Generate(900, seed: 32);
        var journal = new SpillJournal(_directory, long.MaxValue, TimeProvider.System);

        for (var start = 0; start < records.Count; start += 300)
        {
            Assert.True(journal.TryAppend(records, start, 300));
        }

        var files = journal.List();
        Assert.Equal(3, files.Count);
        Assert.Equal(3, journal.Files);
        Assert.Equal(files.Sum(f => new FileInfo(f).Length), journal.Bytes);
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp"));
        var read = new List<FlowRecord>();
        foreach (var file in files)
        {
            SpillJournal.Read(file, read);
        }

        Assert.Equal(records.Count, read.Count);
        for (var i = 0; i < records.Count; i++)
        {
            AssertSameFields(records[i], read[i], "record " + i);
        }
    }

    [Fact]
    public void Read_FlippedByteOrTruncatedOrForeignFile_InvalidData()
    {
        var records = TestFlows.Generate(50, seed: 33);
        var journal = new SpillJournal(_directory, long.MaxValue, TimeProvider.System);
        Assert.True(journal.TryAppend(records, 0, 50));
        var file = journal.List()[0];
        var good = File.ReadAllBytes(file);

        var flipped = (byte[])good.Clone();
        flipped[SpillJournal.HeaderSize + 7] ^= 0x40;
        File.WriteAllBytes(file, flipped);
        Assert.Throws<InvalidDataException>(() => SpillJournal.Read(file, []));

        File.WriteAllBytes(file, good[..^3]);
        Assert.Throws<InvalidDataException>(() => SpillJournal.Read(file, []));

        File.WriteAllBytes(file, "not a journal file"u8.ToArray());
        Assert.Throws<InvalidDataException>(() => SpillJournal.Read(file, []));

        File.WriteAllBytes(file, good);
        var read = new List<FlowRecord>();
        SpillJournal.Read(file, read);
        Assert.Equal(50, read.Count);
    }

    [Fact]
    public void TryAppend_BeyondMaxBytes_RefusedAndNothingWritten()
    {
        var records = TestFlows.Generate(200, seed: 34);
        using var one = new MemoryStream();
        SpillCodec.Encode(one, records, 0, 100);
        var fileSize = one.Length + SpillJournal.HeaderSize;
        var journal = new SpillJournal(_directory, fileSize + 10, TimeProvider.System);

        Assert.True(journal.TryAppend(records, 0, 100));
        Assert.False(journal.TryAppend(records, 100, 100));

        Assert.Single(journal.List());
        Assert.Equal(fileSize, journal.Bytes);
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp"));
    }

    [Fact]
    public void Constructor_FilesOfPreviousRun_CountedAndTempFilesRemoved()
    {
        var records = TestFlows.Generate(20, seed: 35);
        var first = new SpillJournal(_directory, long.MaxValue, TimeProvider.System);
        Assert.True(first.TryAppend(records, 0, 10));
        Assert.True(first.TryAppend(records, 10, 10));
        File.WriteAllBytes(Path.Combine(_directory, "9999999999999999999-dead.tmp"), [1, 2, 3]);

        var second = new SpillJournal(_directory, long.MaxValue, TimeProvider.System);
        Assert.True(second.TryAppend(records, 0, 5));

        Assert.Equal(3, second.Files);
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp"));
        var files = second.List();
        var last = new List<FlowRecord>();
        SpillJournal.Read(files[^1], last);
        Assert.Equal(5, last.Count);
    }

    /// <summary>Values at the edges of each type, on top of the generated variety.</summary>
    private static List<FlowRecord> WithEdgeCases(List<FlowRecord> records)
    {
        records[0].TimeFlowStartMs = long.MinValue;
        records[0].TimeFlowEndMs = long.MaxValue;
        records[0].TimeReceived = -1;
        records[0].Bytes = long.MaxValue;
        records[0].Packets = 0;
        records[0].SrcMac = ulong.MaxValue;
        records[0].SrcPort = int.MinValue;
        records[0].Interfaces = [];
        records[0].IfDirections = [];
        records[0].Tenant = "";
        records[1].Interfaces = ["a", null!, "\u00e9t\u00e9\0x", "\U0001F600"];
        records[1].IfDirections = [int.MinValue, int.MaxValue, 0];
        records[1].Src.Namespace = new string('n', 70_000);
        records[1].DnsName = "";
        records[1].Tenant = "t\u00e9nant";
        records[2].SrcAddr = IPAddress.IPv6Loopback;
        records[2].DstAddr = IPAddress.Parse("::ffff:10.1.2.3");
        records[2].AgentIP = null;
        records[2].Src = new KubernetesMetadata();
        records[2].Dst = new KubernetesMetadata { HostIP = IPAddress.IPv6Any, Zone = "z" };
        return records;
    }

    /// <summary>Compares every public property (nested metadata and arrays included), so a field added later is covered.</summary>
    private static void AssertSameFields(object expected, object actual, string where)
    {
        foreach (var property in expected.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var e = property.GetValue(expected);
            var a = property.GetValue(actual);
            var name = where + "." + property.Name;
            switch (e)
            {
                case null:
                    Assert.True(a is null, name + " should be absent");
                    break;
                case KubernetesMetadata:
                    Assert.NotNull(a);
                    AssertSameFields(e, a, name);
                    break;
                case string text:
                    Assert.Equal(text, a);
                    break;
                case IEnumerable sequence:
                    Assert.NotNull(a);
                    Assert.Equal(sequence.Cast<object?>().ToList(), ((IEnumerable)a).Cast<object?>().ToList());
                    break;
                default:
                    Assert.True(e.Equals(a), $"{name}: expected {e}, got {a}");
                    break;
            }
        }
    }
}
