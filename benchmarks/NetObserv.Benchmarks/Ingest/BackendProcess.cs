using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using NetObserv.Server.Commands;
using NetObserv.Storage.LocalPostgres;
using Npgsql;

namespace NetObserv.Benchmarks.Ingest;

/// <summary>
/// <c>netobserv-backend serve</c> as a child process for the macro benchmarks, and what they read of it:
/// readiness, the writer's row counter, CPU time, rows in the database.
/// </summary>
internal static class BackendProcess
{
    public static Process Start(string connectionString, int grpcPort, int httpPort, int ipfixPort = 0,
        IReadOnlyDictionary<string, string>? environment = null, IReadOnlyList<string>? arguments = null,
        Action<string>? onLine = null, int queryGrpcPort = 0)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "netobserv-backend.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                dll, "serve", "--database", connectionString, "--listen", "127.0.0.1",
                "--grpc-port", grpcPort.ToString(CultureInfo.InvariantCulture),
                "--http-port", httpPort.ToString(CultureInfo.InvariantCulture),
                "--query-grpc-port", queryGrpcPort.ToString(CultureInfo.InvariantCulture),
                "--ipfix-port", ipfixPort.ToString(CultureInfo.InvariantCulture), "--netflow-port", "0",
            },
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments ?? [])
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["NETOBSERV__Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start netobserv-backend");
        process.OutputDataReceived += (_, e) => Forward(e.Data, onLine);
        process.ErrorDataReceived += (_, e) => Forward(e.Data, onLine);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Forward(string? line, Action<string>? onLine)
    {
        if (line is not null)
        {
            onLine?.Invoke(line);
        }

        // The server's own warnings and errors only; its startup and per-batch information lines are noise here.
        if (!string.IsNullOrWhiteSpace(line) && !line.StartsWith("info:", StringComparison.Ordinal)
            && !line.StartsWith("      ", StringComparison.Ordinal))
        {
            Console.WriteLine("  server: " + line);
        }
    }

    public static async Task WaitReadyAsync(HttpClient http, Process server)
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

    public static Task<long> RowsWrittenAsync(HttpClient http) => MetricAsync(http, "netobserv_storage_rows_written_total");

    /// <summary>The first sample of <paramref name="name"/> at <c>/metrics</c>, 0 when absent.</summary>
    public static async Task<long> MetricAsync(HttpClient http, string name)
    {
        var text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name, StringComparison.Ordinal))
            {
                return (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    public static async Task<long> CountRowsAsync(string connectionString, string where = "true")
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM flows WHERE " + where, connection);
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
    public static double CpuSeconds(int pid)
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

    public static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Kills the server, stops the managed PostgreSQL (when one was started) and removes the work folder.</summary>
    public static async Task StopAsync(Process server, ManagedPostgres? postgres, string work)
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

    /// <summary>
    /// A work folder and the database to run against: <c>--database</c> when given, else a managed local
    /// PostgreSQL started in the work folder with a fresh database <paramref name="name"/>.
    /// </summary>
    public static async Task<(string Work, ManagedPostgres? Postgres, string ConnectionString)> DatabaseAsync(
        string[] args, string folderPrefix, string name)
    {
        // Not CreateTempSubdirectory: its 0700 folder would be closed to the account PostgreSQL runs as.
        var work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(),
            folderPrefix + Environment.ProcessId.ToString(CultureInfo.InvariantCulture))).FullName;
        if (LoadgenArguments.Get(args, "--database") is { } database)
        {
            return (work, null, database);
        }

        var postgres = await ManagedPostgres.StartAsync(Path.Combine(work, "pg"), CancellationToken.None);
        await postgres.CreateDatabaseAsync(name, CancellationToken.None);
        return (work, postgres, postgres.ConnectionString(name));
    }
}
