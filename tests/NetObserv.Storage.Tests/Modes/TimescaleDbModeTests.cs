using NetObserv.Storage.LocalPostgres;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Storage.Tests.Modes;

/// <summary>
/// <c>Storage:TimescaleDb</c> against real servers with TimescaleDB installed: one that does not
/// preload it (auto falls back to native partitions and says why; on fails with PostgreSQL's reason)
/// and the managed server, which preloads it (auto writes into a hypertable).
/// </summary>
public sealed class TimescaleDbModeTests(PlainPostgres plain) : IClassFixture<PlainPostgres>
{
    private const int Count = 2_000;

    [Fact]
    public async Task Auto_InstalledButNotPreloaded_NativePartitionsFlowsWrittenAndReasonLogged()
    {
        var cs = await plain.CreateDatabaseAsync();
        Assert.Equal(1L, await PlainPostgres.ScalarAsync<long>(cs,
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'"));
        Assert.DoesNotContain("timescaledb", await PlainPostgres.ScalarAsync<string>(cs, "SHOW shared_preload_libraries"),
            StringComparison.Ordinal);

        var logs = new LogCapture();
        await using var host = await StorageHost.CreateAsync(cs, timescaleDb: "auto", logs: logs,
            flushInterval: TimeSpan.FromMilliseconds(200));
        Assert.Equal(StorageMode.Native, host.Database.Mode);
        var reason = Assert.Single(logs.Messages("TimescaleDbNotUsed"));
        Assert.Contains("does not preload it", reason, StringComparison.Ordinal);

        await WriteAsync(host);
        Assert.Equal((long)Count, await PlainPostgres.ScalarAsync<long>(cs, "SELECT count(*) FROM flows"));
        Assert.Equal("Native", await PlainPostgres.ScalarAsync<string>(cs, "SELECT DISTINCT mode FROM schema_migrations"));
        Assert.Equal("p", await PlainPostgres.ScalarAsync<string>(cs,
            "SELECT relkind::text FROM pg_class WHERE relname = 'flow_rows'"));
    }

    [Fact]
    public async Task On_InstalledButNotPreloaded_FailsWithPostgresReason()
    {
        var cs = await plain.CreateDatabaseAsync();
        var options = new StorageOptions { ConnectionString = cs, TimescaleDb = "on" };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => FlowDatabase.OpenAsync(options, null, CancellationToken.None).DefaultTimeout());

        Assert.Contains("Storage:TimescaleDb is 'on'", error.Message, StringComparison.Ordinal);
        var postgres = Assert.IsType<PostgresException>(error.InnerException);
        Assert.Contains(postgres.MessageText, error.Message, StringComparison.Ordinal);
        Assert.Contains("preload", postgres.MessageText + " " + postgres.Hint, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0L, await PlainPostgres.ScalarAsync<long>(cs,
            "SELECT count(*) FROM pg_class WHERE relname IN ('flows', 'schema_migrations')"));
    }

    [Fact]
    public async Task MigrateAsync_CreateExtensionEndsSession_ReportsPostgresErrorNotClosedConnection()
    {
        // The TimescaleDB migration's CREATE EXTENSION on a server that does not preload it: PostgreSQL
        // ends the session (FATAL); the cleanup after it must not replace that error with its own.
        var cs = await plain.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(cs);

        var error = await Record.ExceptionAsync(() => new Storage.Migrations.MigrationRunner(dataSource)
            .MigrateAsync(StorageMode.TimescaleDb, CancellationToken.None).DefaultTimeout());

        var postgres = Assert.IsType<PostgresException>(error);
        Assert.Contains("preload", postgres.MessageText + " " + postgres.Hint, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Connection is not open", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auto_ManagedServerWithTimescaleDbInstalled_PreloadsItAndWritesIntoHypertable()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "netobserv-test-managed-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            string cs;
            await using (var opened = await FlowDatabase.OpenAsync(
                new StorageOptions { DataDirectory = dataDirectory }, null, CancellationToken.None).DefaultTimeout())
            {
                Assert.Equal(StorageMode.TimescaleDb, opened.Mode);
                Assert.True(opened.Managed!.PreloadsTimescaleDb);
                cs = opened.ConnectionString;
                Assert.Contains("timescaledb", await PlainPostgres.ScalarAsync<string>(cs, "SHOW shared_preload_libraries"),
                    StringComparison.Ordinal);
                Assert.True(int.Parse(await PlainPostgres.ScalarAsync<string>(cs, "SHOW max_worker_processes"),
                    System.Globalization.CultureInfo.InvariantCulture) >= ManagedPostgres.TimescaleDbWorkerProcesses);

                await using var host = await StorageHost.CreateAsync(cs, timescaleDb: "auto",
                    flushInterval: TimeSpan.FromMilliseconds(200));
                Assert.Equal(StorageMode.TimescaleDb, host.Database.Mode);
                await WriteAsync(host);

                Assert.Equal((long)Count, await PlainPostgres.ScalarAsync<long>(cs, "SELECT count(*) FROM flows"));
                Assert.Equal(1L, await PlainPostgres.ScalarAsync<long>(cs,
                    "SELECT count(*) FROM timescaledb_information.hypertables WHERE hypertable_name = 'flow_rows'"));
                Assert.True(await PlainPostgres.ScalarAsync<long>(cs,
                    "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'flow_rows'") > 0);
                // The hypertable's parent holds no rows: every row went into a chunk.
                Assert.Equal(0L, await PlainPostgres.ScalarAsync<long>(cs, "SELECT count(*) FROM ONLY flow_rows"));
            }
        }
        finally
        {
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    private static async Task WriteAsync(StorageHost host)
    {
        var records = TestFlows.Generate(Count, seed: 13,
            baseMs: DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds(), spanMinutes: 50);
        await host.WriteAllAsync(records);
    }
}
