using NetObserv.Flows;
using NetObserv.Testing;

namespace NetObserv.Storage.Tests.Copy;

/// <summary>
/// A fresh database holding 100,000 flows written through the batch writer (once per test class), accepted
/// in sends of 1,000 as the ingest door accepts them, so both writer loops write batches of 10,000 and later
/// batches find their dictionary and rollup key ids in the cache.
/// </summary>
public sealed class WrittenFlowsFixture : IAsyncLifetime
{
    public const int Count = 100_000;

    private readonly PostgresDatabase _database = new();

    public string ConnectionString => _database.ConnectionString;

    internal List<FlowRecord> Records { get; } = TestFlows.Generate(Count, seed: 42);

    public long RowsWritten { get; private set; }

    public long RowsRejected { get; private set; }

    public long BatchesWritten { get; private set; }

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        await using var host = await StorageHost.CreateAsync(ConnectionString, batchSize: 10_000,
            flushInterval: TimeSpan.FromMilliseconds(200), channelCapacity: Count);
        for (var i = 0; i < Count; i += 1_000)
        {
            host.Accept(Records.GetRange(i, 1_000));
        }

        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
        await Timeouts.WaitUntilAsync(() => Task.FromResult(host.Writer.RowsWritten >= Count),
            TimeSpan.FromSeconds(180), "100,000 rows written");
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();
        RowsWritten = host.Writer.RowsWritten;
        RowsRejected = host.Writer.RowsRejected;
        BatchesWritten = host.Writer.BatchesWritten;
    }

    public Task DisposeAsync() => _database.DisposeAsync();
}
