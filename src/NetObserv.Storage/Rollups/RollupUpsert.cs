using NetObserv.Storage.Copy;
using Npgsql;
using NpgsqlTypes;

namespace NetObserv.Storage.Rollups;

/// <summary>
/// Adds a batch's aggregated sums to a rollup table in one statement: the rows travel as parallel
/// array parameters expanded by <c>unnest</c>, and <c>ON CONFLICT ... DO UPDATE</c> adds them to
/// existing rows. A sampling-corrected sum equal to its raw sum (no sampling) is stored as NULL. A row's
/// key is the id of its dimensions in <c>flow_rollup_keys</c>, resolved before
/// the batch's transaction. Rows are sent in (bucket, key) order so concurrent writers lock them in
/// the same order.
/// </summary>
internal static class RollupUpsert
{
    private const string Body = """
        (bucket, key, bytes, packets, sampled_bytes, sampled_packets, flows)
        SELECT * FROM unnest($1::timestamptz[], $2::integer[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
            $7::bigint[])
        ON CONFLICT (bucket, key) DO UPDATE SET
            bytes = t.bytes + excluded.bytes,
            packets = t.packets + excluded.packets,
            sampled_bytes = nullif(coalesce(t.sampled_bytes, t.bytes) + coalesce(excluded.sampled_bytes, excluded.bytes),
                t.bytes + excluded.bytes),
            sampled_packets = nullif(coalesce(t.sampled_packets, t.packets)
                + coalesce(excluded.sampled_packets, excluded.packets), t.packets + excluded.packets),
            flows = t.flows + excluded.flows
        """;

    private static readonly Dictionary<RollupLevel, string> s_sql =
        RollupLevel.All.ToDictionary(l => l, l => "INSERT INTO " + l.RowsTable + " AS t " + Body);

    /// <summary>
    /// Upserts into the table of <paramref name="level"/>; <paramref name="keyIds"/> holds the id of every
    /// key's dimensions (the key with bucket 0).
    /// </summary>
    public static async Task<int> WriteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        RollupLevel level, IReadOnlyDictionary<RollupKey, RollupSums> rows,
        IReadOnlyDictionary<RollupKey, int> keyIds, CancellationToken cancellationToken)
    {
        var n = rows.Count;
        if (n == 0)
        {
            return 0;
        }

        var order = new (long Bucket, int Key, RollupSums Sums)[n];
        var i = 0;
        foreach (var (key, value) in rows)
        {
            order[i++] = (key.BucketMs, keyIds[key.WithBucket(0)], value);
        }

        Array.Sort(order, (a, b) => a.Bucket != b.Bucket ? a.Bucket.CompareTo(b.Bucket) : a.Key.CompareTo(b.Key));

        var bucket = new DateTime[n];
        var ids = new int[n];
        var bytes = new long[n];
        var packets = new long[n];
        var sampledBytes = new long?[n];
        var sampledPackets = new long?[n];
        var flows = new long[n];
        for (i = 0; i < n; i++)
        {
            ref readonly var row = ref order[i];
            bucket[i] = FlowTime.ToUtc(row.Bucket);
            ids[i] = row.Key;
            bytes[i] = row.Sums.Bytes;
            packets[i] = row.Sums.Packets;
            sampledBytes[i] = row.Sums.SampledBytes == row.Sums.Bytes ? null : row.Sums.SampledBytes;
            sampledPackets[i] = row.Sums.SampledPackets == row.Sums.Packets ? null : row.Sums.SampledPackets;
            flows[i] = row.Sums.Flows;
        }

        await using var command = new NpgsqlCommand(s_sql[level], connection, transaction);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter<DateTime[]> { TypedValue = bucket, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        p.Add(new NpgsqlParameter<int[]> { TypedValue = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        AddBigint(p, bytes);
        AddBigint(p, packets);
        p.Add(new NpgsqlParameter<long?[]> { TypedValue = sampledBytes, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        p.Add(new NpgsqlParameter<long?[]> { TypedValue = sampledPackets, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        AddBigint(p, flows);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void AddBigint(NpgsqlParameterCollection p, long[] values) =>
        p.Add(new NpgsqlParameter<long[]> { TypedValue = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
}
