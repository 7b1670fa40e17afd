using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NetObserv.Flows;
using NetObserv.Flows.Pipeline;
using NetObserv.Storage.Copy;
using NetObserv.Storage.Partitions;
using NetObserv.Testing;

namespace NetObserv.Storage.Tests;

/// <summary>
/// The storage services as the server registers them (<see cref="StorageServiceCollectionExtensions.AddFlowStorage"/>)
/// over a migrated test database, with settings and clock chosen by the test. The suite's storage mode
/// (<see cref="PostgresTestMode"/>) unless the test asks for another <c>Storage:TimescaleDb</c> setting (the
/// test server preloads TimescaleDB when it is installed, so <c>auto</c> would choose it).
/// </summary>
internal sealed class StorageHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly string? _ownedSpillDirectory;

    private StorageHost(ServiceProvider services, FlowDatabase database, string? ownedSpillDirectory)
    {
        _services = services;
        Database = database;
        _ownedSpillDirectory = ownedSpillDirectory;
    }

    public FlowDatabase Database { get; }

    public IServiceProvider Services => _services;

    public FlowChannel Channel => _services.GetRequiredService<FlowChannel>();

    public FlowBatchWriter Writer => _services.GetRequiredService<FlowBatchWriter>();

    public FlowPartitions Partitions => _services.GetRequiredService<FlowPartitions>();

    public StorageMaintenanceService Maintenance => _services.GetRequiredService<StorageMaintenanceService>();

    public static async Task<StorageHost> CreateAsync(string connectionString, int batchSize = 10_000,
        TimeSpan? flushInterval = null, TimeSpan? retention = null, int partitionsAhead = 2,
        TimeProvider? timeProvider = null, int channelCapacity = 200_000, int writers = 2,
        string? spillDirectory = null, long spillMaxBytes = 1L << 30, TimeSpan? spillAfter = null,
        int rejectedMaxRows = 100_000, ILoggerProvider? logs = null, string? timescaleDb = null,
        string durability = "memory")
    {
        // Without a folder from the test, each host spills into its own temporary folder, deleted with it.
        var owned = spillDirectory is null
            ? Directory.CreateTempSubdirectory("netobserv-spill-").FullName
            : null;
        var settings = new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = connectionString,
            ["Storage:TimescaleDb"] = timescaleDb ?? PostgresTestMode.Setting,
            ["Storage:BatchSize"] = batchSize.ToString(CultureInfo.InvariantCulture),
            ["Storage:FlushInterval"] = (flushInterval ?? TimeSpan.FromSeconds(1)).ToString("c"),
            ["Storage:Retention"] = (retention ?? TimeSpan.FromDays(7)).ToString("c"),
            ["Storage:PartitionsAhead"] = partitionsAhead.ToString(CultureInfo.InvariantCulture),
            ["Storage:ChannelCapacity"] = channelCapacity.ToString(CultureInfo.InvariantCulture),
            ["Storage:Writers"] = writers.ToString(CultureInfo.InvariantCulture),
            ["Storage:SpillDirectory"] = spillDirectory ?? owned,
            // The writer's own behaviour (retries, outages, spilling) is tested in the memory durability, where
            // lanes start at once; the journal durability's recovery has its own tests.
            ["Storage:Durability"] = durability,
            ["Storage:JournalDirectory"] = Path.Combine(spillDirectory ?? owned!, "journal"),
            ["Storage:SpillMaxBytes"] = spillMaxBytes.ToString(CultureInfo.InvariantCulture),
            ["Storage:SpillAfter"] = (spillAfter ?? TimeSpan.FromSeconds(5)).ToString("c"),
            ["Storage:RejectedMaxRows"] = rejectedMaxRows.ToString(CultureInfo.InvariantCulture),
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var options = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>()!;
        // The database logs (storage mode chosen, migrations) go to the test's provider too.
        var loggerFactory = logs is null ? null : LoggerFactory.Create(b => b.AddProvider(logs));
        var database = await FlowDatabase.OpenAsync(options, loggerFactory, CancellationToken.None).DefaultTimeout();

        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(b =>
        {
            b.SetMinimumLevel(LogLevel.Warning);
            if (logs is not null)
            {
                b.AddProvider(logs);
            }
        });
        if (timeProvider is not null)
        {
            services.AddSingleton(timeProvider);
        }

        services.AddSingleton(database);
        services.AddFlowStorage(configuration);
        return new StorageHost(services.BuildServiceProvider(), database, owned);
    }

    /// <summary>Accepts every record into the channel at once, or fails the test.</summary>
    public void Accept(IReadOnlyList<FlowRecord> records) =>
        Assert.True(Channel.TryWriteBatch(records), "channel refused the records");

    /// <summary>
    /// Accepts <paramref name="records"/>, runs the writer until all are written (within three minutes, for a loaded machine) and
    /// stops it; fails the test when the database refused any.
    /// </summary>
    public async Task WriteAllAsync(IReadOnlyList<FlowRecord> records)
    {
        Accept(records);
        await Writer.StartAsync(CancellationToken.None).DefaultTimeout();
        await Timeouts.WaitUntilAsync(() => Task.FromResult(Writer.RowsWritten >= records.Count),
            TimeSpan.FromSeconds(180), $"{records.Count} rows written");
        await Writer.StopAsync(CancellationToken.None).DefaultTimeout();
        Assert.Equal(0, Writer.RowsRejected);
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Database.DisposeAsync();
        if (_ownedSpillDirectory is not null && Directory.Exists(_ownedSpillDirectory))
        {
            Directory.Delete(_ownedSpillDirectory, recursive: true);
        }
    }
}
