using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace NetObserv.Storage.Partitions;

/// <summary>
/// Native mode's daily partitions of <c>flow_rows</c>: <c>flow_rows_pYYYYMMDD</c> holds the UTC day
/// [YYYY-MM-DD 00:00, next day 00:00) of <c>time_end</c>. Creates the partitions a batch needs before
/// it is copied (remembering the days known to exist), creates days ahead of time and drops
/// partitions entirely past retention. DDL runs under a transaction-scoped advisory lock so
/// replicas never race on the same partition. Partition names and bounds are built from dates
/// only, never from input text.
/// </summary>
public sealed class FlowPartitions
{
    /// <summary>The advisory lock key for partition DDL (the ASCII of "nobspart").</summary>
    public const long LockKey = 0x6E6F627370617274;

    private const string Prefix = "flow_rows_p";

    private readonly NpgsqlDataSource _dataSource;
    private readonly StorageOptions _options;
    private readonly ILogger _logger;
    private readonly HashSet<DateOnly> _known = [];
    private readonly Lock _lock = new();

    public FlowPartitions(FlowDatabase database, IOptions<StorageOptions> options, ILogger<FlowPartitions> logger)
        : this(GetDataSource(database), options, logger)
    {
    }

    internal FlowPartitions(NpgsqlDataSource dataSource, IOptions<StorageOptions> options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(options);
        _dataSource = dataSource;
        _options = options.Value;
        _logger = logger;
    }

    private static NpgsqlDataSource GetDataSource(FlowDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        return database.DataSource;
    }

    /// <summary>The partition name for a UTC day.</summary>
    public static string NameOf(DateOnly day) =>
        Prefix + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>The UTC day of a Unix epoch millisecond timestamp.</summary>
    public static DateOnly DayOf(long unixMs) =>
        DateOnly.FromDayNumber(s_dayNumberOfEpoch + (int)(unixMs >= 0 ? unixMs / MsPerDay : ((unixMs + 1) / MsPerDay) - 1));

    private const long MsPerDay = 86_400_000;
    private static readonly int s_dayNumberOfEpoch = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    /// <summary>True when the partition of <paramref name="day"/> is known to exist.</summary>
    public bool IsKnown(DateOnly day)
    {
        lock (_lock)
        {
            return _known.Contains(day);
        }
    }

    /// <summary>Forgets which partitions exist (after a write found one missing).</summary>
    public void Forget()
    {
        lock (_lock)
        {
            _known.Clear();
        }
    }

    /// <summary>Makes sure a partition exists for every day in <paramref name="days"/>.</summary>
    public async Task EnsureAsync(NpgsqlConnection connection, IReadOnlyList<DateOnly> days,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(days);
        List<DateOnly>? missing = null;
        lock (_lock)
        {
            for (var i = 0; i < days.Count; i++)
            {
                if (!_known.Contains(days[i]))
                {
                    (missing ??= []).Add(days[i]);
                }
            }
        }

        if (missing is null)
        {
            return;
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await LockAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        var existing = await ListAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        foreach (var day in missing)
        {
            if (existing.Contains(day))
            {
                continue;
            }

            var name = NameOf(day);
            await using var create = new NpgsqlCommand(CreateSql(day), connection, transaction);
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            StorageLog.Created(_logger, name);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            foreach (var day in missing)
            {
                _known.Add(day);
            }
        }
    }

    /// <summary>Makes sure a partition exists for every day in <paramref name="days"/>.</summary>
    public async Task EnsureAsync(IReadOnlyList<DateOnly> days, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await EnsureAsync(connection, days, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Creates the partitions of today and the <see cref="StorageOptions.PartitionsAhead"/> days after it,
    /// and drops every partition whose whole day ended before <paramref name="now"/> minus
    /// <see cref="StorageOptions.Retention"/>. Returns the names dropped.
    /// </summary>
    public async Task<IReadOnlyList<string>> MaintainAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var ahead = new List<DateOnly>();
        for (var i = 0; i <= Math.Max(0, _options.PartitionsAhead); i++)
        {
            ahead.Add(today.AddDays(i));
        }

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await EnsureAsync(connection, ahead, cancellationToken).ConfigureAwait(false);

        var cutoff = now.UtcDateTime - _options.Retention;
        var dropped = new List<string>();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await LockAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        foreach (var day in await ListAsync(connection, transaction, cancellationToken).ConfigureAwait(false))
        {
            // The partition holds [day, day + 1): drop it once its upper bound is at or before the cutoff.
            var end = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc).AddDays(1);
            if (end > cutoff)
            {
                continue;
            }

            var name = NameOf(day);
            await using var drop = new NpgsqlCommand("DROP TABLE IF EXISTS " + name, connection, transaction);
            await drop.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            lock (_lock)
            {
                _known.Remove(day);
            }

            dropped.Add(name);
            StorageLog.Dropped(_logger, name);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return dropped;
    }

    /// <summary>The days that have a <c>flow_rows_pYYYYMMDD</c> partition, oldest first.</summary>
    public async Task<IReadOnlyList<DateOnly>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var days = await ListAsync(connection, null, cancellationToken).ConfigureAwait(false);
        var result = new List<DateOnly>(days);
        result.Sort();
        return result;
    }

    private static async Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = LockKey });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<HashSet<DateOnly>> ListAsync(NpgsqlConnection connection,
        NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT c.relname
            FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'flow_rows'::regclass
            """;
        var days = new HashSet<DateOnly>();
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var name = reader.GetString(0);
            if (name.Length == Prefix.Length + 8
                && name.StartsWith(Prefix, StringComparison.Ordinal)
                && DateOnly.TryParseExact(name.AsSpan(Prefix.Length), "yyyyMMdd", CultureInfo.InvariantCulture,
                    DateTimeStyles.None, out var day))
            {
                days.Add(day);
            }
        }

        return days;
    }

    private static string CreateSql(DateOnly day)
    {
        // Built from a date only: the name is digits and the bounds are ISO dates.
        var from = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var to = day.DayNumber == DateOnly.MaxValue.DayNumber
            ? "10000-01-01"
            : day.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture,
            $"CREATE TABLE IF NOT EXISTS {NameOf(day)} PARTITION OF flow_rows FOR VALUES FROM ('{from} 00:00:00+00') TO ('{to} 00:00:00+00')");
    }
}
