using NetObserv.Storage.Migrations;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Storage.Tests.Migrations;

/// <summary>A database that held data before the 5- and 10-minute rollups existed gets them filled.</summary>
public sealed class MidRollupMigrationTests
{
    [Fact]
    public async Task MigrateAsync_UpgradeWithMinuteRows_FillsFiveAndTenMinuteLevels()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("midroll").DefaultTimeout();
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(cs);
            var runner = new MigrationRunner(dataSource);
            await runner.MigrateAsync(PostgresTestMode.Current, "0003_reader", CancellationToken.None).DefaultTimeout();

            // The schema before 0004, with per-minute rows over 25 minutes (12:00 to 12:24) for
            // two keys, one with NULL namespaces.
            var random = new Random(5);
            var rows = new List<(DateTime Bucket, string? Ns, long Bytes, long Flows)>();
            for (var minute = 0; minute < 25; minute++)
            {
                foreach (var ns in new[] { "ns-a", null })
                {
                    rows.Add((new DateTime(2026, 4, 1, 12, minute, 0, DateTimeKind.Utc), ns, random.Next(1, 100_000),
                        random.Next(1, 50)));
                }
            }

            await using (var reset = dataSource.CreateBatch())
            {
                foreach (var row in rows)
                {
                    var insert = new NpgsqlBatchCommand("""
                        INSERT INTO flow_rollup_1m (tenant, bucket, src_k8s_namespace, dst_k8s_namespace, bytes, packets,
                            sampled_bytes, sampled_packets, flows)
                        VALUES ('default', $1, $2, $2, $3, $4, $3 * 10, $4 * 10, $4)
                        """);
                    insert.Parameters.Add(new NpgsqlParameter { Value = row.Bucket });
                    insert.Parameters.Add(new NpgsqlParameter { Value = (object?)row.Ns ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
                    insert.Parameters.Add(new NpgsqlParameter { Value = row.Bytes });
                    insert.Parameters.Add(new NpgsqlParameter { Value = row.Flows });
                    reset.BatchCommands.Add(insert);
                }

                await reset.ExecuteNonQueryAsync().DefaultTimeout();
            }

            var applied = await runner.MigrateAsync(PostgresTestMode.Current, "0004_rollups_5m_10m", CancellationToken.None)
                .DefaultTimeout();

            Assert.Equal(["0004_rollups_5m_10m"], applied);
            foreach (var (table, width) in new[] { ("flow_rollup_5m", 5), ("flow_rollup_10m", 10) })
            {
                var expected = rows.GroupBy(r => (Start: r.Bucket.AddMinutes(-(r.Bucket.Minute % width)), r.Ns))
                    .ToDictionary(g => g.Key, g => (Bytes: g.Sum(r => r.Bytes), Flows: g.Sum(r => r.Flows)));
                var actual = new Dictionary<(DateTime, string?), (long, long)>();
                await using var command = dataSource.CreateCommand(
                    $"SELECT bucket, src_k8s_namespace, bytes, flows, sampled_bytes FROM {table}");
                await using var reader = await command.ExecuteReaderAsync().DefaultTimeout();
                while (await reader.ReadAsync())
                {
                    Assert.Equal(reader.GetInt64(2) * 10, reader.GetInt64(4));
                    actual.Add((reader.GetFieldValue<DateTime>(0), reader.IsDBNull(1) ? null : reader.GetString(1)),
                        (reader.GetInt64(2), reader.GetInt64(3)));
                }

                Assert.Equal(table == "flow_rollup_5m" ? 10 : 6, actual.Count);
                Assert.Equal(expected.OrderBy(e => e.Key.Start).ThenBy(e => e.Key.Ns, StringComparer.Ordinal),
                    actual.OrderBy(e => e.Key.Item1).ThenBy(e => e.Key.Item2, StringComparer.Ordinal)
                        .Select(e => new KeyValuePair<(DateTime, string?), (long, long)>(e.Key, e.Value)));
            }
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(cs);
        }
    }
}
