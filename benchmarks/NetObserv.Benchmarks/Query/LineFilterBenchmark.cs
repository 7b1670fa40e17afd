using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using NetObserv.Query.Planning;
using NetObserv.Storage;
using Npgsql;

namespace NetObserv.Benchmarks.Query;

/// <summary>
/// <c>line-filter [--flows N] [--iterations N] [--data-dir DIR]</c>: loads N flows (default 1 million)
/// over the hour before the last whole minute (kept between runs) and prints p50/p95 and candidate rows
/// per second of metric queries with line filters (evaluated in memory), beside the same query without
/// the line filter (aggregated by SQL) and with a namespace matcher that narrows the rows read.
/// </summary>
internal static class LineFilterBenchmark
{
    private const string App = "{app=\"netobserv-flowcollector\"}";

    public static async Task<int> RunAsync(string[] args)
    {
        var flows = 1_000_000L;
        var iterations = 10;
        var dataDir = "./.bench-line-filter";
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--flows": flows = long.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--iterations": iterations = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--data-dir": dataDir = args[i + 1]; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        await using var db = await FlowDatabase.OpenAsync(
            new StorageOptions { DataDirectory = dataDir, TimescaleDb = "off" }, null, CancellationToken.None);
        var end = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 60_000 * 60_000;
        end = await LoadAsync(db.DataSource, flows, end);

        var options = new QueryOptions { MaxLineFilterRows = Math.Max(flows * 2, 5_000_000) };
        await using var dataSource = QueryDataSource.Create(db.ConnectionString, options);
        var engine = new QueryEngine(dataSource, Options.Create(options));
        var step = QueryBenchmark.GrafanaInterval(3_600);
        var range = NetObserv.Query.LogQL.LogQLDuration.Format(TimeSpan.FromMilliseconds(step));
        Console.WriteLine($"line-filter: {flows:N0} flows over 1 h, step {step / 1000}s, {iterations} runs per case, 2 cores");
        (string Name, string Query)[] cases =
        [
            ("log volume, no line filter (SQL on flows)", $"sum by (level, detected_level) (count_over_time({App} | drop __error__[{range}]))"),
            ("log volume, |= \"10.128.5.17\"", $"sum by (level, detected_level) (count_over_time({App} |= \"10.128.5.17\" | drop __error__[{range}]))"),
            ("bytes/s by namespace, |~ DstPort 443|8080", $"sum by (SrcK8S_Namespace) (rate({App} |~ `\"DstPort\":(443|8080),` | json | unwrap Bytes [1m]))"),
            ("log volume, one namespace, |= \"10.128\"", $"sum by (level, detected_level) (count_over_time({{app=\"netobserv-flowcollector\", SrcK8S_Namespace=\"ns-3\"}} |= \"10.128\" | drop __error__[{range}]))"),
        ];
        foreach (var (name, query) in cases)
        {
            await MeasureAsync(engine, name, query, end - 3_600_000, end, step, iterations);
        }

        return 0;
    }

    private static async Task MeasureAsync(QueryEngine engine, string name, string query, long startMs, long endMs,
        long stepMs, int iterations)
    {
        var request = new QueryRequest(query, startMs * 1_000_000, endMs * 1_000_000, stepMs, 100, false, false, ["default"]);
        var expr = QueryEngine.Parse(query);
        var times = new List<double>();
        long rows = 0;
        for (var i = 0; i < iterations + 1; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            var result = await engine.ExecuteAsync(request, expr, CancellationToken.None);
            if (i >= 1)
            {
                times.Add(stopwatch.Elapsed.TotalMilliseconds);
            }

            rows = result.RowsProcessed;
        }

        times.Sort();
        var p50 = times[(times.Count - 1) / 2];
        var p95 = times[(int)Math.Ceiling(0.95 * times.Count) - 1];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: p50 {p50:F1} ms, p95 {p95:F1} ms, rows processed {rows:N0} ({rows / (p50 / 1000):N0} rows/s at p50)"));
    }

    /// <summary>Loads the flows unless a previous run did; returns the end of the data (Unix ms).</summary>
    private static async Task<long> LoadAsync(NpgsqlDataSource dataSource, long count, long endMs)
    {
        await using (var check = dataSource.CreateCommand("SELECT count(*), (extract(epoch from max(time_end)) * 1000)::bigint FROM flows"))
        {
            await using var reader = await check.ExecuteReaderAsync();
            await reader.ReadAsync();
            // Flows past the end of the hour are not inserted, so a complete load holds slightly fewer than count.
            if (reader.GetInt64(0) >= count * 99 / 100 && !reader.IsDBNull(1))
            {
                Console.WriteLine($"using {reader.GetInt64(0):N0} flows already loaded");
                return (reader.GetInt64(1) / 60_000 * 60_000) + 60_000;
            }
        }

        var startMs = endMs - 3_600_000;
        await Execute(dataSource, "TRUNCATE flows, flow_rollup_1m, flow_rollup_1h", []);
        var first = DateTimeOffset.FromUnixTimeMilliseconds(startMs).UtcDateTime.Date;
        for (var day = first; day <= first.AddDays(1); day = day.AddDays(1))
        {
            await Execute(dataSource, string.Create(CultureInfo.InvariantCulture,
                $"CREATE TABLE IF NOT EXISTS flows_lfbench_{day:yyyyMMdd} PARTITION OF flows FOR VALUES FROM ('{day:yyyy-MM-dd}') TO ('{day.AddDays(1):yyyy-MM-dd}')"), []);
        }

        await Execute(dataSource, """
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
            FROM (SELECT i, to_timestamp(($1 + (i * 3600000 / $2)) / 1000.0) + ((i % 997) * interval '1 millisecond') AS te,
                         ((i * 2654435761) % 200) AS pair
                  FROM generate_series(0::bigint, $2 - 1) AS i) g,
                 LATERAL (SELECT (pair % 120) AS sw, ((pair * 37 + 11) % 120) AS dw) w
            WHERE te <= to_timestamp($3 / 1000.0)
            """, [startMs, count, endMs]);
        await Execute(dataSource, """
            INSERT INTO flow_rollup_1m (tenant, bucket, src_k8s_namespace, src_k8s_owner_type, src_k8s_owner_name,
                dst_k8s_namespace, dst_k8s_owner_type, dst_k8s_owner_name, flow_direction, k8s_flow_layer,
                k8s_cluster_name, bytes, packets, sampled_bytes, sampled_packets, flows)
            SELECT tenant, date_trunc('minute', time_end), src_k8s_namespace, src_k8s_owner_type, src_k8s_owner_name,
                dst_k8s_namespace, dst_k8s_owner_type, dst_k8s_owner_name, flow_direction, k8s_flow_layer,
                k8s_cluster_name, sum(bytes), sum(packets), sum(bytes), sum(packets), count(*)
            FROM flows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
            """, []);
        await Execute(dataSource, "VACUUM ANALYZE flows", []);
        await Execute(dataSource, "VACUUM ANALYZE flow_rollup_1m", []);
        Console.WriteLine($"loaded {count:N0} flows");
        return endMs;
    }

    private static async Task Execute(NpgsqlDataSource dataSource, string sql, long[] parameters)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.CommandTimeout = 0;
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await command.ExecuteNonQueryAsync();
    }
}
