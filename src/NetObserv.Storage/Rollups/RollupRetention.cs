using Npgsql;

namespace NetObserv.Storage.Rollups;

/// <summary>Deletes rollup rows whose whole bucket is past retention.</summary>
internal static class RollupRetention
{
    /// <summary>
    /// Deletes per-minute rows that ended before <paramref name="now"/> minus <paramref name="minuteRetention"/>
    /// and per-hour rows that ended before <paramref name="now"/> minus <paramref name="hourRetention"/>.
    /// Returns the rows deleted from each table.
    /// </summary>
    public static async Task<(long Minute, long Hour)> PruneAsync(NpgsqlDataSource dataSource, DateTimeOffset now,
        TimeSpan minuteRetention, TimeSpan hourRetention, CancellationToken cancellationToken)
    {
        var minuteCutoff = now.UtcDateTime - minuteRetention - TimeSpan.FromMilliseconds(RollupAggregator.MinuteMs);
        var hourCutoff = now.UtcDateTime - hourRetention - TimeSpan.FromMilliseconds(RollupAggregator.HourMs);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var minute = await DeleteAsync(connection, "DELETE FROM flow_rollup_1m WHERE bucket <= $1", minuteCutoff,
            cancellationToken).ConfigureAwait(false);
        var hour = await DeleteAsync(connection, "DELETE FROM flow_rollup_1h WHERE bucket <= $1", hourCutoff,
            cancellationToken).ConfigureAwait(false);
        return (minute, hour);
    }

    private static async Task<long> DeleteAsync(NpgsqlConnection connection, string sql, DateTime cutoff,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = cutoff, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
