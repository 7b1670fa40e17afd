using NetObserv.Storage.Migrations;
using NetObserv.Storage.Rollups;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Storage.Tests.Rollups;

/// <summary>
/// The writer appends per-minute deltas; <see cref="RollupCompaction"/> merges them and derives the coarser
/// levels. At every step (before a merge, after a partial one, after late flows, after a full one) every
/// level's view equals the sums of <c>flows</c>; merged minutes and derived buckets are one row per key.
/// </summary>
public sealed class RollupCompactionTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static readonly long s_hourMs = 3_600_000;

    [Fact]
    public async Task Compact_PartialLateAndFull_EveryLevelEqualsSumsOfFlows()
    {
        var baseMs = TestFlows.BaseMs;
        await WriteAsync(TestFlows.Generate(3000, seed: 31, baseMs: baseMs, spanMinutes: 180));
        await AssertExactAsync("after the writer");
        Assert.True(await database.ScalarAsync<long>("SELECT count(*) FROM flow_rollup_1m_delta") > 0);

        // Minutes before base + 90 min are merged, the 5-minute and hourly buckets before it derived.
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        var closedMs = baseMs + (90 * 60_000);
        Assert.True(await RollupCompaction.CompactBeforeAsync(dataSource, closedMs, CancellationToken.None) > 0);
        await AssertExactAsync("after a partial merge");
        Assert.Equal(0, await database.ScalarAsync<long>(
            $"SELECT count(*) FROM flow_rollup_1m_delta WHERE bucket < to_timestamp({closedMs / 1000})"));
        await AssertOneRowPerKeyAsync();

        // Late flows (buckets already derived) and flows past the merge, then everything merged.
        await WriteAsync([.. TestFlows.Generate(500, seed: 32, baseMs: baseMs, spanMinutes: 60),
            .. TestFlows.Generate(500, seed: 33, baseMs: baseMs + (2 * s_hourMs), spanMinutes: 60)]);
        await AssertExactAsync("after late flows");
        await RollupCompaction.CompactBeforeAsync(dataSource, baseMs + (4 * s_hourMs), CancellationToken.None);
        await AssertExactAsync("after a full merge");
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM flow_rollup_1m_delta"));

        // A second merge with nothing new changes nothing.
        Assert.Equal(0, await RollupCompaction.CompactBeforeAsync(dataSource, baseMs + (4 * s_hourMs), CancellationToken.None));
        await AssertExactAsync("after an empty merge");
    }

    /// <summary>
    /// A database that today's previous schema (migrations to 0011, rollups upserted per level) filled is
    /// upgraded in place: every level keeps its sums, and flows written afterwards add to them exactly.
    /// </summary>
    [Fact]
    public async Task Migrate_FromUpsertedRollups_KeepsSumsAndNewFlowsAddUp()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("rollv3").DefaultTimeout();
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(cs);
            var runner = new MigrationRunner(dataSource);
            await runner.MigrateAsync(PostgresTestMode.Current, "0011_rollup_keys", CancellationToken.None).DefaultTimeout();
            // Native partitions are created by the backend; a hypertable makes its chunks itself.
            var partitions = PostgresTestMode.IsTimescaleDb ? "" : """
                CREATE TABLE flow_rows_p20261120 PARTITION OF flow_rows FOR VALUES FROM ('2026-11-20') TO ('2026-11-21');
                CREATE TABLE flow_rows_p20261121 PARTITION OF flow_rows FOR VALUES FROM ('2026-11-21') TO ('2026-11-22');
                """;
            await using (var fill = dataSource.CreateCommand(partitions + """
                INSERT INTO flows (time_end, time_start, time_received, tenant, src_addr, dst_addr, bytes, packets,
                    sampling, src_k8s_namespace, src_k8s_owner_name, dst_k8s_namespace, flow_direction)
                SELECT timestamptz '2026-11-20 22:30:00+00' + g * interval '7 seconds',
                    timestamptz '2026-11-20 22:30:00+00' + g * interval '7 seconds' - interval '2 seconds',
                    timestamptz '2026-11-20 22:30:05+00' + g * interval '7 seconds', (ARRAY['default', 'team-a'])[g % 2 + 1],
                    inet '10.0.0.1', inet '10.0.0.2', g * 100, g, (ARRAY[NULL, 1, 50])[g % 3 + 1],
                    (ARRAY['shop', NULL, 'payments'])[g % 3 + 1], 'api', (ARRAY['shop', 'db'])[g % 2 + 1], g % 3
                FROM generate_series(1, 1500) g
                """))
            {
                await fill.ExecuteNonQueryAsync();
            }

            foreach (var (level, seconds) in new[] { ("1m", 60), ("5m", 300), ("10m", 600), ("1h", 3600) })
            {
                // The previous schema's levels, filled as its writer left them: one row per bucket and key.
                await using var rollup = dataSource.CreateCommand($"""
                    INSERT INTO flow_rollup_{level} (tenant, bucket, src_k8s_namespace, src_k8s_owner_type,
                        src_k8s_owner_name, dst_k8s_namespace, dst_k8s_owner_type, dst_k8s_owner_name, flow_direction,
                        k8s_flow_layer, k8s_cluster_name, bytes, packets, sampled_bytes, sampled_packets, flows)
                    SELECT tenant, date_bin('{seconds} seconds', time_end, timestamptz '1970-01-01 00:00:00+00'),
                        src_k8s_namespace, src_k8s_owner_type, src_k8s_owner_name, dst_k8s_namespace,
                        dst_k8s_owner_type, dst_k8s_owner_name, flow_direction, k8s_flow_layer, k8s_cluster_name,
                        sum(bytes), sum(packets), sum(bytes * greatest(coalesce(sampling, 1), 1)),
                        sum(packets * greatest(coalesce(sampling, 1), 1)), count(*)
                    FROM flows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
                    """);
                await rollup.ExecuteNonQueryAsync();
            }

            Assert.Empty(await RollupSums.DifferencesAsync(cs));
            Assert.Equal(["0012_rollup_deltas"], (await runner.MigrateAsync(PostgresTestMode.Current, "0012_rollup_deltas",
                CancellationToken.None).DefaultTimeout()).ToArray());
            Assert.Empty(await RollupSums.DifferencesAsync(cs));
            Assert.Null(await ScalarAsync(dataSource, "SELECT to_regclass('flow_rollup_10m_rows')::text"));

            // The upgraded database takes the writer's deltas; merged, everything still adds up.
            await using (var host = await StorageHost.CreateAsync(cs))
            {
                await host.WriteAllAsync(TestFlows.Generate(1000, seed: 34, spanMinutes: 120));
            }

            Assert.Empty(await RollupSums.DifferencesAsync(cs));
            await RollupCompaction.CompactBeforeAsync(dataSource, TestFlows.BaseMs + (3 * s_hourMs), CancellationToken.None);
            Assert.Empty(await RollupSums.DifferencesAsync(cs));
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(cs);
        }
    }

    private async Task WriteAsync(List<Flows.FlowRecord> records)
    {
        // Small batches, so a bucket and key come in several deltas.
        await using var host = await StorageHost.CreateAsync(database.ConnectionString, batchSize: 250);
        await host.WriteAllAsync(records);
    }

    private async Task AssertExactAsync(string when)
    {
        var differences = await RollupSums.DifferencesAsync(database.ConnectionString);
        Assert.True(differences.Count == 0, when + ": " + string.Join("; ", differences));
    }

    /// <summary>Merged minutes and derived buckets before the watermarks: one row per bucket and key.</summary>
    private async Task AssertOneRowPerKeyAsync()
    {
        foreach (var (table, level) in new[] { ("flow_rollup_5m_rows", "5m"), ("flow_rollup_1h_rows", "1h") })
        {
            Assert.Equal(0, await database.ScalarAsync<long>($"""
                SELECT count(*) FROM (SELECT bucket, key FROM {table} GROUP BY 1, 2 HAVING count(*) > 1) d
                """));
            Assert.True(await database.ScalarAsync<long>($"SELECT count(*) FROM {table}") > 0, level);
        }

        Assert.Equal(0, await database.ScalarAsync<long>(
            "SELECT count(*) FROM (SELECT bucket, key FROM flow_rollup_1m_rows GROUP BY 1, 2 HAVING count(*) > 1) d"));
    }

    private static async Task<object?> ScalarAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }
}
