using NetObserv.Query.Access;
using NetObserv.Query.LogQL;
using NpgsqlTypes;

namespace NetObserv.Query.Planning;

/// <summary>
/// The distinct values of a label over [start, end), optionally restricted by a selector. Rollup keys read
/// <c>flow_rollup_1h</c> (hours overlapping the range) when the selector allows it; constant labels
/// (<c>app</c>) are answered without SQL.
/// </summary>
internal static class LabelValuesPlanner
{
    /// <summary>Most values one answer lists.</summary>
    public const int MaxValues = 10_000;

    /// <summary>The answer when it needs no SQL (a constant label), else null.</summary>
    public static IReadOnlyList<string>? Constant(string name, LogQuery? selector)
    {
        if (FilterCompiler.ConstantValue(name) is not { } constant)
        {
            return null;
        }

        if (constant.Length == 0)
        {
            return [];
        }

        return selector is null || SelectorAccepts(selector, name, constant) ? [constant] : [];
    }

    /// <summary>The statement returning the values (one text column, NULL and '' to be skipped), in order.</summary>
    public static SqlStatement Plan(string name, LogQuery? selector, long startNs, long endNs, FlowAccess access)
    {
        FlowFieldCatalog.TryGet(name, out var field);
        var p = new SqlParameters();
        var where = FilterCompiler.Where(selector, p);
        var rollup = field.IsRollupDimension && (selector is null || (FilterCompiler.OnlyRollupDimensions(Names(selector))
            && !selector.Stages.OfType<LineFilterStage>().Any()));
        var start = LogQueryPlanner.FromNs(startNs);
        var end = LogQueryPlanner.FromNs(endNs);
        var sql = rollup
            ? $"""
                SELECT DISTINCT {field.TextSql} FROM flow_rollup_1h
                WHERE {FilterCompiler.Access(access, p)}
                  AND bucket >= date_trunc('hour', {p.Add(start, NpgsqlDbType.TimestampTz)})
                  AND bucket < {p.Add(end, NpgsqlDbType.TimestampTz)}
                  AND {field.Sql} IS NOT NULL{where}
                ORDER BY 1 LIMIT {MaxValues}
                """
            : $"""
                SELECT DISTINCT {field.TextSql} FROM flows
                WHERE {FilterCompiler.Access(access, p)}
                  AND time_end >= {p.Add(start, NpgsqlDbType.TimestampTz)}
                  AND time_end < {p.Add(end, NpgsqlDbType.TimestampTz)}
                  AND {field.Sql} IS NOT NULL{where}
                ORDER BY 1 LIMIT {MaxValues}
                """;
        return new SqlStatement(sql, p);
    }

    /// <summary>The label names a selector's matchers and label filters name.</summary>
    internal static IEnumerable<string> Names(LogQuery selector) =>
        selector.Matchers.Select(m => m.Name)
            .Concat(selector.Stages.OfType<LabelFilterStage>().SelectMany(s => FilterCompiler.FilterNames(s.Filter)));

    private static bool SelectorAccepts(LogQuery selector, string name, string value) =>
        selector.Matchers.Where(m => m.Name == name).All(m => FilterCompiler.MatchConstant(value, m.Op, m.Value))
        && selector.Matchers.Where(m => m.Name != name && FilterCompiler.ConstantValue(m.Name) is not null)
            .All(m => FilterCompiler.MatchConstant(FilterCompiler.ConstantValue(m.Name)!, m.Op, m.Value));
}
