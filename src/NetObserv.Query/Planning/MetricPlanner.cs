using System.Text;
using NetObserv.Query.LogQL;
using NpgsqlTypes;

namespace NetObserv.Query.Planning;

/// <summary>
/// Compiles a metric expression into one SQL statement plus an in-memory tree. Each range
/// aggregation becomes a branch of a <c>UNION ALL</c> that returns, per step k and label set, the
/// partial aggregates (sum, count, min, max) over the window (t - range, t]; a <c>sum</c>, <c>max</c>
/// or <c>min</c> directly above a range aggregation is pushed into that branch's grouping. A branch
/// reads <c>flow_rollup_1h</c> or <c>flow_rollup_1m</c> when its labels and filters are rollup keys and
/// step and range are whole buckets, else <c>flows</c>. A range aggregation with a line filter gets no
/// branch: it is a <see cref="LineFilterLeaf"/>, evaluated in memory by <see cref="LineFilterEvaluator"/>.
/// </summary>
internal sealed class MetricPlanner
{
    private readonly IReadOnlyList<string> _streamLabels;
    private readonly EvaluationGrid _grid;
    private readonly long _queryRangeMs;
    private readonly string[] _tenants;
    private readonly SqlParameters _parameters = new();
    private readonly List<LeafPlan> _leaves = [];
    private readonly List<string> _branches = [];
    private readonly List<LineFilterLeaf> _lineFilterLeaves = [];
    private string? _tenantParameter;

    public MetricPlanner(IReadOnlyList<string> streamLabels, EvaluationGrid grid, long queryRangeMs, string[] tenants)
    {
        _streamLabels = streamLabels;
        _grid = grid;
        _queryRangeMs = queryRangeMs;
        _tenants = tenants;
    }

    public MetricPlan Plan(LogQLExpr expr)
    {
        var root = Compile(expr);
        var sql = _branches.Count == 0 ? null : string.Join("\nUNION ALL\n", _branches);
        return new MetricPlan(sql, _parameters, root, _leaves, _lineFilterLeaves);
    }

    private PlanNode Compile(LogQLExpr expr)
    {
        switch (expr)
        {
            case NumberLiteral n:
                return new ScalarNode(n.Value);
            case VectorLiteral v:
                return new VectorLiteralNode(v.Value);
            case BinaryOperation b:
                return new BinaryNode(b.Op, Compile(b.Left), Compile(b.Right));
            case RangeAggregation r:
                return new LeafNode(AddLeaf(r, r.Grouping));
            case VectorAggregation a when a.Inner is RangeAggregation r && r.Grouping is null && CanPush(a.Op, r.Op):
                return new LeafNode(AddLeaf(r, a.Grouping ?? new Grouping(false, [])));
            case VectorAggregation a:
                return new AggregateNode(a.Op, a.Grouping, a.Parameter, Compile(a.Inner));
            case LogQuery:
                throw new QueryException("a log query is not a metric expression");
            default:
                throw new QueryException("unsupported expression");
        }
    }

    private static bool CanPush(VectorOperator outer, RangeOperator inner) => outer switch
    {
        VectorOperator.Sum => inner is RangeOperator.Rate or RangeOperator.CountOverTime or RangeOperator.BytesOverTime
            or RangeOperator.BytesRate or RangeOperator.SumOverTime,
        VectorOperator.Max => inner is RangeOperator.MaxOverTime,
        VectorOperator.Min => inner is RangeOperator.MinOverTime,
        _ => false,
    };

    private long ResolveRange(RangeDuration range) => range.Variable switch
    {
        null => (long)range.Fixed.TotalMilliseconds,
        "__range" => Math.Max(_queryRangeMs, _grid.StepMs),
        _ => _grid.StepMs,
    };

    private LeafPlan AddLeaf(RangeAggregation node, Grouping? grouping)
    {
        var rangeMs = ResolveRange(node.Range);
        if (rangeMs <= 0)
        {
            throw new QueryException("the range of a range aggregation must be positive");
        }

        var log = node.Log;
        var lineFiltered = log.Stages.OfType<LineFilterStage>().Any();

        var dropped = new HashSet<string>(log.Stages.OfType<DropStage>().SelectMany(d => d.Labels), StringComparer.Ordinal);
        var unwrap = log.Stages.OfType<UnwrapStage>().FirstOrDefault();
        FlowField? unwrapField = null;
        if (unwrap is not null)
        {
            if (!FlowFieldCatalog.TryGet(unwrap.Label, out var f) || !f.IsNumeric)
            {
                throw new QueryException($"unwrap: {unwrap.Label} is not a numeric field");
            }

            unwrapField = f;
        }

        // The label set of the leaf's series.
        var baseLabels = new List<string> { FlowFieldCatalog.AppLabel };
        baseLabels.AddRange(_streamLabels);
        IEnumerable<string> labels = grouping switch
        {
            null => baseLabels,
            { Without: true } => baseLabels.Where(l => !grouping.Labels.Contains(l)),
            _ => grouping.Labels,
        };
        var labelList = labels.Distinct(StringComparer.Ordinal).Where(l => !dropped.Contains(l)).ToList();

        // Filters (stream selector, label filters).
        var filterNames = log.Matchers.Select(m => m.Name)
            .Concat(log.Stages.OfType<LabelFilterStage>().SelectMany(s => FilterCompiler.FilterNames(s.Filter)));
        var valueColumn = node.Op switch
        {
            RangeOperator.BytesOverTime or RangeOperator.BytesRate => "bytes",
            _ => unwrapField?.Sql,
        };
        var rollupValue = valueColumn is null || FlowFieldCatalog.RollupValueColumn(valueColumn) is not null;
        var rollupOp = node.Op is not (RangeOperator.AvgOverTime or RangeOperator.MaxOverTime or RangeOperator.MinOverTime);
        var source = PlanSource.Flows;
        if (rollupValue && rollupOp && FilterCompiler.OnlyRollupDimensions(filterNames.Concat(labelList)))
        {
            source = Aligned(3_600_000, rangeMs) ? PlanSource.Rollup1h
                : Aligned(60_000, rangeMs) ? PlanSource.Rollup1m
                : PlanSource.Flows;
        }

        var leaf = new LeafPlan(_leaves.Count, node.Op, unwrap is not null, rangeMs, labelList,
            lineFiltered ? PlanSource.Flows : source);
        _leaves.Add(leaf);
        if (lineFiltered)
        {
            _lineFilterLeaves.Add(new LineFilterLeaf(leaf, log, valueColumn));
            return leaf;
        }

        _branches.Add(BranchSql(leaf, log, valueColumn));
        return leaf;
    }

    private bool Aligned(long bucketMs, long rangeMs) =>
        rangeMs % bucketMs == 0 && (_grid.Count == 1 ? _grid.StartMs % bucketMs == 0 : _grid.StepMs % bucketMs == 0);

    private string BranchSql(LeafPlan leaf, LogQuery log, string? valueColumn)
    {
        var p = _parameters;
        _tenantParameter ??= FilterCompiler.Tenant(_tenants, p);
        // Sub-buckets of width w = gcd(step, range): window k is sub-buckets (k*a - b, k*a].
        var step = _grid.Count == 1 ? leaf.RangeMs : _grid.StepMs;
        var w = Gcd(step, leaf.RangeMs);
        var a = step / w;
        var b = leaf.RangeMs / w;
        var lo = _grid.StartMs - leaf.RangeMs;
        var hi = _grid.EndMs;

        // Label columns g0..gN: grouped on as plain columns, packed into an array only at the end.
        var labelColumns = new StringBuilder();
        var groupColumns = new StringBuilder();
        var arrayColumns = new StringBuilder("ARRAY[");
        for (var i = 0; i < leaf.Labels.Count; i++)
        {
            var name = leaf.Labels[i];
            var column = "g" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (FilterCompiler.ConstantValue(name) is { } constant)
            {
                labelColumns.Append(p.Add(constant, NpgsqlDbType.Text)).Append("::text AS ").Append(column).Append(", ");
            }
            else
            {
                FlowFieldCatalog.TryGet(name, out var field);
                labelColumns.Append("coalesce(").Append(field.TextSql).Append(", '') AS ").Append(column).Append(", ");
            }

            groupColumns.Append(", ").Append(column);
            arrayColumns.Append(i > 0 ? ", " : "").Append(column);
        }

        arrayColumns.Append("]::text[]");

        var where = new StringBuilder();
        foreach (var m in log.Matchers)
        {
            where.Append(" AND ").Append(FilterCompiler.Matcher(m.Name, m.Op, m.Value, p));
        }

        foreach (var stage in log.Stages.OfType<LabelFilterStage>())
        {
            where.Append(" AND ").Append(FilterCompiler.Filter(stage.Filter, p));
        }

        var wParam = p.Add((double)w, NpgsqlDbType.Double);
        var startMs = p.Add((double)_grid.StartMs, NpgsqlDbType.Double);
        string inner;
        if (leaf.Source == PlanSource.Flows)
        {
            if (valueColumn is not null)
            {
                where.Append(" AND ").Append(valueColumn).Append(" IS NOT NULL");
            }

            inner = $"""
                SELECT ceil((date_part('epoch', time_end) * 1000 - {startMs}) / {wParam})::bigint AS j,
                       {labelColumns}{(valueColumn is null ? "NULL::float8" : valueColumn + "::float8")} AS v,
                       1::bigint AS cnt
                FROM flows
                WHERE {_tenantParameter}
                  AND time_end > {p.Add(ToTime(lo), NpgsqlDbType.TimestampTz)}
                  AND time_end <= {p.Add(ToTime(hi), NpgsqlDbType.TimestampTz)}{where}
                """;
        }
        else
        {
            var bucketMs = leaf.Source == PlanSource.Rollup1h ? 3_600_000L : 60_000L;
            var table = leaf.Source == PlanSource.Rollup1h ? "flow_rollup_1h" : "flow_rollup_1m";
            var rollupColumn = FlowFieldCatalog.RollupValueColumn(valueColumn);
            var width = p.Add((double)bucketMs, NpgsqlDbType.Double);
            // A bucket [b, b + width) counts in the window holding its end.
            inner = $"""
                SELECT ceil((date_part('epoch', bucket) * 1000 + {width} - {startMs}) / {wParam})::bigint AS j,
                       {labelColumns}{(rollupColumn is null ? "NULL::float8" : rollupColumn + "::float8")} AS v,
                       flows AS cnt
                FROM {table}
                WHERE {_tenantParameter}
                  AND bucket > {p.Add(ToTime(lo - bucketMs), NpgsqlDbType.TimestampTz)}
                  AND bucket <= {p.Add(ToTime(hi - bucketMs), NpgsqlDbType.TimestampTz)}{where}
                """;
        }

        var partial = $"""
            SELECT j{groupColumns}, sum(v) AS s, sum(cnt)::float8 AS c, min(v) AS mn, max(v) AS mx
            FROM ({inner}) r
            GROUP BY j{groupColumns}
            """;
        var id = p.Add(leaf.Id, NpgsqlDbType.Integer);
        if (a == 1 && b == 1)
        {
            return $"""
                SELECT {id} AS leaf, j AS k, {arrayColumns} AS labels, s, c, mn, mx
                FROM ({partial}) pb
                """;
        }

        var aParam = p.Add(a, NpgsqlDbType.Bigint);
        var bParam = p.Add(b, NpgsqlDbType.Bigint);
        var last = p.Add((long)(_grid.Count - 1), NpgsqlDbType.Bigint);
        return $"""
            SELECT {id} AS leaf, k, {arrayColumns} AS labels, sum(s) AS s, sum(c) AS c, min(mn) AS mn, max(mx) AS mx
            FROM ({partial}) pb
            CROSS JOIN LATERAL generate_series(
                greatest(ceil(j::numeric / {aParam}), 0)::bigint,
                least(floor((j + {bParam} - 1)::numeric / {aParam}), {last})::bigint) AS k
            GROUP BY k{groupColumns}
            """;
    }

    private static DateTime ToTime(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime;

    private static long Gcd(long x, long y)
    {
        while (y != 0)
        {
            (x, y) = (y, x % y);
        }

        return x;
    }
}
