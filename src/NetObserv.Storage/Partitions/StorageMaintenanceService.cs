using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NetObserv.Storage.Rollups;
using Npgsql;

namespace NetObserv.Storage.Partitions;

/// <summary>
/// Keeps storage within its bounds, at start and then every <see cref="Interval"/>: in native mode
/// creates the daily partitions ahead and drops those past <see cref="StorageOptions.Retention"/>;
/// in TimescaleDB mode keeps the hypertable's retention policy equal to the configured retention;
/// in both, deletes rollup rows past their retention (per minute: <see cref="StorageOptions.Retention"/>,
/// per 5 and 10 minutes: <see cref="StorageOptions.MidRollupRetention"/>, per hour:
/// <see cref="StorageOptions.RollupRetention"/>), the <c>spill_replayed</c> and <c>flows_rejected</c> rows
/// older than <see cref="StorageOptions.Retention"/>, and the oldest <c>flows_rejected</c> rows past
/// <see cref="StorageOptions.RejectedMaxRows"/>. A failure is logged and retried sooner.
/// </summary>
public sealed class StorageMaintenanceService : BackgroundService
{
    /// <summary>Time between runs.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    private static readonly TimeSpan s_retryDelay = TimeSpan.FromMinutes(1);

    private readonly FlowDatabase _database;
    private readonly FlowPartitions _partitions;
    private readonly StorageOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public StorageMaintenanceService(FlowDatabase database, FlowPartitions partitions,
        IOptions<StorageOptions> options, TimeProvider timeProvider, ILogger<StorageMaintenanceService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _database = database;
        _partitions = partitions;
        _options = options.Value;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger;
    }

    /// <summary>One maintenance pass as of <paramref name="now"/>. Returns the partitions dropped.</summary>
    public async Task<IReadOnlyList<string>> RunOnceAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> dropped = [];
        if (_database.Mode == StorageMode.Native)
        {
            dropped = await _partitions.MaintainAsync(now, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await SetRetentionPolicyAsync(cancellationToken).ConfigureAwait(false);
        }

        var pruned = await RollupRetention.PruneAsync(_database.DataSource, now, _options, cancellationToken)
            .ConfigureAwait(false);
        foreach (var (level, rows) in pruned)
        {
            StorageLog.RowsPruned(_logger, rows, level.Table);
        }

        await using (var connection = await _database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        {
            var cutoff = now.UtcDateTime - _options.Retention;

            // Replayed spill files older than the flows' retention: a file that old still on disk would
            // hold flows past retention, whose partitions go again at the next pass.
            await DeleteAsync(connection, "spill_replayed", "DELETE FROM spill_replayed WHERE replayed_at < $1",
                Timestamp(cutoff), cancellationToken).ConfigureAwait(false);

            // Refused records: kept as long as flows, and no more than Storage:RejectedMaxRows of them
            // (the writer stops adding at the cap; this trims the oldest when the cap was lowered).
            await DeleteAsync(connection, "flows_rejected", "DELETE FROM flows_rejected WHERE rejected_at < $1",
                Timestamp(cutoff), cancellationToken).ConfigureAwait(false);
            await DeleteAsync(connection, "flows_rejected",
                "DELETE FROM flows_rejected WHERE id <= (SELECT id FROM flows_rejected ORDER BY id DESC OFFSET $1 LIMIT 1)",
                new NpgsqlParameter<long> { TypedValue = Math.Max(0, _options.RejectedMaxRows) }, cancellationToken)
                .ConfigureAwait(false);
        }

        return dropped;
    }

    private static NpgsqlParameter<DateTime> Timestamp(DateTime value) =>
        new() { TypedValue = value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz };

    private async Task DeleteAsync(NpgsqlConnection connection, string table, string sql, NpgsqlParameter parameter,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(parameter);
        var deleted = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        StorageLog.RowsPruned(_logger, deleted, table);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            var delay = Interval;
            try
            {
                await RunOnceAsync(_time.GetUtcNow(), stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException)
            {
                delay = s_retryDelay;
                StorageLog.MaintenanceFailed(_logger, e, delay);
            }

            try
            {
                await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>TimescaleDB: replaces the retention policy on <c>flow_rows</c> when it differs from the configured one.</summary>
    private async Task SetRetentionPolicyAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.DataSource.OpenConnectionAsync(cancellationToken)
            .ConfigureAwait(false);
        await using (var current = new NpgsqlCommand(
            """
            SELECT count(*) FROM timescaledb_information.jobs
            WHERE proc_name = 'policy_retention' AND hypertable_name = 'flow_rows'
              AND (config->>'drop_after')::interval = $1
            """, connection))
        {
            current.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = _options.Retention });
            if (await current.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is > 0L)
            {
                return;
            }
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var remove = new NpgsqlCommand(
            "SELECT remove_retention_policy('flow_rows', if_exists => true)", connection, transaction))
        {
            await remove.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var add = new NpgsqlCommand(
            "SELECT add_retention_policy('flow_rows', drop_after => $1::interval)", connection, transaction))
        {
            add.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = _options.Retention });
            await add.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        StorageLog.RetentionPolicySet(_logger, _options.Retention);
    }
}
