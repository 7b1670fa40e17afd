using Npgsql;

namespace NetObserv.Storage.Rollups;

/// <summary>
/// Merges the writer's per-minute deltas: <c>flow_rollup_compact</c> (migration 0012) moves the minutes
/// that closed at least <see cref="Grace"/> ago from <c>flow_rollup_1m_delta</c> into
/// <c>flow_rollup_1m_rows</c>, one row per bucket and key, and derives the 5-minute and hourly buckets
/// that closed meanwhile from them, in one statement (the deltas are never counted twice or lost).
/// Minutes arriving after their coarser bucket was derived are added to it as extra rows. It runs often
/// (<see cref="Interval"/>) so the delta stays small: its space is reused once vacuumed, a backfill
/// included.
/// </summary>
internal static class RollupCompaction
{
    /// <summary>Time between merges (<see cref="RollupCompactionService"/>).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    /// <summary>How long after its end a minute is left in the delta for flows that arrive late.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Merges the minutes that ended by <paramref name="now"/> minus <see cref="Grace"/>; returns the
    /// per-minute rows written.
    /// </summary>
    public static Task<long> CompactAsync(NpgsqlDataSource dataSource, DateTimeOffset now,
        CancellationToken cancellationToken) =>
        CompactBeforeAsync(dataSource,
            RollupAggregator.Floor((now - Grace).ToUnixTimeMilliseconds(), RollupLevel.Minute.WidthMs), cancellationToken);

    /// <summary>Merges the minutes before <paramref name="closedMs"/> (Unix epoch milliseconds, a minute boundary).</summary>
    public static async Task<long> CompactBeforeAsync(NpgsqlDataSource dataSource, long closedMs,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var command = dataSource.CreateCommand("SELECT flow_rollup_compact($1)");
        command.Parameters.Add(new NpgsqlParameter<DateTime>
        {
            TypedValue = DateTime.UnixEpoch.AddMilliseconds(closedMs),
            NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz,
        });
        var moved = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        if (moved > 0)
        {
            // The moved rows' space is reusable once vacuumed; autovacuum may come a minute later, and the
            // delta would grow by all that the writer appended meanwhile (a whole backfill).
            await using var vacuum = dataSource.CreateCommand("VACUUM " + RollupDeltas.Table);
            await vacuum.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return moved;
    }
}
