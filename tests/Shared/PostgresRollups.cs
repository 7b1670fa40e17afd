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
        // Table names and widths are the constants of RollupLevel. The minutes go to the deltas; with the
        // watermarks at -infinity every coarser level is summed from them until the merge runs.
        await using var command = new NpgsqlCommand(
            $"""
            {string.Concat(RollupLevel.Stored.Select(l => $"DELETE FROM {l.RowsTable}; "))}
            DELETE FROM flow_rollup_1m_delta;
            UPDATE flow_rollup_watermarks SET derived_until = '-infinity';
            INSERT INTO flow_rollup_1m (tenant, bucket, src_k8s_namespace, src_k8s_owner_type, src_k8s_owner_name,
                dst_k8s_namespace, dst_k8s_owner_type, dst_k8s_owner_name, flow_direction, k8s_flow_layer,
                k8s_cluster_name, bytes, packets, sampled_bytes, sampled_packets, flows)
            SELECT tenant, date_bin('60 seconds', time_end, timestamptz '1970-01-01 00:00:00+00'),
                src_k8s_namespace, src_k8s_owner_type, src_k8s_owner_name,
                dst_k8s_namespace, dst_k8s_owner_type, dst_k8s_owner_name, flow_direction, k8s_flow_layer,
                k8s_cluster_name, sum(bytes), sum(packets), sum(bytes * greatest(coalesce(sampling, 1), 1)),
                sum(packets * greatest(coalesce(sampling, 1), 1)), count(*)
            FROM flows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
            """, connection, transaction);
        await command.ExecuteNonQueryAsync();

        await transaction.CommitAsync();
    }
}
