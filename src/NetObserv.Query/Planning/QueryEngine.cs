using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using NetObserv.Query.Access;
using NetObserv.Query.LogQL;
using Npgsql;

namespace NetObserv.Query.Planning;

/// <summary>
/// Parses LogQL, checks it against the configured limits, hands it to the planner of its kind
/// (<see cref="MetricPlanner"/>, <see cref="LogQueryPlanner"/>, <see cref="LabelValuesPlanner"/>,
/// <see cref="SeriesPlanner"/>, <see cref="StatsPlanner"/>) and the plan to the <see cref="QueryExecutor"/>,
/// then shapes the answer (metric evaluation, streams).
/// </summary>
internal sealed class QueryEngine
{
    private readonly QueryExecutor _executor;
    private readonly QueryOptions _options;

    public QueryEngine(NpgsqlDataSource dataSource, IOptions<QueryOptions> options)
    {
        _options = options.Value;
        _executor = new QueryExecutor(dataSource, _options);
    }

    public QueryOptions Options => _options;

    /// <summary>Most edge buckets of an exact window read by one probe each (<see cref="MetricPlanner"/>).</summary>
    internal int MaxProbedEdges { get; init; } = MetricPlanner.DefaultMaxProbedEdges;

    /// <summary>The stream label names, <c>app</c> first.</summary>
    public IReadOnlyList<string> StreamLabels =>
        [FlowFieldCatalog.AppLabel, .. _options.StreamLabels.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l != FlowFieldCatalog.AppLabel).Distinct(StringComparer.Ordinal)];

    /// <summary>Opens a connection and runs <c>SELECT 1</c> (health checks).</summary>
    public Task PingAsync(CancellationToken cancellationToken) => _executor.PingAsync(cancellationToken);

    public static LogQLExpr Parse(string query)
    {
        try
        {
            return LogQLParser.Parse(query);
        }
        catch (LogQLParseException ex)
        {
            throw new QueryException(ex.Message, ex);
        }
    }

    /// <summary>
    /// Refuses a range [<paramref name="startNs"/>, <paramref name="endNs"/>] longer than
    /// <paramref name="maxRange"/> (<c>Query:MaxQueryRange</c>), computed without overflow.
    /// </summary>
    public static void CheckRange(long startNs, long endNs, TimeSpan maxRange) =>
        CheckRange(TimeSpan.FromTicks((long)(((Int128)endNs - startNs) / 100)), maxRange);

    /// <summary>Refuses a range longer than <paramref name="maxRange"/> (<c>Query:MaxQueryRange</c>).</summary>
    public static void CheckRange(TimeSpan length, TimeSpan maxRange)
    {
        if (length > maxRange)
        {
            throw new QueryException(
                $"the query time range exceeds the limit (query length: {LogQLDuration.Format(length)}, limit: {LogQLDuration.Format(maxRange)}, Query:MaxQueryRange)");
        }
    }

    public async Task<QueryResult> ExecuteAsync(QueryRequest request, LogQLExpr expr, CancellationToken cancellationToken)
    {
        if (!request.Instant && request.EndNs < request.StartNs)
        {
            throw new QueryException("end timestamp must not be before or equal to start time");
        }

        CheckRange(request.StartNs, request.EndNs, _options.MaxQueryRange);

        if (expr is LogQuery log)
        {
            if (request.Instant)
            {
                throw new QueryException("log queries are not supported as an instant query type, please change your query to a range query type");
            }

            return await ExecuteLogAsync(request, log, cancellationToken).ConfigureAwait(false);
        }

        return await ExecuteMetricAsync(request, expr, cancellationToken).ConfigureAwait(false);
    }

    private EvaluationGrid Grid(QueryRequest request)
    {
        var startMs = request.StartNs / 1_000_000;
        var endMs = request.EndNs / 1_000_000;
        if (request.Instant)
        {
            return new EvaluationGrid(endMs, Math.Max(request.StepMs, 1), 1);
        }

        if (request.StepMs <= 0)
        {
            throw new QueryException("zero or negative query resolution step widths are not accepted. Try a positive integer");
        }

        var points = ((endMs - startMs) / request.StepMs) + 1;
        if (points > _options.MaxPoints)
        {
            throw new QueryException(string.Create(CultureInfo.InvariantCulture,
                $"exceeded maximum resolution of {_options.MaxPoints:N0} points per time series. Try increasing the value of the step parameter"));
        }

        return new EvaluationGrid(startMs, request.StepMs, (int)points);
    }

    private async Task<QueryResult> ExecuteMetricAsync(QueryRequest request, LogQLExpr expr, CancellationToken cancellationToken)
    {
        var grid = Grid(request);
        var planner = new MetricPlanner(StreamLabels, grid, (request.EndNs - request.StartNs) / 1_000_000, request.Access,
            (long)_options.MaxQueryRange.TotalMilliseconds, _options.ExactWindows, MaxProbedEdges);
        var plan = planner.Plan(expr);
        var builder = new LeafSeriesBuilder(grid, _options.MaxSeries);
        long rows = 0;
        if (plan.Sql is not null)
        {
            rows += await _executor.ReadMetricAsync(plan, builder, cancellationToken).ConfigureAwait(false);
        }

        if (plan.LineFilterLeaves.Count > 0)
        {
            // Rendering lines is C# work between reads, which the command timeout does not see: the
            // query timeout bounds the whole evaluation.
            var started = Stopwatch.GetTimestamp();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.QueryTimeout);
            var evaluator = new LineFilterEvaluator(_executor.DataSource, _options, grid, request.Access);
            try
            {
                foreach (var leaf in plan.LineFilterLeaves)
                {
                    await evaluator.EvaluateAsync(leaf, builder, timeout.Token).ConfigureAwait(false);
                }

                // A reader that finished (or a short one the evaluator checks only every 1,024 rows) may not have
                // seen the deadline pass, and on a busy machine the timer may not have fired yet: past it, the
                // query timed out all the same.
                if (Stopwatch.GetElapsedTime(started) >= _options.QueryTimeout)
                {
                    await timeout.CancelAsync().ConfigureAwait(false);
                }

                timeout.Token.ThrowIfCancellationRequested();
                rows += evaluator.RowsScanned;
            }
            catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                    $"query timed out after {_options.QueryTimeout} (Query:QueryTimeout)"), ex);
            }
        }

        var leafSeries = builder.Build();
        var value = new MetricEvaluator(grid, leafSeries).Evaluate(plan.Root);
        if (value.Series is null)
        {
            if (request.Instant)
            {
                return new ScalarResult(value.Scalar, grid.StartMs) { RowsProcessed = rows };
            }

            var constant = new double?[grid.Count];
            Array.Fill(constant, value.Scalar);
            value = new MetricEvaluator.Value(0, [new Series(LabelSet.Empty, constant)]);
        }

        var sorted = value.Series!.Where(s => s.Values.Any(v => v is not null))
            .OrderBy(s => s.Labels.Key, StringComparer.Ordinal).ToList();
        if (sorted.Count > _options.MaxSeries)
        {
            throw new QueryException(string.Create(CultureInfo.InvariantCulture,
                $"maximum number of series ({_options.MaxSeries}) reached for a single query"));
        }

        if (request.Instant)
        {
            return new VectorResult(sorted.Select(s => (s.Labels, s.Values[0]!.Value)).ToList(), grid.StartMs)
            {
                RowsProcessed = rows,
            };
        }

        var timestamps = new long[grid.Count];
        for (var k = 0; k < grid.Count; k++)
        {
            timestamps[k] = grid.StartMs + (k * grid.StepMs);
        }

        return new MatrixResult(sorted, timestamps) { RowsProcessed = rows };
    }

    private async Task<StreamsResult> ExecuteLogAsync(QueryRequest request, LogQuery log, CancellationToken cancellationToken)
    {
        var json = log.Stages.Any(s => s is JsonStage);
        var dropped = new HashSet<string>(log.Stages.OfType<DropStage>().SelectMany(d => d.Labels), StringComparer.Ordinal);
        var streamLabels = StreamLabels;
        var streams = new Dictionary<string, LogStream>(StringComparer.Ordinal);
        var scan = new LogScan();
        await foreach (var line in ReadLinesAsync(request, log, scan, cancellationToken).ConfigureAwait(false))
        {
            var labels = Labels(line.Line, json, streamLabels, dropped);
            if (!streams.TryGetValue(labels.Key, out var stream))
            {
                streams[labels.Key] = stream = new LogStream(labels, []);
            }

            stream.Entries.Add(new LogEntry(line.TimestampNs, line.Line));
        }

        return new StreamsResult(streams.Values.OrderBy(s => s.Labels.Key, StringComparer.Ordinal).ToList())
        {
            RowsProcessed = scan.Rows,
        };
    }

    /// <summary>
    /// The flows of a log query in time order (<see cref="QueryRequest.Forward"/>), at most
    /// <see cref="QueryRequest.Limit"/> (bounded by <c>Query:MaxEntries</c>), each as its record and JSON line.
    /// Log queries answered as streams and the flow table share it.
    /// </summary>
    internal IAsyncEnumerable<FlowLine> ReadLinesAsync(QueryRequest request, LogQuery log, LogScan scan,
        CancellationToken cancellationToken) =>
        _executor.ReadLinesAsync(LogQueryPlanner.Plan(request, log, _options), scan, cancellationToken);

    /// <summary>Stream labels of one line (with <c>| json</c>: every scalar field as well).</summary>
    private static LabelSet Labels(string line, bool json, IReadOnlyList<string> streamLabels, HashSet<string> dropped)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        using var doc = JsonDocument.Parse(line);
        foreach (var property in doc.RootElement.EnumerateObject())
        {
            if (property.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
            {
                continue;
            }

            if ((json || streamLabels.Contains(property.Name)) && !dropped.Contains(property.Name))
            {
                pairs.Add(new(property.Name, property.Value.ValueKind == JsonValueKind.String
                    ? property.Value.GetString()!
                    : property.Value.GetRawText()));
            }
        }

        if (!dropped.Contains(FlowFieldCatalog.AppLabel))
        {
            pairs.Add(new(FlowFieldCatalog.AppLabel, FlowFieldCatalog.AppValue));
        }

        return LabelSet.From(pairs);
    }

    /// <summary>Distinct values of a label over [start, end), optionally restricted by a selector (<see cref="LabelValuesPlanner"/>).</summary>
    public async Task<IReadOnlyList<string>> LabelValuesAsync(string name, LogQuery? selector, long startNs, long endNs,
        FlowAccess access, CancellationToken cancellationToken) =>
        LabelValuesPlanner.Constant(name, selector)
        ?? await _executor.StringsAsync(LabelValuesPlanner.Plan(name, selector, startNs, endNs, access), cancellationToken)
            .ConfigureAwait(false);

    /// <summary>Distinct stream label sets matching any of the selectors over [start, end).</summary>
    public async Task<IReadOnlyList<LabelSet>> SeriesAsync(IReadOnlyList<LogQuery> selectors, long startNs, long endNs,
        FlowAccess access, CancellationToken cancellationToken)
    {
        var labels = SeriesPlanner.Labels(StreamLabels);
        var result = new Dictionary<string, LabelSet>(StringComparer.Ordinal);
        foreach (var selector in selectors.DefaultIfEmpty())
        {
            var statement = SeriesPlanner.Plan(labels, selector, startNs, endNs, access, _options.MaxSeries);
            foreach (var row in await _executor.RowsAsync(statement, labels.Count, cancellationToken).ConfigureAwait(false))
            {
                var pairs = new List<KeyValuePair<string, string>> { new(FlowFieldCatalog.AppLabel, FlowFieldCatalog.AppValue) };
                for (var i = 0; i < labels.Count; i++)
                {
                    pairs.Add(new(labels[i], row[i]));
                }

                var set = LabelSet.From(pairs);
                result.TryAdd(set.Key, set);
            }
        }

        if (result.Count > _options.MaxSeries)
        {
            throw new QueryException(string.Create(CultureInfo.InvariantCulture,
                $"maximum number of series ({_options.MaxSeries}) reached for a single query"));
        }

        return result.Values.OrderBy(s => s.Key, StringComparer.Ordinal).ToList();
    }

    /// <summary>Index statistics of a selector over [start, end) (<see cref="StatsPlanner"/>).</summary>
    public Task<IndexStats> StatsAsync(LogQuery selector, long startNs, long endNs, FlowAccess access,
        CancellationToken cancellationToken) =>
        _executor.StatsAsync(StatsPlanner.Counts(StreamLabels, selector, startNs, endNs, access),
            StatsPlanner.Sample(selector, startNs, endNs, access), cancellationToken);
}
