using System.Reflection;
using Npgsql;

namespace NetObserv.Storage.Migrations;

/// <summary>
/// Applies the embedded <c>Migrations/NNNN_name[.mode].sql</c> files in order, each once, recording
/// them in <c>schema_migrations</c>. A file with a <c>.native</c> or <c>.timescaledb</c> infix applies
/// only in that storage mode. Everything runs under a session advisory lock, so replicas that start
/// together migrate once: the second waits, then finds nothing left to do.
/// </summary>
public sealed class MigrationRunner
{
    /// <summary>The advisory lock key (the ASCII of "nobsmig1").</summary>
    public const long LockKey = 0x6E6F62736D696731;

    private const string ResourcePrefix = "NetObserv.Storage.Migrations.";

    private readonly NpgsqlDataSource _dataSource;

    public MigrationRunner(NpgsqlDataSource dataSource)
    {
        _dataSource = dataSource;
    }

    /// <summary>A migration: its id (file name without mode and extension) and its SQL.</summary>
    public sealed record Migration(string Id, StorageMode? Mode, string Sql);

    /// <summary>Every embedded migration, in order.</summary>
    public static IReadOnlyList<Migration> All()
    {
        var assembly = typeof(MigrationRunner).Assembly;
        var result = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Order(StringComparer.Ordinal))
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal)
                || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            var name = resource[ResourcePrefix.Length..^4];
            StorageMode? mode = null;
            if (name.EndsWith(".native", StringComparison.Ordinal))
            {
                mode = StorageMode.Native;
                name = name[..^7];
            }
            else if (name.EndsWith(".timescaledb", StringComparison.Ordinal))
            {
                mode = StorageMode.TimescaleDb;
                name = name[..^12];
            }

            result.Add(new Migration(name, mode, Read(assembly, resource)));
        }

        return result;
    }

    /// <summary>
    /// Applies what is missing for <paramref name="mode"/>. Returns the ids applied by this call
    /// (empty when the schema was already current).
    /// </summary>
    public async Task<IReadOnlyList<string>> MigrateAsync(StorageMode mode, CancellationToken cancellationToken) =>
        await MigrateAsync(mode, null, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Applies what is missing for <paramref name="mode"/>, up to and including the migration whose id is
    /// <paramref name="through"/> (all of them when null): a database as an older version left it.
    /// </summary>
    public async Task<IReadOnlyList<string>> MigrateAsync(StorageMode mode, string? through,
        CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, "SELECT pg_advisory_lock($1)", LockKey, cancellationToken)
            .ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, null,
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    id         text PRIMARY KEY,
                    mode       text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, null, cancellationToken).ConfigureAwait(false);

            var applied = new HashSet<string>(StringComparer.Ordinal);
            await using (var read = new NpgsqlCommand("SELECT id FROM schema_migrations", connection))
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    applied.Add(reader.GetString(0));
                }
            }

            var done = new List<string>();
            foreach (var migration in All())
            {
                if (through is not null && string.CompareOrdinal(migration.Id, through) > 0)
                {
                    break;
                }

                if ((migration.Mode is { } only && only != mode) || applied.Contains(migration.Id))
                {
                    continue;
                }

                await using var transaction = await connection.BeginTransactionAsync(cancellationToken)
                    .ConfigureAwait(false);
                await ExecuteAsync(connection, transaction, migration.Sql, null, cancellationToken)
                    .ConfigureAwait(false);
                await using (var record = new NpgsqlCommand(
                    "INSERT INTO schema_migrations (id, mode) VALUES ($1, $2)", connection, transaction))
                {
                    record.Parameters.Add(new NpgsqlParameter { Value = migration.Id });
                    record.Parameters.Add(new NpgsqlParameter { Value = mode.ToString() });
                    await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                done.Add(migration.Id);
            }

            return done;
        }
        finally
        {
            // A broken session has released its lock with it; unlocking it would only hide why it broke.
            if (connection.FullState == System.Data.ConnectionState.Open)
            {
                await ExecuteAsync(connection, null, "SELECT pg_advisory_unlock($1)", LockKey, CancellationToken.None)
                    .ConfigureAwait(false);
            }
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql,
        long? parameter, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        if (parameter is { } value)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"missing embedded migration {resource}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
