using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NetObserv.Storage.LocalPostgres;
using NetObserv.Storage.Migrations;
using Npgsql;

namespace NetObserv.Storage;

/// <summary>
/// The flow store's database: the configured PostgreSQL, or the managed local one when no connection
/// string is set; opened, its storage mode chosen and its schema migrated.
/// </summary>
public sealed class FlowDatabase : IAsyncDisposable
{
    private readonly ManagedPostgres? _managed;

    private FlowDatabase(NpgsqlDataSource dataSource, StorageMode mode, ManagedPostgres? managed, string connectionString)
    {
        DataSource = dataSource;
        Mode = mode;
        _managed = managed;
        ConnectionString = connectionString;
    }

    /// <summary>Opens connections; build once, share everywhere.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>How <c>flows</c> is partitioned.</summary>
    public StorageMode Mode { get; }

    /// <summary>The connection string in use (the managed server's when it runs one).</summary>
    public string ConnectionString { get; }

    /// <summary>The managed local server, when this process runs one.</summary>
    public ManagedPostgres? Managed => _managed;

    /// <summary>Starts the managed server if needed, connects, chooses the mode and migrates.</summary>
    public static async Task<FlowDatabase> OpenAsync(StorageOptions options, ILoggerFactory? loggerFactory,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        loggerFactory ??= NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger<FlowDatabase>();
        ManagedPostgres? managed = null;
        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        LocalPostgresLog.DataFolder(logger, dataDirectory);
        var connectionString = options.ConnectionString;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            var dir = Path.Combine(options.DataDirectory, "pg");
            managed = await ManagedPostgres.StartAsync(dir, preloadTimescaleDb: true, logger, cancellationToken)
                .ConfigureAwait(false);
            await managed.CreateDatabaseAsync("netobserv", cancellationToken).ConfigureAwait(false);
            connectionString = managed.ConnectionString("netobserv");
            StorageLog.ManagedPostgresStarted(logger, managed.DataDirectory, managed.Port);
        }

        try
        {
            return await ConnectAsync(connectionString, options, managed, loggerFactory, cancellationToken)
                .ConfigureAwait(false);
        }
        catch
        {
            if (managed is not null)
            {
                await managed.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    private static async Task<FlowDatabase> ConnectAsync(string connectionString, StorageOptions options,
        ManagedPostgres? managed, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.UseLoggerFactory(loggerFactory);
        var dataSource = builder.Build();
        try
        {
            var logger = loggerFactory.CreateLogger<FlowDatabase>();
            var mode = await StorageModeSelector.SelectAsync(dataSource, options.TimescaleDb, logger, cancellationToken)
                .ConfigureAwait(false);
            var applied = await new MigrationRunner(dataSource).MigrateAsync(mode, cancellationToken)
                .ConfigureAwait(false);
            StorageLog.Migrated(logger, mode, applied.Count);
            return new FlowDatabase(dataSource, mode, managed, connectionString);
        }
        catch
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync().ConfigureAwait(false);
        if (_managed is not null)
        {
            await _managed.DisposeAsync().ConfigureAwait(false);
        }
    }
}
