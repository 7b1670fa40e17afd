// Benchmarks: `dotnet run -c Release --project benchmarks/NetObserv.Benchmarks -- <name> [args]`.
// Each macro benchmark prints one line per figure; figures are recorded in docs/benchmarks.md.
var name = args.Length > 0 ? args[0] : "";
var rest = args.Length > 0 ? args[1..] : [];
switch (name)
{
    case "writer": return await NetObserv.Benchmarks.Copy.WriterBenchmark.RunAsync(rest);
    case "ingest": return await NetObserv.Benchmarks.Ingest.IngestBenchmark.RunAsync(rest);
    case "loki-push": return NetObserv.Benchmarks.LokiPush.LokiPushBenchmark.Run(rest);
    case "ipfix-decode": return NetObserv.Benchmarks.Ipfix.IpfixDecodeBenchmark.Run(rest);
    case "query": return await NetObserv.Benchmarks.Query.QueryBenchmark.RunAsync(rest);
    case "line-filter": return await NetObserv.Benchmarks.Query.LineFilterBenchmark.RunAsync(rest);
    case "grafana-plugin": return await NetObserv.Benchmarks.GrafanaPlugin.GrafanaPluginBenchmark.RunAsync(rest);
    case "soak": return await NetObserv.Benchmarks.Soak.SoakBenchmark.RunAsync(rest);
    case "storage": return await NetObserv.Benchmarks.Storage.StorageBenchmark.RunAsync(rest);
    default:
        Console.Error.WriteLine($"unknown benchmark '{name}'");
        return 2;
}
