using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using NetObserv.Storage.Partitions;
using NetObserv.Storage.Rollups;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Storage.Tests.Copy;

public sealed class FlowBatchWriterLifecycleTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    // Each test starts from empty tables (the class shares one database).
    public Task InitializeAsync() => StoredFlows.ClearAsync(database);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task StopAsync_RecordsWaitingInChannel_AllWrittenBeforeStop()
    {
        const int n = 25_000;
        var records = TestFlows.Generate(n, seed: 1);
        // Batches larger than the data and a flush interval longer than the test: only shutdown flushes.
        await using var host = await StorageHost.CreateAsync(database.ConnectionString, batchSize: 1_000_000,
            flushInterval: TimeSpan.FromHours(1));
        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
        host.Accept(records);

        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        Assert.Equal(n, host.Writer.RowsWritten);
        Assert.Equal(n, await database.ScalarAsync<long>("SELECT count(*) FROM flows"));
        Assert.Equal(n, await database.ScalarAsync<long>("SELECT sum(flows) FROM flow_rollup_1h"));
        Assert.False(host.Channel.TryWrite(records[0]), "a stopped writer's channel accepts no more records");
    }

    [Fact]
    public async Task Write_Batches_MetersCountRowsAndBatches()
    {
        var records = TestFlows.Generate(3_000, seed: 14);
        await using var host = await StorageHost.CreateAsync(database.ConnectionString, batchSize: 1_000,
            flushInterval: TimeSpan.FromMilliseconds(50));
        var factory = host.Services.GetRequiredService<IMeterFactory>();
        var totals = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Meter.Name == "NetObserv.Storage")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            totals.AddOrUpdate(instrument.Name, value, (_, old) => old + value));
        listener.Start();

        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
        for (var start = 0; start < records.Count; start += 1_000)
        {
            host.Accept(records[start..(start + 1_000)]);
        }
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        Assert.Equal(records.Count, totals.GetValueOrDefault("netobserv.storage.rows_written"));
        Assert.Equal(host.Writer.BatchesWritten, totals.GetValueOrDefault("netobserv.storage.batches"));
        Assert.True(host.Writer.BatchesWritten >= 3);
        // Each batch appends one per-minute delta per key and minute (no merge has run: the service is not started).
        Assert.Equal(await database.ScalarAsync<long>("SELECT count(*) FROM flow_rollup_1m_delta"),
            totals.GetValueOrDefault("netobserv.storage.rollup_rows"));
    }

    [Fact]
    public async Task ExecuteAsync_FewRecords_FlushedOnTime()
    {
        var records = TestFlows.Generate(10, seed: 2);
        await using var host = await StorageHost.CreateAsync(database.ConnectionString, batchSize: 10_000,
            flushInterval: TimeSpan.FromMilliseconds(100), writers: 1);
        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();

        host.Accept(records);

        await Timeouts.WaitUntilAsync(async () => await database.ScalarAsync<long>("SELECT count(*) FROM flows") == 10,
            what: "10 rows flushed by time");
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();
        Assert.Equal(1, host.Writer.BatchesWritten);
    }

    [Fact]
    public async Task Write_LateAndFutureDaysWithoutPartition_PartitionsCreatedAndRowsWritten()
    {
        var late = TestFlows.Generate(300, seed: 3,
            baseMs: new DateTimeOffset(2026, 1, 5, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), spanMinutes: 60);
        var future = TestFlows.Generate(200, seed: 4,
            baseMs: new DateTimeOffset(2027, 6, 1, 23, 30, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), spanMinutes: 60);
        await using var host = await StorageHost.CreateAsync(database.ConnectionString);
        var before = await host.Partitions.ListAsync(CancellationToken.None).DefaultTimeout();
        Assert.DoesNotContain(new DateOnly(2026, 1, 5), before);

        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
        host.Accept([.. late, .. future]);
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        Assert.Equal(500, await database.ScalarAsync<long>("SELECT count(*) FROM flows"));
        if (PostgresTestMode.IsTimescaleDb)
        {
            // The hypertable made its chunks itself.
            return;
        }

        var after = await host.Partitions.ListAsync(CancellationToken.None).DefaultTimeout();
        Assert.Contains(new DateOnly(2026, 1, 5), after);
        Assert.Contains(new DateOnly(2027, 6, 1), after);
        Assert.Contains(new DateOnly(2027, 6, 2), after);
        Assert.Equal(300, await database.ScalarAsync<long>("SELECT count(*) FROM flow_rows_p20260105"));
    }

    [Fact]
    public async Task Write_TextPostgresCannotStore_WrittenWithReplacementCharacter()
    {
        var records = TestFlows.Generate(3, seed: 5);
        records[0].Src.Namespace = "bad\0ns";
        records[1].DnsName = "lone\uD800surrogate";
        records[2].Interfaces = ["eth\00"];
        await using var host = await StorageHost.CreateAsync(database.ConnectionString);
        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();

        host.Accept(records);
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        Assert.Equal(3, await database.ScalarAsync<long>("SELECT count(*) FROM flows"));
        Assert.Equal(0, host.Writer.RowsRejected);
        Assert.Equal("bad\uFFFDns", await database.ScalarAsync<string>(
            "SELECT src_k8s_namespace FROM flows WHERE hash_id = 'h0'"));
        Assert.Equal("lone\uFFFDsurrogate", await database.ScalarAsync<string>(
            "SELECT dns_name FROM flows WHERE hash_id = 'h1'"));
        Assert.Equal("eth\uFFFD0", await database.ScalarAsync<string>(
            "SELECT interfaces[1] FROM flows WHERE hash_id = 'h2'"));
        Assert.Equal(1, await database.ScalarAsync<long>(
            "SELECT count(*) FROM flow_rollup_1m WHERE src_k8s_namespace = 'bad\uFFFDns'"));
    }

    [Fact]
    public async Task Write_RollupSumPastBigint_EveryRecordStoredSumSaturates()
    {
        // A rollup sum past bigint (an absurd counter) saturates its rollup row, in the writer, the merge and
        // the views alike; no record is refused for it and no merge fails.
        var first = TestFlows.Generate(1, seed: 6);
        first[0].Bytes = long.MaxValue - 10;
        first[0].Sampling = 1;
        var second = TestFlows.Generate(9, seed: 7, baseMs: TestFlows.BaseMs + 86_400_000);
        var poison = TestFlows.Generate(1, seed: 6)[0];
        poison.HashId = "poison";
        poison.Bytes = 100;
        poison.Sampling = 1;
        await using var host = await StorageHost.CreateAsync(database.ConnectionString, batchSize: 1_000,
            flushInterval: TimeSpan.FromMilliseconds(50));
        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
        host.Accept(first);
        await Timeouts.WaitUntilAsync(() => Task.FromResult(host.Writer.RowsWritten == 1), what: "first row");

        host.Accept([.. second[..4], poison, .. second[4..]]);
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        Assert.Equal(0, host.Writer.RowsRejected);
        Assert.Equal(11, host.Writer.RowsWritten);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM flows WHERE hash_id = 'poison'"));
        Assert.Equal(11, await database.ScalarAsync<long>("SELECT sum(flows) FROM flow_rollup_1m"));
        await RollupCompaction.CompactBeforeAsync(host.Database.DataSource, TestFlows.BaseMs + (3 * 86_400_000L),
            CancellationToken.None).DefaultTimeout();
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM flow_rollup_1m_delta"));
        Assert.Equal(long.MaxValue, await database.ScalarAsync<long>(
            $"SELECT max(bytes) FROM flow_rollup_1h WHERE bucket = to_timestamp({first[0].TimeFlowEndMs / 3_600_000 * 3_600})"));
        Assert.Equal(11, await database.ScalarAsync<long>("SELECT sum(flows) FROM flow_rollup_10m"));
    }

    [Fact]
    public async Task Write_MalformedRecord_OnlyThatRecordSkipped()
    {
        var records = TestFlows.Generate(50, seed: 15);
        records[17].Src = null!;
        await using var host = await StorageHost.CreateAsync(database.ConnectionString, writers: 1);
        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();

        host.Accept(records);
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        Assert.Equal(1, host.Writer.RowsRejected);
        Assert.Equal(49, await database.ScalarAsync<long>("SELECT count(*) FROM flows"));
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM flows WHERE hash_id = 'h17'"));
    }

    [Fact]
    public async Task Write_DatabaseUnreachableThenBack_BatchRetriedNothingLost()
    {
        var target = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var proxy = new TcpProxy(target.Port);
        proxy.Start();
        var viaProxy = new NpgsqlConnectionStringBuilder(database.ConnectionString)
        {
            Port = proxy.Port,
            Timeout = 3,
        }.ConnectionString;
        await using var host = await StorageHost.CreateAsync(viaProxy, batchSize: 500,
            flushInterval: TimeSpan.FromMilliseconds(50));
        var records = TestFlows.Generate(2_000, seed: 8);

        proxy.Stop();
        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
        host.Accept(records);
        await Timeouts.WaitUntilAsync(() => Task.FromResult(host.Writer.WriteErrors >= 2), what: "failed attempts");
        Assert.Equal(0, host.Writer.RowsWritten);

        proxy.Start();
        await Timeouts.WaitUntilAsync(() => Task.FromResult(host.Writer.RowsWritten == records.Count),
            what: "every row written after the database came back");
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        Assert.Equal(records.Count, await database.ScalarAsync<long>("SELECT count(*) FROM flows"));
        Assert.Equal(records.Count, await database.ScalarAsync<long>("SELECT sum(flows) FROM flow_rollup_1h"));
        Assert.Equal(0, host.Writer.RowsRejected);
    }

    [OneSuiteFact(StorageMode.Native, "about the writer's cache of native daily partitions")]
    public async Task Write_PartitionDroppedAfterCaching_RecreatedAndWritten()
    {
        var day = new DateOnly(2026, 2, 10);
        var baseMs = new DateTimeOffset(day.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero).ToUnixTimeMilliseconds();
        await using var host = await StorageHost.CreateAsync(database.ConnectionString, batchSize: 100,
            flushInterval: TimeSpan.FromMilliseconds(50));
        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
        host.Accept(TestFlows.Generate(10, seed: 9, baseMs: baseMs, spanMinutes: 10));
        await Timeouts.WaitUntilAsync(() => Task.FromResult(host.Writer.RowsWritten == 10), what: "first rows");

        // Another replica's retention drops the partition this writer remembers.
        await database.ScalarAsync<int>("DROP TABLE " + FlowPartitions.NameOf(day) + "; SELECT 1");
        host.Accept(TestFlows.Generate(10, seed: 10, baseMs: baseMs, spanMinutes: 10));
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        Assert.Equal(20, host.Writer.RowsWritten);
        Assert.Equal(10, await database.ScalarAsync<long>("SELECT count(*) FROM flows"));
    }
}
