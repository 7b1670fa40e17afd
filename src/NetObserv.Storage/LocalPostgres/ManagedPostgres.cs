using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace NetObserv.Storage.LocalPostgres;

/// <summary>
/// The embedded default: a PostgreSQL server that the backend (or the test suite) runs itself from
/// the server binaries on the machine. <c>initdb</c> into a data folder kept between runs, start on a
/// free loopback port with its socket in that folder, wait until it accepts connections, stop on
/// dispose. PostgreSQL refuses to run as root, so a root process runs it as the <c>postgres</c>
/// account (created by Debian's package) and gives it the data folder. When TimescaleDB is installed
/// for these binaries the server preloads it (<c>shared_preload_libraries</c>, telemetry off, 32
/// background worker slots for its jobs), so that <c>Storage:TimescaleDb</c> <c>auto</c> can use it.
/// </summary>
public sealed class ManagedPostgres : IAsyncDisposable
{
    /// <summary>The superuser that <c>initdb</c> creates; local connections are trusted.</summary>
    public const string SuperUser = "netobserv";

    private const string ServiceAccount = "postgres";

    private readonly PostgresBinaries _binaries;
    private readonly string _dataDir;
    private readonly string? _runAs;
    private bool _stopped;

    /// <summary>Worker process slots when TimescaleDB is preloaded: its scheduler and jobs take them (PostgreSQL's default is 8).</summary>
    public const int TimescaleDbWorkerProcesses = 32;

    private ManagedPostgres(PostgresBinaries binaries, string dataDir, string? runAs, int port, bool startedHere,
        bool preloadsTimescaleDb)
    {
        _binaries = binaries;
        _dataDir = dataDir;
        _runAs = runAs;
        Port = port;
        StartedHere = startedHere;
        PreloadsTimescaleDb = preloadsTimescaleDb;
    }

    /// <summary>True when this instance started the server with TimescaleDB in <c>shared_preload_libraries</c>.</summary>
    public bool PreloadsTimescaleDb { get; }

    /// <summary>The TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>False when a server from an earlier run was already running on this data folder.</summary>
    public bool StartedHere { get; }

    /// <summary>The data folder.</summary>
    public string DataDirectory => _dataDir;

    /// <summary>A connection string for <paramref name="database"/> as the superuser.</summary>
    public string ConnectionString(string database = "postgres") =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = SuperUser,
            Database = database,
            Pooling = true,
            MaxPoolSize = 50,
        }.ConnectionString;

    /// <summary>
    /// Initialises <paramref name="dataDir"/> if it holds no cluster yet, then starts the server, or
    /// attaches to the one already running there. Throws <see cref="ManagedPostgresException"/> with
    /// what to do when the binaries are missing or the server does not start.
    /// </summary>
    public static Task<ManagedPostgres> StartAsync(string dataDir, CancellationToken cancellationToken) =>
        StartAsync(dataDir, preloadTimescaleDb: true, cancellationToken);

    /// <summary>
    /// As <see cref="StartAsync(string, CancellationToken)"/>; <paramref name="preloadTimescaleDb"/> false
    /// starts the server without preloading TimescaleDB even when it is installed.
    /// </summary>
    public static async Task<ManagedPostgres> StartAsync(string dataDir, bool preloadTimescaleDb,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDir);
        var binaries = PostgresBinaries.Find();
        dataDir = Path.GetFullPath(dataDir);
        var runAs = Environment.UserName == "root" || IsRoot() ? ServiceAccount : null;
        Directory.CreateDirectory(dataDir);

        if (runAs is not null)
        {
            await RunAsync("chown", ["-R", runAs + ":", dataDir], null, cancellationToken).ConfigureAwait(false);
            await CheckAccessAsync(runAs, dataDir, cancellationToken).ConfigureAwait(false);
        }

        if (!File.Exists(Path.Combine(dataDir, "PG_VERSION")))
        {
            var init = await RunAsync(binaries.InitDb,
                ["-D", dataDir, "-U", SuperUser, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
                runAs, cancellationToken).ConfigureAwait(false);
            if (init.ExitCode != 0)
            {
                throw new ManagedPostgresException($"initdb failed in {dataDir}:\n{init.Output}");
            }
        }

        var running = RunningPort(dataDir);
        if (running is { } existing && await AcceptsConnectionsAsync(existing, cancellationToken).ConfigureAwait(false))
        {
            return new ManagedPostgres(binaries, dataDir, runAs, existing, startedHere: false, preloadsTimescaleDb: false);
        }

        var port = FreePort();
        var socketDir = dataDir.Length < 80 ? dataDir : Path.GetTempPath();
        var options = string.Create(CultureInfo.InvariantCulture,
            $"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{socketDir}' -c fsync=on");
        var timescaleDb = preloadTimescaleDb && binaries.HasTimescaleDb();
        if (timescaleDb)
        {
            options += string.Create(CultureInfo.InvariantCulture,
                $" -c shared_preload_libraries=timescaledb -c timescaledb.telemetry_level=off -c max_worker_processes={TimescaleDbWorkerProcesses}");
        }

        var start = await RunAsync(binaries.PgCtl,
            ["start", "-w", "-t", "60", "-D", dataDir, "-l", Path.Combine(dataDir, "postgres.log"), "-o", options],
            runAs, cancellationToken).ConfigureAwait(false);
        if (start.ExitCode != 0)
        {
            var log = ReadTail(Path.Combine(dataDir, "postgres.log"));
            throw new ManagedPostgresException($"PostgreSQL did not start in {dataDir}:\n{start.Output}\n{log}");
        }

        var server = new ManagedPostgres(binaries, dataDir, runAs, port, startedHere: true, timescaleDb);
        var deadline = Stopwatch.StartNew();
        while (!await AcceptsConnectionsAsync(port, cancellationToken).ConfigureAwait(false))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                await server.DisposeAsync().ConfigureAwait(false);
                throw new ManagedPostgresException($"PostgreSQL in {dataDir} did not accept connections within 60 s");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        return server;
    }

    /// <summary>Creates a database if it does not exist.</summary>
    public async Task CreateDatabaseAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection);
        exists.Parameters.Add(new NpgsqlParameter { Value = name });
        if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
        {
            // CREATE DATABASE takes no parameters: quote the identifier.
            var quoted = "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
            await using var create = new NpgsqlCommand("CREATE DATABASE " + quoted, connection);
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the server if this instance started it (fast shutdown: open sessions end).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopped || !StartedHere)
        {
            return;
        }

        _stopped = true;
        NpgsqlConnection.ClearAllPools();
        await RunAsync(_binaries.PgCtl, ["stop", "-m", "fast", "-w", "-D", _dataDir], _runAs, CancellationToken.None)
            .ConfigureAwait(false);
    }

    /// <summary>Stops the server synchronously (for process-exit handlers).</summary>
    public void Stop()
    {
        if (_stopped || !StartedHere)
        {
            return;
        }

        _stopped = true;
        var psi = StartInfo(_binaries.PgCtl, ["stop", "-m", "immediate", "-w", "-D", _dataDir], _runAs);
        using var process = Process.Start(psi);
        process?.WaitForExit(30_000);
    }

    private static bool IsRoot()
    {
        try
        {
            return File.ReadAllLines("/proc/self/status")
                .Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t')[1] == "0");
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static async Task CheckAccessAsync(string runAs, string dataDir, CancellationToken cancellationToken)
    {
        var probe = await RunAsync("test", ["-w", dataDir, "-a", "-x", dataDir], runAs, cancellationToken)
            .ConfigureAwait(false);
        if (probe.ExitCode != 0)
        {
            throw new ManagedPostgresException(
                $"The data folder {dataDir} is not reachable by the '{runAs}' account that runs PostgreSQL "
                + "for a root process (a parent folder is closed to it). Choose a data folder it can reach, "
                + "for example --data-dir /var/tmp/netobserv.");
        }
    }

    private static int? RunningPort(string dataDir)
    {
        var pidFile = Path.Combine(dataDir, "postmaster.pid");
        try
        {
            var lines = File.ReadAllLines(pidFile);
            if (lines.Length > 3 && int.TryParse(lines[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var port))
            {
                return port;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }

    private static async Task<bool> AcceptsConnectionsAsync(int port, CancellationToken cancellationToken)
    {
        var cs = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = SuperUser,
            Database = "postgres",
            Pooling = false,
            Timeout = 3,
        }.ConnectionString;
        try
        {
            await using var connection = new NpgsqlConnection(cs);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (NpgsqlException)
        {
            return false;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string ReadTail(string path)
    {
        try
        {
            var lines = File.ReadAllLines(path);
            return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 20)));
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static ProcessStartInfo StartInfo(string file, IReadOnlyList<string> args, string? runAs)
    {
        var psi = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (runAs is null)
        {
            psi.FileName = file;
        }
        else
        {
            psi.FileName = "runuser";
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add(runAs);
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(file);
        }

        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        return psi;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(
        string file, IReadOnlyList<string> args, string? runAs, CancellationToken cancellationToken)
    {
        var psi = StartInfo(file, args, runAs);
        using var process = Process.Start(psi)
            ?? throw new ManagedPostgresException($"could not start {file}");

        // pg_ctl start leaves the server holding inherited pipes open; read until the tool exits only.
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        var output = await Task.WhenAny(Task.WhenAll(stdout, stderr), Task.Delay(2000, cancellationToken))
            .ConfigureAwait(false) is Task<string[]> all
            ? string.Join('\n', await all.ConfigureAwait(false))
            : "";
        return (process.ExitCode, output);
    }
}
