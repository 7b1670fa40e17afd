using NetObserv.Query.Access;
using NetObserv.Query.LogQL;
using NpgsqlTypes;

namespace NetObserv.Query.Planning;

/// <summary>
/// The distinct stream label sets of a selector over [start, end): one statement per selector returning the
/// stream labels that are columns (<see cref="Labels"/>) as text columns <c>c0</c>..<c>cN</c>, at most
/// <c>Query:MaxSeries</c> + 1 rows (one more tells that the answer is too large).
/// </summary>
internal static class SeriesPlanner
{
    /// <summary>The stream labels a series answer reads from columns (<c>app</c> is constant).</summary>
    public static IReadOnlyList<string> Labels(IReadOnlyList<string> streamLabels) =>
        streamLabels.Where(l => l != FlowFieldCatalog.AppLabel && FlowFieldCatalog.TryGet(l, out _)).ToList();

    public static SqlStatement Plan(IReadOnlyList<string> labels, LogQuery? selector, long startNs, long endNs,
        FlowAccess access, int maxSeries)
    {
        var p = new SqlParameters();
        var columns = labels.Count == 0 ? "1 AS c0" : string.Join(", ", labels.Select((l, i) =>
        {
            FlowFieldCatalog.TryGet(l, out var f);
            return f.TextSql + " AS c" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }));
        var sql = $"""
            SELECT DISTINCT {columns} FROM flows
            WHERE {FilterCompiler.Access(access, p)}
              AND time_end >= {p.Add(LogQueryPlanner.FromNs(startNs), NpgsqlDbType.TimestampTz)}
              AND time_end < {p.Add(LogQueryPlanner.FromNs(endNs), NpgsqlDbType.TimestampTz)}{FilterCompiler.Where(selector, p)}
            LIMIT {p.Add((long)maxSeries + 1, NpgsqlDbType.Bigint)}
            """;
        return new SqlStatement(sql, p);
    }
}
