using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using NetObserv.Benchmarks.Query;
using NetObserv.GrafanaPlugin.Protocol;
using NetObserv.Server.Commands;
using NetObserv.Server.Hosting;

namespace NetObserv.Benchmarks.GrafanaPlugin;

/// <summary>
/// <c>grafana-plugin [--flows N] [--iterations N] [--data-dir DIR] [--database CS]</c>: loads N flows
/// (default 2 million) over the last 24 hours (kept between runs), starts the backend in process with
/// the result cache off and the Grafana plugin (built by <c>deploy/grafana-plugin/build.sh
/// --framework-dependent</c>) as Grafana starts it, then prints p50/p95 of the same panels asked both
/// ways: <c>QueryData</c> of the plugin (gRPC to the plugin, gRPC query API, Arrow frames) and
/// <c>query_range</c> of the Loki API (HTTP, JSON): volumetry (bytes/s by source namespace) over 1 h and
/// 24 h with the step Grafana picks for a 1,000-pixel panel, and the flow table (100 newest flows of one
/// namespace over 24 h).
/// </summary>
internal static class GrafanaPluginBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (LoadOptions.Parse(args, new LoadOptions(2_000_000L, 20, "./.bench-plugin", null)) is not { } options)
        {
            return 2;
        }

        var (flows, iterations, dataDir) = (options.Flows, options.Iterations, options.DataDirectory);
        await using var db = await options.OpenAsync();
        var end = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 60_000 * 60_000;
        end = await QueryBenchmark.LoadAsync(db.DataSource, flows, end, spanMs: 86_400_000L);

        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Storage:ConnectionString"] = db.ConnectionString,
            ["Storage:TimescaleDb"] = "off",
            ["Server:ListenAddress"] = "127.0.0.1",
            ["Server:HttpPort"] = "-1",
            ["Server:GrpcPort"] = "-1",
            ["Server:QueryGrpcPort"] = "-1",
            ["Server:IpfixPort"] = "0",
            ["Server:NetflowPort"] = "0",
            ["Enrichment:Kubernetes"] = "false",
            // Both paths evaluate every query: the Loki API's result cache would answer repeats from memory.
            ["Query:CacheMaxBytes"] = "0",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft"] = "Error",
            // The loaded days have partitions of the loader's naming, which partition upkeep reports as overlapping.
            ["Logging:LogLevel:NetObserv.Storage.Partitions"] = "Error",
        };
        await using var app = await NetObservHost.BuildAsync(new ParsedCommandLine("serve", settings, []), null, CancellationToken.None);
        await app.StartAsync();
        var endpoints = app.Services.GetRequiredService<ListenerEndpoints>();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{endpoints.Http!.Port}") };

        using var plugin = await StartPluginAsync(Path.Combine(dataDir, "plugin"));
        using var channel = GrpcChannel.ForAddress("http://" + plugin.Address, new GrpcChannelOptions { MaxReceiveMessageSize = 256 * 1024 * 1024 });
        var data = new Data.DataClient(channel);
        var context = new PluginContext
        {
            PluginId = "netobserv-flows-datasource",
            DataSourceInstanceSettings = new DataSourceInstanceSettings { Url = $"http://127.0.0.1:{endpoints.QueryGrpc!.Port}" },
        };

        Console.WriteLine($"grafana-plugin: {flows:N0} flows over 24 hours, {iterations} runs per case, 2 cores");
        foreach (var (name, rangeMs) in new[] { ("1h", 3_600_000L), ("24h", 86_400_000L) })
        {
            var step = QueryBenchmark.GrafanaInterval(rangeMs / 1000);
            var query = Query("""{"queryType":"volumetry","groupBy":"namespace","metric":"bytes","direction":"src"}""",
                end - rangeMs, end, step);
            var executed = await ExecutedQueryAsync(data, context, query);
            await CompareAsync($"volumetry bytes/s by SrcK8S_Namespace, {name}, step {step / 1000}s", iterations,
                () => QueryDataAsync(data, context, query),
                () => LokiAsync(http, executed, end - rangeMs, end, step, 1000));
        }

        var table = Query("""{"queryType":"flows","limit":100,"srcNamespace":"ns-7"}""", end - 86_400_000L, end, 345_000);
        await CompareAsync("flow table, 100 newest flows of one namespace, 24h", iterations,
            () => QueryDataAsync(data, context, table),
            // The log query the flow table stands for (TypedQueries.Flows).
            () => LokiAsync(http, "{app=\"netobserv-flowcollector\", SrcK8S_Namespace=\"ns-7\"} | FlowDirection!=\"1\" or DstK8S_OwnerName=\"\"",
                end - 86_400_000L, end, 345_000, 100));
        await app.StopAsync();
        return 0;
    }

    private static DataQuery Query(string json, long fromMs, long toMs, long intervalMs) => new()
    {
        RefId = "A",
        Json = ByteString.CopyFromUtf8(json),
        IntervalMS = intervalMs,
        MaxDataPoints = 1000,
        TimeRange = new TimeRange { FromEpochMS = fromMs, ToEpochMS = toMs },
    };

    /// <summary>The LogQL the plugin's frames say the backend ran (<c>meta.executedQueryString</c> of the first frame).</summary>
    private static async Task<string> ExecutedQueryAsync(Data.DataClient data, PluginContext context, DataQuery query)
    {
        var request = new QueryDataRequest { PluginContext = context };
        request.Queries.Add(query);
        var response = (await data.QueryDataAsync(request)).Responses["A"];
        if (!string.IsNullOrEmpty(response.Error) || response.Frames.Count == 0)
        {
            throw new InvalidOperationException("the plugin answered no frames: " + response.Error);
        }

        using var reader = new Apache.Arrow.Ipc.ArrowFileReader(new MemoryStream(response.Frames[0].ToByteArray()));
        return (string?)JsonNode.Parse(reader.Schema.Metadata["meta"])!["executedQueryString"] ?? "";
    }

    private static async Task<string> QueryDataAsync(Data.DataClient data, PluginContext context, DataQuery query)
    {
        var request = new QueryDataRequest { PluginContext = context };
        request.Queries.Add(query);
        var response = (await data.QueryDataAsync(request)).Responses["A"];
        return string.IsNullOrEmpty(response.Error)
            ? string.Create(CultureInfo.InvariantCulture, $"{response.Frames.Count} frames, {response.Frames.Sum(f => f.Length):N0} bytes")
            : throw new InvalidOperationException(response.Error);
    }

    private static async Task<string> LokiAsync(HttpClient http, string query, long fromMs, long toMs, long stepMs, int limit)
    {
        var url = string.Create(CultureInfo.InvariantCulture,
            $"/loki/api/v1/query_range?query={Uri.EscapeDataString(query)}&start={fromMs * 1_000_000}&end={toMs * 1_000_000}&step={stepMs}ms&limit={limit}");
        var body = await http.GetByteArrayAsync(new Uri(url, UriKind.Relative));
        using var doc = JsonDocument.Parse(body);
        return string.Create(CultureInfo.InvariantCulture,
            $"{doc.RootElement.GetProperty("data").GetProperty("result").GetArrayLength()} series/streams, {body.Length:N0} bytes");
    }

    private static async Task CompareAsync(string name, int iterations, Func<Task<string>> plugin, Func<Task<string>> loki)
    {
        var (pluginTimes, pluginShape) = await TimeAsync(plugin, iterations);
        var (lokiTimes, lokiShape) = await TimeAsync(loki, iterations);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: plugin QueryData p50 {QueryBenchmark.Percentile(pluginTimes, 0.50):F1} ms, p95 {QueryBenchmark.Percentile(pluginTimes, 0.95):F1} ms ({pluginShape}); "
            + $"Loki API p50 {QueryBenchmark.Percentile(lokiTimes, 0.50):F1} ms, p95 {QueryBenchmark.Percentile(lokiTimes, 0.95):F1} ms ({lokiShape})"));
    }

    private static async Task<(List<double> Times, string Shape)> TimeAsync(Func<Task<string>> run, int iterations)
    {
        var times = new List<double>();
        var shape = "";
        for (var i = 0; i < iterations + 2; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            shape = await run();
            if (i >= 2)
            {
                times.Add(stopwatch.Elapsed.TotalMilliseconds);
            }
        }

        times.Sort();
        return (times, shape);
    }

    /// <summary>Builds the plugin with build.sh (framework-dependent) and starts it as Grafana does.</summary>
    private static async Task<PluginProcess> StartPluginAsync(string outDir)
    {
        var root = Directory.GetCurrentDirectory();
        using (var build = Process.Start(new ProcessStartInfo("bash")
        {
            ArgumentList = { Path.Combine(root, "deploy", "grafana-plugin", "build.sh"), outDir, "--framework-dependent" },
            UseShellExecute = false,
        })!)
        {
            await build.WaitForExitAsync();
            if (build.ExitCode != 0)
            {
                throw new InvalidOperationException("build.sh failed; run the benchmark from the project root");
            }
        }

        var arch = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "arm64" : "amd64";
        var info = new ProcessStartInfo(Path.Combine(outDir, "netobserv-flows-datasource", "gpx_netobserv_flows_linux_" + arch))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        info.Environment["grafana_plugin_type"] = "datasource";
        info.Environment["PLUGIN_PROTOCOL_VERSIONS"] = "2";
        info.Environment["NETOBSERV_PLUGIN_LOG_LEVEL"] = "warn";
        info.Environment["DOTNET_ROOT"] = Path.GetFullPath(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var process = Process.Start(info)!;
        var line = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the plugin printed no handshake");
        return new PluginProcess(process, line.Split('|')[3]);
    }

    private sealed class PluginProcess(Process process, string address) : IDisposable
    {
        public string Address { get; } = address;

        public void Dispose()
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
        }
    }
}
