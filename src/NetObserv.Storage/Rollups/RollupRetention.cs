using Npgsql;

namespace NetObserv.Storage.Rollups;

/// <summary>Deletes rollup rows whose whole bucket is past retention.</summary>
internal static class RollupRetention
{
    /// <summary>
    /// Deletes, from each level, the rows whose bucket ended before <paramref name="now"/> minus that
    /// level's retention (<see cref="RollupLevel.Retention"/>). Returns the rows deleted per level.
    /// </summary>
    public static async Task<IReadOnlyList<(RollupLevel Level, long Rows)>> PruneAsync(NpgsqlDataSource dataSource,
        DateTimeOffset now, StorageOptions options, CancellationToken cancellationToken)
    {
        var deleted = new List<(RollupLevel, long)>(RollupLevel.All.Count);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var level in RollupLevel.All)
        {
            var cutoff = now.UtcDateTime - level.Retention(options) - TimeSpan.FromMilliseconds(level.WidthMs);
            await using var command = new NpgsqlCommand($"DELETE FROM {level.RowsTable} WHERE bucket <= $1", connection);
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = cutoff, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
            deleted.Add((level, await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false)));
        }

        return deleted;
    }
}
