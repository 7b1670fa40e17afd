using Npgsql;

namespace NetObserv.Storage;

/// <summary>
/// Chooses native partitioning or TimescaleDB from the <c>Storage:TimescaleDb</c> setting
/// (<c>auto</c>, <c>on</c>, <c>off</c>) and what the server offers. A database that was already
/// migrated keeps the mode it was created with.
/// </summary>
internal static class StorageModeSelector
{
    public static async Task<StorageMode> SelectAsync(NpgsqlDataSource dataSource, string setting,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var hasMigrations = await ScalarAsync(connection,
            "SELECT to_regclass('schema_migrations') IS NOT NULL", cancellationToken).ConfigureAwait(false) is true;
        var existing = hasMigrations
            ? await ScalarAsync(connection, "SELECT mode FROM schema_migrations LIMIT 1", cancellationToken)
                .ConfigureAwait(false)
            : null;
        var available = await ScalarAsync(connection,
            "SELECT name FROM pg_available_extensions WHERE name = 'timescaledb'", cancellationToken)
            .ConfigureAwait(false) is not null;

        var wanted = (setting ?? "auto").Trim().ToUpperInvariant() switch
        {
            "AUTO" => available ? StorageMode.TimescaleDb : StorageMode.Native,
            "ON" or "TRUE" => StorageMode.TimescaleDb,
            "OFF" or "FALSE" => StorageMode.Native,
            _ => throw new InvalidOperationException(
                $"Storage:TimescaleDb must be auto, on or off, not '{setting}'"),
        };

        if (existing is string mode && Enum.TryParse<StorageMode>(mode, out var migrated))
        {
            return migrated;
        }

        if (wanted == StorageMode.TimescaleDb && !available)
        {
            throw new InvalidOperationException(
                "Storage:TimescaleDb is 'on' but the timescaledb extension is not available on this server");
        }

        return wanted;
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }
}
