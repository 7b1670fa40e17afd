using NetObserv.Storage.Migrations;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Storage.Tests.Migrations;

public sealed class ReaderRoleMigrationTests
{
    [Fact]
    public async Task MigrateAsync_SeveralDatabasesOfOneServerAtOnce_AllSucceedWithOneReaderRole()
    {
        // The role is server-wide; every database's 0003 must tolerate the others creating it.
        var databases = await Task.WhenAll(Enumerable.Range(0, 4)
            .Select(_ => PostgresServer.CreateDatabaseAsync("role"))).DefaultTimeout();
        try
        {
            var sources = databases.Select(cs => NpgsqlDataSource.Create(cs)).ToList();
            var applied = await Task.WhenAll(sources.Select(s =>
                Task.Run(() => new MigrationRunner(s).MigrateAsync(PostgresTestMode.Current, CancellationToken.None))))
                .DefaultTimeout();

            Assert.All(applied, ids => Assert.Contains("0003_reader", ids));
            await using var command = sources[0].CreateCommand(
                "SELECT count(*) FROM pg_roles WHERE rolname = 'netobserv_reader'");
            Assert.Equal(1L, await command.ExecuteScalarAsync());
            foreach (var source in sources)
            {
                await source.DisposeAsync();
            }
        }
        finally
        {
            foreach (var cs in databases)
            {
                await PostgresServer.DropDatabaseAsync(cs);
            }
        }
    }
}
