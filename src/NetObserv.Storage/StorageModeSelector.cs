using Microsoft.Extensions.Logging;
using Npgsql;

namespace NetObserv.Storage;

/// <summary>
/// Chooses native partitioning or TimescaleDB from the <c>Storage:TimescaleDb</c> setting
/// (<c>auto</c>, <c>on</c>, <c>off</c>) and what the server offers. TimescaleDB is usable only when the
/// server loads its library at start (<c>shared_preload_libraries</c>): an installed extension that is
/// not preloaded cannot be created (PostgreSQL ends the session with a FATAL error). <c>auto</c> then
/// falls back to native partitions and says why; <c>on</c> fails with PostgreSQL's own error. A
/// database that was already migrated keeps the mode it was created with.
/// </summary>
internal static class StorageModeSelector
{
    private const string Extension = "timescaledb";

    public static async Task<StorageMode> SelectAsync(NpgsqlDataSource dataSource, string setting, ILogger logger,
        CancellationToken cancellationToken)
    {
        var wanted = (setting ?? "auto").Trim().ToUpperInvariant() switch
        {
            "AUTO" => (StorageMode?)null,
            "ON" or "TRUE" => StorageMode.TimescaleDb,
            "OFF" or "FALSE" => StorageMode.Native,
            _ => throw new InvalidOperationException(
                $"Storage:TimescaleDb must be auto, on or off, not '{setting}'"),
        };

        bool available;
        string preloaded;
        string? existing;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        {
            var hasMigrations = await ScalarAsync(connection,
                "SELECT to_regclass('schema_migrations') IS NOT NULL", cancellationToken).ConfigureAwait(false) is true;
            existing = hasMigrations
                ? await ScalarAsync(connection, "SELECT mode FROM schema_migrations LIMIT 1", cancellationToken)
                    .ConfigureAwait(false) as string
                : null;
            available = await ScalarAsync(connection,
                "SELECT name FROM pg_available_extensions WHERE name = 'timescaledb'", cancellationToken)
                .ConfigureAwait(false) is not null;
            preloaded = await ScalarAsync(connection, "SELECT current_setting('shared_preload_libraries')",
                cancellationToken).ConfigureAwait(false) as string ?? "";
        }

        var usable = available && IsPreloaded(preloaded);
        if (existing is not null && Enum.TryParse<StorageMode>(existing, out var migrated))
        {
            if (migrated == StorageMode.TimescaleDb && !usable)
            {
                await ThrowWhyNotUsableAsync(dataSource,
                    "The database was created in TimescaleDB mode but TimescaleDB is not usable on this server",
                    cancellationToken).ConfigureAwait(false);
            }

            return migrated;
        }

        switch (wanted)
        {
            case StorageMode.Native:
                return StorageMode.Native;
            case StorageMode.TimescaleDb:
                if (!usable)
                {
                    await ThrowWhyNotUsableAsync(dataSource,
                        "Storage:TimescaleDb is 'on' but TimescaleDB is not usable on this server",
                        cancellationToken).ConfigureAwait(false);
                }

                return StorageMode.TimescaleDb;
            default:
                if (usable)
                {
                    return StorageMode.TimescaleDb;
                }

                StorageLog.TimescaleDbNotUsed(logger, available
                    ? $"the extension is installed but the server does not preload it (shared_preload_libraries = '{preloaded}'); add {Extension} to shared_preload_libraries and restart PostgreSQL to use it"
                    : "the extension is not installed on this server");
                return StorageMode.Native;
        }
    }

    /// <summary>True when <c>shared_preload_libraries</c> names the TimescaleDB loader (by name or path).</summary>
    internal static bool IsPreloaded(string sharedPreloadLibraries) =>
        sharedPreloadLibraries.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(library => Path.GetFileName(library.Trim('"')))
            .Any(name => name.Equals(Extension, StringComparison.OrdinalIgnoreCase)
                || name.StartsWith(Extension + ".", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Runs <c>CREATE EXTENSION</c> on a connection of its own to obtain PostgreSQL's reason (missing
    /// extension, not preloaded, no privilege) and throws it with <paramref name="what"/>. Should the
    /// extension be created after all, the database can use it and nothing is thrown.
    /// </summary>
    private static async Task ThrowWhyNotUsableAsync(NpgsqlDataSource dataSource, string what,
        CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS timescaledb", connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e)
        {
            var reason = e.MessageText + (e.Detail is { Length: > 0 } detail ? " " + detail : "")
                + (e.Hint is { Length: > 0 } hint ? " " + hint : "");
            throw new InvalidOperationException($"{what}: PostgreSQL says: {reason}", e);
        }
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }
}
