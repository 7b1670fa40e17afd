using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Hosting;

/// <summary>
/// <c>netobserv-backend serve</c> as a child process on 127.0.0.1 with its own data folder (so its own managed
/// PostgreSQL), HTTP and gRPC ingest on free ports, UDP off. Signals are real (<c>kill -KILL</c>, <c>-TERM</c>);
/// everything it prints is kept for failure messages.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerProcess(Process process, int httpPort, int grpcPort)
    {
        _process = process;
        HttpPort = httpPort;
        GrpcPort = grpcPort;
    }

    public int HttpPort { get; }

    public int GrpcPort { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What the process printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the server on <paramref name="dataDir"/> and waits until <c>/ready</c> answers 200.</summary>
    public static async Task<ServerProcess> StartAsync(string dataDir, params string[] extra)
    {
        var httpPort = FreePort();
        var grpcPort = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])[
            Path.Combine(AppContext.BaseDirectory, "netobserv-backend.dll"), "serve",
            "--data-dir", dataDir, "--listen", "127.0.0.1", "--timescaledb", "off",
            "--http-port", Invariant(httpPort), "--grpc-port", Invariant(grpcPort), "--query-grpc-port", Invariant(FreePort()),
            "--ipfix-port", "0", "--netflow-port", "0", .. extra])
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("NETOBSERV", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        var process = new Process { StartInfo = start };
        var server = new ServerProcess(process, httpPort, grpcPort);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            await Timeouts.WaitUntilAsync(async () =>
            {
                Assert.False(process.HasExited, "the server exited while starting:\n" + server.Output);
                try
                {
                    using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{httpPort}/ready"));
                    return response.StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(120), "the server to be ready");
        }
        catch (TimeoutException)
        {
            server.Signal("KILL");
            throw new TimeoutException("the server was not ready within 120 s:\n" + server.Output);
        }

        return server;
    }

    /// <summary>Sends <c>SIG<paramref name="signal"/></c> to the server.</summary>
    public void Signal(string signal) => SignalProcess(_process.Id, signal);

    /// <summary>Sends <c>SIG<paramref name="signal"/></c> to any process.</summary>
    public static void SignalProcess(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, Invariant(pid)]);
        kill.WaitForExit();
    }

    /// <summary>Waits for the process to exit.</summary>
    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the server did not exit within {timeout.TotalSeconds} s:\n{Output}");
        }
    }

    /// <summary>
    /// The PostgreSQL processes of the cluster in <paramref name="pgDirectory"/>: its postmaster (started with
    /// <c>-D &lt;folder&gt;</c>) and the postmaster's children.
    /// </summary>
    public static List<int> PostgresProcesses(string pgDirectory)
    {
        var postmasters = new List<int>();
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var argv = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                var comm = File.ReadAllText(Path.Combine(dir, "comm")).Trim();
                var ppid = File.ReadLines(Path.Combine(dir, "status")).First(l => l.StartsWith("PPid:", StringComparison.Ordinal));
                parents[pid] = int.Parse(ppid["PPid:".Length..].Trim(), CultureInfo.InvariantCulture);
                var at = Array.IndexOf(argv, "-D");
                if (comm == "postgres" && at >= 0 && at + 1 < argv.Length
                    && Path.GetFullPath(argv[at + 1]).TrimEnd('/') == Path.GetFullPath(pgDirectory).TrimEnd('/'))
                {
                    postmasters.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        var all = new List<int>(postmasters);
        all.AddRange(parents.Where(p => postmasters.Contains(p.Value)).Select(p => p.Key));
        return all;
    }

    /// <summary>The superuser connection string to the <c>netobserv</c> database of the managed server in <paramref name="dataDir"/>.</summary>
    public static string DatabaseConnectionString(string dataDir)
    {
        var pg = Path.Combine(dataDir, "pg");
        var pidFile = File.ReadAllLines(Path.Combine(pg, "postmaster.pid"));
        var password = File.ReadAllText(pg + ".pgpass").Trim().Split(':')[^1];
        return new Npgsql.NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = int.Parse(pidFile[3], CultureInfo.InvariantCulture),
            Username = "netobserv",
            Password = password,
            Database = "netobserv",
            Pooling = false,
            Timeout = 5,
        }.ConnectionString;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(30_000);
        }

        _process.Dispose();
    }
}
