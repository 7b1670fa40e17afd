using NetObserv.Storage.Copy;
using Npgsql;
using NpgsqlTypes;

namespace NetObserv.Storage.Rollups;

/// <summary>
/// Appends a batch's per-minute sums to <c>flow_rollup_1m_delta</c> with one binary COPY, inside the
/// batch's transaction, so the rollups commit with their flows and stay exact after a crash. No row is
/// read or updated: <see cref="RollupCompaction"/> later merges the closed minutes into
/// <c>flow_rollup_1m_rows</c> and derives the coarser levels from them. A sampling-corrected sum equal to
/// its raw sum (no sampling) is stored as NULL. A row's key is the id of its dimensions in
/// <c>flow_rollup_keys</c>, resolved before the batch's transaction.
/// </summary>
internal static class RollupDeltas
{
    /// <summary>The table the writer appends to.</summary>
    public const string Table = "flow_rollup_1m_delta";

    private const string Sql =
        "COPY " + Table + " (bucket, bytes, packets, sampled_bytes, sampled_packets, key, flows) FROM STDIN (FORMAT BINARY)";

    /// <summary>
    /// Copies <paramref name="rows"/> (per-minute sums, <see cref="RollupAggregator.Level"/> 0);
    /// <paramref name="keyIds"/> holds the id of every key's dimensions (the key with bucket 0). Returns the
    /// rows written.
    /// </summary>
    public static async Task<int> WriteAsync(NpgsqlConnection connection,
        IReadOnlyDictionary<RollupKey, RollupSums> rows, IReadOnlyDictionary<RollupKey, int> keyIds,
        CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return 0;
        }

        var importer = await connection.BeginBinaryImportAsync(Sql, cancellationToken).ConfigureAwait(false);
        await using (importer.ConfigureAwait(false))
        {
            foreach (var (key, sums) in rows)
            {
                importer.StartRow();
                importer.Write(FlowTime.ToUtc(key.BucketMs), NpgsqlDbType.TimestampTz);
                importer.Write(sums.Bytes, NpgsqlDbType.Bigint);
                importer.Write(sums.Packets, NpgsqlDbType.Bigint);
                WriteSampled(importer, sums.SampledBytes, sums.Bytes);
                WriteSampled(importer, sums.SampledPackets, sums.Packets);
                importer.Write(keyIds[key.WithBucket(0)], NpgsqlDbType.Integer);
                importer.Write(checked((int)sums.Flows), NpgsqlDbType.Integer);
            }

            return (int)await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static void WriteSampled(NpgsqlBinaryImporter importer, long sampled, long raw)
    {
        if (sampled == raw)
        {
            importer.WriteNull();
        }
        else
        {
            importer.Write(sampled, NpgsqlDbType.Bigint);
        }
    }
}
