using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using NetObserv.Server.Commands;
using NetObserv.Server.Loadgen;
using NetObserv.Storage.LocalPostgres;
using Npgsql;

namespace NetObserv.Benchmarks.Ingest;

/// <summary>
/// <c>ingest [--database CS] [--duration 60s] [--rate N|max] [--flows-per-message 1000] [--concurrency 4]</c>:
/// starts <c>netobserv-backend serve</c> as a child process against a fresh database (a managed local
/// PostgreSQL unless <c>--database</c> names one), drives it with the gRPC load generator, waits until
/// the writer has stored everything acknowledged, and prints acknowledged and written flows/s, Send
/// latency p50/p99, the server's peak RSS, and whether the rows in the database equal the records
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
        // Not CreateTempSubdirectory: its 0700 folder would be closed to the account PostgreSQL runs as.
        var work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(),
            "netobserv-ingest-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture))).FullName;
        ManagedPostgres? postgres = null;
        string connectionString;
        if (LoadgenArguments.Get(args, "--database") is { } database)
        {
            connectionString = database;
        }
        else
        {
            postgres = await ManagedPostgres.StartAsync(Path.Combine(work, "pg"), CancellationToken.None);
            var name = "ingest_bench";
            await postgres.CreateDatabaseAsync(name, CancellationToken.None);
            connectionString = postgres.ConnectionString(name);
        }

        var grpcPort = FreePort();
        var httpPort = FreePort();
        using var server = StartServer(connectionString, grpcPort, httpPort);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
            await WaitReadyAsync(http, server);
            var rowsBefore = await CountRowsAsync(connectionString);

            var options = load with
            {
                Target = "127.0.0.1:" + grpcPort.ToString(CultureInfo.InvariantCulture),
                Duration = duration,
            };
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ingest (gRPC): {duration.TotalSeconds:0} s, rate {(options.Rate is { } r ? r.ToString("0", CultureInfo.InvariantCulture) : "max")}, {options.FlowsPerMessage} flows/message, {options.Concurrency} in flight, {Environment.ProcessorCount} cores"));
            using var sampler = new RssSampler(server.Id);
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
                written = await RowsWrittenAsync(http);
                if (written >= result.Acknowledged)
                {
                    drained = Stopwatch.GetElapsedTime(started);
                    break;
                }

                await Task.Delay(100);
            }

            var serverCpu = ProcessCpuSeconds(server.Id);
            var rows = await CountRowsAsync(connectionString) - rowsBefore;
            var ok = rows == result.Acknowledged;
            Console.WriteLine(GrpcLoadCommand.Summary(result));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                acknowledged flows/s  {result.AcknowledgedPerSecond:0}
                written flows/s       {(drained > TimeSpan.Zero ? rows / drained.TotalSeconds : 0):0}   ({rows} rows by {drained.TotalSeconds:0.0} s from start)
                Send p50 ms           {result.SendMilliseconds(50):0.00}
                Send p99 ms           {result.SendMilliseconds(99):0.00}
                server peak RSS MiB   {sampler.PeakMiB:0}
                server CPU s          {serverCpu:0.0}   ({(serverCpu > 0 ? rows / serverCpu : 0):0} rows per server CPU second, startup included)
                refused (RESOURCE_EXHAUSTED) {result.Refused}, failed {result.Failed}
                rows in database {rows} == acknowledged {result.Acknowledged}: {(ok ? "OK" : "MISMATCH")}
                """));
            return ok ? 0 : 1;
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync();
            }

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
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private static Process StartServer(string connectionString, int grpcPort, int httpPort)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "netobserv-backend.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                dll, "serve", "--database", connectionString, "--listen", "127.0.0.1",
                "--grpc-port", grpcPort.ToString(CultureInfo.InvariantCulture),
                "--http-port", httpPort.ToString(CultureInfo.InvariantCulture),
                "--ipfix-port", "0", "--netflow-port", "0",
            },
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["NETOBSERV__Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start netobserv-backend");
        process.OutputDataReceived += (_, e) => Forward(e.Data);
        process.ErrorDataReceived += (_, e) => Forward(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Forward(string? line)
    {
        // The server's own warnings and errors only; its startup and per-batch information lines are noise here.
        if (!string.IsNullOrWhiteSpace(line) && !line.StartsWith("info:", StringComparison.Ordinal)
            && !line.StartsWith("      ", StringComparison.Ordinal))
        {
            Console.WriteLine("  server: " + line);
        }
    }

    private static async Task WaitReadyAsync(HttpClient http, Process server)
    {
        var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 120);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (server.HasExited)
            {
                throw new InvalidOperationException("netobserv-backend exited with code " + server.ExitCode);
            }

            try
            {
                using var response = await http.GetAsync(new Uri("/ready", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("netobserv-backend did not become ready");
    }

    private static async Task<long> RowsWrittenAsync(HttpClient http)
    {
        var text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("netobserv_storage_rows_written_total", StringComparison.Ordinal))
            {
                return (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    private static async Task<long> CountRowsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM flows", connection);
        command.CommandTimeout = 300;
        try
        {
            return (long)(await command.ExecuteScalarAsync())!;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0;
        }
    }

    /// <summary>User plus system CPU time of a process from /proc/PID/stat (clock ticks of 1/100 s).</summary>
    private static double ProcessCpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture))
                / 100.0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Samples a process's resident set from /proc four times a second and keeps the peak.</summary>
    private sealed class RssSampler : IDisposable
    {
        private readonly int _pid;
        private readonly Timer _timer;
        private double _peak;
        private double _current;

        public RssSampler(int pid)
        {
            _pid = pid;
            _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(250));
        }

        public double CurrentMiB => Volatile.Read(ref _current);

        /// <summary>The larger of the sampled peak and the kernel's high-water mark (VmHWM).</summary>
        public double PeakMiB => Math.Max(Volatile.Read(ref _peak), ReadKiB("VmHWM:") / 1024.0);

        public void Dispose() => _timer.Dispose();

        private void Sample()
        {
            var mib = ReadKiB("VmRSS:") / 1024.0;
            Volatile.Write(ref _current, mib);
            if (mib > _peak)
            {
                Volatile.Write(ref _peak, mib);
            }
        }

        private long ReadKiB(string field)
        {
            try
            {
                foreach (var line in File.ReadLines($"/proc/{_pid}/status"))
                {
                    if (line.StartsWith(field, StringComparison.Ordinal))
                    {
                        return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                    }
                }
            }
            catch (IOException)
            {
            }

            return 0;
        }
    }
}
