using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using NetObserv.Flows;
using NetObserv.Testing;

namespace NetObserv.Storage.Tests.Copy;

/// <summary>
/// Rows the database refuses for what they hold (here extra fields with a NUL character, which jsonb cannot
/// store: SQLSTATE 22P05) are isolated, kept in <c>flows_rejected</c>, and never hold
/// up the rows around them or the batches after them.
/// </summary>
public sealed class FlowBatchWriterPoisonTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    /// <summary>How long good rows may take to be stored once they are accepted.</summary>
    private static readonly TimeSpan s_promptly = TimeSpan.FromSeconds(20);

    // Each test starts from empty tables (the class shares one database).
    public Task InitializeAsync() => StoredFlows.ClearAsync(database);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Write_OneRowWithOversizedNamespace_OthersStoredBadRowRejectedNextBatchStored()
    {
        var records = TestFlows.Generate(700, seed: 61);
        var poison = records[137];
        TestFlows.Poison(poison, 1);
        await using var host = await StorageHost.CreateAsync(database.ConnectionString, batchSize: 500,
            flushInterval: TimeSpan.FromMilliseconds(50));
        using var meters = new MeterTotals(host.Services.GetRequiredService<IMeterFactory>());
        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();

        host.Accept(records[..500]);
        await WaitForFlowsAsync(499, "the batch's good rows");
        host.Accept(records[500..]);
        await WaitForFlowsAsync(699, "the next batch");
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        await StoredFlows.AssertAsync(database, [.. records[..137], .. records[138..]]);
        Assert.Equal(1, host.Writer.RowsRejected);
        Assert.Equal(1, meters.Total("netobserv.storage.rows_rejected", "sqlstate", "22P05"));
        Assert.Equal(0, host.Writer.RowsSpilled);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM flows_rejected"));
        Assert.Equal("22P05", await database.ScalarAsync<string>("SELECT sqlstate FROM flows_rejected"));
        Assert.Equal(poison.Tenant, await database.ScalarAsync<string>("SELECT tenant FROM flows_rejected"));
        Assert.Equal(FlowRecordJson.ToJson(poison), await database.ScalarAsync<string>("SELECT record FROM flows_rejected"));
        Assert.Contains("Unicode", await database.ScalarAsync<string>("SELECT error FROM flows_rejected"),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_TwoPoisonBatchesInARow_BothIsolatedAndLaterBatchesStored()
    {
        var records = TestFlows.Generate(900, seed: 62);
        TestFlows.Poison(records[10], 2);
        TestFlows.Poison(records[20], 3);
        TestFlows.Poison(records[450], 4);
        await using var host = await StorageHost.CreateAsync(database.ConnectionString, batchSize: 300,
            flushInterval: TimeSpan.FromMilliseconds(50));
        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();

        host.Accept(records[..300]);
        host.Accept(records[300..600]);
        await WaitForFlowsAsync(597, "the poison batches' good rows");
        host.Accept(records[600..]);
        await WaitForFlowsAsync(897, "the batch after them");
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        await StoredFlows.AssertAsync(database, [.. records.Where((_, i) => i is not (10 or 20 or 450))]);
        Assert.Equal(3, host.Writer.RowsRejected);
        Assert.Equal(3, await database.ScalarAsync<long>("SELECT count(*) FROM flows_rejected WHERE sqlstate = '22P05'"));
    }

    [Fact]
    public async Task StopAsync_PoisonBatchWhileDatabaseUp_NothingSpilledGoodRowsStored()
    {
        var records = TestFlows.Generate(400, seed: 63);
        TestFlows.Poison(records[399], 5);
        var logs = new LogCapture();
        await using var host = await StorageHost.CreateAsync(database.ConnectionString, batchSize: 400,
            flushInterval: TimeSpan.FromMilliseconds(50), spillAfter: TimeSpan.FromMilliseconds(100), logs: logs);
        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();

        host.Accept(records);
        using var hostTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await host.Writer.StopAsync(hostTimeout.Token).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, host.Writer.RowsSpilled);
        Assert.Equal(0, host.Writer.SpillFiles);
        Assert.Equal(399, host.Writer.RowsWritten);
        await StoredFlows.AssertAsync(database, records[..399]);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM flows_rejected"));
        Assert.Empty(logs.Messages("SpilledAtShutdown"));
        Assert.Empty(logs.Messages("SpilledOnShutdownTimeout"));
        var summary = Assert.Single(logs.Messages("RowsRejected"));
        // The writer may have taken the 400 records in more than one batch (a flush tick can fall while
        // they are being accepted): the batch that held the poison row refused that one alone.
        Assert.Matches(@"refused 1 of the \d+ rows", summary);
        Assert.Contains("SQLSTATE 22P05", summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_RejectedMaxRowsReached_FurtherRejectedRowsCountedNotKept()
    {
        var records = TestFlows.Generate(200, seed: 64);
        foreach (var i in (int[])[5, 50, 150])
        {
            TestFlows.Poison(records[i], i);
        }

        await using var host = await StorageHost.CreateAsync(database.ConnectionString, batchSize: 200,
            flushInterval: TimeSpan.FromMilliseconds(50), rejectedMaxRows: 2);
        using var meters = new MeterTotals(host.Services.GetRequiredService<IMeterFactory>());
        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();

        host.Accept(records);
        await WaitForFlowsAsync(197, "the good rows");
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();

        Assert.Equal(3, host.Writer.RowsRejected);
        Assert.Equal(3, meters.Total("netobserv.storage.rows_rejected"));
        Assert.Equal(1, meters.Total("netobserv.storage.rejected_not_kept", "reason", "full"));
        Assert.Equal(2, await database.ScalarAsync<long>("SELECT count(*) FROM flows_rejected"));
    }

    private Task WaitForFlowsAsync(long count, string what) =>
        Timeouts.WaitUntilAsync(async () => await database.ScalarAsync<long>("SELECT count(*) FROM flows") == count,
            s_promptly, what);
}
