namespace NetObserv.Query.LogQL;

// The LogQL syntax tree. Positions are 0-based character offsets into the query text; errors
// report them as 1-based line and column, as Loki does.

/// <summary>Any LogQL expression.</summary>
internal abstract record LogQLExpr(int Position);

/// <summary><c>=</c>, <c>!=</c>, <c>=~</c>, <c>!~</c>.</summary>
internal enum MatchOperator
{
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

/// <summary><c>==</c> (or <c>=</c>), <c>!=</c>, <c>&gt;</c>, <c>&gt;=</c>, <c>&lt;</c>, <c>&lt;=</c>.</summary>
internal enum CompareOperator
{
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

/// <summary><c>|=</c>, <c>!=</c>, <c>|~</c>, <c>!~</c>.</summary>
internal enum LineFilterOperator
{
    Contains,
    NotContains,
    Matches,
    NotMatches,
}

internal enum RangeOperator
{
    Rate,
    CountOverTime,
    BytesOverTime,
    BytesRate,
    SumOverTime,
    AvgOverTime,
    MaxOverTime,
    MinOverTime,
    QuantileOverTime,
    StddevOverTime,
    StdvarOverTime,
    FirstOverTime,
    LastOverTime,
}

internal enum VectorOperator
{
    Sum,
    Avg,
    Min,
    Max,
    Count,
    TopK,
    BottomK,
}

internal enum BinaryOperator
{
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
}

/// <summary>One matcher of a stream selector: <c>name op "value"</c>.</summary>
internal sealed record StreamMatcher(string Name, MatchOperator Op, string Value, int Position);

/// <summary>A log query: <c>{matchers} | stage | stage ...</c>.</summary>
internal sealed record LogQuery(IReadOnlyList<StreamMatcher> Matchers, IReadOnlyList<PipelineStage> Stages, int Position)
    : LogQLExpr(Position);

/// <summary>A pipeline stage after the stream selector.</summary>
internal abstract record PipelineStage(int Position);

/// <summary><c>|= "a" or "b"</c>: any of the values (for negative operators: none of them).</summary>
internal sealed record LineFilterStage(LineFilterOperator Op, IReadOnlyList<string> Values, int Position)
    : PipelineStage(Position);

/// <summary><c>| json</c>: every field of the line becomes a label.</summary>
internal sealed record JsonStage(int Position) : PipelineStage(Position);

/// <summary><c>| name="v" and n &gt; 3 ...</c>.</summary>
internal sealed record LabelFilterStage(LabelFilter Filter, int Position) : PipelineStage(Position);

/// <summary><c>| drop a, b</c>.</summary>
internal sealed record DropStage(IReadOnlyList<string> Labels, int Position) : PipelineStage(Position);

/// <summary><c>| unwrap Field</c>: the sample value of a range aggregation.</summary>
internal sealed record UnwrapStage(string Label, int Position) : PipelineStage(Position);

/// <summary>A label filter expression.</summary>
internal abstract record LabelFilter(int Position);

internal sealed record StringLabelFilter(string Name, MatchOperator Op, string Value, int Position) : LabelFilter(Position);

internal sealed record NumericLabelFilter(string Name, CompareOperator Op, double Value, int Position)
    : LabelFilter(Position);

/// <summary><c>name=ip("10.0.0.0/8")</c> or <c>!=</c>: an address, CIDR prefix or range (<see cref="IpFilterValue"/>).</summary>
internal sealed record IpLabelFilter(string Name, bool Equal, string Value, int Position) : LabelFilter(Position);

internal sealed record AndLabelFilter(LabelFilter Left, LabelFilter Right, int Position) : LabelFilter(Position);

internal sealed record OrLabelFilter(LabelFilter Left, LabelFilter Right, int Position) : LabelFilter(Position);

/// <summary>A range duration: fixed, or a Grafana variable (<c>$__auto</c>, <c>$__interval</c>, <c>$__range</c>).</summary>
internal sealed record RangeDuration(TimeSpan Fixed, string? Variable);

/// <summary><c>by (a, b)</c> or <c>without (a, b)</c>.</summary>
internal sealed record Grouping(bool Without, IReadOnlyList<string> Labels);

/// <summary>
/// <c>op(log query [range])</c>, with an optional unwrap stage inside the log query;
/// <see cref="Parameter"/> is the φ of <c>quantile_over_time(φ, ...)</c>.
/// </summary>
internal sealed record RangeAggregation(RangeOperator Op, LogQuery Log, RangeDuration Range, Grouping? Grouping,
    int Position) : LogQLExpr(Position)
{
    public double? Parameter { get; init; }
}

/// <summary><c>op by (labels) ([k,] expr)</c>.</summary>
internal sealed record VectorAggregation(VectorOperator Op, LogQLExpr Inner, Grouping? Grouping, double? Parameter,
    int Position) : LogQLExpr(Position);

internal sealed record BinaryOperation(BinaryOperator Op, LogQLExpr Left, LogQLExpr Right, int Position)
    : LogQLExpr(Position);

/// <summary>A scalar number.</summary>
internal sealed record NumberLiteral(double Value, int Position) : LogQLExpr(Position);

/// <summary><c>vector(n)</c>: one series with no labels and the value n at every step.</summary>
internal sealed record VectorLiteral(double Value, int Position) : LogQLExpr(Position);
