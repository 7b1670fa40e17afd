using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NetObserv.Flows.Pipeline;
using NetObserv.Storage.Copy;
using NetObserv.Storage.Dictionaries;
using NetObserv.Storage.Journal;
using NetObserv.Storage.LocalPostgres;
using NetObserv.Storage.Partitions;
using NetObserv.Storage.Rollups;
using Npgsql;

namespace NetObserv.Storage;

/// <summary>
/// Storage registrations: options, the data source of the opened <see cref="FlowDatabase"/>, the ingest
/// channel, the write-ahead journal (none when <see cref="StorageOptions.JournalMaxBytes"/> is 0), the batch
/// writer that drains them, and partition/retention maintenance.
/// </summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers storage services. A <see cref="FlowDatabase"/> singleton must be registered by the host
    /// (it is opened before the host is built, so startup fails early and clearly).
    /// </summary>
    public static IServiceCollection AddFlowStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section)
            .PostConfigure(o =>
            {
                // Storage:SpillMaxBytes is the former name of Storage:JournalMaxBytes.
                if (configuration.GetSection(StorageOptions.Section)[nameof(StorageOptions.JournalMaxBytes)] is null
                    && o.SpillMaxBytes is { } spillMaxBytes)
                {
                    o.JournalMaxBytes = spillMaxBytes;
                }
            })
            .Validate(o => o.ChannelCapacity is null or > 0, "Storage:ChannelCapacity must be more than 0")
            .Validate(o => o.RejectedMaxRows >= 0, "Storage:RejectedMaxRows must be 0 or more")
            .Validate(o => o.Durability is "journal" or "memory" or "Journal" or "Memory",
                "Storage:Durability must be journal or memory")
            .Validate(o => o.DurabilityMode == Durability.Memory || o.JournalMaxBytes > 0,
                "Storage:JournalMaxBytes must be more than 0 with Storage:Durability journal")
            .Validate(o => o.JournalSegmentBytes >= 4096, "Storage:JournalSegmentBytes must be 4096 or more")
            .ValidateOnStart();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<NpgsqlDataSource>(sp => sp.GetRequiredService<FlowDatabase>().DataSource);
        services.TryAddSingleton(sp =>
        {
            var options = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
            return new FlowChannel(options.ResolvedChannelCapacity);
        });
        services.TryAddSingleton<DatabaseProbe>();
        services.TryAddSingleton<FlowKeyCache>();
        services.TryAddSingleton<FlowJournal>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return options.JournalMaxBytes <= 0
                ? null!
                : new FlowJournal(options.ResolvedJournalDirectory, options.JournalSegmentBytes, options.JournalMaxBytes,
                    sp.GetRequiredService<ILogger<FlowJournal>>());
        });
        services.TryAddSingleton<FlowPartitions>();
        services.TryAddSingleton<StorageMaintenanceService>();
        services.TryAddSingleton<FlowBatchWriter>();
        services.TryAddSingleton<RollupCompactionService>();

        // The managed PostgreSQL is restarted when it dies; registered first, so it is supervised until the end.
        services.TryAddSingleton<ManagedPostgresSupervisor>();
        services.AddHostedService(sp => sp.GetRequiredService<ManagedPostgresSupervisor>());

        // Registered before the ingest transports, so the host stops the writer after them: it then
        // drains whatever they accepted.
        services.AddHostedService(sp => sp.GetRequiredService<StorageMaintenanceService>());
        services.AddHostedService(sp => sp.GetRequiredService<FlowBatchWriter>());
        services.AddHostedService(sp => sp.GetRequiredService<RollupCompactionService>());
        return services;
    }
}
