using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NetObserv.Flows.Pipeline;
using NetObserv.Storage.Copy;
using NetObserv.Storage.LocalPostgres;
using NetObserv.Storage.Partitions;
using NetObserv.Storage.Rollups;
using Npgsql;

namespace NetObserv.Storage;

/// <summary>
/// Storage registrations: options, the data source of the opened <see cref="FlowDatabase"/>, the ingest
/// channel, the batch writer that drains it, and partition/retention maintenance.
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
            .Validate(o => o.RejectedMaxRows >= 0, "Storage:RejectedMaxRows must be 0 or more")
            .ValidateOnStart();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<NpgsqlDataSource>(sp => sp.GetRequiredService<FlowDatabase>().DataSource);
        services.TryAddSingleton(sp =>
        {
            var options = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
            return new FlowChannel(options.ChannelCapacity);
        });
        services.TryAddSingleton<DatabaseProbe>();
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
