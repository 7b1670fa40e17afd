using System.Globalization;
using NetObserv.Benchmarks.Ingest;
using NetObserv.Server.Commands;
using Npgsql;

namespace NetObserv.Benchmarks.Storage;

/// <summary>
/// <c>storage [--hours 6] [--modes native,timescaledb] [--database CS]</c>: for each storage mode, starts
/// <c>netobserv-backend serve --demo --demo-backfill 6h</c> against a fresh database, waits until the demo
/// has backfilled its hours through the real ingest path (gRPC, enrichment, writer), stops the server and
/// prints the bytes per stored flow of the flow table with its indexes and dictionaries, of the rollups,
/// and, in TimescaleDB mode, of the flow table after every chunk is compressed.
/// </summary>
internal static class StorageBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var hours = LoadgenArguments.Get(args, "--hours") ?? "6";
        var modes = (LoadgenArguments.Get(args, "--modes") ?? "native,timescaledb").Split(',',
            StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var (work, postgres, adminConnectionString) = await BackendProcess.DatabaseAsync(args, "netobserv-storage-", "storage_admin");
        try
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"storage: {hours} h of demo traffic per mode, {Environment.ProcessorCount} cores, load {LoadAverage()}"));
            Console.WriteLine("| mode | flows stored | flows + indexes + dictionaries, B/flow | rollups, B/flow | compressed flows, B/flow |");
            Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
            foreach (var mode in modes)
            {
                var connectionString = await FreshDatabaseAsync(adminConnectionString, "storage_" + mode);
                await LoadAsync(connectionString, mode, hours);
                var figures = await MeasureAsync(connectionString, compress: mode == "timescaledb");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {mode} | {figures.Flows:N0} | {figures.FlowBytes / (double)figures.Flows:0.0} | {figures.RollupBytes / (double)figures.Flows:0.0} | {(figures.CompressedBytes is { } c ? (c / (double)figures.Flows).ToString("0.0", CultureInfo.InvariantCulture) : "-")} |"));
            }

            return 0;
        }
        finally
        {
            if (postgres is not null)
            {
                await postgres.DisposeAsync();
            }

            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<string> FreshDatabaseAsync(string adminConnectionString, string name)
    {
        await using var connection = new NpgsqlConnection(adminConnectionString);
        await connection.OpenAsync();
        // The name is one of ours (storage_native, storage_timescaledb), never user input.
        await using (var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection))
        {
            await drop.ExecuteNonQueryAsync();
        }

        await using (var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name }.ConnectionString;
    }

    private static async Task LoadAsync(string connectionString, string mode, string hours)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lastLines = new Queue<string>();
        var started = DateTime.UtcNow;
        using var server = BackendProcess.Start(connectionString, BackendProcess.FreePort(), BackendProcess.FreePort(),
            environment: new Dictionary<string, string>
            {
                ["NETOBSERV__Logging__LogLevel__NetObserv.Server.Demo"] = "Information",
            },
            arguments: ["--demo", "--demo-backfill", hours + "h", "--timescaledb", mode == "timescaledb" ? "on" : "off"],
            onLine: line =>
            {
                lock (lastLines)
                {
                    lastLines.Enqueue(line);
                    if (lastLines.Count > 20)
                    {
                        lastLines.Dequeue();
                    }
                }

                if (line.Contains("Demo: backfilled", StringComparison.Ordinal))
                {
                    done.TrySetResult();
                }
            });
        try
        {
            // The demo says when it has sent its backfill; the writer is done with it when the row count
            // grows at live speed only (a few hundred flows per second).
            long previous = 0;
            var quiet = 0;
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(30);
            while (true)
            {
                // Once the demo is done, every round still waits its 5 s: the count must be compared over time.
                await Task.WhenAny(done.Task.IsCompleted ? Task.Delay(5000) : done.Task, server.WaitForExitAsync(),
                    Task.Delay(5000));
                if (server.HasExited)
                {
                    throw new InvalidOperationException(
                        $"the server exited during the backfill ({mode}): {string.Join(Environment.NewLine, lastLines)}");
                }

                var count = await BackendProcess.CountRowsAsync(connectionString);
                // Three quiet rounds in a row: on a loaded machine the writer may pause for a round.
                quiet = done.Task.IsCompleted && count - previous < 5000 ? quiet + 1 : 0;
                if (quiet >= 3 || DateTime.UtcNow > deadline)
                {
                    previous = count;
                    break;
                }

                previous = count;
            }

            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {mode}: loaded {previous:N0} flows in {(DateTime.UtcNow - started).TotalSeconds:0} s"));
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
    }

    private sealed record Figures(long Flows, long FlowBytes, long RollupBytes, long? CompressedBytes);

    private static async Task<Figures> MeasureAsync(string connectionString, bool compress)
    {
        // A new session, as the compression job's: it takes the settings the migrations gave the role in the
        // database (the compressed batch size), which a pooled connection opened before them would not have.
        await using var connection = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        // The server merges the rollup deltas every few seconds, leaving the minutes still open; it was
        // stopped, so no more come: the last merge takes them all.
        if (await ScalarAsync(connection, "SELECT to_regprocedure('flow_rollup_compact(timestamptz)') IS NOT NULL") is true)
        {
            await ExecuteAsync(connection, "SELECT flow_rollup_compact(date_trunc('minute', now()) + interval '1 minute')");
        }

        await ExecuteAsync(connection, "VACUUM ANALYZE");
        var flows = (long)(await ScalarAsync(connection, "SELECT count(*) FROM flows"))!;
        var flowBytes = await SizeAsync(connection, s_flowRelations);
        var rollupBytes = await SizeAsync(connection, s_rollupRelations);
        long? compressed = null;
        if (compress)
        {
            await ExecuteAsync(connection, $"""
                SELECT count(compress_chunk(format('%I.%I', chunk_schema, chunk_name)::regclass, if_not_compressed => true))
                FROM timescaledb_information.chunks
                WHERE hypertable_name IN ('{FlowTable}', 'flows') AND NOT is_compressed
                """);
            await ExecuteAsync(connection, "VACUUM ANALYZE");
            compressed = await SizeAsync(connection, s_flowRelations);
        }

        return new Figures(flows, flowBytes, rollupBytes, compressed);
    }

    /// <summary>The physical flow table.</summary>
    private const string FlowTable = "flow_rows";

    /// <summary>
    /// Relations counted as the flow table's cost: the table (its partitions or chunks) and its dictionaries;
    /// <c>flows</c> counts only where it is still a table (a database before storage v2).
    /// </summary>
    private static readonly string[] s_flowRelations = [FlowTable, "flow_endpoints", "flow_contexts", "flows"];

    /// <summary>The rollup levels (their tables, or before rollups v2 the tables named like today's views) and their key dictionary.</summary>
    private static readonly string[] s_rollupRelations =
    [
        "flow_rollup_1m_rows", "flow_rollup_5m_rows", "flow_rollup_10m_rows", "flow_rollup_1h_rows", "flow_rollup_keys",
        "flow_rollup_1m_delta", "flow_rollup_watermarks",
        "flow_rollup_1m", "flow_rollup_5m", "flow_rollup_10m", "flow_rollup_1h",
    ];

    /// <summary>
    /// Bytes on disk of the relations with their indexes and TOAST: a hypertable's chunks (compressed or not)
    /// through <c>hypertable_size</c>, a partitioned table's partitions through <c>pg_partition_tree</c>.
    /// </summary>
    private static async Task<long> SizeAsync(NpgsqlConnection connection, string[] relations)
    {
        // hypertable_size exists only where the extension is: the statement is chosen, not branched in SQL.
        var timescale = await ScalarAsync(connection, "SELECT to_regclass('timescaledb_information.hypertables') IS NOT NULL") is true;
        var hypertable = timescale
            ? """
              WHEN EXISTS (SELECT 1 FROM timescaledb_information.hypertables h WHERE h.hypertable_name = r)
              THEN hypertable_size(r::regclass)
              """
            : "";
        var sql = $"""
            SELECT coalesce(sum(CASE
                {hypertable}
                WHEN (SELECT relkind FROM pg_class WHERE oid = r::regclass) = 'p'
                THEN (SELECT sum(pg_total_relation_size(t.relid)) FROM pg_partition_tree(r::regclass) t)
                ELSE pg_total_relation_size(r::regclass)
                END), 0)::bigint
            FROM unnest($1::text[]) r
            WHERE (SELECT relkind FROM pg_class WHERE oid = to_regclass(r)) IN ('r', 'p')
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue(relations);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        return await command.ExecuteScalarAsync();
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
}
