using Npgsql;

namespace NetObserv.Testing;

/// <summary>A fresh database per test class (use as <c>IClassFixture&lt;PostgresDatabase&gt;</c>); dropped afterwards.</summary>
public sealed class PostgresDatabase : IAsyncLifetime
{
    private string? _connectionString;

    /// <summary>Connection string to this class's database.</summary>
    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("not initialised");

    public async Task InitializeAsync() => _connectionString = await PostgresServer.CreateDatabaseAsync("t").ConfigureAwait(false);

    public async Task DisposeAsync()
    {
        if (_connectionString is not null)
        {
            await PostgresServer.DropDatabaseAsync(_connectionString).ConfigureAwait(false);
        }
    }

    /// <summary>Runs a scalar query (test assertions).</summary>
    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync().ConfigureAwait(false);
        return (T)Convert.ChangeType(value!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }
}
