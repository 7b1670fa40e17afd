using Microsoft.Extensions.Logging.Abstractions;
using NetObserv.Flows;
using NetObserv.Storage.Journal;
using NetObserv.Testing;

namespace NetObserv.Storage.Tests.Journal;

public sealed class FlowJournalTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "netobserv-journal-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private FlowJournal Open(long segmentBytes = 1L << 20, long maxBytes = 1L << 30) =>
        new(_folder, segmentBytes, maxBytes, NullLogger.Instance);

    private static async Task<long> AppendAsync(FlowJournal journal, List<FlowRecord> records) =>
        await journal.AppendAsync(records, 0, records.Count).DefaultTimeout();

    private string[] Segments() =>
        [.. Directory.GetFiles(_folder, "*" + FlowJournal.Extension).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Append_Reopen_EveryBatchReadBackAndPositionsContinue()
    {
        var batches = new[] { TestFlows.Generate(3, 1), TestFlows.Generate(5, 2), TestFlows.Generate(1, 3) };
        using (var journal = Open())
        {
            for (var i = 0; i < batches.Length; i++)
            {
                Assert.Equal(i + 1, await AppendAsync(journal, batches[i]));
            }

            Assert.True(journal.Fsyncs >= 1);
        }

        using var reopened = Open();
        Assert.True(reopened.Recovering);
        Assert.Equal(3, reopened.Recover(0, new HashSet<long>()));
        for (var i = 0; i < batches.Length; i++)
        {
            var read = new List<FlowRecord>();
            reopened.Read(i + 1, read);
            Assert.Equal(batches[i].Select(r => (r.Bytes, r.SrcPort, r.TimeFlowEndMs)),
                read.Select(r => (r.Bytes, r.SrcPort, r.TimeFlowEndMs)));
        }

        Assert.Equal(4, await AppendAsync(reopened, TestFlows.Generate(2, 4)));
    }

    [Fact]
    public async Task Open_TornTail_CutAtLastValidRecordAndNothingAfterIsKept()
    {
        using (var journal = Open())
        {
            await AppendAsync(journal, TestFlows.Generate(10, 1));
            await AppendAsync(journal, TestFlows.Generate(10, 2));
        }

        var segment = Assert.Single(Segments());
        var whole = new FileInfo(segment).Length;
        // A crash in the middle of writing the second record: only part of it reached the disk.
        using (var file = new FileStream(segment, FileMode.Open))
        {
            file.SetLength(whole - 7);
        }

        using var reopened = Open();
        reopened.Recover(0, new HashSet<long>());
        var pending = new List<long>();
        reopened.TakePending(1_000, pending);
        Assert.Equal([1L], pending);
        Assert.True(new FileInfo(segment).Length < whole - 7, "the partial record was cut");
        Assert.Equal(2, await AppendAsync(reopened, TestFlows.Generate(1, 3)));
    }

    [Fact]
    public async Task Open_CorruptPayload_CrcFailsAndRecordIsCut()
    {
        using (var journal = Open())
        {
            await AppendAsync(journal, TestFlows.Generate(4, 1));
            await AppendAsync(journal, TestFlows.Generate(4, 2));
            await AppendAsync(journal, TestFlows.Generate(4, 3));
        }

        var segment = Assert.Single(Segments());
        var bytes = await File.ReadAllBytesAsync(segment);
        // Flip one byte inside the second record's payload.
        var first = bytes.Length / 3;
        bytes[first + FlowJournal.HeaderSize + 5] ^= 0xFF;
        await File.WriteAllBytesAsync(segment, bytes);

        using var reopened = Open();
        Assert.Equal(1, reopened.Recover(0, new HashSet<long>()));
        Assert.Equal(2, reopened.LastPosition + 1);
    }

    [Fact]
    public async Task Append_PastMaxBytes_CompletesWithZeroAndCountsRefusal()
    {
        using var journal = Open(maxBytes: 4_096);
        var position = 0L;
        var refused = false;
        for (var i = 0; i < 100 && !refused; i++)
        {
            position = await AppendAsync(journal, TestFlows.Generate(5, i));
            refused = position == 0;
        }

        Assert.True(refused, "the cap was never reached");
        Assert.True(journal.Bytes <= 4_096);
        Assert.True(journal.FullRefusals >= 1);
    }

    [Fact]
    public async Task Open_FilesAre0600AndFolder0700()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var journal = Open();
        await AppendAsync(journal, TestFlows.Generate(1, 1));

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            File.GetUnixFileMode(_folder));
        foreach (var file in Directory.GetFiles(_folder))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    [Fact]
    public async Task Recover_AppliedThroughAndAbove_OnlyTheOthersArePending()
    {
        using (var journal = Open())
        {
            for (var i = 0; i < 6; i++)
            {
                await AppendAsync(journal, TestFlows.Generate(2, i));
            }
        }

        using var reopened = Open();
        // The database holds 1..3 (through) and 5.
        Assert.Equal(2, reopened.Recover(3, new HashSet<long> { 5 }));
        var pending = new List<long>();
        Assert.Equal(4, reopened.TakePending(1_000, pending));
        Assert.Equal([4L, 6L], pending);
        Assert.Equal(3, reopened.Watermark);
        reopened.MarkApplied(pending);
        Assert.Equal(6, reopened.Watermark);
    }

    [Fact]
    public async Task MarkApplied_SegmentsWhollyBelowWatermark_Deleted()
    {
        using var journal = Open(segmentBytes: 4_096);
        var positions = new List<long>();
        for (var i = 0; i < 20; i++)
        {
            positions.Add(await AppendAsync(journal, TestFlows.Generate(10, i)));
        }

        Assert.True(Segments().Length > 2, "small segments roll");
        var bytes = journal.Bytes;

        journal.MarkApplied(positions[..10]);
        Assert.True(journal.Bytes < bytes);
        Assert.True(journal.Watermark == 10);

        journal.MarkApplied(positions[10..]);
        // The active segment stays (it takes the next appends); every closed one is gone.
        Assert.Single(Segments());
    }

    [Fact]
    public async Task Open_SecondJournalOnSameFolder_FailsClearly()
    {
        using var journal = Open();
        await AppendAsync(journal, TestFlows.Generate(1, 1));

        var error = Assert.Throws<IOException>(() => Open());
        Assert.Contains("in use by another server", error.Message, StringComparison.Ordinal);
    }
}
