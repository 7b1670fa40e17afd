using System.Diagnostics;
using System.Globalization;
using NetObserv.Server.Commands;
using NetObserv.Server.Loadgen;

namespace NetObserv.Benchmarks.Ingest;

/// <summary>
/// <c>ingest [--database CS] [--durability journal|memory] [--duration 60s] [--rate N|max] [--flows-per-message 1000] [--concurrency 4]</c>:
/// starts <c>netobserv-backend serve</c> as a child process against a fresh database (a managed local
/// PostgreSQL unless <c>--database</c> names one), drives it with the gRPC load generator, waits until
/// the writer has stored everything acknowledged, and prints acknowledged and written flows/s, Send
/// latency p50/p99, the journal's fsyncs per second (<c>Storage:Durability</c>, default journal, with the
/// journal in the work folder), the server's peak RSS, and whether the rows in the database equal the records
/// acknowledged (exit code 1 when they do not).
/// </summary>
internal static class IngestBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var load = GrpcLoadCommand.Parse([.. args, "--target", "placeholder"]);
        var duration = load.Duration == TimeSpan.FromSeconds(10) && LoadgenArguments.Get(args, "--duration") is null
            ? TimeSpan.FromSeconds(60)
            : load.Duration;
        var (work, postgres, connectionString) = await BackendProcess.DatabaseAsync(args, "netobserv-ingest-bench-", "ingest_bench");

        var durability = LoadgenArguments.Get(args, "--durability") ?? "journal";
        var journal = Path.Combine(work, "journal-" + Guid.NewGuid().ToString("N"));
        var grpcPort = BackendProcess.FreePort();
        var httpPort = BackendProcess.FreePort();
        using var server = BackendProcess.Start(connectionString, grpcPort, httpPort, environment: new Dictionary<string, string>
        {
            ["NETOBSERV__Storage__Durability"] = durability,
            ["NETOBSERV__Storage__JournalDirectory"] = journal,
        });
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
            await BackendProcess.WaitReadyAsync(http, server);
            var rowsBefore = await BackendProcess.CountRowsAsync(connectionString);

            var options = load with
            {
                Target = "127.0.0.1:" + grpcPort.ToString(CultureInfo.InvariantCulture),
                Duration = duration,
            };
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ingest (gRPC, durability {durability}): {duration.TotalSeconds:0} s, rate {(options.Rate is { } r ? r.ToString("0", CultureInfo.InvariantCulture) : "max")}, {options.FlowsPerMessage} flows/message, {options.Concurrency} in flight, {Environment.ProcessorCount} cores"));
            using var sampler = new RssSampler(server.Id);
            var fsyncsBefore = await BackendProcess.MetricAsync(http, "netobserv_journal_fsyncs_total");
            var started = Stopwatch.GetTimestamp();
            var result = await new GrpcLoadGenerator(options, SyntheticCluster.Create(options.Seed)).RunAsync(
                p => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{p.Elapsed.TotalSeconds,4:0}s acknowledged {p.Acknowledged,11:N0} refused {p.Refused,9:N0} {p.AcknowledgedPerSecond,9:N0}/s  rss {sampler.CurrentMiB,5:0} MiB")),
                CancellationToken.None);

            // Everything acknowledged must reach the table; the writer may still be draining.
            var written = 0L;
            var drained = TimeSpan.Zero;
            var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 120);
            while (Stopwatch.GetTimestamp() < deadline)
            {
                written = await BackendProcess.RowsWrittenAsync(http);
                if (written >= result.Acknowledged)
                {
                    drained = Stopwatch.GetElapsedTime(started);
                    break;
                }

                await Task.Delay(100);
            }

            var fsyncs = await BackendProcess.MetricAsync(http, "netobserv_journal_fsyncs_total") - fsyncsBefore;
            var serverCpu = BackendProcess.CpuSeconds(server.Id);
            var rows = await BackendProcess.CountRowsAsync(connectionString) - rowsBefore;
            var ok = rows == result.Acknowledged;
            Console.WriteLine(GrpcLoadCommand.Summary(result));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                acknowledged flows/s  {result.AcknowledgedPerSecond:0}
                written flows/s       {(drained > TimeSpan.Zero ? rows / drained.TotalSeconds : 0):0}   ({rows} rows by {drained.TotalSeconds:0.0} s from start)
                Send p50 ms           {result.SendMilliseconds(50):0.00}
                Send p99 ms           {result.SendMilliseconds(99):0.00}
                fsyncs/s              {fsyncs / result.Elapsed.TotalSeconds:0}   ({fsyncs} journal fsyncs, durability {durability})
                server peak RSS MiB   {sampler.PeakMiB:0}
                server CPU s          {serverCpu:0.0}   ({(serverCpu > 0 ? rows / serverCpu : 0):0} rows per server CPU second, startup included)
                refused (RESOURCE_EXHAUSTED) {result.Refused}, failed {result.Failed}
                rows in database {rows} == acknowledged {result.Acknowledged}: {(ok ? "OK" : "MISMATCH")}
                """));
            return ok ? 0 : 1;
        }
        finally
        {
            await BackendProcess.StopAsync(server, postgres, work);
        }
    }
}
