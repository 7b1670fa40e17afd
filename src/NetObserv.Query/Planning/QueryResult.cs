namespace NetObserv.Query.Planning;

/// <summary>What a query returns, in the shape of Loki's <c>resultType</c>.</summary>
internal abstract record QueryResult
{
    /// <summary>Rows the query read: log lines, flows aggregated by SQL, candidate rows of line-filtered leaves.</summary>
    public long RowsProcessed { get; init; }
}

/// <summary>One log entry: timestamp (ns since the epoch) and line.</summary>
internal readonly record struct LogEntry(long TimestampNs, string Line);

internal sealed record LogStream(LabelSet Labels, List<LogEntry> Entries);

/// <summary><c>streams</c>.</summary>
internal sealed record StreamsResult(IReadOnlyList<LogStream> Streams) : QueryResult;

/// <summary>A series: labels and one optional value per step.</summary>
internal sealed record Series(LabelSet Labels, double?[] Values);

/// <summary><c>matrix</c>: series over the step timestamps (Unix milliseconds).</summary>
internal sealed record MatrixResult(IReadOnlyList<Series> Series, long[] TimestampsMs) : QueryResult;

/// <summary><c>vector</c>: one sample per series at <see cref="TimestampMs"/>.</summary>
internal sealed record VectorResult(IReadOnlyList<(LabelSet Labels, double Value)> Samples, long TimestampMs)
    : QueryResult;

/// <summary><c>scalar</c>.</summary>
internal sealed record ScalarResult(double Value, long TimestampMs) : QueryResult;
