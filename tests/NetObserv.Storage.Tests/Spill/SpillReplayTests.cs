using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using NetObserv.Flows;
using NetObserv.Storage.Spill;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Storage.Tests.Spill;

public sealed class SpillReplayTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private readonly string _spill = Directory.CreateTempSubdirectory("netobserv-spill-test-").FullName;

    // Each test starts from empty tables (the class shares one database).
    public Task InitializeAsync() => StoredFlows.ClearAsync(database);

    public Task DisposeAsync()
    {
        Directory.Delete(_spill, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Write_DatabaseDown_RecordsSpilledWithoutBackpressureThenReplayedOnce()
    {
        var target = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var proxy = new TcpProxy(target.Port);
        proxy.Start();
        await using var host = await StorageHost.CreateAsync(ViaProxy(proxy), batchSize: 500,
            flushInterval: TimeSpan.FromMilliseconds(50), channelCapacity: 2_000, spillDirectory: _spill,
            spillAfter: TimeSpan.FromMilliseconds(200));
        using var meters = new MeterTotals(host.Services.GetRequiredService<IMeterFactory>());
        var records = TestFlows.Generate(12_000, seed: 41);

        proxy.Stop();
        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
        // Six times the channel's capacity goes in while the database is down: the writer drains into the journal.
        for (var start = 0; start < records.Count; start += 1_000)
        {
            host.Accept(records[start..(start + 1_000)]);
            await Timeouts.WaitUntilAsync(() => Task.FromResult(host.Channel.Count == 0), what: "channel drained");
        }

        await Timeouts.WaitUntilAsync(() => Task.FromResult(host.Writer.RowsSpilled == records.Count),
            what: "every record spilled");
        Assert.Equal(0, host.Channel.Rejected);
        Assert.Equal(0, host.Writer.RowsWritten);
        Assert.True(host.Writer.IsSpilling);
        // In the write-ahead journal, waiting for the replayer.
        Assert.Equal(records.Count, host.Writer.Journal!.PendingRecords);

        proxy.Start();
        await Timeouts.WaitUntilAsync(async () => host.Writer.SpillFiles == 0
                && await database.ScalarAsync<long>("SELECT count(*) FROM flows") == records.Count,
            what: "journal replayed");
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        Assert.False(host.Writer.IsSpilling);
        Assert.Equal(records.Count, host.Writer.RowsReplayed);
        Assert.Equal(records.Count, meters.Total("netobserv.storage.rows_spilled"));
        Assert.Equal(records.Count, meters.Total("netobserv.storage.rows_replayed"));
        Assert.Empty(Directory.GetFiles(_spill, "*" + SpillJournal.Extension));
        Assert.Equal(0, host.Writer.Journal!.OutstandingBatches);
        await StoredFlows.AssertAsync(database, records);
    }

    [Fact]
    public async Task Write_DatabaseFlapsDuringReplayWithLiveTraffic_EveryRecordStoredOnce()
    {
        var target = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var proxy = new TcpProxy(target.Port);
        proxy.Start();
        await using var host = await StorageHost.CreateAsync(ViaProxy(proxy), batchSize: 200,
            flushInterval: TimeSpan.FromMilliseconds(50), channelCapacity: 2_000, spillDirectory: _spill,
            spillAfter: TimeSpan.FromMilliseconds(200));
        var records = TestFlows.Generate(8_000, seed: 47);

        proxy.Stop();
        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
        await AcceptWhileDrainedAsync(host, records[..6_000]);
        await Timeouts.WaitUntilAsync(() => Task.FromResult(host.Writer.RowsSpilled == 6_000), what: "first outage spilled");

        // Back, and gone again once replay has begun (a file being written is rolled back and kept).
        proxy.Start();
        await Timeouts.WaitUntilAsync(() => Task.FromResult(host.Writer.RowsReplayed > 0), what: "replay begun");
        proxy.Stop();
        await AcceptWhileDrainedAsync(host, records[6_000..7_000]);
        await Timeouts.WaitUntilAsync(() => Task.FromResult(host.Writer.RowsSpilled + host.Writer.RowsWritten
                - host.Writer.RowsReplayed >= 7_000 && host.Channel.Count == 0 && host.Writer.IsSpilling),
            what: "second outage spilled");

        // Back for good, with live traffic while the journal is replayed.
        proxy.Start();
        await AcceptWhileDrainedAsync(host, records[7_000..]);
        await Timeouts.WaitUntilAsync(async () => host.Writer.SpillFiles == 0
                && await database.ScalarAsync<long>("SELECT count(*) FROM flows") == records.Count,
            what: "everything written");
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        Assert.Equal(0, host.Channel.Rejected);
        Assert.Equal(0, host.Writer.SpillBytes);
        // A replay whose commit reply the cut lost is found in spill_replayed on the next attempt and
        // not counted again: the counters may fall short of the journal, the table may not.
        Assert.InRange(host.Writer.RowsReplayed, 1, host.Writer.RowsSpilled);
        await StoredFlows.AssertAsync(database, records);
    }

    [Fact]
    public async Task Replay_FileAlreadyRecorded_DeletedWithoutWritingTwice()
    {
        var records = TestFlows.Generate(300, seed: 42);
        var journal = new SpillJournal(_spill, long.MaxValue, TimeProvider.System);
        Assert.True(journal.TryAppend(records, 0, records.Count));
        var file = journal.List()[0];
        var saved = await File.ReadAllBytesAsync(file);
        await using (var first = await StorageHost.CreateAsync(database.ConnectionString, spillDirectory: _spill))
        {
            await first.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
            await Timeouts.WaitUntilAsync(() => Task.FromResult(first.Writer.SpillFiles == 0), what: "replayed");
            await first.Writer.StopAsync(CancellationToken.None).DefaultTimeout();
            Assert.Equal(records.Count, first.Writer.RowsReplayed);
        }

        // The process died after the commit and before the delete: the file is still there.
        await File.WriteAllBytesAsync(file, saved);
        await using var second = await StorageHost.CreateAsync(database.ConnectionString, spillDirectory: _spill);
        Assert.Equal(1, second.Writer.SpillFiles);
        await second.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
        await Timeouts.WaitUntilAsync(() => Task.FromResult(second.Writer.SpillFiles == 0), what: "file deleted");
        await second.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        Assert.False(File.Exists(file));
        Assert.Equal(0, second.Writer.RowsReplayed);
        Assert.Equal(0, second.Writer.RowsWritten);
        await StoredFlows.AssertAsync(database, records);
    }

    [Fact]
    public async Task Replay_CorruptTruncatedAndForeignFiles_MovedToBadOthersReplayed()
    {
        var records = TestFlows.Generate(400, seed: 43);
        var journal = new SpillJournal(_spill, long.MaxValue, TimeProvider.System);
        for (var start = 0; start < records.Count; start += 100)
        {
            Assert.True(journal.TryAppend(records, start, 100));
        }

        var files = journal.List();
        var flipped = await File.ReadAllBytesAsync(files[1]);
        flipped[^10] ^= 0x01;
        await File.WriteAllBytesAsync(files[1], flipped);
        var truncated = await File.ReadAllBytesAsync(files[2]);
        await File.WriteAllBytesAsync(files[2], truncated[..(truncated.Length / 2)]);
        await File.WriteAllTextAsync(Path.Combine(_spill, "0000000000000000000-foreign" + SpillJournal.Extension),
            "not a journal file");
        var journalBytes = Directory.GetFiles(_spill).Sum(f => new FileInfo(f).Length);
        await using var host = await StorageHost.CreateAsync(database.ConnectionString, spillDirectory: _spill);
        Assert.Equal(5, host.Writer.SpillFiles);
        using var meters = new MeterTotals(host.Services.GetRequiredService<IMeterFactory>());
        meters.Listener.RecordObservableInstruments();
        Assert.Equal(journalBytes, meters.Last("netobserv.storage.spill_bytes"));

        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
        await Timeouts.WaitUntilAsync(() => Task.FromResult(host.Writer.SpillFiles == 0), what: "journal handled");
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        meters.Listener.RecordObservableInstruments();
        Assert.Equal(0, meters.Last("netobserv.storage.spill_bytes"));
        Assert.Equal(3, meters.Total("netobserv.storage.spill_bad_files"));
        Assert.Equal(200, meters.Total("netobserv.storage.rows_replayed"));
        Assert.Equal(200, meters.Total("netobserv.storage.rows_written"));
        Assert.Equal(3, host.Writer.BadSpillFiles);
        Assert.Equal(3, Directory.GetFiles(Path.Combine(_spill, "bad")).Length);
        Assert.Empty(Directory.GetFiles(_spill, "*" + SpillJournal.Extension));
        Assert.Equal(200, host.Writer.RowsReplayed);
        await StoredFlows.AssertAsync(database, [.. records[..100], .. records[300..]]);
    }

    [Fact]
    public async Task Replay_FileWithPoisonRow_GoodRowsStoredOnceBadRowRejectedNewerFileReplayed()
    {
        var records = TestFlows.Generate(500, seed: 48);
        TestFlows.Poison(records[123], 6);
        var journal = new SpillJournal(_spill, long.MaxValue, TimeProvider.System);
        Assert.True(journal.TryAppend(records, 0, 300));
        Assert.True(journal.TryAppend(records, 300, 200));
        var poisoned = journal.List()[0];
        var saved = await File.ReadAllBytesAsync(poisoned);
        List<FlowRecord> good = [.. records[..123], .. records[124..]];
        await using (var first = await StorageHost.CreateAsync(database.ConnectionString, spillDirectory: _spill))
        {
            await first.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
            await Timeouts.WaitUntilAsync(() => Task.FromResult(first.Writer.SpillFiles == 0),
                TimeSpan.FromSeconds(20), "journal replayed");
            await first.Writer.StopAsync(CancellationToken.None).DefaultTimeout();
            Assert.Equal(good.Count, first.Writer.RowsReplayed);
            Assert.Equal(1, first.Writer.RowsRejected);
            Assert.Equal(0, first.Writer.BadSpillFiles);
        }

        await StoredFlows.AssertAsync(database, good);
        Assert.Equal(good.Count, await database.ScalarAsync<long>("SELECT sum(rows) FROM spill_replayed"));
        Assert.Equal("22P05", await database.ScalarAsync<string>("SELECT sqlstate FROM flows_rejected"));

        // The process died after the commits and before the delete: the file is back, and nothing of
        // it, the rejected row included, is written twice.
        await File.WriteAllBytesAsync(poisoned, saved);
        await using var second = await StorageHost.CreateAsync(database.ConnectionString, spillDirectory: _spill);
        await second.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
        await Timeouts.WaitUntilAsync(() => Task.FromResult(second.Writer.SpillFiles == 0),
            TimeSpan.FromSeconds(20), "file deleted");
        await second.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        Assert.Equal(0, second.Writer.RowsReplayed);
        Assert.Equal(0, second.Writer.RowsRejected);
        await StoredFlows.AssertAsync(database, good);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM flows_rejected"));
    }

    [Fact]
    public async Task StopAsync_DatabaseDown_AcceptedRecordsSpilledPromptlyAndReplayedByNextHost()
    {
        var records = TestFlows.Generate(5_000, seed: 44);
        var target = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using (var proxy = new TcpProxy(target.Port))
        {
            proxy.Start();
            // SpillAfter is far longer than the test: only the shutdown sends batches to the journal.
            var logs = new LogCapture();
            await using var first = await StorageHost.CreateAsync(ViaProxy(proxy), batchSize: 1_000,
                flushInterval: TimeSpan.FromMilliseconds(50), spillDirectory: _spill, spillAfter: TimeSpan.FromHours(1),
                logs: logs);
            proxy.Stop();
            await first.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
            first.Accept(records);

            await first.Writer.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal(0, first.Writer.RowsWritten);
            Assert.Equal(records.Count, first.Writer.RowsSpilled);
            Assert.Equal(records.Count, first.Writer.Journal!.PendingRecords);
            var why = Assert.Single(logs.Messages("SpilledAtShutdown"));
            Assert.Contains("database was unavailable at shutdown (", why, StringComparison.Ordinal);
            Assert.Contains(records.Count.ToString(CultureInfo.InvariantCulture) + " rows", why, StringComparison.Ordinal);
            Assert.Empty(logs.Messages("SpilledOnShutdownTimeout"));
        }

        await using var second = await StorageHost.CreateAsync(database.ConnectionString, spillDirectory: _spill);
        await second.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
        await Timeouts.WaitUntilAsync(() => Task.FromResult(second.Writer.SpillFiles == 0), what: "journal replayed");
        await second.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        Assert.Equal(records.Count, second.Writer.RowsReplayed);
        await StoredFlows.AssertAsync(database, records);
    }

    [Fact]
    public async Task StopAsync_DatabaseHangsUntilHostTimeout_QueuedAndInFlightRecordsSpilled()
    {
        var records = TestFlows.Generate(3_000, seed: 46);
        var target = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using (var proxy = new TcpProxy(target.Port))
        {
            proxy.Start();
            // Connection attempts time out after 60 s, long after the host's shutdown timeout (1 s), however
            // slowly a loaded machine gets to StopAsync: the abort, not the connect timeout, ends them. No
            // pooling: a pooled connection the hang cut would fail at once instead of hanging.
            var logs = new LogCapture();
            await using var first = await StorageHost.CreateAsync(ViaProxy(proxy, connectTimeoutSeconds: 60, pooling: false),
                batchSize: 1_000, flushInterval: TimeSpan.FromMilliseconds(50), spillDirectory: _spill,
                spillAfter: TimeSpan.FromHours(1), logs: logs);
            proxy.Hang();
            await first.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
            first.Accept(records);
            await Timeouts.WaitUntilAsync(() => Task.FromResult(first.Channel.Count < records.Count),
                what: "lanes holding batches");

            // The host's shutdown timeout fires while every connection attempt hangs.
            using var hostTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await first.Writer.StopAsync(hostTimeout.Token).WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal(0, first.Writer.RowsWritten);
            Assert.Equal(records.Count, first.Writer.RowsSpilled);
            Assert.Equal(records.Count, first.Writer.Journal!.PendingRecords);
            var why = Assert.Single(logs.Messages("SpilledOnShutdownTimeout"));
            Assert.Contains("shutdown timeout passed before " + records.Count.ToString(CultureInfo.InvariantCulture),
                why, StringComparison.Ordinal);
            Assert.Empty(logs.Messages("SpilledAtShutdown"));
        }

        await using var second = await StorageHost.CreateAsync(database.ConnectionString, spillDirectory: _spill);
        await second.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
        await Timeouts.WaitUntilAsync(() => Task.FromResult(second.Writer.SpillFiles == 0), what: "journal replayed");
        await second.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        await StoredFlows.AssertAsync(database, records);
    }

    [Fact]
    public async Task Write_SpillMaxBytesReached_BackpressureAndNothingLost()
    {
        const int batch = 200;
        var records = TestFlows.Generate(3_000, seed: 45);
        long maxBytes;
        using (var sample = new MemoryStream())
        {
            SpillCodec.Encode(sample, records, 0, batch);
            maxBytes = (sample.Length + SpillJournal.HeaderSize) * 5 / 2;
        }

        var target = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var proxy = new TcpProxy(target.Port);
        proxy.Start();
        await using var host = await StorageHost.CreateAsync(ViaProxy(proxy), batchSize: batch,
            flushInterval: TimeSpan.FromHours(1), channelCapacity: 3 * batch, writers: 1, spillDirectory: _spill,
            spillMaxBytes: maxBytes, spillAfter: TimeSpan.FromMilliseconds(100));
        proxy.Stop();
        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();

        // Accept batches until the channel refuses one for a whole second: the journal is full.
        var next = 0;
        while (next < records.Count && await TryAcceptAsync(host, records[next..(next + batch)], TimeSpan.FromSeconds(1)))
        {
            next += batch;
        }

        Assert.True(next < records.Count, "the channel never pushed back");
        Assert.True(host.Channel.Rejected > 0);
        Assert.True(host.Writer.RowsSpilled > 0);
        Assert.InRange(host.Writer.SpillBytes, 1, maxBytes);
        Assert.Equal(0, host.Writer.RowsWritten);

        proxy.Start();
        for (; next < records.Count; next += batch)
        {
            Assert.True(await TryAcceptAsync(host, records[next..(next + batch)], Timeouts.Default), "accepted once the database is back");
        }

        await Timeouts.WaitUntilAsync(async () => host.Writer.SpillFiles == 0
                && await database.ScalarAsync<long>("SELECT count(*) FROM flows") == records.Count,
            what: "everything written");
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        Assert.Equal(host.Writer.RowsSpilled, host.Writer.RowsReplayed);
        Assert.Equal(0, host.Writer.RowsRejected);
        await StoredFlows.AssertAsync(database, records);
    }

    /// <summary>Accepts records 500 at a time, each chunk once the writer has taken the previous one.</summary>
    private static async Task AcceptWhileDrainedAsync(StorageHost host, List<FlowRecord> records)
    {
        for (var start = 0; start < records.Count; start += 500)
        {
            host.Accept(records[start..Math.Min(start + 500, records.Count)]);
            await Timeouts.WaitUntilAsync(() => Task.FromResult(host.Channel.Count == 0), what: "channel drained");
        }
    }

    private static async Task<bool> TryAcceptAsync(StorageHost host, List<FlowRecord> records, TimeSpan patience)
    {
        var waited = Stopwatch.StartNew();
        while (!host.Channel.TryWriteBatch(records))
        {
            if (waited.Elapsed >= patience)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }

    private string ViaProxy(TcpProxy proxy, int connectTimeoutSeconds = 3, bool pooling = true) =>
        new NpgsqlConnectionStringBuilder(database.ConnectionString)
        {
            Port = proxy.Port,
            Timeout = connectTimeoutSeconds,
            Pooling = pooling,
        }.ConnectionString;

    private static int CountRecords(IEnumerable<string> files)
    {
        var all = new List<FlowRecord>();
        foreach (var file in files)
        {
            SpillJournal.Read(file, all);
        }

        return all.Count;
    }
}
