using System.Globalization;
using NetObserv.Flows;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Storage.Tests;

/// <summary>What the writer stored in <c>flows</c> and the rollups: emptied before a test, checked after.</summary>
internal static class StoredFlows
{
    private static readonly string[] s_rollups = ["flow_rollup_1m", "flow_rollup_5m", "flow_rollup_10m", "flow_rollup_1h"];

    /// <summary>
    /// Migrates <paramref name="database"/> if needed and empties the tables the writer fills, so each test
    /// of a class sharing one database starts from empty tables.
    /// </summary>
    public static async Task ClearAsync(PostgresDatabase database)
    {
        await using var host = await StorageHost.CreateAsync(database.ConnectionString);
        await using var command = host.Database.DataSource.CreateCommand(
            "TRUNCATE flow_rows, flow_rollup_1m_delta, flow_rollup_1m_rows, flow_rollup_5m_rows, flow_rollup_1h_rows, spill_replayed, flows_rejected");
        await command.ExecuteNonQueryAsync().DefaultTimeout();
    }

    /// <summary>
    /// <c>flows</c> holds exactly <paramref name="expected"/> (count and sums per tenant and source
    /// namespace, and the set of hash ids), and every rollup level's sums per tenant equal theirs.
    /// </summary>
    public static async Task AssertAsync(PostgresDatabase database, List<FlowRecord> expected)
    {
        var flows = expected
            .GroupBy(r => (r.Tenant, Namespace: r.Src.Namespace ?? "-"))
            .Select(g => Line(g.Key.Tenant, g.Key.Namespace, g.Count(), g.Sum(r => r.Bytes), g.Sum(r => r.Packets)))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(flows, await LinesAsync(database,
            "SELECT tenant, coalesce(src_k8s_namespace, '-'), count(*), sum(bytes), sum(packets) FROM flows GROUP BY 1, 2"));
        Assert.Equal(expected.Count, await database.ScalarAsync<long>("SELECT count(DISTINCT hash_id) FROM flows"));

        var rollups = expected
            .GroupBy(r => r.Tenant)
            .Select(g => Line(g.Key, g.Count(), g.Sum(r => r.Bytes), g.Sum(r => r.SampledBytes), g.Sum(r => r.SampledPackets)))
            .Order(StringComparer.Ordinal)
            .ToList();
        foreach (var table in s_rollups)
        {
            Assert.Equal(rollups, await LinesAsync(database,
                $"SELECT tenant, sum(flows), sum(bytes), sum(sampled_bytes), sum(sampled_packets) FROM {table} GROUP BY 1"));
        }
    }

    private static async Task<List<string>> LinesAsync(PostgresDatabase database, string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        await using var command = dataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync().DefaultTimeout();
        var lines = new List<string>();
        while (await reader.ReadAsync().DefaultTimeout())
        {
            var values = new object[reader.FieldCount];
            reader.GetValues(values);
            lines.Add(Line(values));
        }

        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static string Line(params object[] values) =>
        string.Join('|', values.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)));
}
