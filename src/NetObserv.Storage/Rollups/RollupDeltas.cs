using NetObserv.Storage.Copy;
using Npgsql;

namespace NetObserv.Storage.Rollups;

/// <summary>
/// Appends a batch's per-minute sums to <c>flow_rollup_1m_delta</c> with one binary COPY, inside the
/// batch's transaction, so the rollups commit with their flows and stay exact after a crash. No row is
/// read or updated: <see cref="RollupCompaction"/> later merges the closed minutes into
/// <c>flow_rollup_1m_rows</c> and derives the coarser levels from them. A sampling-corrected sum equal to
/// its raw sum (no sampling) is stored as NULL. A row's key is the id of its dimensions in
/// <c>flow_rollup_keys</c>, resolved before the batch's transaction (<see cref="RollupAggregator"/>).
/// </summary>
internal static class RollupDeltas
{
    /// <summary>The table the writer appends to.</summary>
    public const string Table = "flow_rollup_1m_delta";

    private const string Sql =
        "COPY " + Table + " (bucket, bytes, packets, sampled_bytes, sampled_packets, key, flows) FROM STDIN (FORMAT BINARY)";

    /// <summary>Copies <paramref name="rows"/> (per-minute sums by key id) and returns the rows written.</summary>
    public static async Task<int> WriteAsync(NpgsqlConnection connection,
        IReadOnlyDictionary<RollupDelta, RollupSums> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return 0;
        }

        // Encoded by BinaryCopyWriter over a raw COPY stream, as the flows are (FlowCopy).
        await BinaryCopyWriter.CopyAsync(connection, Sql, rows, static (w, row) => WriteRow(w, row.Key, row.Value),
            cancellationToken).ConfigureAwait(false);
        return rows.Count;
    }

    private static void WriteRow(BinaryCopyWriter w, RollupDelta delta, in RollupSums sums)
    {
        w.StartRow(7);
        w.Timestamp(FlowTime.Clamp(delta.BucketMs));
        w.Int64(sums.Bytes);
        w.Int64(sums.Packets);
        Sampled(w, sums.SampledBytes, sums.Bytes);
        Sampled(w, sums.SampledPackets, sums.Packets);
        w.Int32(delta.Key);
        w.Int32(checked((int)sums.Flows));
    }

    private static void Sampled(BinaryCopyWriter w, long sampled, long raw)
    {
        if (sampled == raw)
        {
            w.Null();
        }
        else
        {
            w.Int64(sampled);
        }
    }
}
