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
/// No connection is trusted: every one (TCP on 127.0.0.1, or the Unix socket inside the 0700 data folder)
/// needs the superuser's password (<c>scram-sha-256</c>), a random one kept only in
/// <see cref="PasswordFile"/> (a pgpass file, mode 0600, readable by the account that started the backend).
/// A data folder initialised by an older version with <c>trust</c> is switched over at its next start.
/// </summary>
public sealed class ManagedPostgres : IAsyncDisposable
{
    /// <summary>The superuser that <c>initdb</c> creates; it logs in with the password of <see cref="PasswordFile"/>.</summary>
    public const string SuperUser = "netobserv";

    private const string ServiceAccount = "postgres";

    private readonly PostgresBinaries _binaries;
    private readonly string _dataDir;
    private readonly string? _runAs;
    private readonly string _password;
    private bool _stopped;

    /// <summary>Worker process slots when TimescaleDB is preloaded: its scheduler and jobs take them (PostgreSQL's default is 8).</summary>
    public const int TimescaleDbWorkerProcesses = 32;

    private ManagedPostgres(PostgresBinaries binaries, string dataDir, string? runAs, string password, int port,
        bool startedHere, bool preloadsTimescaleDb)
    {
        _binaries = binaries;
        _dataDir = dataDir;
        _runAs = runAs;
        _password = password;
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

    /// <summary>
    /// The superuser's password as a pgpass file next to the data folder (<c>&lt;data folder&gt;.pgpass</c>,
    /// mode 0600): <c>PGPASSFILE=&lt;it&gt; psql -h 127.0.0.1 -p &lt;port&gt; -U netobserv netobserv</c>.
    /// </summary>
    public string PasswordFile => PasswordFileOf(_dataDir);

    /// <summary>Where the password of the server in <paramref name="dataDir"/> is kept.</summary>
    public static string PasswordFileOf(string dataDir) => Path.GetFullPath(dataDir).TrimEnd('/') + ".pgpass";

    /// <summary>A connection string for <paramref name="database"/> as the superuser.</summary>
    public string ConnectionString(string database = "postgres") =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = SuperUser,
            Password = _password,
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

        var password = ReadOrCreatePassword(dataDir);
        if (!File.Exists(Path.Combine(dataDir, "PG_VERSION")))
        {
            await InitAsync(binaries, dataDir, runAs, password, cancellationToken).ConfigureAwait(false);
        }

        var running = RunningPort(dataDir);
        if (running is { } existing && await AcceptsConnectionsAsync(existing, password, cancellationToken).ConfigureAwait(false))
        {
            return new ManagedPostgres(binaries, dataDir, runAs, password, existing, startedHere: false, preloadsTimescaleDb: false);
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

        var server = new ManagedPostgres(binaries, dataDir, runAs, password, port, startedHere: true, timescaleDb);
        await RemoveTrustAsync(dataDir, port, password, cancellationToken).ConfigureAwait(false);
        var deadline = Stopwatch.StartNew();
        while (!await AcceptsConnectionsAsync(port, password, cancellationToken).ConfigureAwait(false))
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

    /// <summary>An unpooled superuser connection to the <c>postgres</c> database on 127.0.0.1.</summary>
    private static string Superuser(int port, string? password, int timeoutSeconds) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = SuperUser,
            Password = password,
            Database = "postgres",
            Pooling = false,
            Timeout = timeoutSeconds,
        }.ConnectionString;

    private static async Task<bool> AcceptsConnectionsAsync(int port, string? password, CancellationToken cancellationToken)
    {
        var cs = Superuser(port, password, 3);
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

    /// <summary>
    /// The superuser's password from <see cref="PasswordFileOf"/>, or a new random one written there (0600,
    /// pgpass format: <c>*:*:*:netobserv:&lt;password&gt;</c>). Hex, so it is safe inside SQL and pgpass.
    /// </summary>
    private static string ReadOrCreatePassword(string dataDir)
    {
        var path = PasswordFileOf(dataDir);
        const string Prefix = "*:*:*:" + SuperUser + ":";
        if (File.Exists(path))
        {
            var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith(Prefix, StringComparison.Ordinal));
            if (line is not null && line.Length > Prefix.Length)
            {
                return line[Prefix.Length..];
            }
        }

        var password = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        WritePrivate(path, Prefix + password + "\n");
        return password;
    }

    private static void WritePrivate(string path, string text)
    {
        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = Private;
        }

        using (var writer = new StreamWriter(new FileStream(path, options)))
        {
            writer.Write(text);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, Private); // an existing file keeps its mode on create
        }
    }

    /// <summary><c>initdb</c> with password authentication everywhere; the password goes through a 0600 file removed at once.</summary>
    private static async Task InitAsync(PostgresBinaries binaries, string dataDir, string? runAs, string password,
        CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("netobserv-initdb-");
        var pwfile = Path.Combine(folder.FullName, "pw");
        try
        {
            WritePrivate(pwfile, password + "\n");
            if (runAs is not null)
            {
                await RunAsync("chown", ["-R", runAs + ":", folder.FullName], null, cancellationToken).ConfigureAwait(false);
            }

            var init = await RunAsync(binaries.InitDb,
                ["-D", dataDir, "-U", SuperUser, "--auth=scram-sha-256", "--pwfile=" + pwfile, "-E", "UTF8", "--locale=C.UTF-8"],
                runAs, cancellationToken).ConfigureAwait(false);
            if (init.ExitCode != 0)
            {
                throw new ManagedPostgresException($"initdb failed in {dataDir}:\n{init.Output}");
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>
    /// A data folder from an older version trusts local connections: give the superuser the password, then
    /// make <c>pg_hba.conf</c> ask for it on every connection and reload. Nothing to do when it does not trust.
    /// </summary>
    private static async Task RemoveTrustAsync(string dataDir, int port, string password, CancellationToken cancellationToken)
    {
        var hba = Path.Combine(dataDir, "pg_hba.conf");
        var lines = File.ReadAllLines(hba);
        if (!lines.Any(l => !l.TrimStart().StartsWith('#') && l.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .Contains("trust", StringComparer.Ordinal)))
        {
            return;
        }

        await using (var connection = new NpgsqlConnection(Superuser(port, null, 30)))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);

            // ALTER ROLE takes no parameters; the password is hexadecimal, so it needs no quoting.
            await using var alter = new NpgsqlCommand(
                "SET password_encryption = 'scram-sha-256'; ALTER ROLE " + SuperUser + " PASSWORD '" + password + "'", connection);
            await alter.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            File.WriteAllText(hba, """
                # Written by netobserv-backend: every connection needs the password (scram-sha-256); nothing is trusted.
                local   all             all                     scram-sha-256
                host    all             all     127.0.0.1/32    scram-sha-256
                host    all             all     ::1/128         scram-sha-256

                """);
            await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", connection);
            await reload.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        // The reload is a signal: wait until a connection without the password is refused.
        var deadline = Stopwatch.StartNew();
        while (await AcceptsConnectionsAsync(port, null, cancellationToken).ConfigureAwait(false))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new ManagedPostgresException($"PostgreSQL in {dataDir} still trusts connections after pg_hba.conf was rewritten");
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
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
