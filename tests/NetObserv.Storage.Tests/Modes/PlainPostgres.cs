using NetObserv.Storage.LocalPostgres;
using NetObserv.Storage.Tests.LocalPostgres;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Storage.Tests.Modes;

/// <summary>
/// A second server from the same binaries, started without preloading TimescaleDB (as a distribution's
/// PostgreSQL is when the extension package is installed but nobody edited postgresql.conf). Fails at
/// once, saying what to do, when TimescaleDB is not installed for these binaries: the tests using it
/// are about an installed extension.
/// </summary>
public sealed class PlainPostgres() : TemporaryPostgres("plainpg", preloadTimescaleDb: false)
{
    public override async Task InitializeAsync()
    {
        Assert.True(PostgresBinaries.Find().HasTimescaleDb(),
            "TimescaleDB is not installed for the PostgreSQL binaries these tests run: run "
            + "../shared/scripts/install-timescaledb.sh (as root) first.");
        await base.InitializeAsync();
    }

    /// <summary>Creates a fresh database on this server and returns a connection string to it.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "plain_" + Guid.NewGuid().ToString("N")[..12];
        await Server.CreateDatabaseAsync(name, CancellationToken.None).DefaultTimeout();
        return Server.ConnectionString(name);
    }

    public static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync().DefaultTimeout();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync().DefaultTimeout())!;
    }
}
