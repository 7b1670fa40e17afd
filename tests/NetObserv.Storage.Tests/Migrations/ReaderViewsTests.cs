using NetObserv.Flows;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Storage.Tests.Migrations;

public sealed class ReaderViewsTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private List<FlowRecord> _records = [];

    public async Task InitializeAsync()
    {
        await using var host = await StorageHost.CreateAsync(database.ConnectionString);
        await database.ScalarAsync<int>("TRUNCATE flow_rows, flow_rollup_1m_delta, flow_rollup_1m_rows, flow_rollup_5m_rows, flow_rollup_1h_rows; SELECT 1");
        _records = TestFlows.Generate(2_000, seed: 21);
        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
        host.Accept(_records);
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task FlowsView_DerivedColumns_MatchRecords()
    {
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        await using var command = dataSource.CreateCommand(
            "SELECT hash_id, sampled_bytes, sampled_packets, duration_ms, direction_name, proto_name, src_workload "
            + "FROM flows_v");
        await using var reader = await command.ExecuteReaderAsync().DefaultTimeout();
        var byId = _records.ToDictionary(r => r.HashId!, StringComparer.Ordinal);
        var rows = 0;
        while (await reader.ReadAsync())
        {
            var r = byId[reader.GetString(0)];
            Assert.Equal(r.SampledBytes, reader.GetInt64(1));
            Assert.Equal(r.SampledPackets, reader.GetInt64(2));
            Assert.Equal(r.TimeFlowEndMs - r.TimeFlowStartMs, reader.GetInt64(3));
            Assert.Equal(r.FlowDirection switch { 0 => "ingress", 1 => "egress", 2 => "inner", _ => null },
                reader.IsDBNull(4) ? null : reader.GetString(4));
            Assert.Equal(r.Proto switch { 6 => "TCP", 17 => "UDP", 1 => "ICMP", _ => "?" }, reader.GetString(5));
            Assert.Equal(r.Src.OwnerName ?? r.Src.Name ?? r.SrcAddr!.ToString(), reader.GetString(6));
            rows++;
        }

        Assert.Equal(_records.Count, rows);
    }

    [Fact]
    public async Task VolumetryByNamespaceView_Sums_EqualSumsOfRecordsPerHourAndNamespacePair()
    {
        var expected = _records
            .GroupBy(r => (r.Tenant, Hour: r.TimeFlowEndMs - (r.TimeFlowEndMs % 3_600_000), r.Src.Namespace, r.Dst.Namespace))
            .ToDictionary(g => g.Key, g => (Bytes: g.Sum(r => r.Bytes), Sampled: g.Sum(r => r.SampledBytes),
                Packets: g.Sum(r => r.Packets), Flows: (long)g.Count()));

        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        await using var command = dataSource.CreateCommand(
            "SELECT tenant, bucket, src_k8s_namespace, dst_k8s_namespace, bytes, sampled_bytes, packets, flows "
            + "FROM volumetry_by_namespace_v");
        await using var reader = await command.ExecuteReaderAsync().DefaultTimeout();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            var key = (reader.GetString(0),
                new DateTimeOffset(reader.GetFieldValue<DateTime>(1)).ToUnixTimeMilliseconds(),
                reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3));
            var e = expected[key];
            Assert.Equal((e.Bytes, e.Sampled, e.Packets, e.Flows),
                (reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7)));
            rows++;
        }

        Assert.Equal(expected.Count, rows);
    }

    [Fact]
    public async Task ReaderRole_SelectsViewsAndPartitions_CannotWrite()
    {
        await using var host = await StorageHost.CreateAsync(database.ConnectionString);
        // Natively a day's partition, in TimescaleDB mode a chunk of the hypertable.
        var partition = PostgresTestMode.IsTimescaleDb
            ? await database.ScalarAsync<string>("SELECT max(c::text) FROM show_chunks('flow_rows') c")
            : NetObserv.Storage.Partitions.FlowPartitions.NameOf((await host.Partitions.ListAsync(CancellationToken.None))[^1]);
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync().DefaultTimeout();
        await Execute(connection, "SET ROLE netobserv_reader");

        Assert.Equal(_records.Count, await Scalar(connection, "SELECT count(*) FROM flows_v"));
        Assert.Equal(_records.Count, await Scalar(connection, "SELECT sum(flows) FROM volumetry_by_namespace_v"));
        // A partition or chunk created after the migration (by the writer) is readable through default privileges.
        Assert.True(await Scalar(connection, "SELECT count(*) FROM " + partition) > 0);

        var denied = await Assert.ThrowsAsync<PostgresException>(() =>
            Execute(connection, "DELETE FROM flow_rollup_1h_rows"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
        Assert.Equal(false, await ScalarObject(connection,
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'netobserv_reader'"));
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync().DefaultTimeout();
    }

    private static async Task<long> Scalar(NpgsqlConnection connection, string sql) =>
        Convert.ToInt64(await ScalarObject(connection, sql), System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<object?> ScalarObject(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync().DefaultTimeout();
    }
}
