using NetObserv.Storage.LocalPostgres;
using Npgsql;

namespace NetObserv.Testing;

/// <summary>
/// One PostgreSQL server per test run: the one <c>NETOBSERV_TEST_PG</c> names (a connection string
/// to a superuser), else a managed local server in a temporary folder, started on first use and
/// stopped when the test process exits. The managed server preloads TimescaleDB when it is installed but
/// runs none of its background jobs.
/// </summary>
public static class PostgresServer
{
    private static readonly Lazy<Task<string>> s_adminConnectionString = new(StartAsync);
    private static ManagedPostgres? s_managed;

    /// <summary>A superuser connection string to the server's <c>postgres</c> database.</summary>
    public static Task<string> AdminConnectionStringAsync() => s_adminConnectionString.Value;

    /// <summary>Creates a fresh, empty database and returns a connection string to it.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix)
    {
        var admin = await AdminConnectionStringAsync().ConfigureAwait(false);
        var name = (prefix + "_" + Guid.NewGuid().ToString("N")[..12]).ToLowerInvariant();
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync().ConfigureAwait(false);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        return new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, closing its sessions.</summary>
    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        var admin = await AdminConnectionStringAsync().ConfigureAwait(false);
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes the data folders of earlier test runs whose process is gone and whose server is not
    /// running (a test host that was killed cannot clean up after itself).
    /// </summary>
    private static void RemoveStaleServers()
    {
        foreach (var dir in Directory.GetDirectories(Path.GetTempPath(), "netobserv-test-pg-*"))
        {
            var suffix = Path.GetFileName(dir)["netobserv-test-pg-".Length..];
            if (!int.TryParse(suffix, System.Globalization.CultureInfo.InvariantCulture, out var pid)
                || IsAlive(pid) || IsAlive(PostmasterPid(dir)))
            {
                continue;
            }

            try
            {
                Directory.Delete(dir, recursive: true);
                File.Delete(ManagedPostgres.PasswordFileOf(dir));
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private static int PostmasterPid(string dir)
    {
        try
        {
            var first = File.ReadLines(Path.Combine(dir, "postmaster.pid")).FirstOrDefault();
            return int.TryParse(first, System.Globalization.CultureInfo.InvariantCulture, out var pid) ? pid : 0;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static bool IsAlive(int pid) => pid > 0 && Directory.Exists("/proc/" + pid);

    private static async Task<string> StartAsync()
    {
        if (Environment.GetEnvironmentVariable("NETOBSERV_TEST_PG") is { Length: > 0 } configured)
        {
            return configured;
        }

        RemoveStaleServers();
        var dir = Path.Combine(Path.GetTempPath(), "netobserv-test-pg-" + Environment.ProcessId);
        s_managed = await ManagedPostgres.StartAsync(dir, CancellationToken.None).ConfigureAwait(false);
        if (s_managed.PreloadsTimescaleDb)
        {
            // TimescaleDB's compression and retention jobs go by the wall clock, and the tests write flows dated in
            // the past: a job starting while a test writes or reads would compress or drop its rows. The test
            // server runs no TimescaleDB jobs (the policies are still created, and checked); the setting takes
            // effect at a restart.
            await using (var connection = new NpgsqlConnection(s_managed.ConnectionString()))
            {
                await connection.OpenAsync().ConfigureAwait(false);
                await using var noJobs = new NpgsqlCommand(
                    "ALTER SYSTEM SET timescaledb.max_background_workers = 0", connection);
                await noJobs.ExecuteNonQueryAsync().ConfigureAwait(false);
            }

            await s_managed.DisposeAsync().ConfigureAwait(false);
            s_managed = await ManagedPostgres.StartAsync(dir, CancellationToken.None).ConfigureAwait(false);
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            s_managed.Stop();
            try
            {
                Directory.Delete(dir, recursive: true);
                File.Delete(ManagedPostgres.PasswordFileOf(dir));
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        };
        return s_managed.ConnectionString();
    }
}
