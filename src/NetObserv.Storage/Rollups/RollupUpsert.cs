using NetObserv.Storage.Copy;
using Npgsql;
using NpgsqlTypes;

namespace NetObserv.Storage.Rollups;

/// <summary>
/// Adds a batch's aggregated sums to a rollup table in one statement: the rows travel as parallel
/// array parameters expanded by <c>unnest</c>, and <c>ON CONFLICT ... DO UPDATE</c> adds them to
/// existing rows. Rows are sent in key order so concurrent writers lock them in the same order.
/// </summary>
internal static class RollupUpsert
{
    private const string Columns = """
        tenant, bucket, src_k8s_namespace, src_k8s_owner_type, src_k8s_owner_name,
        dst_k8s_namespace, dst_k8s_owner_type, dst_k8s_owner_name, flow_direction, k8s_flow_layer,
        k8s_cluster_name
        """;

    private const string Body = $"""
        ({Columns}, bytes, packets, sampled_bytes, sampled_packets, flows)
        SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::text[], $8::text[], $9::integer[], $10::text[], $11::text[],
            $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[])
        ON CONFLICT ({Columns}) DO UPDATE SET
            bytes = t.bytes + excluded.bytes,
            packets = t.packets + excluded.packets,
            sampled_bytes = t.sampled_bytes + excluded.sampled_bytes,
            sampled_packets = t.sampled_packets + excluded.sampled_packets,
            flows = t.flows + excluded.flows
        """;

    private static readonly Dictionary<RollupLevel, string> s_sql =
        RollupLevel.All.ToDictionary(l => l, l => "INSERT INTO " + l.Table + " AS t " + Body);

    /// <summary>Upserts into the table of <paramref name="level"/>.</summary>
    public static async Task<int> WriteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        RollupLevel level, IReadOnlyDictionary<RollupKey, RollupSums> rows, CancellationToken cancellationToken)
    {
        var n = rows.Count;
        if (n == 0)
        {
            return 0;
        }

        var keys = new RollupKey[n];
        var sums = new RollupSums[n];
        var i = 0;
        foreach (var (key, value) in rows)
        {
            keys[i] = key;
            sums[i] = value;
            i++;
        }

        Array.Sort(keys, sums, Comparer<RollupKey>.Create(RollupKey.Compare));

        var tenant = new string[n];
        var bucket = new DateTime[n];
        var srcNs = new string?[n];
        var srcOwnerType = new string?[n];
        var srcOwner = new string?[n];
        var dstNs = new string?[n];
        var dstOwnerType = new string?[n];
        var dstOwner = new string?[n];
        var direction = new int?[n];
        var layer = new string?[n];
        var cluster = new string?[n];
        var bytes = new long[n];
        var packets = new long[n];
        var sampledBytes = new long[n];
        var sampledPackets = new long[n];
        var flows = new long[n];
        for (i = 0; i < n; i++)
        {
            var k = keys[i];
            tenant[i] = k.Tenant;
            bucket[i] = FlowTime.ToUtc(k.BucketMs);
            srcNs[i] = k.SrcNamespace;
            srcOwnerType[i] = k.SrcOwnerType;
            srcOwner[i] = k.SrcOwnerName;
            dstNs[i] = k.DstNamespace;
            dstOwnerType[i] = k.DstOwnerType;
            dstOwner[i] = k.DstOwnerName;
            direction[i] = k.FlowDirection;
            layer[i] = k.FlowLayer;
            cluster[i] = k.ClusterName;
            ref readonly var s = ref sums[i];
            bytes[i] = s.Bytes;
            packets[i] = s.Packets;
            sampledBytes[i] = s.SampledBytes;
            sampledPackets[i] = s.SampledPackets;
            flows[i] = s.Flows;
        }

        await using var command = new NpgsqlCommand(s_sql[level], connection, transaction);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter<string[]> { TypedValue = tenant, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new NpgsqlParameter<DateTime[]> { TypedValue = bucket, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        AddText(p, srcNs);
        AddText(p, srcOwnerType);
        AddText(p, srcOwner);
        AddText(p, dstNs);
        AddText(p, dstOwnerType);
        AddText(p, dstOwner);
        p.Add(new NpgsqlParameter<int?[]> { TypedValue = direction, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        AddText(p, layer);
        AddText(p, cluster);
        AddBigint(p, bytes);
        AddBigint(p, packets);
        AddBigint(p, sampledBytes);
        AddBigint(p, sampledPackets);
        AddBigint(p, flows);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void AddText(NpgsqlParameterCollection p, string?[] values) =>
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });

    private static void AddBigint(NpgsqlParameterCollection p, long[] values) =>
        p.Add(new NpgsqlParameter<long[]> { TypedValue = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
}
