using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using NetObserv.Query.Access;
using NetObserv.Query.Planning;
using NetObserv.Storage;

namespace NetObserv.Benchmarks.Query;

/// <summary>
/// <c>line-filter [--flows N] [--iterations N] [--data-dir DIR]</c>: loads N flows (default 1 million)
/// over the hour before the last whole minute with the <c>query</c> benchmark's generator (kept between runs) and prints p50/p95 and candidate rows
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
        end = await QueryBenchmark.LoadAsync(db.DataSource, flows, end, spanMs: 3_600_000);

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
        var request = new QueryRequest(query, startMs * 1_000_000, endMs * 1_000_000, stepMs, 100, false, false, new FlowAccess(["default"]));
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
        var p50 = QueryBenchmark.Percentile(times, 0.50);
        var p95 = QueryBenchmark.Percentile(times, 0.95);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: p50 {p50:F1} ms, p95 {p95:F1} ms, rows processed {rows:N0} ({rows / (p50 / 1000):N0} rows/s at p50)"));
    }
}
