using Npgsql;

namespace NetObserv.Storage.Spill;

/// <summary>The <c>spill_replayed</c> table: ids of journal files, or parts of them, already written.</summary>
internal static class SpillReplayed
{
    /// <summary>
    /// Records <paramref name="key"/> in <paramref name="transaction"/>. False when it was already recorded:
    /// that part was written before and must not be written again.
    /// </summary>
    public static async Task<bool> RecordAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        string key, int rows, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(
            "INSERT INTO spill_replayed (id, rows) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", connection, transaction);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = rows });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }
    }
}
