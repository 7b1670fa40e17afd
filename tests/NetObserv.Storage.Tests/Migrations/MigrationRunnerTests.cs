using NetObserv.Storage.Migrations;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Storage.Tests.Migrations;

public sealed class MigrationRunnerTests
{
    [Fact]
    public async Task MigrateAsync_RunTwice_AppliesEachMigrationOnce()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("mig").DefaultTimeout();
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(cs);
            var runner = new MigrationRunner(dataSource);

            var first = await runner.MigrateAsync(PostgresTestMode.Current, CancellationToken.None).DefaultTimeout();
            var second = await runner.MigrateAsync(PostgresTestMode.Current, CancellationToken.None).DefaultTimeout();

            var expected = MigrationRunner.All().Where(m => m.Mode is null || m.Mode == PostgresTestMode.Current).Select(m => m.Id).ToList();
            Assert.Equal(expected, first);
            Assert.Empty(second);
            await using var command = dataSource.CreateCommand("SELECT count(*) FROM schema_migrations");
            Assert.Equal((long)expected.Count, await command.ExecuteScalarAsync());
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(cs);
        }
    }

    [Fact]
    public async Task MigrateAsync_Dictionaries_AnalyzedAfterOneChangeAndLookedUpByIndex()
    {
        // Autovacuum's default (50 rows plus 10 %) never analyzes a dictionary of a few rows, and without
        // statistics the planner misjudges every query joining it (see 0014_dictionary_statistics.sql).
        var cs = await PostgresServer.CreateDatabaseAsync("migstats").DefaultTimeout();
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(cs);
            await new MigrationRunner(dataSource).MigrateAsync(PostgresTestMode.Current, CancellationToken.None).DefaultTimeout();

            await AssertEachHasAsync(dataSource,
                "SELECT relname, reloptions FROM pg_class " +
                "WHERE relname IN ('flow_contexts', 'flow_endpoints', 'flow_rollup_keys') ORDER BY relname",
                "autovacuum_analyze_threshold=1", ["flow_contexts", "flow_endpoints", "flow_rollup_keys"]);

            // Their lookups stay on the unique index, whatever the statistics say.
            await AssertEachHasAsync(dataSource,
                "SELECT proname, proconfig FROM pg_proc " +
                "WHERE proname IN ('flow_endpoint_id', 'flow_context_id', 'flow_rollup_key_id') ORDER BY proname",
                "enable_seqscan=off", ["flow_context_id", "flow_endpoint_id", "flow_rollup_key_id"]);
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(cs);
        }
    }

    /// <summary>Each row of <paramref name="sql"/> (a name and its settings) holds <paramref name="setting"/>; the names are <paramref name="expected"/>.</summary>
    private static async Task AssertEachHasAsync(NpgsqlDataSource dataSource, string sql, string setting, string[] expected)
    {
        await using var command = dataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        var names = new List<string>();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
            Assert.Contains(setting, reader.GetFieldValue<string[]>(1));
        }

        Assert.Equal(expected, names);
    }

    [Fact]
    public async Task MigrateAsync_TwoProcessesAtOnce_BothSucceedOnce()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("migrace").DefaultTimeout();
        try
        {
            // Two data sources are two independent pools, as two replicas would have.
            await using var a = NpgsqlDataSource.Create(cs);
            await using var b = NpgsqlDataSource.Create(cs);

            var results = await Task.WhenAll(
                Task.Run(() => new MigrationRunner(a).MigrateAsync(PostgresTestMode.Current, CancellationToken.None)),
                Task.Run(() => new MigrationRunner(b).MigrateAsync(PostgresTestMode.Current, CancellationToken.None)))
                .DefaultTimeout();

            var expected = MigrationRunner.All().Count(m => m.Mode is null || m.Mode == PostgresTestMode.Current);
            Assert.Equal(expected, results[0].Count + results[1].Count);
            Assert.True(results[0].Count == 0 || results[1].Count == 0);
            await using var command = a.CreateCommand("SELECT count(*) FROM schema_migrations");
            Assert.Equal((long)expected, await command.ExecuteScalarAsync());
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(cs);
        }
    }
}
