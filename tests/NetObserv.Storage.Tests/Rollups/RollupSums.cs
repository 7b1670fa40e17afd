using NetObserv.Storage.Rollups;
using Npgsql;

namespace NetObserv.Storage.Tests.Rollups;

/// <summary>Compares every rollup level with the sums of <c>flows</c> per bucket and key, in SQL.</summary>
internal static class RollupSums
{
    private const string Dimensions = """
        tenant, src_k8s_namespace, src_k8s_owner_type, src_k8s_owner_name, dst_k8s_namespace,
        dst_k8s_owner_type, dst_k8s_owner_name, flow_direction, k8s_flow_layer, k8s_cluster_name
        """;

    /// <summary>
    /// The (level, bucket, key) groups whose sums differ between the level's view and <c>flows</c>
    /// (empty when every level is exact), at most 5 per level, as text.
    /// </summary>
    public static async Task<List<string>> DifferencesAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var differences = new List<string>();
        foreach (var level in RollupLevel.All)
        {
            // Table names and widths are the constants of RollupLevel.
            var rollup = $"""
                SELECT bucket, {Dimensions}, sum(bytes) AS bytes, sum(packets) AS packets, sum(sampled_bytes) AS sb,
                    sum(sampled_packets) AS sp, sum(flows) AS flows
                FROM {level.Table} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
                """;
            var flows = $"""
                SELECT date_bin('{level.WidthMs / 1000} seconds', time_end, timestamptz '1970-01-01 00:00:00+00'),
                    {Dimensions}, sum(bytes), sum(packets), sum(bytes * greatest(coalesce(sampling, 1), 1)),
                    sum(packets * greatest(coalesce(sampling, 1), 1)), sum(1)
                FROM flows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
                """;
            await using var command = dataSource.CreateCommand($"""
                (SELECT 'view', d.*::text FROM (({rollup}) EXCEPT ({flows})) d LIMIT 5)
                UNION ALL
                (SELECT 'flows', d.*::text FROM (({flows}) EXCEPT ({rollup})) d LIMIT 5)
                """);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                differences.Add($"{level.Table} only in {reader.GetString(0)}: {reader.GetString(1)}");
            }
        }

        return differences;
    }
}
