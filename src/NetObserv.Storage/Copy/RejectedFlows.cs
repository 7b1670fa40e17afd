using Microsoft.Extensions.Logging;
using NetObserv.Flows;
using NetObserv.Storage.Spill;
using Npgsql;
using NpgsqlTypes;

namespace NetObserv.Storage.Copy;

/// <summary>
/// The dead letters of the writer: a flow record the database refused for what it holds (a data error,
/// <see cref="WriteErrorClass.Data"/>) is kept in <c>flows_rejected</c> with the reason, in its own
/// transaction, and counted. Bounded: the record's JSON is cut at <see cref="MaxRecordChars"/>, the error
/// at <see cref="MaxErrorChars"/>, and no row is added once the table holds
/// <see cref="StorageOptions.RejectedMaxRows"/> (storage maintenance deletes rows past the retention).
/// Keeping a dead letter is best effort: when that fails too, the record is counted, logged and
/// dropped, never retried.
/// </summary>
internal sealed class RejectedFlows(NpgsqlDataSource dataSource, int maxRows, FlowWriterMetrics metrics, ILogger logger)
{
    /// <summary>Longest record JSON kept, in characters (64 KiB); a longer one is cut.</summary>
    public const int MaxRecordChars = 64 * 1024;

    /// <summary>Longest error message kept, in characters.</summary>
    public const int MaxErrorChars = 2_048;

    /// <summary>Longest tenant kept, in characters.</summary>
    public const int MaxTenantChars = 256;

    private const string InsertSql =
        """
        INSERT INTO flows_rejected (tenant, sqlstate, error, record)
        SELECT $2, $3, $4, $5
        WHERE (SELECT count(*) FROM (SELECT 1 FROM flows_rejected LIMIT $1) AS kept) < $1
        """;

    /// <summary>
    /// Keeps <paramref name="record"/>, refused with <paramref name="error"/>, and counts it in
    /// <paramref name="tally"/>. With a <paramref name="replayKey"/> (a journal part of one record) the
    /// key is recorded in <c>spill_replayed</c> in the same transaction; false, and nothing kept or
    /// counted, when it already was: the record was refused and kept by an earlier replay.
    /// </summary>
    public async Task<bool> RejectAsync(RejectionTally tally, FlowRecord record, Exception error, string? replayKey,
        CancellationToken cancellationToken)
    {
        var reason = WriteErrorClassifier.ReasonOf(error);
        var tenant = Cut(record.Tenant, MaxTenantChars);
        try
        {
            var connection = await dataSource.OpenOrAbandonAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    if (replayKey is not null
                        && !await SpillReplayed.RecordAsync(connection, transaction, replayKey, 0, cancellationToken)
                            .ConfigureAwait(false))
                    {
                        return false;
                    }

                    var kept = await InsertAsync(connection, transaction, tenant, record, error, cancellationToken)
                        .ConfigureAwait(false);
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    if (!kept)
                    {
                        NotKept(tally, "full");
                    }
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            NotKept(tally, "failed");
            StorageLog.RejectedNotKept(logger, e, reason);
        }

        tally.Add(reason, error);
        metrics.Rejected(reason);
        StorageLog.RecordRejected(logger, error, record.TimeFlowEndMs, tenant, reason);
        return true;
    }

    /// <summary>One line for the rows of a batch or file refused so far, then starts over.</summary>
    public void LogAndClear(RejectionTally tally, int rows, string source)
    {
        if (tally.Rows > 0)
        {
            StorageLog.RowsRejected(logger, tally.Rows, rows, source, tally.FirstReason, tally.FirstError,
                tally.NotKept);
            tally.Clear();
        }
    }

    private void NotKept(RejectionTally tally, string reason)
    {
        tally.AddNotKept();
        metrics.NotKept(reason);
    }

    private async Task<bool> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string? tenant,
        FlowRecord record, Exception error, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(InsertSql, connection, transaction);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxRows });
            command.Parameters.Add(Text(tenant));
            command.Parameters.Add(Text(error is PostgresException pg ? pg.SqlState : null));
            command.Parameters.Add(Text(Cut(error.Message, MaxErrorChars)));
            command.Parameters.Add(Text(Json(record)));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }
    }

    /// <summary>The record's NetObserv JSON cut at <see cref="MaxRecordChars"/>, or null when it cannot be rendered.</summary>
    internal static string? Json(FlowRecord record)
    {
        try
        {
            return Cut(FlowRecordJson.ToJson(record), MaxRecordChars);
        }
        catch (ArgumentException)
        {
            // Text that is not valid UTF-16 (a lone surrogate): the reason alone is kept.
            return null;
        }
    }

    /// <summary>
    /// At most <paramref name="max"/> characters of <paramref name="text"/>, never ending inside a surrogate
    /// pair, with NUL (which PostgreSQL text cannot hold) replaced.
    /// </summary>
    internal static string? Cut(string? text, int max)
    {
        if (text is null)
        {
            return null;
        }

        if (text.Length > max)
        {
            text = text[..(char.IsHighSurrogate(text[max - 1]) ? max - 1 : max)];
        }

        return text.Replace('\0', '\uFFFD');
    }

    private static NpgsqlParameter Text(string? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };
}
