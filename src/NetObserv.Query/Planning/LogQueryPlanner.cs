using System.Globalization;
using NetObserv.Query.LogQL;
using Npgsql;
using NpgsqlTypes;

namespace NetObserv.Query.Planning;

/// <summary>
/// The SQL of a log query (and of the flow table): the flows of the selector and label filters in
/// [start, end), in time order, read one time window at a time, newest first (oldest first when forward).
/// Each window is the same statement with its own bounds and <c>LIMIT</c>: the first covers
/// <see cref="FirstWindowShare"/> of the range, each next one four times more, until the limit is reached or
/// the range is read. Without a btree on time the database then reads the newest window's rows instead of the
/// whole range's before it can sort and stop; a range with fewer matching rows than the limit costs a few
/// more statements over the same rows.
/// </summary>
internal static class LogQueryPlanner
{
    /// <summary>The first window's share of the range (1/64), at least <see cref="MinFirstWindowNs"/>.</summary>
    public const int FirstWindowShare = 64;

    /// <summary>The first window covers at least a minute.</summary>
    public const long MinFirstWindowNs = 60_000_000_000;

    public static LogPlan Plan(QueryRequest request, LogQuery log, QueryOptions options)
    {
        var limit = request.Limit;
        if (limit > options.MaxEntries)
        {
            throw new QueryException(string.Create(CultureInfo.InvariantCulture,
                $"max entries limit per query exceeded, limit > max_entries_limit_per_query ({limit} > {options.MaxEntries})"));
        }

        if (log.Stages.OfType<UnwrapStage>().FirstOrDefault() is { } unwrap)
        {
            throw new QueryException($"unwrap ({unwrap.Label}) is only valid inside a range aggregation");
        }

        var p = new SqlParameters();
        var where = FilterCompiler.Where(log, p);
        var access = FilterCompiler.Access(request.Access, p);
        var from = new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = FromNs(request.StartNs) };
        var to = new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = FromNs(request.EndNs) };
        var rows = new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = (long)limit };
        var sql = $"""
            SELECT {FlowRowReader.Columns}
            FROM flows
            WHERE {access}
              AND time_end >= {p.Add(from)}
              AND time_end < {p.Add(to)}{where}
            ORDER BY time_end {(request.Forward ? "ASC" : "DESC")}
            LIMIT {p.Add(rows)}
            """;
        return new LogPlan(sql, p, LineFilter.Compile(log.Stages), limit, Windows(request), from, to, rows);
    }

    /// <summary>The windows [from, to) (ns) covering [start, end), in reading order.</summary>
    internal static IReadOnlyList<(long FromNs, long ToNs)> Windows(QueryRequest request)
    {
        var windows = new List<(long, long)>();
        var length = request.EndNs - request.StartNs;
        var width = Math.Max(length / FirstWindowShare, MinFirstWindowNs);
        var read = 0L;
        while (read < length)
        {
            var next = length - read <= width ? length : read + width;
            windows.Add(request.Forward
                ? (request.StartNs + read, request.StartNs + next)
                : (request.EndNs - next, request.EndNs - read));
            read = next;
            width = width > long.MaxValue / 4 ? long.MaxValue : width * 4;
        }

        if (windows.Count == 0)
        {
            windows.Add((request.StartNs, request.EndNs));
        }

        return windows;
    }

    internal static DateTime FromNs(long ns) => DateTime.UnixEpoch.AddTicks(ns / 100);
}
