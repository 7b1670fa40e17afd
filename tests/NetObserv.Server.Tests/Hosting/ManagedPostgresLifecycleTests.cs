using System.Globalization;
using Grpc.Core;
using NetObserv.Flows.Pbflow;
using NetObserv.Server.Tests.Demo;
using NetObserv.Server.Tests.Ingest;
using NetObserv.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace NetObserv.Server.Tests.Hosting;

/// <summary>
/// The managed PostgreSQL's lifecycle with the real server as a child process: after a SIGKILL of the server the
/// next start stops the server it left behind, SIGTERM then leaves no PostgreSQL process; a SIGKILL of the
/// managed PostgreSQL under gRPC load is healed (restarted by the supervisor) and every acknowledged record is stored.
/// </summary>
[Collection(DemoTestGroup.Name)] // child servers and their PostgreSQL: one at a time beside the demo's
public sealed class ManagedPostgresLifecycleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ServerKilled_NextStartStopsLeftoverAndSigtermLeavesNoPostgres()
    {
        var dataDir = NewDataDirectory();
        var pg = Path.Combine(dataDir, "pg");
        try
        {
            int leftover;
            using (var first = await ServerProcess.StartAsync(dataDir))
            {
                leftover = Assert.Single(Postmasters(pg));
                Assert.DoesNotContain("warn:", first.Output, StringComparison.Ordinal); // a normal start warns of nothing
                first.Signal("KILL");
                await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
            }

            // Our process is gone; its server is not (nothing can stop it at a SIGKILL).
            Assert.True(IsAlive(leftover), "the managed PostgreSQL stopped with the killed server");

            using var second = await ServerProcess.StartAsync(dataDir);
            Assert.False(IsAlive(leftover), "the leftover PostgreSQL still runs after the next start:\n" + second.Output);
            var postmaster = Assert.Single(Postmasters(pg));
            Assert.NotEqual(leftover, postmaster);
            Assert.Contains("was left running by process", second.Output, StringComparison.Ordinal);
            var owner = await File.ReadAllTextAsync(Path.Combine(pg, "netobserv.owner"));
            Assert.Contains($"\"OwnerPid\": {second.Pid}", owner, StringComparison.Ordinal);
            Assert.Contains($"\"PostgresPid\": {postmaster}", owner, StringComparison.Ordinal);

            second.Signal("TERM");
            await second.WaitForExitAsync(TimeSpan.FromSeconds(60));
            await Timeouts.WaitUntilAsync(() => Task.FromResult(ServerProcess.PostgresProcesses(pg).Count == 0),
                TimeSpan.FromSeconds(30), "no PostgreSQL process left for " + pg);
            Assert.False(File.Exists(Path.Combine(pg, "netobserv.owner")), "the owner record outlived the server");
        }
        finally
        {
            Cleanup(dataDir);
        }
    }

    [Fact]
    public async Task PostgresKilledUnderLoad_RestartedAndEveryAcknowledgedRecordStored()
    {
        var dataDir = NewDataDirectory();
        var pg = Path.Combine(dataDir, "pg");
        try
        {
            using var server = await ServerProcess.StartAsync(dataDir);
            var postmaster = Assert.Single(Postmasters(pg));
            using var channel = GrpcIngestClient.Channel(server.GrpcPort);
            var client = new Collector.CollectorClient(channel);

            using var stop = new CancellationTokenSource();
            var acked = 0L;
            var refused = 0L;
            var load = Task.Run(async () =>
            {
                var seq = 0u;
                var endMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 10_000;
                while (!stop.IsCancellationRequested)
                {
                    var records = new Records();
                    for (var i = 0; i < 200; i++)
                    {
                        // Bytes tell the records apart; the port stays a port.
                        var record = GrpcIngestClient.FullRecord(ipv6: false, seq, endMs);
                        record.Transport.SrcPort = 40000 + (seq % 20000);
                        record.Bytes = 1_000_000 + (ulong)seq++;
                        records.Entries.Add(record);
                    }

                    try
                    {
                        await client.SendAsync(records, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync;
                        acked += records.Entries.Count;
                    }
                    catch (RpcException)
                    {
                        refused += records.Entries.Count; // not acknowledged: the client knows it was not taken
                    }

                    await Task.Delay(10);
                }
            });

            await Task.Delay(TimeSpan.FromSeconds(3));
            ServerProcess.SignalProcess(postmaster, "KILL");
            await Timeouts.WaitUntilAsync(() => Task.FromResult(Postmasters(pg) is [var again] && again != postmaster),
                TimeSpan.FromSeconds(60), "the managed PostgreSQL to be restarted");
            await Task.Delay(TimeSpan.FromSeconds(3)); // load goes on against the restarted server
            await stop.CancelAsync();
            await load.DefaultTimeout();

            var cs = ServerProcess.DatabaseConnectionString(dataDir);
            long stored = 0, distinct = 0;
            try
            {
                await Timeouts.WaitUntilAsync(async () =>
                {
                    (stored, distinct) = await CountAsync(cs);
                    return distinct >= acked;
                }, TimeSpan.FromSeconds(90), "every acknowledged record in flows");
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"{e.Message}: acknowledged {acked}, stored {distinct} distinct ({stored} rows)\n"
                    + server.Output, e);
            }

            output.WriteLine($"acknowledged {acked}, refused {refused}, stored {stored} rows ({distinct} distinct)");
            Assert.True(acked > 0);
            Assert.Contains("restarted on 127.0.0.1", server.Output, StringComparison.Ordinal);

            server.Signal("TERM");
            await server.WaitForExitAsync(TimeSpan.FromSeconds(60));
            await Timeouts.WaitUntilAsync(() => Task.FromResult(ServerProcess.PostgresProcesses(pg).Count == 0),
                TimeSpan.FromSeconds(30), "no PostgreSQL process left for " + pg);
        }
        finally
        {
            Cleanup(dataDir);
        }
    }

    private static async Task<(long Rows, long Distinct)> CountAsync(string connectionString)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT count(*), count(DISTINCT bytes) FROM flows", connection);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            return (reader.GetInt64(0), reader.GetInt64(1));
        }
        catch (NpgsqlException)
        {
            return (0, 0);
        }
    }

    private static List<int> Postmasters(string pg) =>
        ServerProcess.PostgresProcesses(pg).Where(pid => ParentOf(pid) is not { } parent
            || !ServerProcess.PostgresProcesses(pg).Contains(parent)).ToList();

    private static int? ParentOf(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("PPid:", StringComparison.Ordinal));
            return int.Parse(line["PPid:".Length..].Trim(), CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    // Under /tmp: when the tests run as root, PostgreSQL runs as the postgres account and must reach it.
    private static string NewDataDirectory()
    {
        var dir = Path.Combine("/tmp", "netobserv-lifecycle-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Kills whatever PostgreSQL a failed test left in the folder, then removes it.</summary>
    private static void Cleanup(string dataDir)
    {
        foreach (var pid in ServerProcess.PostgresProcesses(Path.Combine(dataDir, "pg")))
        {
            ServerProcess.SignalProcess(pid, "KILL");
        }

        try
        {
            Directory.Delete(dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
