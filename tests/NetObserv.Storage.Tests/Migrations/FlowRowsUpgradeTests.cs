using System.Globalization;
using NetObserv.Storage.Migrations;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Storage.Tests.Migrations;

/// <summary>
/// A database written by a version whose <c>flows</c> was a wide table (migrations 0001 to 0006, with
/// native daily partitions <c>flows_pYYYYMMDD</c> or compressed TimescaleDB chunks) is upgraded in
/// place: afterwards <c>flows</c>, now a view over <c>flow_rows</c> and its dictionaries, returns the
/// same rows with the same values and types in every column it had, and the rest of the schema
/// (partitions, <c>flows_v</c>, rollups, the reader role) keeps working.
/// </summary>
public sealed class FlowRowsUpgradeTests
{
    private const string FirstNarrowMigration = "0007";
    private const int Rows = 240;

    // Every column of the wide table, with NULLs, empty strings and arrays, IPv4 and IPv6, MAC
    // addresses, three tenants, quoting characters in dictionary text and times over three UTC days.
    // Times have the precision senders give them: milliseconds for the flow, seconds for reception.
    private const string FillFlows = """
        INSERT INTO flows (time_end, time_start, time_received, tenant, src_addr, dst_addr, src_mac, dst_mac,
            src_port, dst_port, proto, etype, flags, dscp, icmp_type, icmp_code, bytes, packets, sampling,
            flow_direction, interfaces, if_directions, duplicate, agent_ip, dns_id, dns_flags, dns_latency_ms,
            dns_errno, dns_name, rtt_ns, pkt_drop_bytes, pkt_drop_packets, pkt_drop_latest_state,
            pkt_drop_latest_drop_cause, src_k8s_name, src_k8s_type, src_k8s_namespace, src_k8s_owner_name,
            src_k8s_owner_type, src_k8s_host_ip, src_k8s_host_name, src_k8s_zone, dst_k8s_name, dst_k8s_type,
            dst_k8s_namespace, dst_k8s_owner_name, dst_k8s_owner_type, dst_k8s_host_ip, dst_k8s_host_name,
            dst_k8s_zone, k8s_flow_layer, k8s_cluster_name, record_type, hash_id)
        SELECT t.time_end,
            t.time_end - (g % 7) * interval '1.234 seconds',
            date_trunc('second', t.time_end) + (g % 5 - 1) * interval '1 second',
            (ARRAY['default', 'team-a', 'team-b'])[g % 3 + 1],
            CASE g % 4 WHEN 0 THEN NULL WHEN 1 THEN ('10.128.' || g % 250 || '.' || g % 200)::inet
                WHEN 2 THEN ('fd00:10:244::' || to_hex(g))::inet ELSE inet '2001:db8::1/64' END,
            CASE g % 5 WHEN 0 THEN NULL WHEN 1 THEN inet '172.30.0.10' WHEN 2 THEN ('fd00:10:244::' || to_hex(g + 1))::inet
                ELSE ('10.129.' || g % 7 || '.1')::inet END,
            CASE WHEN g % 6 = 0 THEN NULL ELSE ('0a:58:0a:80:00:' || lpad(to_hex(g % 256), 2, '0'))::macaddr END,
            CASE WHEN g % 8 = 0 THEN NULL ELSE macaddr '11:22:33:44:55:66' END,
            CASE WHEN g % 9 = 0 THEN NULL ELSE 1024 + g END,
            (ARRAY[443, 53, 8080, NULL])[g % 4 + 1],
            (ARRAY[6, 17, 1, 58, 132, NULL])[g % 6 + 1],
            CASE WHEN g % 4 = 2 THEN 34525 ELSE 2048 END,
            CASE WHEN g % 5 = 0 THEN NULL ELSE g * 37 % 2048 END,
            CASE WHEN g % 3 = 0 THEN NULL ELSE g % 64 END,
            CASE WHEN g % 6 IN (2, 3) THEN g % 16 END,
            CASE WHEN g % 6 IN (2, 3) THEN g % 4 END,
            CASE WHEN g = 7 THEN 4000000000000000 ELSE g * 1000003 END,
            g % 97 + 1,
            (ARRAY[NULL, 0, 1, 50])[g % 4 + 1],
            (ARRAY[0, 1, 2, NULL])[g / 4 % 4 + 1],
            CASE g % 5 WHEN 0 THEN NULL WHEN 1 THEN '{}'::text[] WHEN 2 THEN ARRAY['eth0']
                WHEN 3 THEN ARRAY['br-ex', 'genev_sys_6081', ''] ELSE ARRAY['veth' || g, NULL] END,
            CASE g % 5 WHEN 0 THEN NULL WHEN 1 THEN '{}'::integer[] WHEN 2 THEN ARRAY[0]
                WHEN 3 THEN ARRAY[1, 0, 1] ELSE ARRAY[0, NULL] END,
            CASE g % 7 WHEN 0 THEN NULL WHEN 1 THEN true ELSE false END,
            CASE g % 8 WHEN 0 THEN NULL WHEN 1 THEN inet 'fe80::1' ELSE ('192.168.1.' || g % 10)::inet END,
            CASE WHEN g % 4 = 1 THEN g * 13 END,
            CASE WHEN g % 4 = 1 THEN 33152 END,
            CASE WHEN g % 4 = 1 THEN g % 100 END,
            CASE WHEN g % 4 = 1 THEN g % 3 END,
            CASE g % 8 WHEN 1 THEN 'svc-' || g || '.shop.svc.cluster.local.' WHEN 5 THEN '' END,
            CASE WHEN g % 3 = 0 THEN g * 12345 END,
            CASE WHEN g % 10 = 0 THEN g * 3 END,
            CASE WHEN g % 10 = 0 THEN g % 4 END,
            CASE WHEN g % 10 = 0 THEN 'TCP_ESTABLISHED' END,
            CASE WHEN g % 20 = 0 THEN 'SKB_DROP_REASON_NO_SOCKET' WHEN g % 10 = 0 THEN '' END,
            CASE g % 4 WHEN 1 THEN 'frontend-' || g % 3 WHEN 2 THEN 'kube-dns' WHEN 3 THEN 'a,b"(c)\' END,
            CASE g % 4 WHEN 1 THEN 'Pod' WHEN 2 THEN 'Service' WHEN 3 THEN 'Node' END,
            CASE g % 4 WHEN 1 THEN 'shop' WHEN 2 THEN 'kube-system' WHEN 3 THEN '' END,
            CASE g % 4 WHEN 1 THEN 'frontend' WHEN 2 THEN 'kube-dns' END,
            CASE g % 4 WHEN 1 THEN 'Deployment' WHEN 2 THEN 'Service' END,
            CASE g % 4 WHEN 1 THEN ('10.0.0.' || g % 3)::inet WHEN 3 THEN inet 'fd00::5' END,
            CASE g % 4 WHEN 1 THEN 'node-' || g % 3 WHEN 3 THEN 'nœud-été' END,
            CASE g % 4 WHEN 1 THEN 'eu-west-1a' END,
            CASE g / 3 % 3 WHEN 1 THEN 'payments-db-0' WHEN 2 THEN 'api-' || g % 2 END,
            CASE g / 3 % 3 WHEN 1 THEN 'Pod' WHEN 2 THEN 'Pod' END,
            CASE g / 3 % 3 WHEN 1 THEN 'payments' WHEN 2 THEN 'shop' END,
            CASE g / 3 % 3 WHEN 1 THEN 'payments-db' WHEN 2 THEN 'api' END,
            CASE g / 3 % 3 WHEN 1 THEN 'StatefulSet' WHEN 2 THEN 'Deployment' END,
            CASE g / 3 % 3 WHEN 1 THEN inet '10.0.0.1' WHEN 2 THEN inet '10.0.0.2' END,
            CASE g / 3 % 3 WHEN 1 THEN 'node-1' WHEN 2 THEN 'node-2' END,
            CASE g / 3 % 3 WHEN 1 THEN 'eu-west-1b' END,
            (ARRAY['app', 'infra', NULL])[g / 2 % 3 + 1],
            CASE WHEN g % 11 = 0 THEN NULL ELSE 'prod' END,
            (ARRAY['flowLog', 'newConnection', 'heartbeat', 'endConnection', NULL])[g % 5 + 1],
            CASE WHEN g % 13 = 0 THEN NULL ELSE 'h' || g END
        FROM generate_series(0, 239) g,
            LATERAL (SELECT $1::timestamptz + g * interval '17 minutes 31.123 seconds' AS time_end) t
        """;

    private const string FillMinuteRollup = """
        INSERT INTO flow_rollup_1m (tenant, bucket, src_k8s_namespace, src_k8s_owner_type, src_k8s_owner_name,
            dst_k8s_namespace, dst_k8s_owner_type, dst_k8s_owner_name, flow_direction, k8s_flow_layer,
            k8s_cluster_name, bytes, packets, sampled_bytes, sampled_packets, flows)
        SELECT (ARRAY['default', 'team-a'])[g % 2 + 1], date_trunc('minute', $1::timestamptz) + g * interval '1 minute',
            CASE WHEN g % 3 > 0 THEN 'shop' END, 'Deployment', 'frontend', NULL, NULL, NULL, g % 3, 'app', NULL,
            g * 100, g, g * 1000, g * 10, g + 1
        FROM generate_series(0, 29) g
        """;

    private const string FillCoarserRollups = """
        INSERT INTO flow_rollup_5m SELECT tenant, date_bin('5 minutes', bucket, timestamptz '1970-01-01 00:00:00+00'),
            src_k8s_namespace, src_k8s_owner_type, src_k8s_owner_name, dst_k8s_namespace, dst_k8s_owner_type,
            dst_k8s_owner_name, flow_direction, k8s_flow_layer, k8s_cluster_name, sum(bytes), sum(packets),
            sum(sampled_bytes), sum(sampled_packets), sum(flows)
        FROM flow_rollup_1m GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11;
        INSERT INTO flow_rollup_10m SELECT tenant, date_bin('10 minutes', bucket, timestamptz '1970-01-01 00:00:00+00'),
            src_k8s_namespace, src_k8s_owner_type, src_k8s_owner_name, dst_k8s_namespace, dst_k8s_owner_type,
            dst_k8s_owner_name, flow_direction, k8s_flow_layer, k8s_cluster_name, sum(bytes), sum(packets),
            sum(sampled_bytes), sum(sampled_packets), sum(flows)
        FROM flow_rollup_1m GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11;
        INSERT INTO flow_rollup_1h SELECT tenant, date_trunc('hour', bucket), src_k8s_namespace, src_k8s_owner_type,
            src_k8s_owner_name, dst_k8s_namespace, dst_k8s_owner_type, dst_k8s_owner_name, flow_direction,
            k8s_flow_layer, k8s_cluster_name, sum(bytes), sum(packets), sum(sampled_bytes), sum(sampled_packets),
            sum(flows)
        FROM flow_rollup_1m GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
        """;

    private const string RollupColumns = "tenant, bucket, src_k8s_namespace, src_k8s_owner_type, src_k8s_owner_name, "
        + "dst_k8s_namespace, dst_k8s_owner_type, dst_k8s_owner_name, flow_direction, k8s_flow_layer, "
        + "k8s_cluster_name, bytes, packets, sampled_bytes, sampled_packets, flows";

    private const string FlowsVColumns = "hash_id, time_end, sampled_bytes, sampled_packets, duration_ms, "
        + "direction_name, proto_name, src_workload, dst_workload";

    private static readonly string[] s_rollups = ["flow_rollup_1m", "flow_rollup_5m", "flow_rollup_10m", "flow_rollup_1h"];

    [Fact]
    public async Task MigrateAsync_WideFlowsTableWithRows_FlowsViewReturnsSameRowsValuesAndTypes()
    {
        var mode = PostgresTestMode.Current;
        var cs = await PostgresServer.CreateDatabaseAsync("upgrade").DefaultTimeout();
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(cs);
            if (mode == StorageMode.TimescaleDb)
            {
                Assert.Contains("timescaledb", await ScalarAsync<string>(dataSource, "SHOW shared_preload_libraries"),
                    StringComparison.Ordinal);
            }

            await ApplyWideSchemaAsync(dataSource, mode);
            var firstDay = DateTime.UtcNow.Date.AddDays(-3);
            var days = Enumerable.Range(0, 3).Select(d => firstDay.AddDays(d)).ToList();
            var emptyDayAhead = firstDay.AddDays(4);
            if (mode == StorageMode.Native)
            {
                foreach (var day in days.Append(emptyDayAhead))
                {
                    await ExecuteAsync(dataSource, string.Create(CultureInfo.InvariantCulture,
                        $"CREATE TABLE flows_p{day:yyyyMMdd} PARTITION OF flows FOR VALUES FROM ('{day:yyyy-MM-dd} 00:00:00+00') TO ('{day.AddDays(1):yyyy-MM-dd} 00:00:00+00')"));
                }
            }

            var start = firstDay.AddMinutes(7).AddMilliseconds(500);
            await ExecuteAsync(dataSource, FillFlows, start);
            await ExecuteAsync(dataSource, FillMinuteRollup, start);
            await ExecuteAsync(dataSource, FillCoarserRollups);
            if (mode == StorageMode.TimescaleDb)
            {
                // Chunks older than a day are compressed in a running database: the move reads them.
                Assert.Equal(3L, await ScalarAsync<long>(dataSource,
                    "SELECT count(compress_chunk(c)) FROM show_chunks('flows') c"));
            }

            var columns = await ColumnsAsync(dataSource);
            Assert.Equal(54, columns.Count);
            var rowText = "row(" + string.Join(", ", columns.Select(c => c.Name)) + ")::text";
            var flowsBefore = await RowsAsync(dataSource, $"SELECT {rowText} FROM flows");
            var flowsVBefore = await RowsAsync(dataSource, $"SELECT row({FlowsVColumns})::text FROM flows_v");
            var rollupsBefore = new List<List<string>>();
            foreach (var rollup in s_rollups)
            {
                rollupsBefore.Add(await RowsAsync(dataSource, $"SELECT row({RollupColumns})::text FROM {rollup}"));
            }

            Assert.Equal(Rows, flowsBefore.Count);
            Assert.Equal(Rows, flowsBefore.Distinct(StringComparer.Ordinal).Count());

            var applied = await new MigrationRunner(dataSource).MigrateAsync(mode, CancellationToken.None)
                .DefaultTimeout();

            Assert.Equal(MigrationRunner.All()
                .Where(m => string.CompareOrdinal(m.Id, FirstNarrowMigration) >= 0 && (m.Mode is null || m.Mode == mode))
                .Select(m => m.Id), applied);
            Assert.Equal("v", await ScalarAsync<string>(dataSource,
                "SELECT relkind::text FROM pg_class WHERE relname = 'flows' AND relnamespace = 'public'::regnamespace"));
            // The view keeps every column of the table, in the same place and of the same type.
            Assert.Equal(columns, (await ColumnsAsync(dataSource)).Take(columns.Count));
            Assert.Equal(flowsBefore, await RowsAsync(dataSource, $"SELECT {rowText} FROM flows"));
            Assert.Equal(0L, await ScalarAsync<long>(dataSource,
                "SELECT count(*) FROM flows WHERE src_subnet_label IS NOT NULL OR dst_subnet_label IS NOT NULL "
                + "OR extra_fields IS NOT NULL"));
            Assert.Equal((long)Rows, await ScalarAsync<long>(dataSource, "SELECT count(*) FROM flow_rows"));
            Assert.Equal(flowsVBefore, await RowsAsync(dataSource, $"SELECT row({FlowsVColumns})::text FROM flows_v"));
            for (var i = 0; i < s_rollups.Length; i++)
            {
                Assert.Equal(rollupsBefore[i],
                    await RowsAsync(dataSource, $"SELECT row({RollupColumns})::text FROM {s_rollups[i]}"));
            }

            await AssertDaysAsync(dataSource, mode, days, emptyDayAhead);
            await AssertReaderSelectsAsync(dataSource);
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(cs);
        }
    }

    /// <summary>
    /// A narrow database as migration 0012 left it in the suite's mode (MACs in <c>flow_contexts</c>, codes as plain integers,
    /// TimescaleDB chunks compressed) upgrades through 0013: <c>flows</c> returns the same rows with
    /// the same columns and types, the codes are domains, new rows keep their MACs in <c>flow_endpoints</c>,
    /// and with TimescaleDB the chunks compress again in batches of up to 16,000 rows.
    /// </summary>
    [Fact]
    public async Task MigrateAsync_NarrowRowsBeforeEndpointMacsAndCodes_FlowsViewReturnsSameRows()
    {
        var mode = PostgresTestMode.Current;
        var cs = await PostgresServer.CreateDatabaseAsync("codes").DefaultTimeout();
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(cs);
            var runner = new MigrationRunner(dataSource);
            await runner.MigrateAsync(mode, "0012_rollup_deltas", CancellationToken.None).DefaultTimeout();
            var firstDay = DateTime.UtcNow.Date.AddDays(-3);
            if (mode == StorageMode.Native)
            {
                for (var d = 0; d < 2; d++)
                {
                    var day = firstDay.AddDays(d);
                    await ExecuteAsync(dataSource, string.Create(CultureInfo.InvariantCulture,
                        $"CREATE TABLE flow_rows_p{day:yyyyMMdd} PARTITION OF flow_rows FOR VALUES FROM ('{day:yyyy-MM-dd} 00:00:00+00') TO ('{day.AddDays(1):yyyy-MM-dd} 00:00:00+00')"));
                }
            }

            await ExecuteAsync(dataSource, """
                INSERT INTO flows (time_end, time_start, time_received, src_addr, dst_addr, src_mac, dst_mac, proto,
                    flags, dscp, icmp_type, icmp_code, dns_flags, dns_errno, bytes, packets, src_k8s_namespace,
                    src_k8s_name, dst_k8s_namespace, interfaces, agent_ip, hash_id)
                SELECT $1::timestamptz + g * interval '47 minutes 1.5 seconds', $1::timestamptz + g * interval '47 minutes',
                    $1::timestamptz + g * interval '47 minutes' + interval '3 seconds',
                    ('10.128.0.' || g % 7)::inet, ('10.129.0.' || g % 5)::inet,
                    CASE WHEN g % 6 = 0 THEN NULL ELSE ('0a:58:0a:80:00:' || lpad(to_hex(g % 4), 2, '0'))::macaddr END,
                    CASE WHEN g % 8 = 0 THEN NULL ELSE ('0a:58:0a:81:00:' || lpad(to_hex(g % 9), 2, '0'))::macaddr END,
                    (ARRAY[6, 17, 1, 58, NULL])[g % 5 + 1], CASE WHEN g % 3 = 0 THEN NULL ELSE g * 37 % 2048 END,
                    (ARRAY[0, 46, NULL])[g % 3 + 1], CASE WHEN g % 5 = 2 THEN 8 END, CASE WHEN g % 5 = 2 THEN 0 END,
                    CASE WHEN g % 4 = 1 THEN 33152 + g % 4 END, CASE WHEN g % 4 = 1 THEN 0 END, g * 1000 + 1, g + 1,
                    'ns-' || g % 3, 'pod-' || g % 4, CASE WHEN g % 2 = 0 THEN 'ns-' || g % 5 END,
                    ARRAY['veth' || g % 3], ('10.0.0.' || g % 2)::inet, 'h' || g
                FROM generate_series(0, 59) g
                """, firstDay.AddMinutes(3));
            if (mode == StorageMode.TimescaleDb)
            {
                Assert.Equal(2L, await ScalarAsync<long>(dataSource,
                    "SELECT count(compress_chunk(c)) FROM show_chunks('flow_rows') c"));
            }

            var columns = await ColumnsAsync(dataSource);
            var before = await RowsAsync(dataSource, "SELECT f::text FROM flows f");
            Assert.Equal(60, before.Count);

            Assert.Equal(["0013_endpoint_macs_and_codes"],
                (await runner.MigrateAsync(mode, "0013_endpoint_macs_and_codes", CancellationToken.None).DefaultTimeout())
                .ToArray());

            Assert.Equal(columns, await ColumnsAsync(dataSource));
            Assert.Equal(before, await RowsAsync(dataSource, "SELECT f::text FROM flows f"));
            Assert.Equal(["dns_errno flow_code", "dns_flags flow_code", "dscp flow_small_code", "flags flow_code",
                "icmp_code flow_small_code", "icmp_type flow_small_code", "proto flow_small_code"],
                await RowsAsync(dataSource, """
                    SELECT column_name || ' ' || domain_name FROM information_schema.columns
                    WHERE table_schema = 'public' AND table_name = 'flow_rows' AND domain_name IS NOT NULL
                    """));

            // A new row keeps its MACs with its endpoints; its context has none.
            await ExecuteAsync(dataSource, """
                INSERT INTO flows (time_end, src_mac, dst_mac, src_k8s_name, hash_id)
                VALUES ($1, '0a:58:00:00:00:01', '0a:58:00:00:00:02', 'pod-0', 'new')
                """, firstDay.AddHours(30));
            Assert.Equal(["0a:58:00:00:00:01 0a:58:00:00:00:02 pod-0"], await RowsAsync(dataSource, """
                SELECT src_mac || ' ' || dst_mac || ' ' || src_k8s_name FROM flows WHERE hash_id = 'new'
                """));
            Assert.Equal(["0a:58:00:00:00:01 0a:58:00:00:00:02 true"], await RowsAsync(dataSource, """
                SELECT s.mac || ' ' || d.mac || ' ' || (c.src_mac IS NULL AND c.dst_mac IS NULL)
                FROM flow_rows r JOIN flow_endpoints s ON s.id = r.src_endpoint JOIN flow_endpoints d ON d.id = r.dst_endpoint
                JOIN flow_contexts c ON c.id = r.context WHERE r.hash_id = 'new'
                """));

            if (mode == StorageMode.TimescaleDb)
            {
                // The change of types needed the chunks decompressed; a new session of the role compresses
                // them again in batches of up to 16,000 rows, and reads the same rows from them.
                Assert.Equal(0L, await ScalarAsync<long>(dataSource,
                    "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'flow_rows' AND is_compressed"));
                dataSource.Clear();
                Assert.Equal("16000", await ScalarAsync<string>(dataSource, "SHOW timescaledb.compression_batch_size_limit"));
                Assert.Equal(2L, await ScalarAsync<long>(dataSource,
                    "SELECT count(compress_chunk(c)) FROM show_chunks('flow_rows') c"));
                Assert.Equal(before, await RowsAsync(dataSource, "SELECT f::text FROM flows f WHERE hash_id <> 'new'"));
            }
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(cs);
        }
    }

    /// <summary>
    /// Migrations before <see cref="FirstNarrowMigration"/> for <paramref name="mode"/>, recorded in
    /// <c>schema_migrations</c> as <see cref="MigrationRunner"/> records them.
    /// </summary>
    private static async Task ApplyWideSchemaAsync(NpgsqlDataSource dataSource, StorageMode mode)
    {
        await ExecuteAsync(dataSource, """
            CREATE TABLE schema_migrations (
                id         text PRIMARY KEY,
                mode       text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())
            """);
        var ids = new List<string>();
        foreach (var migration in MigrationRunner.All())
        {
            if (string.CompareOrdinal(migration.Id, FirstNarrowMigration) >= 0
                || (migration.Mode is { } only && only != mode))
            {
                continue;
            }

            await using var connection = await dataSource.OpenConnectionAsync().AsTask().DefaultTimeout();
            await using var transaction = await connection.BeginTransactionAsync().AsTask().DefaultTimeout();
            await using (var command = new NpgsqlCommand(migration.Sql, connection, transaction))
            {
                await command.ExecuteNonQueryAsync().DefaultTimeout();
            }

            await using (var record = new NpgsqlCommand(
                "INSERT INTO schema_migrations (id, mode) VALUES ($1, $2)", connection, transaction))
            {
                record.Parameters.Add(new NpgsqlParameter { Value = migration.Id });
                record.Parameters.Add(new NpgsqlParameter { Value = mode.ToString() });
                await record.ExecuteNonQueryAsync().DefaultTimeout();
            }

            await transaction.CommitAsync().DefaultTimeout();
            ids.Add(migration.Id);
        }

        Assert.Equal(["0001_flows", "0002_rollups", "0003_reader", "0004_rollups_5m_10m", "0005_spill", "0006_rejected"],
            ids);
        Assert.Equal("table", await ScalarAsync<string>(dataSource,
            "SELECT CASE WHEN relkind IN ('r', 'p') THEN 'table' ELSE relkind::text END FROM pg_class WHERE relname = 'flows'"));
    }

    /// <summary>Each day with rows has its place in flow_rows: a flow_rows_p partition natively, a chunk with TimescaleDB.</summary>
    private static async Task AssertDaysAsync(NpgsqlDataSource dataSource, StorageMode mode, List<DateTime> days,
        DateTime emptyDayAhead)
    {
        var rowDays = await RowsAsync(dataSource,
            "SELECT DISTINCT to_char(time_end AT TIME ZONE 'UTC', 'YYYYMMDD') FROM flow_rows");
        Assert.Equal(days.Select(d => d.ToString("yyyyMMdd", CultureInfo.InvariantCulture)), rowDays);
        if (mode == StorageMode.Native)
        {
            var partitions = await RowsAsync(dataSource, """
                SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'flow_rows'::regclass
                """);
            Assert.Equal(days.Append(emptyDayAhead).Select(d => "flow_rows_p" + d.ToString("yyyyMMdd",
                CultureInfo.InvariantCulture)), partitions);
            foreach (var day in days)
            {
                Assert.Equal(await ScalarAsync<long>(dataSource, string.Create(CultureInfo.InvariantCulture,
                        $"SELECT count(*) FROM flow_rows WHERE time_end >= '{day:yyyy-MM-dd}' AND time_end < '{day.AddDays(1):yyyy-MM-dd}'")),
                    await ScalarAsync<long>(dataSource, $"SELECT count(*) FROM flow_rows_p{day:yyyyMMdd}"));
            }

            Assert.Equal(0L, await ScalarAsync<long>(dataSource, "SELECT count(*) FROM ONLY flow_rows"));
        }
        else
        {
            var chunkDays = await RowsAsync(dataSource, """
                SELECT to_char(range_start AT TIME ZONE 'UTC', 'YYYYMMDD') FROM timescaledb_information.chunks
                WHERE hypertable_name = 'flow_rows'
                """);
            Assert.Equal(rowDays, chunkDays);
            Assert.Equal(0L, await ScalarAsync<long>(dataSource, "SELECT count(*) FROM ONLY flow_rows"));
            // The old table's jobs went with it; flow_rows has its own retention job for the maintenance to adjust.
            Assert.Equal(0L, await ScalarAsync<long>(dataSource,
                "SELECT count(*) FROM timescaledb_information.jobs WHERE hypertable_name = 'flows'"));
            Assert.Equal(1L, await ScalarAsync<long>(dataSource,
                "SELECT count(*) FROM timescaledb_information.jobs WHERE hypertable_name = 'flow_rows' "
                + "AND proc_name = 'policy_retention'"));
        }
    }

    private static async Task AssertReaderSelectsAsync(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync().AsTask().DefaultTimeout();
        await using (var role = new NpgsqlCommand("SET ROLE netobserv_reader", connection))
        {
            await role.ExecuteNonQueryAsync().DefaultTimeout();
        }

        foreach (var relation in new[] { "flows", "flows_v", "flow_rows", "flow_endpoints", "flow_contexts" })
        {
            await using var command = new NpgsqlCommand("SELECT count(*) FROM " + relation, connection);
            var count = (long)(await command.ExecuteScalarAsync().DefaultTimeout())!;
            Assert.True(relation is "flow_endpoints" or "flow_contexts" ? count > 0 : count == Rows,
                $"netobserv_reader counts {count} rows in {relation}");
        }
    }

    private static async Task<List<(string Name, string Type)>> ColumnsAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT column_name, udt_name FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name = 'flows' ORDER BY ordinal_position
            """);
        await using var reader = await command.ExecuteReaderAsync().DefaultTimeout();
        var columns = new List<(string, string)>();
        while (await reader.ReadAsync())
        {
            columns.Add((reader.GetString(0), reader.GetString(1)));
        }

        return columns;
    }

    /// <summary>The first column of every row, as text, sorted (ordinal).</summary>
    private static async Task<List<string>> RowsAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync().DefaultTimeout();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql, DateTime? parameter = null)
    {
        await using var command = dataSource.CreateCommand(sql);
        if (parameter is { } value)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await command.ExecuteNonQueryAsync().DefaultTimeout();
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync().DefaultTimeout())!;
    }
}
