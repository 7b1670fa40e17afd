using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
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
/// The server it starts is recorded in <c>netobserv.owner</c> (see <see cref="ManagedPostgresOwner"/>): a server
/// that an earlier run of ours left behind when it crashed is stopped at the next start, not silently shared,
/// so no server outlives the process that owns it for longer than until that next start.
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
    private readonly string _serverOptions;
    private int _stopped;

    /// <summary>Worker process slots when TimescaleDB is preloaded: its scheduler and jobs take them (PostgreSQL's default is 8).</summary>
    public const int TimescaleDbWorkerProcesses = 32;

    private ManagedPostgres(PostgresBinaries binaries, string dataDir, string? runAs, string password, int port,
        bool startedHere, bool preloadsTimescaleDb, string serverOptions)
    {
        _binaries = binaries;
        _dataDir = dataDir;
        _runAs = runAs;
        _password = password;
        _serverOptions = serverOptions;
        Port = port;
        StartedHere = startedHere;
        PreloadsTimescaleDb = preloadsTimescaleDb;
    }

    /// <summary>The postmaster's PID as its <c>postmaster.pid</c> said after the last (re)start; 0 when unknown.</summary>
    public int PostmasterPid { get; private set; }

    private long? _postmasterStartTime;

    /// <summary>True while the postmaster this instance started (or restarted) still runs.</summary>
    public bool IsRunning => PostmasterPid > 0 && ManagedPostgresOwner.StartTimeOf(PostmasterPid) == _postmasterStartTime;

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
        StartAsync(dataDir, preloadTimescaleDb: true, null, cancellationToken);

    /// <summary>
    /// As <see cref="StartAsync(string, CancellationToken)"/>; <paramref name="preloadTimescaleDb"/> false
    /// starts the server without preloading TimescaleDB even when it is installed.
    /// </summary>
    public static Task<ManagedPostgres> StartAsync(string dataDir, bool preloadTimescaleDb,
        CancellationToken cancellationToken) =>
        StartAsync(dataDir, preloadTimescaleDb, null, cancellationToken);

    /// <summary>
    /// As <see cref="StartAsync(string, bool, CancellationToken)"/>, saying on <paramref name="logger"/> when a
    /// server left behind by an earlier run of ours is stopped first.
    /// </summary>
    public static async Task<ManagedPostgres> StartAsync(string dataDir, bool preloadTimescaleDb, ILogger? logger,
        CancellationToken cancellationToken)
    {
        logger ??= NullLogger.Instance;
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
        if (running is { } existing)
        {
            var owner = ManagedPostgresOwner.Read(dataDir);
            if (owner is null || owner.OwnerIsAlive)
            {
                // Started by someone else (or by a live process of ours): share it, never stop it.
                if (await AcceptsConnectionsAsync(existing, password, cancellationToken).ConfigureAwait(false))
                {
                    return new ManagedPostgres(binaries, dataDir, runAs, password, existing, startedHere: false,
                        preloadsTimescaleDb: false, serverOptions: "");
                }
            }
            else
            {
                // Ours, left behind when its owner died: stop it and start one that is this process's.
                LocalPostgresLog.LeftoverFound(logger, dataDir, owner.OwnerPid, owner.PostgresPid, owner.Port);
                await StopLeftoverAsync(binaries, dataDir, runAs, owner, cancellationToken).ConfigureAwait(false);
            }
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

        var server = new ManagedPostgres(binaries, dataDir, runAs, password, port, startedHere: true, timescaleDb, options);
        var (started, output) = await server.StartServerAsync(cancellationToken).ConfigureAwait(false);
        if (!started)
        {
            throw new ManagedPostgresException($"PostgreSQL did not start in {dataDir}:\n{output}");
        }
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

    /// <summary>
    /// Starts the server again on the same port with the same settings, after it died (the supervisor's restart).
    /// Returns false, with pg_ctl's output and the log's tail, when it did not start.
    /// </summary>
    internal async Task<(bool Started, string Output)> StartServerAsync(CancellationToken cancellationToken)
    {
        var start = await RunAsync(_binaries.PgCtl,
            ["start", "-w", "-t", "60", "-D", _dataDir, "-l", Path.Combine(_dataDir, "postgres.log"), "-o", _serverOptions],
            _runAs, cancellationToken).ConfigureAwait(false);
        if (start.ExitCode != 0)
        {
            return (false, start.Output + "\n" + ReadTail(Path.Combine(_dataDir, "postgres.log")));
        }

        PostmasterPid = PostmasterPidOf(_dataDir) ?? 0;
        _postmasterStartTime = ManagedPostgresOwner.StartTimeOf(PostmasterPid);
        ManagedPostgresOwner.ForThisProcess(PostmasterPid, Port, _dataDir).Write();
        return (true, start.Output);
    }

    /// <summary>True once <see cref="DisposeAsync"/> or <see cref="Stop"/> has begun stopping the server.</summary>
    internal bool Stopping => Volatile.Read(ref _stopped) != 0;

    /// <summary>Stops the server if this instance started it (fast shutdown: open sessions end).</summary>
    public async ValueTask DisposeAsync()
    {
        if (!StartedHere || Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        var stop = await RunAsync(_binaries.PgCtl, ["stop", "-m", "fast", "-w", "-D", _dataDir], _runAs, CancellationToken.None)
            .ConfigureAwait(false);
        if (stop.ExitCode != 0 && IsRunning)
        {
            await RunAsync(_binaries.PgCtl, ["stop", "-m", "immediate", "-w", "-D", _dataDir], _runAs, CancellationToken.None)
                .ConfigureAwait(false);
        }

        ManagedPostgresOwner.Delete(_dataDir);
    }

    /// <summary>Stops the server synchronously (for process-exit handlers).</summary>
    public void Stop()
    {
        if (!StartedHere || Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        var psi = StartInfo(_binaries.PgCtl, ["stop", "-m", "immediate", "-w", "-D", _dataDir], _runAs);
        using var process = Process.Start(psi);
        process?.WaitForExit(30_000);
        ManagedPostgresOwner.Delete(_dataDir);
    }

    /// <summary>
    /// Stops a server that an earlier run of ours left running: fast shutdown, then immediate, then SIGKILL of
    /// the recorded postmaster if it still runs. The record goes with it.
    /// </summary>
    private static async Task StopLeftoverAsync(PostgresBinaries binaries, string dataDir, string? runAs,
        ManagedPostgresOwner owner, CancellationToken cancellationToken)
    {
        var fast = await RunAsync(binaries.PgCtl, ["stop", "-m", "fast", "-w", "-t", "30", "-D", dataDir], runAs,
            cancellationToken).ConfigureAwait(false);
        if (fast.ExitCode != 0)
        {
            await RunAsync(binaries.PgCtl, ["stop", "-m", "immediate", "-w", "-t", "30", "-D", dataDir], runAs,
                cancellationToken).ConfigureAwait(false);
        }

        var pid = PostmasterPidOf(dataDir) ?? owner.PostgresPid;
        if (ManagedPostgresOwner.StartTimeOf(pid) is not null && IsPostgres(pid))
        {
            using (var process = Process.GetProcessById(pid))
            {
                process.Kill();
            }

            // Not our child: wait until it is gone (a zombie counts as gone).
            var deadline = Stopwatch.StartNew();
            while (ManagedPostgresOwner.StartTimeOf(pid) is not null && deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }

        ManagedPostgresOwner.Delete(dataDir);
    }

    /// <summary>True when process <paramref name="pid"/> runs a PostgreSQL server (its name is postgres or postmaster).</summary>
    private static bool IsPostgres(int pid)
    {
        try
        {
            var name = File.ReadAllText("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/comm").Trim();
            return name is "postgres" or "postmaster";
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The PID on the first line of the data folder's <c>postmaster.pid</c>, null when there is none.</summary>
    private static int? PostmasterPidOf(string dataDir)
    {
        try
        {
            var first = File.ReadLines(Path.Combine(dataDir, "postmaster.pid")).FirstOrDefault();
            return int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
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
