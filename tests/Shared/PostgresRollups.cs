using NetObserv.Storage.Rollups;
using Npgsql;

namespace NetObserv.Testing;

/// <summary>Rollups for flows a test inserted straight into <c>flows</c> (the ingest path maintains them itself).</summary>
public static class PostgresRollups
{
    /// <summary>Empties every rollup level and refills it from <c>flows</c>, in one transaction.</summary>
    public static async Task RebuildAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var level in RollupLevel.All)
        {
            // Table names and widths are the constants of RollupLevel.
            await using var command = new NpgsqlCommand(
                $"""
                DELETE FROM {level.RowsTable};
                INSERT INTO {level.Table} (tenant, bucket, src_k8s_namespace, src_k8s_owner_type, src_k8s_owner_name,
                    dst_k8s_namespace, dst_k8s_owner_type, dst_k8s_owner_name, flow_direction, k8s_flow_layer,
                    k8s_cluster_name, bytes, packets, sampled_bytes, sampled_packets, flows)
                SELECT tenant, date_bin('{level.WidthMs / 1000} seconds', time_end, timestamptz '1970-01-01 00:00:00+00'),
                    src_k8s_namespace, src_k8s_owner_type, src_k8s_owner_name,
                    dst_k8s_namespace, dst_k8s_owner_type, dst_k8s_owner_name, flow_direction, k8s_flow_layer,
                    k8s_cluster_name, sum(bytes), sum(packets), sum(bytes * greatest(coalesce(sampling, 1), 1)),
                    sum(packets * greatest(coalesce(sampling, 1), 1)), count(*)
                FROM flows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
                """, connection, transaction);
            await command.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }
}
