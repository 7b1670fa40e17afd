using Npgsql;
using NpgsqlTypes;

namespace NetObserv.Storage.Journal;

/// <summary>
/// The <c>journal_applied</c> table: the journal positions whose rows are committed. Positions are
/// recorded in the transaction of their rows; <see cref="CompactAsync"/> folds everything at or below the
/// journal's watermark into one <c>through</c> row.
/// </summary>
internal static class JournalApplied
{
    /// <summary>
    /// Records <paramref name="positions"/> in <paramref name="transaction"/>. Returns the positions that were
    /// already recorded (their rows are in the database: the caller rolls back and leaves them out).
    /// </summary>
    public static async Task<HashSet<long>?> RecordAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        string journalId, IReadOnlyList<long> positions, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(
            "INSERT INTO journal_applied (journal_id, position) SELECT $1, p FROM unnest($2::bigint[]) AS p " +
            "WHERE NOT EXISTS (SELECT 1 FROM journal_applied t WHERE t.journal_id = $1 AND t.through AND t.position >= p) " +
            "ON CONFLICT DO NOTHING RETURNING position", connection, transaction);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = journalId });
            command.Parameters.Add(new NpgsqlParameter<long[]>
            {
                TypedValue = [.. positions],
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint,
            });
            var inserted = new HashSet<long>();
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    inserted.Add(reader.GetInt64(0));
                }
            }

            if (inserted.Count == positions.Count)
            {
                return null;
            }

            var already = new HashSet<long>();
            foreach (var position in positions)
            {
                if (!inserted.Contains(position))
                {
                    already.Add(position);
                }
            }

            return already;
        }
    }

    /// <summary>Reads what is applied for <paramref name="journalId"/>: the through position and the positions above it.</summary>
    public static async Task<(long Through, HashSet<long> Above)> ReadAsync(NpgsqlDataSource dataSource,
        string journalId, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenOrAbandonAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = new NpgsqlCommand(
                "SELECT position, through FROM journal_applied WHERE journal_id = $1", connection);
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = journalId });
                var through = 0L;
                var above = new HashSet<long>();
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        if (reader.GetBoolean(1))
                        {
                            through = Math.Max(through, reader.GetInt64(0));
                        }
                        else
                        {
                            above.Add(reader.GetInt64(0));
                        }
                    }
                }

                above.RemoveWhere(p => p <= through);
                return (through, above);
            }
        }
    }

    /// <summary>Replaces every row at or below <paramref name="watermark"/> with one <c>through</c> row.</summary>
    public static async Task CompactAsync(NpgsqlDataSource dataSource, string journalId, long watermark,
        CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenOrAbandonAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var batch = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("DELETE FROM journal_applied WHERE journal_id = $1 AND position <= $2")
                    {
                        Parameters =
                        {
                            new NpgsqlParameter<string> { TypedValue = journalId },
                            new NpgsqlParameter<long> { TypedValue = watermark },
                        },
                    },
                    new NpgsqlBatchCommand("INSERT INTO journal_applied (journal_id, position, through) VALUES ($1, $2, true)")
                    {
                        Parameters =
                        {
                            new NpgsqlParameter<string> { TypedValue = journalId },
                            new NpgsqlParameter<long> { TypedValue = watermark },
                        },
                    },
                },
            };
            await using (batch.ConfigureAwait(false))
            {
                // One implicit transaction: the rows and their summary never disappear together.
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
