using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Google.Protobuf.WellKnownTypes;
using NetObserv.Flows.Pbflow;
using NetObserv.Storage.Rollups;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Server.Tests.Ingest;

/// <summary>
/// Acknowledged means stored: the real server process (journal durability) under gRPC and Loki push load
/// is killed with SIGKILL at random moments 20 times and restarted on the same data folder and database;
/// in 4 of the kills the database had been cut off (a TCP proxy in front of PostgreSQL closed) for a
/// moment before. Every record a client saw acknowledged must be in <c>flows</c> exactly once, and the
/// rollups must equal the sums over <c>flows</c>.
/// </summary>
[Trait("Category", "Crash")]
public sealed class KillRecoveryTests
{
    private const int Kills = 20;
    private const long GrpcBase = 1_000_000_000;
    private const long PushBase = 2_000_000_000;
    private static readonly int[] s_databaseCuts = [3, 8, 13, 18];

    [Fact]
    public async Task Server_KilledTwentyTimesUnderLoad_EveryAcknowledgedRecordStoredOnce()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("crash").DefaultTimeout();
        var target = new NpgsqlConnectionStringBuilder(cs);
        await using var proxy = new TcpProxy(target.Port);
        proxy.Start();
        var viaProxy = new NpgsqlConnectionStringBuilder(cs) { Host = "127.0.0.1", Port = proxy.Port }.ConnectionString;
        var dataDir = Path.Combine("/tmp", "netobserv-crash-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        var (grpcPort, httpPort) = (FreePort(), FreePort());
        var output = new StringBuilder();
        var acked = new ConcurrentBag<long>();
        var random = new Random(20261203);
        using var stop = new CancellationTokenSource();
        Process? server = null;
        var clock = Stopwatch.StartNew();
        var load = Task.WhenAll(
            Task.Run(() => GrpcLoadAsync(grpcPort, acked, stop.Token)),
            Task.Run(() => PushLoadAsync(httpPort, acked, stop.Token)));
        try
        {
            for (var kill = 0; kill < Kills; kill++)
            {
                server = Start(viaProxy, dataDir, grpcPort, httpPort, output);
                await WaitHealthyAsync(httpPort, server, output);
                await Task.Delay(random.Next(150, 700));
                var cut = s_databaseCuts.Contains(kill);
                if (cut)
                {
                    // The database goes away under load: the journal keeps acknowledging, the writer cannot commit.
                    proxy.Stop();
                    await Task.Delay(random.Next(300, 700));
                }

                server.Kill();
                await server.WaitForExitAsync().DefaultTimeout();
                server.Dispose();
                server = null;
                if (cut)
                {
                    proxy.Start();
                }
            }

            // Last start: no more load, everything acknowledged must come out of the journal into the database.
            server = Start(viaProxy, dataDir, grpcPort, httpPort, output);
            await WaitHealthyAsync(httpPort, server, output);
            await stop.CancelAsync();
            await load;
            var expected = acked.ToHashSet();
            Assert.True(expected.Count > 1_000, $"only {expected.Count} records acknowledged");
            Dictionary<long, long> stored = [];
            await Timeouts.WaitUntilAsync(async () =>
            {
                stored = await CountByMarkerAsync(cs);
                return expected.All(stored.ContainsKey);
            }, TimeSpan.FromSeconds(30), "every acknowledged record stored");

            var missing = expected.Count(id => !stored.ContainsKey(id));
            var twice = stored.Where(p => p.Value > 1).Select(p => p.Key).ToList();
            Assert.True(missing == 0 && twice.Count == 0,
                $"{expected.Count} acknowledged: {missing} missing, {twice.Count} stored more than once " +
                $"(first: {string.Join(", ", twice.Take(5))}); after {clock.Elapsed.TotalSeconds:F0} s\n{Tail(output)}");
            await AssertRollupsMatchFlowsAsync(cs);
        }
        finally
        {
            await stop.CancelAsync();
            if (server is { HasExited: false })
            {
                server.Kill();
                await server.WaitForExitAsync().DefaultTimeout();
            }

            server?.Dispose();
            await load.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
            await PostgresServer.DropDatabaseAsync(cs);
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static Process Start(string database, string dataDir, int grpcPort, int httpPort, StringBuilder output)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "netobserv-backend.dll"), "serve",
            "--database", database, "--data-dir", dataDir, "--listen", "127.0.0.1",
            "--http-port", httpPort.ToString(CultureInfo.InvariantCulture),
            "--grpc-port", grpcPort.ToString(CultureInfo.InvariantCulture),
            "--query-grpc-port", "0", "--ipfix-port", "0", "--netflow-port", "0", "--timescaledb", "off",
        })
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("NETOBSERV", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["NETOBSERV__Logging__LogLevel__Default"] = "Warning";
        start.Environment["NETOBSERV__Storage__FlushInterval"] = "00:00:00.100";
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        Assert.True(process.Start());
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitHealthyAsync(int httpPort, Process server, StringBuilder output)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(40))
        {
            if (server.HasExited)
            {
                Assert.Fail($"the server exited with {server.ExitCode}:\n{Tail(output)}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{httpPort}/healthz"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(50);
        }

        Assert.Fail($"the server did not answer /healthz within 40 s:\n{Tail(output)}");
    }

    /// <summary>gRPC Send in batches of 50; a record is acknowledged when its call returned OK.</summary>
    private static async Task GrpcLoadAsync(int port, ConcurrentBag<long> acked, CancellationToken stop)
    {
        using var channel = GrpcIngestClient.Channel(port);
        var client = new Collector.CollectorClient(channel);
        var next = GrpcBase;
        while (!stop.IsCancellationRequested)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var records = new Records();
            var ids = new long[50];
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = next++;
                records.Entries.Add(new Flows.Pbflow.Record
                {
                    EthProtocol = 0x0800,
                    TimeFlowStart = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(now - 1000)),
                    TimeFlowEnd = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(now)),
                    Network = new Network { SrcAddr = new IP { Ipv4 = 0x0A800001 }, DstAddr = new IP { Ipv4 = 0x0A810001 } },
                    Transport = new Transport { SrcPort = 5000, DstPort = 53, Protocol = 17 },
                    Bytes = (ulong)ids[i],
                    Packets = 1,
                });
            }

            try
            {
                await client.SendAsync(records, deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: stop);
                foreach (var id in ids)
                {
                    acked.Add(id);
                }
            }
            catch (Exception) when (!stop.IsCancellationRequested)
            {
                await Task.Delay(20, CancellationToken.None);
            }
            catch (Exception)
            {
                return;
            }
        }
    }

    /// <summary>Loki push (JSON) of 20 lines; a line is acknowledged when the push answered 204.</summary>
    private static async Task PushLoadAsync(int port, ConcurrentBag<long> acked, CancellationToken stop)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var uri = new Uri($"http://127.0.0.1:{port}/loki/api/v1/push");
        var next = PushBase;
        while (!stop.IsCancellationRequested)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var ids = new long[20];
            var body = new StringBuilder("{\"streams\":[{\"stream\":{\"app\":\"netobserv-flowcollector\"},\"values\":[");
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = next++;
                body.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture,
                    $"[\"{now * 1_000_000}\",\"{{\\\"TimeFlowStartMs\\\":{now - 1000},\\\"TimeFlowEndMs\\\":{now},\\\"Bytes\\\":{ids[i]},\\\"Packets\\\":1,\\\"SrcAddr\\\":\\\"10.1.0.1\\\",\\\"DstAddr\\\":\\\"10.2.0.1\\\",\\\"Proto\\\":6,\\\"SrcPort\\\":1234,\\\"DstPort\\\":80,\\\"Etype\\\":2048}}\"]");
            }

            body.Append("]}]}");
            try
            {
                using var content = new StringContent(body.ToString(), Encoding.UTF8, "application/json");
                using var response = await http.PostAsync(uri, content, stop);
                if (response.StatusCode == HttpStatusCode.NoContent)
                {
                    foreach (var id in ids)
                    {
                        acked.Add(id);
                    }
                }
                else
                {
                    await Task.Delay(20, CancellationToken.None);
                }
            }
            catch (Exception) when (!stop.IsCancellationRequested)
            {
                await Task.Delay(20, CancellationToken.None);
            }
            catch (Exception)
            {
                return;
            }
        }
    }

    private static async Task<Dictionary<long, long>> CountByMarkerAsync(string cs)
    {
        await using var dataSource = NpgsqlDataSource.Create(cs);
        await using var command = dataSource.CreateCommand("SELECT bytes, count(*) FROM flows GROUP BY bytes");
        await using var reader = await command.ExecuteReaderAsync();
        var counts = new Dictionary<long, long>();
        while (await reader.ReadAsync())
        {
            counts[reader.GetInt64(0)] = reader.GetInt64(1);
        }

        return counts;
    }

    private static async Task AssertRollupsMatchFlowsAsync(string cs)
    {
        // One snapshot for every total: the server is still running and may commit batches the clients
        // never saw acknowledged (sent as the load stopped, or journaled before a kill) between two reads.
        await using var dataSource = NpgsqlDataSource.Create(cs);
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var snapshot = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
        await using var flows = new NpgsqlCommand("SELECT coalesce(sum(bytes), 0)::bigint, count(*) FROM flows",
            connection, snapshot);
        var (bytes, count) = (0L, 0L);
        await using (var totals = await flows.ExecuteReaderAsync())
        {
            await totals.ReadAsync();
            (bytes, count) = (totals.GetInt64(0), totals.GetInt64(1));
        }

        foreach (var level in RollupLevel.All)
        {
            // Table names are the constants of RollupLevel.
            await using var command = new NpgsqlCommand(
                $"SELECT coalesce(sum(bytes), 0)::bigint, coalesce(sum(flows), 0)::bigint FROM {level.Table}",
                connection, snapshot);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            Assert.Equal((bytes, count), (reader.GetInt64(0), reader.GetInt64(1)));
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            if (output.Length > 200_000)
            {
                output.Remove(0, 100_000);
            }

            output.AppendLine(line);
        }
    }

    private static string Tail(StringBuilder output)
    {
        lock (output)
        {
            var text = output.ToString();
            return text.Length > 4_000 ? text[^4_000..] : text;
        }
    }
}
