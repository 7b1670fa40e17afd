using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using NetObserv.Query.Access;
using NetObserv.Query.Loki;
using NetObserv.Query.Planning;
using NetObserv.Storage;
using NetObserv.Storage.Rollups;
using Npgsql;

namespace NetObserv.Benchmarks.Query;

/// <summary>
/// <c>query [--flows N] [--iterations N] [--data-dir DIR] [--database CS] [--timescaledb] [--explain] [--shifted-windows] [--only TEXT]</c>: loads N flows (default 20
/// million) spread over the last 7 days (kept between runs), fills every rollup level, then prints p50/p95 of
/// the volumetry panel (bytes/s by source namespace) over 1 h, 24 h and 7 d with the step Grafana
/// picks for a 1,000-pixel panel, of the flow table (100 newest flows of one namespace over 24 h) and of the
/// NetObserv console's topology query over 1 h and 24 h.
/// </summary>
internal static class QueryBenchmark
{
    private const string Volumetry =
        "sum by (SrcK8S_Namespace) (rate({app=\"netobserv-flowcollector\"} | json | unwrap Bytes | __error__=\"\" [$__interval]))";

    /// <summary>The overview dashboard's "Bytes/s by source namespace" panel with every variable on All.</summary>
    private const string DashboardPanel =
        "sum by (SrcK8S_Namespace) (rate({app=\"netobserv-flowcollector\", SrcK8S_Namespace=~\".*\", SrcK8S_OwnerName=~\".*\", "
        + "DstK8S_Namespace=~\".*\", DstK8S_OwnerName=~\".*\"} | FlowDirection!=\"1\" or DstK8S_OwnerName=\"\" | json "
        + "| unwrap SampledBytes | __error__=\"\" [$__interval]))";

    private const string FlowTable = "{app=\"netobserv-flowcollector\", SrcK8S_Namespace=\"ns-7\"}";

    /// <summary>
    /// The NetObserv console's topology query (namespace scope, bytes rate, rate interval 1m, the ingress half of
    /// its reporter de-duplication), as its TopologyQueryBuilder writes it.
    /// </summary>
    private const string ConsoleTopology =
        "topk(100,sum by(SrcK8S_Namespace,DstK8S_Namespace)(rate({app=\"netobserv-flowcollector\",FlowDirection=~\"^0$|^2$\"}"
        + "|json|unwrap Bytes|__error__=\"\"[1m])))";

    /// <summary>With <c>--only TEXT</c>: the cases whose name contains TEXT, the others skipped.</summary>
    private static string? s_only;

    public static async Task<int> RunAsync(string[] args)
    {
        var explain = args.Contains("--explain");
        var shifted = args.Contains("--shifted-windows");
        var only = Array.IndexOf(args, "--only");
        if (only >= 0 && only + 1 < args.Length)
        {
            s_only = args[only + 1];
            args = [.. args[..only], .. args[(only + 2)..]];
        }

        if (LoadOptions.Parse(args.Where(a => a is not "--explain" and not "--shifted-windows").ToArray(),
                new LoadOptions(20_000_000L, 20, "./.bench-query", null))
            is not { } options)
        {
            return 2;
        }

        var (flows, iterations) = (options.Flows, options.Iterations);
        await using var db = await options.OpenAsync();
        var end = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 60_000 * 60_000;
        end = await LoadAsync(db.DataSource, flows, end, timescaleDb: db.Mode == StorageMode.TimescaleDb);

        var queryOptions = new QueryOptions { ExactWindows = !shifted };
        await using var queryDataSource = QueryDataSource.Create(db.ConnectionString, queryOptions);
        var engine = new QueryEngine(queryDataSource, Options.Create(queryOptions));
        Console.WriteLine($"query: {flows:N0} flows over 7 days, {db.Mode}, {iterations} runs per case, 2 cores");
        foreach (var (name, rangeMs) in new[] { ("1h", 3_600_000L), ("24h", 86_400_000L), ("7d", 604_800_000L) })
        {
            var step = GrafanaInterval(rangeMs / 1000);
            var query = Volumetry.Replace("$__interval", NetObserv.Query.LogQL.LogQLDuration.Format(TimeSpan.FromMilliseconds(step)), StringComparison.Ordinal);
            await MeasureAsync(engine, $"volumetry by SrcK8S_Namespace, {name}, step {step / 1000}s", query,
                end - rangeMs - 17_000, end - 17_000, step, iterations);
            if (explain)
            {
                await ExplainAsync(queryDataSource, engine, query, end - rangeMs - 17_000, end - 17_000, step);
            }
        }

        var weekStep = GrafanaInterval(604_800);
        await MeasureAsync(engine, $"dashboard panel bytes/s by source namespace (All), 7d, step {weekStep / 1000}s",
            DashboardPanel.Replace("$__interval", NetObserv.Query.LogQL.LogQLDuration.Format(TimeSpan.FromMilliseconds(weekStep)), StringComparison.Ordinal),
            end - 604_800_000 - 17_000, end - 17_000, weekStep, iterations);
        await MeasureAsync(engine, "flow table, 100 newest flows of one namespace, 24h", FlowTable,
            end - 86_400_000 - 17_000, end - 17_000, 345_000, iterations, limit: 100);

        // The console sends start = now - range (any second) with its step: 30s over 1 h, 5m over 24 h.
        foreach (var (name, rangeMs, stepMs) in new[] { ("1h", 3_600_000L, 30_000L), ("24h", 86_400_000L, 300_000L) })
        {
            var topology = $"console topology by namespace, {name}, step {stepMs / 1000}s";
            await MeasureAsync(engine, topology, ConsoleTopology, end - rangeMs - 17_000, end - 17_000, stepMs,
                iterations, limit: 100);
            if (explain && (s_only is null || topology.Contains(s_only, StringComparison.Ordinal)))
            {
                await ExplainAsync(queryDataSource, engine, ConsoleTopology, end - rangeMs - 17_000, end - 17_000, stepMs);
            }
        }
        return 0;
    }

    /// <summary>Grafana's interval for a panel <paramref name="pixels"/> wide: range/pixels rounded to a nice value.</summary>
    internal static long GrafanaInterval(long rangeSeconds, int pixels = 1000)
    {
        var ms = rangeSeconds * 1000.0 / pixels;
        (double Below, long Interval)[] table =
        [
            (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1_500, 1_000), (3_500, 2_000),
            (7_500, 5_000), (12_500, 10_000), (17_500, 15_000), (25_000, 20_000), (45_000, 30_000), (90_000, 60_000),
            (210_000, 120_000), (450_000, 300_000), (750_000, 600_000), (1_050_000, 900_000), (1_500_000, 1_200_000),
            (2_700_000, 1_800_000), (5_400_000, 3_600_000), (9_000_000, 7_200_000), (16_200_000, 10_800_000),
            (27_000_000, 21_600_000), (43_200_000, 43_200_000), (86_400_000, 86_400_000),
        ];
        foreach (var (below, interval) in table)
        {
            if (ms < below)
            {
                return interval;
            }
        }

        return 604_800_000;
    }

    private static async Task MeasureAsync(QueryEngine engine, string name, string query, long startMs, long endMs,
        long stepMs, int iterations, int limit = 1000)
    {
        if (s_only is not null && !name.Contains(s_only, StringComparison.Ordinal))
        {
            return;
        }

        var request = new QueryRequest(query, startMs * 1_000_000, endMs * 1_000_000, stepMs, limit, false, false,
            new FlowAccess(["default"]));
        var expr = QueryEngine.Parse(query);
        var times = new List<double>();
        var engineTimes = new List<double>();
        QueryResult? last = null;
        for (var i = 0; i < iterations + 2; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            last = await engine.ExecuteAsync(request, expr, CancellationToken.None);
            var engineMs = stopwatch.Elapsed.TotalMilliseconds;
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                LokiResponseWriter.WriteQueryResult(writer, last, stopwatch.Elapsed);
            }

            if (i >= 2)
            {
                times.Add(stopwatch.Elapsed.TotalMilliseconds);
                engineTimes.Add(engineMs);
            }
        }

        times.Sort();
        engineTimes.Sort();
        var shape = last switch
        {
            MatrixResult m => $"{m.Series.Count} series x {m.TimestampsMs.Length} points",
            StreamsResult s => $"{s.Streams.Sum(x => x.Entries.Count)} lines",
            _ => "",
        };
        var source = last is MatrixResult
            ? new MetricPlanner(engine.StreamLabels, new EvaluationGrid(startMs, stepMs, (int)((endMs - startMs) / stepMs) + 1),
                endMs - startMs, new FlowAccess(["default"]), exactWindows: engine.Options.ExactWindows).Plan(expr).Leaves[0].Source.ToString()
            : "flows";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: p50 {Percentile(times, 0.50):F1} ms, p95 {Percentile(times, 0.95):F1} ms ({shape}, reads {source}; engine without JSON p50 {Percentile(engineTimes, 0.50):F1} ms)"));
    }

    private static async Task ExplainAsync(NpgsqlDataSource dataSource, QueryEngine engine, string query, long startMs,
        long endMs, long stepMs)
    {
        var plan = new MetricPlanner(engine.StreamLabels, new EvaluationGrid(startMs, stepMs, (int)((endMs - startMs) / stepMs) + 1),
            endMs - startMs, new FlowAccess(["default"]), exactWindows: engine.Options.ExactWindows).Plan(QueryEngine.Parse(query));
        Console.WriteLine("  " + (plan.Sql ?? "(no SQL)").ReplaceLineEndings("\n  "));
        // The statement alone, its rows read and dropped: what the engine adds is the rest of its time.
        var sqlTimes = new List<double>();
        for (var i = 0; i < 12; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            await using var run = dataSource.CreateCommand(plan.Sql);
            foreach (var parameter in plan.Parameters.All)
            {
                run.Parameters.Add(parameter.Clone());
            }

            await using (var rows = await run.ExecuteReaderAsync())
            {
                while (await rows.ReadAsync())
                {
                }
            }

            if (i >= 2)
            {
                sqlTimes.Add(stopwatch.Elapsed.TotalMilliseconds);
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  statement alone, rows read: p50 {Percentile(sqlTimes, 0.50):F1} ms"));
        await using var command = dataSource.CreateCommand("EXPLAIN (ANALYZE, BUFFERS) " + plan.Sql);
        foreach (var parameter in plan.Parameters.All)
        {
            command.Parameters.Add(parameter.Clone());
        }

        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            Console.WriteLine("  " + reader.GetString(0));
        }
    }

    internal static double Percentile(List<double> sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>
    /// Loads <paramref name="count"/> flows spread over the <paramref name="spanMs"/> before
    /// <paramref name="endMs"/> (7 days by default), with every rollup level, unless a previous run did;
    /// returns the end of the data (Unix ms).
    /// </summary>
    internal static async Task<long> LoadAsync(NpgsqlDataSource dataSource, long count, long endMs,
        long spanMs = 7 * 86_400_000L, bool timescaleDb = false)
    {
        await using (var check = dataSource.CreateCommand("SELECT count(*), (extract(epoch from max(time_end)) * 1000)::bigint FROM flows"))
        {
            check.CommandTimeout = 0;
            await using var reader = await check.ExecuteReaderAsync();
            await reader.ReadAsync();
            if (reader.GetInt64(0) >= count && !reader.IsDBNull(1))
            {
                var existingEnd = (reader.GetInt64(1) / 60_000 * 60_000) + 60_000;
                Console.WriteLine($"using {reader.GetInt64(0):N0} flows already loaded");
                return existingEnd;
            }
        }

        var span = spanMs;
        var startMs = endMs - span;
        var loadWatch = Stopwatch.StartNew();
        await ExecuteAsync(dataSource, "TRUNCATE flow_rows, flow_rollup_1m_delta, " + string.Join(", ", RollupLevel.Stored.Select(l => l.RowsTable)));
        var firstDay = DateTimeOffset.FromUnixTimeMilliseconds(startMs).UtcDateTime.Date;
        for (var day = firstDay; !timescaleDb && day <= DateTimeOffset.FromUnixTimeMilliseconds(endMs).UtcDateTime.Date.AddDays(1); day = day.AddDays(1))
        {
            await ExecuteAsync(dataSource, string.Create(CultureInfo.InvariantCulture,
                $"CREATE TABLE IF NOT EXISTS flows_bench_{day:yyyyMMdd} PARTITION OF flow_rows FOR VALUES FROM ('{day:yyyy-MM-dd}') TO ('{day.AddDays(1):yyyy-MM-dd}')"));
        }

        // 120 workloads (4 per namespace, 30 namespaces) in 200 active conversations, both directions.
        const string insert = """
            INSERT INTO flows (time_end, time_start, time_received, tenant, src_addr, dst_addr, src_port, dst_port, proto,
                bytes, packets, flow_direction, src_k8s_namespace, src_k8s_owner_name, src_k8s_owner_type, src_k8s_name,
                src_k8s_type, dst_k8s_namespace, dst_k8s_owner_name, dst_k8s_owner_type, dst_k8s_name, dst_k8s_type,
                k8s_flow_layer, k8s_cluster_name, record_type)
            SELECT te, te - interval '800 milliseconds', te, 'default',
                   ('10.128.' || sw || '.' || (i % 200))::inet, ('10.129.' || dw || '.' || (i % 180))::inet,
                   32768 + (i % 20000)::int, (ARRAY[443, 8080, 5432, 53])[1 + (pair % 4)::int], 6,
                   100 + ((i * 31) % 20000), 1 + (i % 40), (i % 2)::int,
                   'ns-' || (sw / 4), 'wl-' || sw, 'Deployment', 'wl-' || sw || '-' || (i % 3), 'Pod',
                   'ns-' || (dw / 4), 'wl-' || dw, 'Deployment', 'wl-' || dw || '-' || (i % 5), 'Pod',
                   'app', 'bench', 'flowLog'
            FROM (SELECT i, to_timestamp(($1 + (i * $2 / $3)) / 1000.0) + ((i % 997) * interval '1 millisecond') AS te,
                         ((i * 2654435761) % 200) AS pair
                  FROM generate_series($4::bigint, $5::bigint) AS i) g,
                 LATERAL (SELECT (pair % 120) AS sw, ((pair * 37 + 11) % 120) AS dw) w
            """;
        const int Chunks = 28;
        var chunk = (count + Chunks - 1) / Chunks;
        // One stream: INSERT INTO flows adds dictionary rows on first sight, and two long transactions adding
        // the same new keys in different orders would deadlock.
        await Parallel.ForEachAsync(Enumerable.Range(0, Chunks), new ParallelOptions { MaxDegreeOfParallelism = 1 },
            async (c, ct) =>
            {
                var from = c * chunk;
                var to = Math.Min(count, from + chunk) - 1;
                await using var command = dataSource.CreateCommand(insert);
                command.CommandTimeout = 0;
                command.Parameters.Add(new NpgsqlParameter { Value = startMs });
                command.Parameters.Add(new NpgsqlParameter { Value = span });
                command.Parameters.Add(new NpgsqlParameter { Value = count });
                command.Parameters.Add(new NpgsqlParameter { Value = from });
                command.Parameters.Add(new NpgsqlParameter { Value = to });
                await command.ExecuteNonQueryAsync(ct);
            });
        Console.WriteLine($"loaded {count:N0} flows in {loadWatch.Elapsed.TotalSeconds:F0} s");

        // Rollups: the minutes into the deltas, then merged and the coarser levels derived, as the backend does.
        await ExecuteAsync(dataSource, """
            INSERT INTO flow_rollup_1m (tenant, bucket, src_k8s_namespace, src_k8s_owner_type, src_k8s_owner_name,
                dst_k8s_namespace, dst_k8s_owner_type, dst_k8s_owner_name, flow_direction, k8s_flow_layer,
                k8s_cluster_name, bytes, packets, sampled_bytes, sampled_packets, flows)
            SELECT tenant, date_trunc('minute', time_end), src_k8s_namespace, src_k8s_owner_type, src_k8s_owner_name,
                dst_k8s_namespace, dst_k8s_owner_type, dst_k8s_owner_name, flow_direction, k8s_flow_layer,
                k8s_cluster_name, sum(bytes), sum(packets), sum(bytes), sum(packets), count(*)
            FROM flows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 ORDER BY 2
            """);
        await ExecuteAsync(dataSource, "UPDATE flow_rollup_watermarks SET derived_until = '-infinity'");
        await RollupCompaction.CompactBeforeAsync(dataSource, RollupAggregator.Floor(endMs, 60_000) + 60_000,
            CancellationToken.None);

        if (timescaleDb)
        {
            // As the compression policy would leave them: every chunk older than a day compressed, by a new
            // session, which takes the settings the migrations gave the role in this database (as the policy's
            // job does), not those of a connection opened before them.
            dataSource.Clear();
            await ExecuteAsync(dataSource,
                "SELECT count(compress_chunk(c, if_not_compressed => true)) FROM show_chunks('flow_rows', older_than => interval '1 day') c");
        }

        await ExecuteAsync(dataSource, "VACUUM ANALYZE flow_rows");
        foreach (var level in RollupLevel.Stored)
        {
            await ExecuteAsync(dataSource, "VACUUM ANALYZE " + level.RowsTable);
        }

        Console.WriteLine($"loaded and rolled up in {loadWatch.Elapsed.TotalSeconds:F0} s");
        return endMs;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync();
    }
}
