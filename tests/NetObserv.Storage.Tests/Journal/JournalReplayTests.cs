using NetObserv.Flows;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Storage.Tests.Journal;

/// <summary>The journal against a real database: replay after a crash, exactly once.</summary>
public sealed class JournalReplayTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("netobserv-journal-replay-").FullName;

    public Task InitializeAsync() => StoredFlows.ClearAsync(database);

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    private Task<StorageHost> HostAsync() =>
        StorageHost.CreateAsync(database.ConnectionString, flushInterval: TimeSpan.FromMilliseconds(50),
            spillDirectory: _folder, durability: "journal");

    private async Task<long> CountAsync(string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        await using var command = dataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Each record once: the row count and the byte sum equal the records'.</summary>
    private async Task AssertStoredAsync(List<FlowRecord> expected)
    {
        Assert.Equal(expected.Count, await CountAsync("SELECT count(*) FROM flows"));
        Assert.Equal(expected.Sum(r => r.Bytes), await CountAsync("SELECT coalesce(sum(bytes), 0)::bigint FROM flows"));
    }

    [Fact]
    public async Task Start_JournalLeftByCrash_ReplayedOnceBeforeNewTrafficAndNotAgain()
    {
        var batches = new[] { TestFlows.Generate(40, 1), TestFlows.Generate(25, 2), TestFlows.Generate(7, 3) };
        await using (var crashed = await HostAsync())
        {
            // Acknowledged (in the journal), never written: the process died before its writer ran.
            var journal = crashed.Writer.Journal!;
            foreach (var batch in batches)
            {
                Assert.True(await journal.AppendAsync(batch, 0, batch.Count).DefaultTimeout() > 0);
            }
        }

        await using (var next = await HostAsync())
        {
            var live = TestFlows.Generate(5, 4);
            next.Accept(live);
            await next.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
            await next.Writer.Recovered.DefaultTimeout();
            await Timeouts.WaitUntilAsync(() => Task.FromResult(next.Writer.RowsWritten >= 77), what: "77 rows");
            await next.Writer.StopAsync(CancellationToken.None).DefaultTimeout();
            Assert.Equal(72, next.Writer.RowsReplayed);
        }

        await using (var again = await HostAsync())
        {
            await again.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
            await again.Writer.Recovered.DefaultTimeout();
            await again.Writer.StopAsync(CancellationToken.None).DefaultTimeout();
            Assert.Equal(0, again.Writer.RowsReplayed);
        }

        await AssertStoredAsync([.. batches.SelectMany(b => b), .. TestFlows.Generate(5, 4)]);
    }

    [Fact]
    public async Task Start_BatchCommittedByLaneBeforeCrash_NotWrittenTwice()
    {
        var records = TestFlows.Generate(30, 9);
        await using (var first = await HostAsync())
        {
            await first.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
            var journal = first.Writer.Journal!;
            var position = await journal.AppendAsync(records, 0, records.Count).DefaultTimeout();
            Assert.True(first.Channel.TryWriteBatch(records, position));
            await Timeouts.WaitUntilAsync(() => Task.FromResult(first.Writer.RowsWritten >= 30), what: "30 rows");
            Assert.Equal(1, await CountAsync(
                $"SELECT count(*) FROM journal_applied WHERE journal_id = '{journal.Id}' AND position = {position}"));
            await first.Writer.StopAsync(CancellationToken.None).DefaultTimeout();
        }

        await using (var second = await HostAsync())
        {
            await second.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
            await second.Writer.Recovered.DefaultTimeout();
            await second.Writer.StopAsync(CancellationToken.None).DefaultTimeout();
            Assert.Equal(0, second.Writer.RowsReplayed);
        }

        await AssertStoredAsync(records);
    }

    [Fact]
    public async Task Journal_ChannelFull_BatchWaitsInJournalAndIsWritten()
    {
        await using var host = await HostAsync();
        var journal = host.Writer.Journal!;
        var records = TestFlows.Generate(12, 5);
        var position = await journal.AppendAsync(records, 0, records.Count).DefaultTimeout();
        journal.Release(position);

        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
        await Timeouts.WaitUntilAsync(() => Task.FromResult(host.Writer.RowsWritten >= 12), what: "12 rows");
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();
        Assert.Equal(0, journal.OutstandingBatches);
        await AssertStoredAsync(records);
    }
}
