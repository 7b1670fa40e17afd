using System.Globalization;
using NetObserv.Storage.LocalPostgres;
using NetObserv.Testing;

namespace NetObserv.Storage.Tests;

/// <summary>
/// The suite's databases are in the suite's storage mode (<see cref="PostgresTestMode"/>): natively
/// <c>flow_rows</c> is a partitioned table; in the TimescaleDB suite it is a hypertable, on a server that
/// preloads TimescaleDB with worker slots for its jobs.
/// </summary>
public sealed class SuiteModeTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task StorageHost_DefaultSettings_MigratesInSuiteMode()
    {
        await using var host = await StorageHost.CreateAsync(database.ConnectionString);

        Assert.Equal(PostgresTestMode.Current, host.Database.Mode);
        Assert.Equal(PostgresTestMode.Current.ToString(),
            await database.ScalarAsync<string>("SELECT string_agg(DISTINCT mode, ',') FROM schema_migrations"));
        if (PostgresTestMode.IsTimescaleDb)
        {
            Assert.Equal(1, await database.ScalarAsync<long>(
                "SELECT count(*) FROM timescaledb_information.hypertables WHERE hypertable_name = 'flow_rows'"));
            Assert.True(int.Parse(await database.ScalarAsync<string>("SHOW max_worker_processes"),
                CultureInfo.InvariantCulture) >= ManagedPostgres.TimescaleDbWorkerProcesses);
        }
        else
        {
            Assert.Equal("p", await database.ScalarAsync<string>(
                "SELECT relkind::text FROM pg_class WHERE relname = 'flow_rows'"));
        }
    }
}
