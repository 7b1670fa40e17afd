using System.Text;
using NetObserv.Query.Access;
using NetObserv.Query.LogQL;
using NetObserv.Storage.Rollups;
using NpgsqlTypes;

namespace NetObserv.Query.Planning;

/// <summary>
/// Compiles a metric expression into one SQL statement plus an in-memory tree. Each range
/// aggregation becomes a branch of a <c>UNION ALL</c> that returns, per step k and label set, the
/// partial aggregates (sum, count, min, max) over the window (t - range, t]; a <c>sum</c>, <c>max</c>
/// or <c>min</c> directly above a range aggregation is pushed into that branch's grouping. A branch
/// reads the coarsest rollup (<c>flow_rollup_1h</c>, <c>_10m</c>, <c>_5m</c>, <c>_1m</c>) whose buckets
/// tile step and range when its labels and filters are rollup keys, else <c>flows</c>. A range
/// aggregation with a line filter gets no branch: it is a <see cref="LineFilterLeaf"/>, evaluated in
/// memory by <see cref="LineFilterEvaluator"/>.
/// </summary>
internal sealed class MetricPlanner
{
    private readonly IReadOnlyList<string> _streamLabels;
    private readonly EvaluationGrid _grid;
    private readonly long _queryRangeMs;
    private readonly long _maxRangeMs;
    private readonly FlowAccess _access;
    private readonly SqlParameters _parameters = new();
    private readonly List<LeafPlan> _leaves = [];
    private readonly List<(LeafPlan Leaf, LogQuery Log, string? ValueColumn)> _branches = [];
    private readonly List<LineFilterLeaf> _lineFilterLeaves = [];
    private readonly bool _exactWindows;
    private readonly int _maxProbedEdges;
    private string? _tenantParameter;

    public MetricPlanner(IReadOnlyList<string> streamLabels, EvaluationGrid grid, long queryRangeMs, FlowAccess access,
        long maxRangeMs = long.MaxValue, bool exactWindows = true, int maxProbedEdges = DefaultMaxProbedEdges)
    {
        _exactWindows = exactWindows;
        _maxProbedEdges = maxProbedEdges;
        _streamLabels = streamLabels;
        _grid = grid;
        _queryRangeMs = queryRangeMs;
        _maxRangeMs = maxRangeMs;
        _access = access;
    }

    public MetricPlan Plan(LogQLExpr expr)
    {
        var root = Compile(expr);
        var labelWidth = _branches.Count == 0 ? 0 : _branches.Max(b => b.Leaf.Labels.Count);
        var sql = _branches.Count == 0
            ? null
            : string.Join("\nUNION ALL\n", _branches.Select(b => BranchSql(b.Leaf, b.Log, b.ValueColumn, labelWidth)));
        return new MetricPlan(sql, _parameters, root, _leaves, labelWidth, _lineFilterLeaves);
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

        if (rangeMs > _maxRangeMs)
        {
            throw new QueryException(
                $"the range [{LogQLDuration.Format(TimeSpan.FromMilliseconds(rangeMs))}] of a range aggregation exceeds the limit ({LogQLDuration.Format(TimeSpan.FromMilliseconds(_maxRangeMs))}, Query:MaxQueryRange)");
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
        // The rollups keep sums and counts per bucket, which is what these need; the others read flows.
        var rollupOp = node.Op is RangeOperator.Rate or RangeOperator.CountOverTime or RangeOperator.BytesOverTime
            or RangeOperator.BytesRate or RangeOperator.SumOverTime;
        var source = PlanSource.Flows;
        if (rollupValue && rollupOp && FilterCompiler.OnlyRollupDimensions(filterNames.Concat(labelList)))
        {
            // The coarsest level whose buckets tile the step and the range, and either the start too or, with
            // edge buckets read from flows, sub-buckets at least four buckets wide (edges at most a quarter).
            var subBucket = Gcd(_grid.Count == 1 ? rangeMs : _grid.StepMs, rangeMs);
            for (var i = s_rollups.Length - 1; i >= 0 && source == PlanSource.Flows; i--)
            {
                var width = s_rollups[i].Level.WidthMs;
                if (Aligned(width, rangeMs) || (Tiles(width, rangeMs) && 4 * width <= subBucket))
                {
                    source = s_rollups[i].Source;
                }
            }
        }

        var step = _grid.Count == 1 ? rangeMs : _grid.StepMs;
        var leaf = new LeafPlan(_leaves.Count, node.Op, unwrap is not null, rangeMs, labelList,
            lineFiltered ? PlanSource.Flows : source, Gcd(step, rangeMs), step)
        {
            Quantile = node.Parameter ?? 0,
        };
        _leaves.Add(leaf);
        if (lineFiltered)
        {
            _lineFilterLeaves.Add(new LineFilterLeaf(leaf, log, valueColumn));
            return leaf;
        }

        _branches.Add((leaf, log, valueColumn));
        return leaf;
    }

    /// <summary>The rollup levels by source, finest first.</summary>
    private static readonly (PlanSource Source, RollupLevel Level)[] s_rollups =
    [
        (PlanSource.Rollup1m, RollupLevel.Minute),
        (PlanSource.Rollup5m, RollupLevel.FiveMinutes),
        (PlanSource.Rollup10m, RollupLevel.TenMinutes),
        (PlanSource.Rollup1h, RollupLevel.Hour),
    ];

    /// <summary>
    /// True when every window edge (start + k step - range and start + k step) is a bucket boundary, so the
    /// windows are unions of whole buckets; otherwise a finer level, or flows, answers.
    /// </summary>
    private bool Aligned(long bucketMs, long rangeMs) =>
        Tiles(bucketMs, rangeMs) && (_grid.StartMs % bucketMs == 0 || (!_exactWindows && _grid.Count > 1));

    /// <summary>True when buckets tile the range and the step (window edges are a fixed offset from bucket boundaries).</summary>
    private bool Tiles(long bucketMs, long rangeMs) =>
        rangeMs % bucketMs == 0 && (_grid.Count == 1 || _grid.StepMs % bucketMs == 0);

    /// <summary>
    /// The SQL of one leaf. Every branch returns the same columns: <c>leaf</c>, <c>j</c> (the
    /// sub-bucket of width w = gcd(step, range) holding the rows: t in (start + (j-1)w, start + jw]),
    /// the label columns <c>g0</c>..<c>g(M-1)</c> (raw values, NULL for absent; padded with NULL to the
    /// widest leaf), and partial aggregates <c>s</c>, <c>c</c>, <c>mn</c>, <c>mx</c>, and where the range
    /// aggregation needs them (<see cref="SamplePartial.Needs"/>) <c>ss</c> (sum of squares), <c>et</c>/<c>ev</c>
    /// (time and value of the first or last sample) and <c>vs</c> (the values, for quantiles). A (j, labels) pair
    /// may come in several rows; the reader adds them up and spreads each sub-bucket over the windows
    /// (t - range, t] that hold it.
    /// </summary>
    private string BranchSql(LeafPlan leaf, LogQuery log, string? valueColumn, int labelWidth)
    {
        var p = _parameters;
        _tenantParameter ??= FilterCompiler.Access(_access, p);
        var w = leaf.SubBucketMs;
        var lo = _grid.StartMs - leaf.RangeMs;
        var hi = _grid.EndMs;

        // Label columns: grouped on raw (NULL and '' are merged by the reader, which costs less than
        // coalescing every row).
        var labelColumns = new StringBuilder();
        var groupColumns = new StringBuilder();
        for (var i = 0; i < labelWidth; i++)
        {
            var column = "g" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (i >= leaf.Labels.Count)
            {
                labelColumns.Append(", NULL::text AS ").Append(column);
            }
            else if (FilterCompiler.ConstantValue(leaf.Labels[i]) is { } constant)
            {
                labelColumns.Append(", ").Append(p.Add(constant, NpgsqlDbType.Text)).Append("::text AS ").Append(column);
            }
            else
            {
                FlowFieldCatalog.TryGet(leaf.Labels[i], out var field);
                labelColumns.Append(", ").Append(field.TextSql).Append(" AS ").Append(column);
                groupColumns.Append(", ").Append(field.TextSql);
            }
        }

        var where = new StringBuilder(FilterCompiler.Where(log, p));

        var id = p.Add(leaf.Id, NpgsqlDbType.Integer);
        var wParam = p.Add((double)w, NpgsqlDbType.Double);
        var startMs = p.Add((double)_grid.StartMs, NpgsqlDbType.Double);
        if (leaf.Source == PlanSource.Flows)
        {
            if (valueColumn is not null)
            {
                where.Append(" AND ").Append(valueColumn).Append(" IS NOT NULL");
            }

            var value = valueColumn is null ? "NULL::float8" : valueColumn + "::float8";
            var (squares, first, last, values) = SamplePartial.Needs(leaf.Op);
            var j = $"ceil((date_part('epoch', time_end) * 1000 - {startMs}) / {wParam})::bigint";
            var a = leaf.StepMs / w;
            var b = leaf.RangeMs / w;
            if (b < a)
            {
                // A range shorter than the step (the console's 1m rate at a 5m step) leaves gaps between windows:
                // only flows in a window are read on (window k holds sub-buckets k a - b < j <= k a).
                var aParam = p.Add(a, NpgsqlDbType.Bigint);
                where.Append($" AND mod(mod({j} + {p.Add(b - 1, NpgsqlDbType.Bigint)}, {aParam}) + {aParam}, {aParam}) < {p.Add(b, NpgsqlDbType.Bigint)}");
            }

            return $"""
                SELECT {id} AS leaf, {j} AS j{labelColumns},
                       sum({value}) AS s, count(*)::float8 AS c, min({value}) AS mn, max({value}) AS mx,
                       {(squares ? $"sum({value} * {value})" : "NULL::float8")} AS ss,
                       {(first ? "min(date_part('epoch', time_end) * 1000)" : last ? "max(date_part('epoch', time_end) * 1000)" : "NULL::float8")} AS et,
                       {(first ? $"(array_agg({value} ORDER BY time_end))[1]" : last ? $"(array_agg({value} ORDER BY time_end DESC))[1]" : "NULL::float8")} AS ev,
                       {(values ? $"array_agg({value})" : "NULL::float8[]")} AS vs
                FROM flows
                WHERE {_tenantParameter}
                  AND time_end > {p.Add(ToTime(lo), NpgsqlDbType.TimestampTz)}
                  AND time_end <= {p.Add(ToTime(hi), NpgsqlDbType.TimestampTz)}{where}
                GROUP BY 2{groupColumns}
                """;
        }

        // A rollup row is grouped on its raw bucket (cheaper to hash than a computed sub-bucket); j is
        // computed once per group. A bucket [b, b + width) counts in the sub-bucket holding its end (windows
        // start and end on bucket boundaries: Aligned).
        // Sums are float8 (exact up to 2^53, far cheaper than numeric); min and max are never needed
        // here (min_over_time and max_over_time read flows).
        var level = Array.Find(s_rollups, r => r.Source == leaf.Source).Level;
        var width = p.Add((double)level.WidthMs, NpgsqlDbType.Double);
        var rollupColumn = FlowFieldCatalog.RollupValueColumn(valueColumn);

        // A flow whose time_end is exactly a bucket's start b sits in [b, b + width) but belongs to the
        // window ending at b: a second branch reads those flows from flows (an index probe per boundary)
        // and moves each from the sub-bucket of b + width (sign -1) to the sub-bucket of b (sign +1), so the
        // answer equals the flows path.
        // When start is not on a bucket boundary, the buckets holding a sub-bucket edge (start + j w, all
        // starting at start - offset + j w) are split between two sub-buckets: the rollup branch skips them
        // and a third branch reads their flows (an index range scan each: OFFSET 0 keeps the planner from
        // flattening the lateral subquery into a join over every flow), so every flow lands in its exact
        // sub-bucket.
        var offset = _exactWindows ? ((_grid.StartMs % level.WidthMs) + level.WidthMs) % level.WidthMs : 0;
        var edgeBase = _grid.StartMs - offset;

        // With exact windows only a bucket starting on a sub-bucket edge (start + j w) holds flows of two
        // sub-buckets: inside a sub-bucket, a flow at a bucket's start belongs where the bucket does, and with an
        // unaligned start no bucket starts on an edge (the edge buckets are read from flows below). Shifted
        // windows correct every bucket start.
        var boundaries = new List<DateTime>();
        var boundaryStep = _exactWindows ? w : level.WidthMs;
        var boundaryBase = _exactWindows ? _grid.StartMs : 0;
        if (offset == 0)
        {
            for (var b = boundaryBase + (LeafSeriesBuilder.CeilDiv(lo - level.WidthMs + 1 - boundaryBase, boundaryStep) * boundaryStep);
                b <= hi - level.WidthMs; b += boundaryStep)
            {
                boundaries.Add(ToTime(b));
            }
        }

        var skipEdges = "";
        var edgeBranch = "";
        if (offset != 0)
        {
            var edgeLows = new List<DateTime>();
            var edgeHighs = new List<DateTime>();
            for (var b = edgeBase + (LeafSeriesBuilder.CeilDiv(lo - level.WidthMs + 1 - edgeBase, w) * w); b <= hi; b += w)
            {
                edgeLows.Add(ToTime(b));
                edgeHighs.Add(ToTime(b + level.WidthMs));
            }

            skipEdges = $" AND ((date_part('epoch', bucket) * 1000)::bigint - {p.Add(edgeBase, NpgsqlDbType.Bigint)}) % {p.Add(w, NpgsqlDbType.Bigint)} <> 0";
            var edgeValue = valueColumn is null ? "NULL::float8" : $"sum({valueColumn}::float8)";
            var edgeNotNull = valueColumn is null ? "" : $" AND {valueColumn} IS NOT NULL";

            // A few edge buckets: an index range scan each (OFFSET 0 keeps the planner from flattening the
            // lateral subquery into a join over every flow). Many: one scan of the range keeping the flows of
            // edge buckets, which reads each block once (a block range of a sparse table, or a compressed
            // TimescaleDB batch, spans many edge buckets).
            var edgeFrom = edgeLows.Count <= _maxProbedEdges
                ? $"""
                    unnest({p.Add(edgeLows.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)}::timestamptz[],
                                {p.Add(edgeHighs.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)}::timestamptz[]) AS edge(edge_lo, edge_hi)
                    CROSS JOIN LATERAL (
                        SELECT * FROM flows
                        WHERE {_tenantParameter}
                          AND time_end >= edge.edge_lo AND time_end < edge.edge_hi
                          AND time_end > {p.Add(ToTime(lo), NpgsqlDbType.TimestampTz)}
                          AND time_end <= {p.Add(ToTime(hi), NpgsqlDbType.TimestampTz)}{where}{edgeNotNull}
                        OFFSET 0) AS f
                    """
                : $"""
                    flows
                    WHERE {_tenantParameter}
                      AND time_end > {p.Add(ToTime(lo), NpgsqlDbType.TimestampTz)}
                      AND time_end <= {p.Add(ToTime(hi), NpgsqlDbType.TimestampTz)}
                      AND ((floor(date_part('epoch', time_end) * 1000)::bigint - {p.Add(edgeBase, NpgsqlDbType.Bigint)}) % {p.Add(w, NpgsqlDbType.Bigint)}
                           + {p.Add(w, NpgsqlDbType.Bigint)}) % {p.Add(w, NpgsqlDbType.Bigint)} < {p.Add(level.WidthMs, NpgsqlDbType.Bigint)}{where}{edgeNotNull}
                    """;
            edgeBranch = $"""

                UNION ALL
                SELECT {id} AS leaf, ceil((date_part('epoch', time_end) * 1000 - {startMs}) / {wParam})::bigint AS j{labelColumns},
                       {edgeValue} AS s, count(*)::float8 AS c,
                       NULL::float8 AS mn, NULL::float8 AS mx, NULL::float8 AS ss, NULL::float8 AS et, NULL::float8 AS ev,
                       NULL::float8[] AS vs
                FROM {edgeFrom}
                GROUP BY 2{groupColumns}
                """;
        }

        var signedSum = valueColumn is null ? "NULL::float8" : $"sum(x.sign * {valueColumn}::float8)";
        var valueNotNull = valueColumn is null ? "" : $" AND {valueColumn} IS NOT NULL";
        var boundaryBranch = boundaries.Count == 0 ? "" : $"""
            UNION ALL
            SELECT {id} AS leaf, ceil((date_part('epoch', time_end) * 1000 + x.shift - {startMs}) / {wParam})::bigint AS j{labelColumns},
                   {signedSum} AS s, sum(x.sign) AS c,
                   NULL::float8 AS mn, NULL::float8 AS mx, NULL::float8 AS ss, NULL::float8 AS et, NULL::float8 AS ev,
                   NULL::float8[] AS vs
            FROM flows CROSS JOIN (VALUES (0::float8, 1::float8), ({width}, -1::float8)) AS x(shift, sign)
            WHERE {_tenantParameter}
              AND time_end = ANY({p.Add(boundaries.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)}){where}{valueNotNull}
            GROUP BY 2{groupColumns}
            """;
        // With an unaligned start, a coarser level's bucket that lies inside one sub-bucket (its offset r from
        // the sub-bucket edges: r + its width <= w) answers for the finer buckets it holds: fewer rows to
        // aggregate (10-minute windows: one 5-minute bucket and four minutes instead of nine minutes).
        RollupLevel? inner = null;
        for (var i = s_rollups.Length - 1; i >= 0 && offset != 0 && inner is null; i--)
        {
            var candidate = s_rollups[i].Level;
            if (candidate.WidthMs > level.WidthMs && candidate.WidthMs % level.WidthMs == 0 && 2 * candidate.WidthMs <= w)
            {
                inner = candidate;
            }
        }

        var skipInner = "";
        var innerBranch = "";
        if (inner is not null)
        {
            string InnerTest(string bucketStartMs) =>
                $"((({bucketStartMs}) - {p.Add(_grid.StartMs, NpgsqlDbType.Bigint)}) % {p.Add(w, NpgsqlDbType.Bigint)} + {p.Add(w, NpgsqlDbType.Bigint)}) % {p.Add(w, NpgsqlDbType.Bigint)} + {p.Add(inner.WidthMs, NpgsqlDbType.Bigint)} <= {p.Add(w, NpgsqlDbType.Bigint)}";
            const string BucketMs = "(date_part('epoch', bucket) * 1000)::bigint";
            var innerWidth = p.Add(inner.WidthMs, NpgsqlDbType.Bigint);
            skipInner = $" AND NOT ({InnerTest($"{BucketMs} - {BucketMs} % {innerWidth}")})";
            innerBranch = "\nUNION ALL\n" + RollupSelect(inner, " AND " + InnerTest(BucketMs));
        }

        return RollupSelect(level, skipEdges + skipInner) + (boundaryBranch.Length == 0 ? "" : "\n") + boundaryBranch
            + innerBranch + edgeBranch;

        string RollupSelect(RollupLevel rollup, string filter)
        {
            var bucketWidth = p.Add((double)rollup.WidthMs, NpgsqlDbType.Double);
            return $"""
                SELECT {id} AS leaf, ceil((date_part('epoch', bucket) * 1000 + {bucketWidth} - {startMs}) / {wParam})::bigint AS j{labelColumns},
                       {(rollupColumn is null ? "NULL::float8" : "sum(" + rollupColumn + "::float8)")} AS s, sum(flows::float8) AS c,
                       NULL::float8 AS mn, NULL::float8 AS mx, NULL::float8 AS ss, NULL::float8 AS et, NULL::float8 AS ev,
                       NULL::float8[] AS vs
                FROM {rollup.Table}
                WHERE {_tenantParameter}
                  AND bucket > {p.Add(ToTime(lo - rollup.WidthMs), NpgsqlDbType.TimestampTz)}
                  AND bucket <= {p.Add(ToTime(hi - rollup.WidthMs), NpgsqlDbType.TimestampTz)}{where}{filter}
                GROUP BY bucket{groupColumns}
                """;
        }
    }

    /// <summary>Most edge buckets read by one index range scan each; past it, one scan of the range keeps them.</summary>
    internal const int DefaultMaxProbedEdges = 16;

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
