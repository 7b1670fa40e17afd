using NetObserv.Query.LogQL;

namespace NetObserv.Query.Planning;

/// <summary>Where a leaf reads: the flow table or one of the rollups.</summary>
internal enum PlanSource
{
    Flows,
    Rollup1m,
    Rollup5m,
    Rollup10m,
    Rollup1h,
}

/// <summary>
/// One range aggregation, possibly with the vector aggregation above it pushed into its grouping:
/// its rows come from the one SQL statement, tagged with <see cref="Id"/>, per sub-bucket of
/// <see cref="SubBucketMs"/> (gcd of step and range). Window k holds sub-buckets
/// (k × <see cref="StepMs"/> - <see cref="RangeMs"/>, k × <see cref="StepMs"/>] in units of the sub-bucket.
/// </summary>
internal sealed record LeafPlan(int Id, RangeOperator Op, bool Unwrapped, long RangeMs, IReadOnlyList<string> Labels,
    PlanSource Source, long SubBucketMs, long StepMs)
{
    /// <summary>The φ of <c>quantile_over_time</c>.</summary>
    public double Quantile { get; init; }
}

/// <summary>The in-memory part of a metric query, evaluated over the leaves' series.</summary>
internal abstract record PlanNode;

internal sealed record ScalarNode(double Value) : PlanNode;

internal sealed record VectorLiteralNode(double Value) : PlanNode;

internal sealed record LeafNode(LeafPlan Leaf) : PlanNode;

internal sealed record AggregateNode(VectorOperator Op, Grouping? Grouping, double? Parameter, PlanNode Inner)
    : PlanNode;

internal sealed record BinaryNode(BinaryOperator Op, PlanNode Left, PlanNode Right) : PlanNode;

/// <summary>
/// A compiled metric query: one SQL statement for the leaves SQL can answer (null when none reads data),
/// whose rows carry <see cref="LabelWidth"/> label columns, the leaves with line filters (evaluated in
/// memory) and the tree above them.
/// </summary>
internal sealed record MetricPlan(string? Sql, SqlParameters Parameters, PlanNode Root, IReadOnlyList<LeafPlan> Leaves,
    int LabelWidth, IReadOnlyList<LineFilterLeaf> LineFilterLeaves);

/// <summary>The evaluation grid: steps at <see cref="StartMs"/> + k × <see cref="StepMs"/>, k in [0, Count).</summary>
internal sealed record EvaluationGrid(long StartMs, long StepMs, int Count)
{
    public long EndMs => StartMs + ((Count - 1) * StepMs);
}
