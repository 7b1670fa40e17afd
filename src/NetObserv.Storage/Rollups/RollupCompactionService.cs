using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace NetObserv.Storage.Rollups;

/// <summary>Runs <see cref="RollupCompaction"/> every <see cref="RollupCompaction.Interval"/>; a failure is logged and retried at the next turn.</summary>
public sealed class RollupCompactionService : BackgroundService
{
    private readonly FlowDatabase _database;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public RollupCompactionService(FlowDatabase database, TimeProvider timeProvider,
        ILogger<RollupCompactionService> logger)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger;
    }

    /// <summary>One merge as of <paramref name="now"/>; returns the per-minute rows written.</summary>
    public Task<long> RunOnceAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        RollupCompaction.CompactAsync(_database.DataSource, now, cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(RollupCompaction.Interval, _time, stoppingToken).ConfigureAwait(false);
                await RunOnceAsync(_time.GetUtcNow(), stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException)
            {
                StorageLog.RollupCompactionFailed(_logger, e);
            }
        }
    }
}
