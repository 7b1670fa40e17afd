using NetObserv.Query.Access;
using NetObserv.Query.LogQL;
using NpgsqlTypes;

namespace NetObserv.Query.Planning;

/// <summary>
/// Index statistics of a selector over [start, end), in two statements. <b>entries</b>: the matching
/// flows, exactly; when the selector only names rollup keys, whole hours are read from
/// <c>flow_rollup_1h</c>, whole minutes at the edges from <c>flow_rollup_1m</c> and only the
/// sub-minute edges from <c>flows</c>, so long ranges stay cheap. <b>bytes</b>: entries times the
/// average UTF-8 size of the JSON lines of the <see cref="SampleSize"/> most recent matching
/// flows (the exact total when they are all of them), rounded down. <b>streams</b> and <b>chunks</b>:
/// the distinct stream-label keys and the (key, hour) rows of <c>flow_rollup_1h</c> over the hours
/// overlapping the range, restricted by the selector's matchers on rollup keys; stream labels that
/// are not rollup keys (<c>_RecordType</c>) are not told apart. Line filters are ignored (an upper bound).
/// </summary>
internal static class StatsPlanner
{
    /// <summary>How many of the most recent matching flows are rendered to estimate line bytes.</summary>
    public const int SampleSize = 100;

    /// <summary>The statement returning one row: entries, streams, chunks (bigint each).</summary>
    public static SqlStatement Counts(IReadOnlyList<string> streamLabels, LogQuery selector, long startNs, long endNs,
        FlowAccess access)
    {
        var p = new SqlParameters();
        var tenant = FilterCompiler.Access(access, p);
        var start = LogQueryPlanner.FromNs(startNs);
        var end = LogQueryPlanner.FromNs(endNs);
        var startParameter = p.Add(start, NpgsqlDbType.TimestampTz);
        var endParameter = p.Add(end, NpgsqlDbType.TimestampTz);
        var where = FilterCompiler.Where(selector, p);
        string entriesSql;
        if (FilterCompiler.OnlyRollupDimensions(LabelValuesPlanner.Names(selector)))
        {
            // [start, m0) flows, [m0, h0) 1m, [h0, h1) 1h, [h1, m1) 1m, [m1, end) flows.
            var m0 = Ceiling(start, TimeSpan.TicksPerMinute);
            var m1 = new DateTime(end.Ticks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, DateTimeKind.Utc);
            if (m0 >= m1)
            {
                m0 = m1 = end;
            }

            var h0 = Ceiling(m0, TimeSpan.TicksPerHour);
            var h1 = new DateTime(m1.Ticks / TimeSpan.TicksPerHour * TimeSpan.TicksPerHour, DateTimeKind.Utc);
            if (h0 >= h1)
            {
                h0 = h1 = m1;
            }

            var m0p = p.Add(m0, NpgsqlDbType.TimestampTz);
            var m1p = p.Add(m1, NpgsqlDbType.TimestampTz);
            var h0p = p.Add(h0, NpgsqlDbType.TimestampTz);
            var h1p = p.Add(h1, NpgsqlDbType.TimestampTz);
            entriesSql = $"""
                (SELECT count(*) FROM flows WHERE {tenant}
                    AND ((time_end >= {startParameter} AND time_end < {m0p}) OR (time_end >= {m1p} AND time_end < {endParameter})){where})
                + (SELECT coalesce(sum(flows), 0) FROM flow_rollup_1m WHERE {tenant}
                    AND ((bucket >= {m0p} AND bucket < {h0p}) OR (bucket >= {h1p} AND bucket < {m1p})){where})
                + (SELECT coalesce(sum(flows), 0) FROM flow_rollup_1h WHERE {tenant}
                    AND bucket >= {h0p} AND bucket < {h1p}{where})
                """;
        }
        else
        {
            entriesSql = $"""
                (SELECT count(*) FROM flows WHERE {tenant}
                    AND time_end >= {startParameter} AND time_end < {endParameter}{where})
                """;
        }

        var rollupWhere = new System.Text.StringBuilder();
        foreach (var m in selector.Matchers.Where(m => FilterCompiler.OnlyRollupDimensions([m.Name])))
        {
            rollupWhere.Append(" AND ").Append(FilterCompiler.Matcher(m.Name, m.Op, m.Value, p));
        }

        var keys = streamLabels.Select(l => FlowFieldCatalog.TryGet(l, out var f) && f.IsRollupDimension ? f.Sql : null)
            .OfType<string>().ToList();
        var sql = $"""
            SELECT ({entriesSql})::bigint AS entries,
                   count(DISTINCT ROW({(keys.Count == 0 ? "1" : string.Join(", ", keys))})) AS streams, count(*) AS chunks
            FROM flow_rollup_1h
            WHERE {tenant} AND bucket >= date_trunc('hour', {startParameter}) AND bucket < {endParameter}{rollupWhere}
            """;
        return new SqlStatement(sql, p);
    }

    /// <summary>The statement returning the <see cref="SampleSize"/> most recent matching flows (<see cref="FlowRowReader"/> columns).</summary>
    public static SqlStatement Sample(LogQuery selector, long startNs, long endNs, FlowAccess access)
    {
        var p = new SqlParameters();
        var sql = $"""
            SELECT {FlowRowReader.Columns}
            FROM flows
            WHERE {FilterCompiler.Access(access, p)}
              AND time_end >= {p.Add(LogQueryPlanner.FromNs(startNs), NpgsqlDbType.TimestampTz)}
              AND time_end < {p.Add(LogQueryPlanner.FromNs(endNs), NpgsqlDbType.TimestampTz)}{FilterCompiler.Where(selector, p)}
            ORDER BY time_end DESC
            LIMIT {p.Add((long)SampleSize, NpgsqlDbType.Bigint)}
            """;
        return new SqlStatement(sql, p);
    }

    private static DateTime Ceiling(DateTime time, long unitTicks) =>
        new((time.Ticks + unitTicks - 1) / unitTicks * unitTicks, DateTimeKind.Utc);
}
