using System.Globalization;
using System.Text;

namespace NetObserv.Query.LogQL;

/// <summary>
/// Writes an expression back as canonical LogQL: the normalised form used as a cache key. What it writes
/// parses back to the same tree (numbers beyond double's range excepted, written as <c>Infinity</c>), so two
/// different trees never share a key; it opens at most one parenthesis per tree level, so it stays within
/// <see cref="LogQLParser.MaxDepth"/>, and it recurses once per level, which that limit bounds.
/// </summary>
internal static class LogQLFormatter
{
    public static string Format(LogQLExpr expr)
    {
        var sb = new StringBuilder();
        Write(sb, expr);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, LogQLExpr expr)
    {
        switch (expr)
        {
            case NumberLiteral n:
                sb.Append(n.Value.ToString("R", CultureInfo.InvariantCulture));
                break;
            case VectorLiteral v:
                sb.Append("vector(").Append(v.Value.ToString("R", CultureInfo.InvariantCulture)).Append(')');
                break;
            case LogQuery q:
                WriteLog(sb, q);
                break;
            case RangeAggregation r:
                sb.Append(RangeName(r.Op)).Append('(');
                if (r.Parameter is { } phi)
                {
                    sb.Append(phi.ToString("R", CultureInfo.InvariantCulture)).Append(", ");
                }

                WriteLog(sb, r.Log);
                sb.Append(" [").Append(r.Range.Variable is { } variable ? "$" + variable : LogQLDuration.Format(r.Range.Fixed))
                    .Append("])");
                WriteGrouping(sb, r.Grouping);
                break;
            case VectorAggregation a:
                sb.Append(a.Op.ToString().ToLowerInvariant());
                WriteGrouping(sb, a.Grouping);
                sb.Append('(');
                if (a.Parameter is { } k)
                {
                    sb.Append(k.ToString("R", CultureInfo.InvariantCulture)).Append(", ");
                }

                Write(sb, a.Inner);
                sb.Append(')');
                break;
            case BinaryOperation b:
                sb.Append('(');
                Write(sb, b.Left);
                sb.Append(b.Op switch
                {
                    BinaryOperator.Add => " + ",
                    BinaryOperator.Subtract => " - ",
                    BinaryOperator.Multiply => " * ",
                    BinaryOperator.Divide => " / ",
                    _ => " % ",
                });
                Write(sb, b.Right);
                sb.Append(')');
                break;
        }
    }

    public static string RangeName(RangeOperator op) => op switch
    {
        RangeOperator.Rate => "rate",
        RangeOperator.CountOverTime => "count_over_time",
        RangeOperator.BytesOverTime => "bytes_over_time",
        RangeOperator.BytesRate => "bytes_rate",
        RangeOperator.SumOverTime => "sum_over_time",
        RangeOperator.AvgOverTime => "avg_over_time",
        RangeOperator.MaxOverTime => "max_over_time",
        RangeOperator.QuantileOverTime => "quantile_over_time",
        RangeOperator.StddevOverTime => "stddev_over_time",
        RangeOperator.StdvarOverTime => "stdvar_over_time",
        RangeOperator.FirstOverTime => "first_over_time",
        RangeOperator.LastOverTime => "last_over_time",
        _ => "min_over_time",
    };

    private static void WriteGrouping(StringBuilder sb, Grouping? grouping)
    {
        if (grouping is null)
        {
            return;
        }

        sb.Append(grouping.Without ? " without (" : " by (").AppendJoin(", ", grouping.Labels).Append(") ");
    }

    private static void WriteLog(StringBuilder sb, LogQuery q)
    {
        sb.Append('{');
        for (var i = 0; i < q.Matchers.Count; i++)
        {
            var m = q.Matchers[i];
            sb.Append(i > 0 ? ", " : "").Append(m.Name).Append(MatchOp(m.Op));
            Quote(sb, m.Value);
        }

        sb.Append('}');
        foreach (var stage in q.Stages)
        {
            switch (stage)
            {
                case LineFilterStage f:
                    sb.Append(f.Op switch
                    {
                        LineFilterOperator.Contains => " |= ",
                        LineFilterOperator.NotContains => " != ",
                        LineFilterOperator.Matches => " |~ ",
                        _ => " !~ ",
                    });
                    for (var i = 0; i < f.Values.Count; i++)
                    {
                        sb.Append(i > 0 ? " or " : "");
                        Quote(sb, f.Values[i]);
                    }

                    break;
                case JsonStage:
                    sb.Append(" | json");
                    break;
                case DropStage d:
                    sb.Append(" | drop ").AppendJoin(", ", d.Labels);
                    break;
                case UnwrapStage u:
                    sb.Append(" | unwrap ").Append(u.Label);
                    break;
                case LabelFilterStage l when l.Filter is StringLabelFilter { Name: "json" or "drop" or "unwrap" }
                    or NumericLabelFilter { Name: "json" or "drop" or "unwrap" }
                    or IpLabelFilter { Name: "json" or "drop" or "unwrap" }:
                    // A filter on a label named like a stage reads as that stage unless parenthesised.
                    sb.Append(" | (");
                    WriteFilter(sb, l.Filter);
                    sb.Append(')');
                    break;
                case LabelFilterStage l:
                    sb.Append(" | ");
                    WriteFilter(sb, l.Filter);
                    break;
            }
        }
    }

    private static void WriteFilter(StringBuilder sb, LabelFilter filter)
    {
        switch (filter)
        {
            case StringLabelFilter s:
                sb.Append(s.Name).Append(MatchOp(s.Op));
                Quote(sb, s.Value);
                break;
            case IpLabelFilter ip:
                sb.Append(ip.Name).Append(ip.Equal ? "=ip(" : "!=ip(");
                Quote(sb, ip.Value);
                sb.Append(')');
                break;
            case NumericLabelFilter n:
                sb.Append(n.Name).Append(n.Op switch
                {
                    CompareOperator.Equal => "==",
                    CompareOperator.NotEqual => "!=",
                    CompareOperator.Greater => ">",
                    CompareOperator.GreaterOrEqual => ">=",
                    CompareOperator.Less => "<",
                    _ => "<=",
                }).Append(n.Value.ToString("R", CultureInfo.InvariantCulture));
                break;
            case AndLabelFilter a:
                sb.Append('(');
                WriteFilter(sb, a.Left);
                sb.Append(" and ");
                WriteFilter(sb, a.Right);
                sb.Append(')');
                break;
            case OrLabelFilter o:
                sb.Append('(');
                WriteFilter(sb, o.Left);
                sb.Append(" or ");
                WriteFilter(sb, o.Right);
                sb.Append(')');
                break;
        }
    }

    private static string MatchOp(MatchOperator op) => op switch
    {
        MatchOperator.Equal => "=",
        MatchOperator.NotEqual => "!=",
        MatchOperator.Regex => "=~",
        _ => "!~",
    };

    internal static void Quote(StringBuilder sb, string value) =>
        sb.Append('"').Append(value.Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('"');
}
