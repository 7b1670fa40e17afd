using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using NetObserv.Query.Access;
using NetObserv.Query.LogQL;
using NpgsqlTypes;

namespace NetObserv.Query.Planning;

/// <summary>
/// Turns stream matchers and label filters into SQL predicates. Column names come from
/// <see cref="FlowFieldCatalog"/>; every value is a parameter. Labels that are not columns
/// (<c>app</c>, <c>__error__</c>, unknown names) are constants and fold to TRUE or FALSE here.
/// Regexes are RE2, as in Loki, translated by <see cref="Re2Regex"/> into PostgreSQL's dialect and anchored
/// like Loki's label matchers (<c>^(?:re)$</c>): the translated pattern is the parameter.
/// </summary>
internal static class FilterCompiler
{
    /// <summary>The value of a label that is not a column, or null when the name is a column.</summary>
    public static string? ConstantValue(string name) =>
        name == FlowFieldCatalog.AppLabel ? FlowFieldCatalog.AppValue
        : FlowFieldCatalog.TryGet(name, out _) ? null
        : "";

    /// <summary>
    /// The predicate every statement starts its WHERE clause with, whatever table it reads (<c>flows</c> or a
    /// rollup, which name these columns alike). The tenants: <c>tenant = $n</c> for one tenant (so ordered
    /// index scans on (tenant, ..., time_end) stay ordered), <c>tenant = ANY($n)</c> for several. A namespace
    /// restriction adds <c>(src_k8s_namespace = ANY($m) OR dst_k8s_namespace = ANY($m))</c>: a flow is seen
    /// when either end is in a namespace of the grant.
    /// </summary>
    public static string Access(FlowAccess access, SqlParameters p)
    {
        var tenants = access.Tenants;
        var predicate = tenants.Length == 1
            ? $"tenant = {p.Add(tenants[0], NpgsqlDbType.Text)}"
            : $"tenant = ANY({p.Add(tenants, NpgsqlDbType.Array | NpgsqlDbType.Text)})";
        if (access.Namespaces is { } namespaces)
        {
            var n = p.Add(namespaces, NpgsqlDbType.Array | NpgsqlDbType.Text);
            predicate += $" AND (src_k8s_namespace = ANY({n}) OR dst_k8s_namespace = ANY({n}))";
        }

        return predicate;
    }

    /// <summary>True when every field the predicate names is a rollup key (or a constant).</summary>
    public static bool OnlyRollupDimensions(IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            if ((FlowFieldCatalog.TryGet(name, out var field) && !field.IsRollupDimension) || IsExtraField(name))
            {
                return false;
            }
        }

        return true;
    }

    public static string Matcher(string name, MatchOperator op, string value, SqlParameters p)
    {
        if (ConstantValue(name) is { } constant)
        {
            return MatchConstant(constant, op, value) ? "TRUE" : "FALSE";
        }

        FlowFieldCatalog.TryGet(name, out var field);
        return MatchField(field, op, value, p);
    }

    /// <summary>
    /// True when a label filter on <paramref name="name"/> reads <c>extra_fields</c>: a name that is neither
    /// a column nor a constant label, which <c>| json</c> finds among the fields kept without a column.
    /// </summary>
    public static bool IsExtraField(string name) =>
        name != FlowFieldCatalog.AppLabel && !name.StartsWith("__", StringComparison.Ordinal)
        && !FlowFieldCatalog.TryGet(name, out _);

    /// <summary>The text of a field kept in <c>extra_fields</c>; its name is a parameter.</summary>
    private static FlowField ExtraField(string name, SqlParameters p) =>
        new(name, $"(extra_fields ->> {p.Add(name, NpgsqlDbType.Text)})", FlowFieldKind.Text, false);

    private static string MatchField(FlowField field, MatchOperator op, string value, SqlParameters p)
    {
        switch (op)
        {
            case MatchOperator.Equal or MatchOperator.NotEqual:
                var equal = op == MatchOperator.Equal;
                if (value.Length == 0)
                {
                    return field.Kind == FlowFieldKind.Text
                        ? (equal ? $"({field.Sql} IS NULL OR {field.Sql} = '')" : $"({field.Sql} IS NOT NULL AND {field.Sql} <> '')")
                        : (equal ? $"({field.Sql} IS NULL)" : $"({field.Sql} IS NOT NULL)");
                }

                if (field.IsNumeric)
                {
                    if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
                    {
                        return equal ? "FALSE" : "TRUE";
                    }

                    var n = p.Add(number, NpgsqlDbType.Bigint);
                    return equal ? $"({field.Sql} = {n})" : $"({field.Sql} IS DISTINCT FROM {n})";
                }

                var v = p.Add(value, NpgsqlDbType.Text);
                return equal ? $"({field.TextSql} = {v})" : $"({field.TextSql} IS DISTINCT FROM {v})";
            default:
                var positive = op == MatchOperator.Regex;
                if (value is ".*" or ".*?" or "(.*)" or "(?:.*)")
                {
                    // Matches every value, the empty one (an absent label) included: Grafana's "All".
                    return positive ? "TRUE" : "FALSE";
                }

                if (field.Kind is FlowFieldKind.Text or FlowFieldKind.Integer && TryLiteralAlternatives(value, out var literals)
                    && !literals.Contains(""))
                {
                    // a|b\.c from a multi-value variable, 0|2 on a number (FlowDirection=~"^0$|^2$"): = ANY, which
                    // the key indexes answer and the planner estimates from the column's statistics (a regex gets
                    // a fixed guess far below the rows it keeps).
                    var list = field.Kind == FlowFieldKind.Text
                        ? p.Add(literals.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
                        : p.Add(CanonicalIntegers(literals), NpgsqlDbType.Array | NpgsqlDbType.Bigint);
                    return positive
                        ? $"({field.Sql} = ANY({list}))"
                        : $"({field.Sql} IS NULL OR NOT ({field.Sql} = ANY({list})))";
                }

                var pattern = p.Add(Translate(value).ToPostgres(anchored: true), NpgsqlDbType.Text);
                var test = $"(coalesce({field.TextSql}, '') ~ {pattern})";
                return positive ? test : $"(NOT {test})";
        }
    }

    /// <summary>
    /// The selector's stream matchers and label filters as <c> AND ...</c> predicates ("" for none or a
    /// null selector), each value a parameter of <paramref name="p"/>.
    /// </summary>
    public static string Where(LogQuery? selector, SqlParameters p)
    {
        if (selector is null)
        {
            return "";
        }

        var where = new StringBuilder();
        foreach (var m in selector.Matchers)
        {
            where.Append(" AND ").Append(Matcher(m.Name, m.Op, m.Value, p));
        }

        foreach (var stage in selector.Stages.OfType<LabelFilterStage>())
        {
            where.Append(" AND ").Append(Filter(stage.Filter, p));
        }

        return where.ToString();
    }

    public static string Filter(LabelFilter filter, SqlParameters p) => filter switch
    {
        StringLabelFilter s when IsExtraField(s.Name) => MatchField(ExtraField(s.Name, p), s.Op, s.Value, p),
        StringLabelFilter s => Matcher(s.Name, s.Op, s.Value, p),
        NumericLabelFilter n when IsExtraField(n.Name) => ExtraNumeric(n, p),
        NumericLabelFilter n => Numeric(n, p),
        IpLabelFilter ip => Ip(ip, p),
        AndLabelFilter a => $"({Filter(a.Left, p)} AND {Filter(a.Right, p)})",
        OrLabelFilter o => $"({Filter(o.Left, p)} OR {Filter(o.Right, p)})",
        _ => throw new QueryException("unsupported label filter"),
    };

    public static IEnumerable<string> FilterNames(LabelFilter filter) => filter switch
    {
        StringLabelFilter s => [s.Name],
        NumericLabelFilter n => [n.Name],
        IpLabelFilter ip => [ip.Name],
        AndLabelFilter a => FilterNames(a.Left).Concat(FilterNames(a.Right)),
        OrLabelFilter o => FilterNames(o.Left).Concat(FilterNames(o.Right)),
        _ => [],
    };

    /// <summary>
    /// <c>ip()</c> on an <c>inet</c> column: <c>col = $a</c>, <c>col &lt;&lt;= $cidr</c> or
    /// <c>col BETWEEN $lo AND $hi</c> (same family), so the column's indexes apply. As in Loki an absent
    /// value never matches, for <c>!=</c> too; fields that are not addresses hold no IP and never match.
    /// </summary>
    private static string Ip(IpLabelFilter filter, SqlParameters p)
    {
        var value = IpFilterValue.Parse(filter.Value) ?? throw new QueryException($"invalid ip() value \"{filter.Value}\"");
        if (!FlowFieldCatalog.TryGet(filter.Name, out var field) || !field.IsAddress)
        {
            return "FALSE";
        }

        string test;
        if (value.Prefix is { } prefix)
        {
            test = $"{field.Sql} <<= {p.Add(prefix, NpgsqlDbType.Cidr)}";
        }
        else if (value.Low.Equals(value.High))
        {
            test = $"{field.Sql} = {p.Add(value.Low, NpgsqlDbType.Inet)}";
        }
        else
        {
            test = $"{field.Sql} BETWEEN {p.Add(value.Low, NpgsqlDbType.Inet)} AND {p.Add(value.High, NpgsqlDbType.Inet)}";
        }

        return filter.Equal
            ? $"coalesce({test}, FALSE)"
            : $"({field.Sql} IS NOT NULL AND NOT ({test}))";
    }

    private static string Numeric(NumericLabelFilter filter, SqlParameters p)
    {
        if (ConstantValue(filter.Name) is { } constant)
        {
            return double.TryParse(constant, NumberStyles.Float, CultureInfo.InvariantCulture, out var c)
                && Compare(c, filter.Op, filter.Value) ? "TRUE" : "FALSE";
        }

        FlowFieldCatalog.TryGet(filter.Name, out var field);
        if (!field.IsNumeric)
        {
            throw new QueryException($"numeric comparison on the non-numeric field {filter.Name}");
        }

        var value = p.Add(filter.Value, NpgsqlDbType.Double);
        return $"({field.Sql} {Operator(filter.Op)} {value})";
    }

    /// <summary>A numeric comparison on a field of <c>extra_fields</c>: only a JSON number compares.</summary>
    private static string ExtraNumeric(NumericLabelFilter filter, SqlParameters p)
    {
        var name = p.Add(filter.Name, NpgsqlDbType.Text);
        var value = p.Add(filter.Value, NpgsqlDbType.Double);
        return $"(CASE WHEN jsonb_typeof(extra_fields -> {name}) = 'number' THEN (extra_fields ->> {name})::double precision END {Operator(filter.Op)} {value})";
    }

    private static string Operator(CompareOperator op) => op switch
    {
        CompareOperator.Equal => "=",
        CompareOperator.NotEqual => "<>",
        CompareOperator.Greater => ">",
        CompareOperator.GreaterOrEqual => ">=",
        CompareOperator.Less => "<",
        _ => "<=",
    };

    private static bool Compare(double left, CompareOperator op, double right) => op switch
    {
        CompareOperator.Equal => left == right,
        CompareOperator.NotEqual => left != right,
        CompareOperator.Greater => left > right,
        CompareOperator.GreaterOrEqual => left >= right,
        CompareOperator.Less => left < right,
        _ => left <= right,
    };

    /// <summary>Evaluates a matcher against a known value (constant labels, in-memory checks).</summary>
    public static bool MatchConstant(string actual, MatchOperator op, string value) => op switch
    {
        MatchOperator.Equal => actual == value,
        MatchOperator.NotEqual => actual != value,
        MatchOperator.Regex => AnchoredMatch(actual, value),
        _ => !AnchoredMatch(actual, value),
    };

    private static bool AnchoredMatch(string input, string pattern) =>
        Regex.IsMatch(input, Translate(pattern).ToDotNet(anchored: true), RegexOptions.NonBacktracking | RegexOptions.CultureInvariant,
            TimeSpan.FromSeconds(1));

    /// <summary>An RE2 pattern of the query, parsed; what cannot be translated is a 400.</summary>
    public static Re2Regex Translate(string pattern)
    {
        try
        {
            return Re2Regex.Parse(pattern);
        }
        catch (Re2Exception ex)
        {
            throw new QueryException($"invalid regular expression \"{pattern}\": {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Splits <c>a|b\.c</c> into literals when the regex has no other operator. Each alternative may be
    /// anchored (<c>^0$|^2$</c>, as the NetObserv console writes its filters): the whole value is matched
    /// anyway, so a <c>^</c> starting an alternative and a <c>$</c> ending one change nothing.
    /// </summary>
    internal static bool TryLiteralAlternatives(string pattern, out List<string> literals)
    {
        literals = [];
        var current = new StringBuilder();
        var atStart = true;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '^' && atStart)
            {
                atStart = false;
                continue;
            }

            atStart = false;
            if (c == '\\')
            {
                if (i + 1 >= pattern.Length || char.IsAsciiLetterOrDigit(pattern[i + 1]))
                {
                    return false; // \d, \w, \1...: a class, not a literal
                }

                current.Append(pattern[++i]);
            }
            else if (c == '|')
            {
                literals.Add(current.ToString());
                current.Clear();
                atStart = true;
            }
            else if (c == '$' && (i + 1 == pattern.Length || pattern[i + 1] == '|'))
            {
                // Ends the alternative: nothing follows it but the next one.
            }
            else if (".+*?()[]{}^$".Contains(c, StringComparison.Ordinal))
            {
                return false;
            }
            else
            {
                current.Append(c);
            }
        }

        literals.Add(current.ToString());
        return true;
    }

    /// <summary>
    /// The integers whose decimal text is one of <paramref name="literals"/>: an integer column's text is
    /// its canonical decimal form, so a literal like <c>02</c> or <c>x</c> matches no value and is left out.
    /// </summary>
    internal static long[] CanonicalIntegers(IEnumerable<string> literals) =>
    [
        .. literals
            .Select(l => (Text: l, Ok: long.TryParse(l, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n), Value: n))
            .Where(x => x.Ok && x.Value.ToString(CultureInfo.InvariantCulture) == x.Text)
            .Select(x => x.Value)
            .Distinct(),
    ];
}
