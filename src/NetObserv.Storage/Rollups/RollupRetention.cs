using Npgsql;

namespace NetObserv.Storage.Rollups;

/// <summary>Deletes rollup rows whose whole bucket is past retention.</summary>
internal static class RollupRetention
{
    /// <summary>
    /// Deletes, from each level, the rows whose bucket ended before <paramref name="now"/> minus that
    /// level's retention (<see cref="RollupLevel.Retention"/>); the per-minute level also from the deltas
    /// not merged yet. The deltas are merged first (<see cref="RollupCompaction"/>), so no minute is pruned
    /// before the coarser levels have been derived from it. Returns the rows deleted per level.
    /// </summary>
    public static async Task<IReadOnlyList<(RollupLevel Level, long Rows)>> PruneAsync(NpgsqlDataSource dataSource,
        DateTimeOffset now, StorageOptions options, CancellationToken cancellationToken)
    {
        await RollupCompaction.CompactAsync(dataSource, now, cancellationToken).ConfigureAwait(false);
        var deleted = new List<(RollupLevel, long)>(RollupLevel.Stored.Count);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var level in RollupLevel.Stored)
        {
            var cutoff = now.UtcDateTime - level.Retention(options) - TimeSpan.FromMilliseconds(level.WidthMs);
            var rows = 0L;
            foreach (var table in level == RollupLevel.Minute ? [level.RowsTable, RollupDeltas.Table] : new[] { level.RowsTable })
            {
                await using var command = new NpgsqlCommand($"DELETE FROM {table} WHERE bucket <= $1", connection);
                command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = cutoff, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
                rows += await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            deleted.Add((level, rows));
        }

        return deleted;
    }
}
