using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using NetObserv.Flows;
using NetObserv.Query.Access;
using NetObserv.Query.LogQL;
using Npgsql;
using NpgsqlTypes;

namespace NetObserv.Query.Planning;

/// <summary>Parses, plans and runs LogQL against PostgreSQL, within the configured limits.</summary>
internal sealed class QueryEngine
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly QueryOptions _options;

    public QueryEngine(NpgsqlDataSource dataSource, IOptions<QueryOptions> options)
    {
        _dataSource = dataSource;
        _options = options.Value;
    }

    public QueryOptions Options => _options;

    /// <summary>The stream label names, <c>app</c> first.</summary>
    public IReadOnlyList<string> StreamLabels =>
        [FlowFieldCatalog.AppLabel, .. _options.StreamLabels.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l != FlowFieldCatalog.AppLabel).Distinct(StringComparer.Ordinal)];

    /// <summary>Opens a connection and runs <c>SELECT 1</c> (health checks).</summary>
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

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
            (long)_options.MaxQueryRange.TotalMilliseconds, _options.ExactWindows);
        var plan = planner.Plan(expr);
        var builder = new LeafSeriesBuilder(grid, _options.MaxSeries);
        long rows = 0;
        if (plan.Sql is not null)
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = plan.Parameters.Command(plan.Sql, connection, _options.QueryTimeout);

            // Columns: leaf, j, g0..g(LabelWidth-1), s, c, mn, mx, ss, et, ev, vs.
            var sumColumn = 2 + plan.LabelWidth;
            var partial = new SamplePartial();
            long quantileSamples = 0;
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var leaf = plan.Leaves[reader.GetInt32(0)];
                var labelValues = new string[leaf.Labels.Count];
                for (var i = 0; i < labelValues.Length; i++)
                {
                    labelValues[i] = reader.IsDBNull(2 + i) ? "" : reader.GetString(2 + i);
                }

                var c = reader.IsDBNull(sumColumn + 1) ? 0 : reader.GetDouble(sumColumn + 1);
                partial.Sum = reader.IsDBNull(sumColumn) ? 0 : reader.GetDouble(sumColumn);
                partial.Count = c;
                partial.Min = reader.IsDBNull(sumColumn + 2) ? null : reader.GetDouble(sumColumn + 2);
                partial.Max = reader.IsDBNull(sumColumn + 3) ? null : reader.GetDouble(sumColumn + 3);
                partial.SumSquares = reader.IsDBNull(sumColumn + 4) ? 0 : reader.GetDouble(sumColumn + 4);
                var edgeTime = reader.IsDBNull(sumColumn + 5) ? (double?)null : reader.GetDouble(sumColumn + 5);
                var edgeValue = reader.IsDBNull(sumColumn + 6) ? 0 : reader.GetDouble(sumColumn + 6);
                partial.FirstTime = edgeTime ?? double.PositiveInfinity;
                partial.LastTime = edgeTime ?? double.NegativeInfinity;
                partial.FirstValue = partial.LastValue = edgeValue;
                partial.Values = reader.IsDBNull(sumColumn + 7) ? null : [.. reader.GetFieldValue<double[]>(sumColumn + 7)];
                if (partial.Values is { } samples && (quantileSamples += samples.Count) > _options.MaxLineFilterRows)
                {
                    // quantile_over_time holds its samples in memory: the bound of in-memory evaluation applies.
                    throw new QueryException(string.Create(CultureInfo.InvariantCulture,
                        $"quantile_over_time may read at most {_options.MaxLineFilterRows:N0} samples (Query:MaxLineFilterRows) and this query reads more; narrow the selector or shorten the range"));
                }

                if (builder.Add(leaf, reader.GetInt64(1), labelValues, partial))
                {
                    rows += (long)c;
                }
            }
        }

        if (plan.LineFilterLeaves.Count > 0)
        {
            // Rendering lines is C# work between reads, which the command timeout does not see: the
            // query timeout bounds the whole evaluation.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.QueryTimeout);
            var evaluator = new LineFilterEvaluator(_dataSource, _options, grid, request.Access);
            try
            {
                foreach (var leaf in plan.LineFilterLeaves)
                {
                    await evaluator.EvaluateAsync(leaf, builder, timeout.Token).ConfigureAwait(false);
                }

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

    /// <summary>Rows a <see cref="ReadLinesAsync"/> read from the database (lines kept and filtered out).</summary>
    internal sealed class LogScan
    {
        public long Rows { get; set; }
    }

    /// <summary>
    /// The flows of a log query in time order (<see cref="QueryRequest.Forward"/>), at most
    /// <see cref="QueryRequest.Limit"/> (bounded by <c>Query:MaxEntries</c>), each as its record and JSON line.
    /// Log queries answered as streams and the flow table share it.
    /// </summary>
    internal async IAsyncEnumerable<FlowLine> ReadLinesAsync(QueryRequest request, LogQuery log, LogScan scan,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var limit = request.Limit;
        if (limit > _options.MaxEntries)
        {
            throw new QueryException(string.Create(CultureInfo.InvariantCulture,
                $"max entries limit per query exceeded, limit > max_entries_limit_per_query ({limit} > {_options.MaxEntries})"));
        }

        var p = new SqlParameters();
        var where = FilterCompiler.Where(log, p);

        if (log.Stages.OfType<UnwrapStage>().FirstOrDefault() is { } unwrap)
        {
            throw new QueryException($"unwrap ({unwrap.Label}) is only valid inside a range aggregation");
        }

        var lineFilter = LineFilter.Compile(log.Stages);
        var sql = $"""
            SELECT {FlowRowReader.Columns}
            FROM flows
            WHERE {FilterCompiler.Access(request.Access, p)}
              AND time_end >= {p.Add(FromNs(request.StartNs), NpgsqlDbType.TimestampTz)}
              AND time_end < {p.Add(FromNs(request.EndNs), NpgsqlDbType.TimestampTz)}{where}
            ORDER BY time_end {(request.Forward ? "ASC" : "DESC")}
            LIMIT {p.Add(lineFilter.IsEmpty ? limit : _options.MaxLineFilterRows + 1, NpgsqlDbType.Bigint)}
            """;

        var count = 0;
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = p.Command(sql, connection, _options.QueryTimeout);

        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (count < limit && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            // Without line filters SQL stops at the limit; with them, at the bound of metric queries.
            if (++scan.Rows > _options.MaxLineFilterRows && !lineFilter.IsEmpty)
            {
                throw LineFilterEvaluator.TooManyRows(_options, "log queries");
            }

            var record = FlowRowReader.Read(reader, out var ts);
            var line = FlowRecordJson.ToJson(record);
            if (!lineFilter.Passes(line))
            {
                continue;
            }

            count++;
            yield return new FlowLine(record, ts, line);
        }
    }

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

    private static DateTime FromNs(long ns) => DateTime.UnixEpoch.AddTicks(ns / 100);

    /// <summary>
    /// Distinct values of a label over [start, end), optionally restricted by a selector. Rollup keys
    /// read <c>flow_rollup_1h</c> (hours overlapping the range) when the selector allows it.
    /// </summary>
    public async Task<IReadOnlyList<string>> LabelValuesAsync(string name, LogQuery? selector, long startNs, long endNs,
        FlowAccess access, CancellationToken cancellationToken)
    {
        if (FilterCompiler.ConstantValue(name) is { } constant)
        {
            if (constant.Length == 0)
            {
                return [];
            }

            return selector is null || SelectorAccepts(selector, name, constant) ? [constant] : [];
        }

        FlowFieldCatalog.TryGet(name, out var field);
        var p = new SqlParameters();
        var where = FilterCompiler.Where(selector, p);
        var rollup = field.IsRollupDimension && (selector is null || (FilterCompiler.OnlyRollupDimensions(Names(selector))
            && !selector.Stages.OfType<LineFilterStage>().Any()));
        var start = FromNs(startNs);
        var end = FromNs(endNs);
        string sql;
        if (rollup)
        {
            sql = $"""
                SELECT DISTINCT {field.TextSql} FROM flow_rollup_1h
                WHERE {FilterCompiler.Access(access, p)}
                  AND bucket >= date_trunc('hour', {p.Add(start, NpgsqlDbType.TimestampTz)})
                  AND bucket < {p.Add(end, NpgsqlDbType.TimestampTz)}
                  AND {field.Sql} IS NOT NULL{where}
                ORDER BY 1 LIMIT 10000
                """;
        }
        else
        {
            sql = $"""
                SELECT DISTINCT {field.TextSql} FROM flows
                WHERE {FilterCompiler.Access(access, p)}
                  AND time_end >= {p.Add(start, NpgsqlDbType.TimestampTz)}
                  AND time_end < {p.Add(end, NpgsqlDbType.TimestampTz)}
                  AND {field.Sql} IS NOT NULL{where}
                ORDER BY 1 LIMIT 10000
                """;
        }

        var values = new List<string>();
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = p.Command(sql, connection);

        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!reader.IsDBNull(0) && reader.GetString(0) is { Length: > 0 } value)
            {
                values.Add(value);
            }
        }

        return values;
    }

    /// <summary>Distinct stream label sets matching any of the selectors over [start, end).</summary>
    public async Task<IReadOnlyList<LabelSet>> SeriesAsync(IReadOnlyList<LogQuery> selectors, long startNs, long endNs,
        FlowAccess access, CancellationToken cancellationToken)
    {
        var labels = StreamLabels.Where(l => l != FlowFieldCatalog.AppLabel && FlowFieldCatalog.TryGet(l, out _)).ToList();
        var result = new Dictionary<string, LabelSet>(StringComparer.Ordinal);
        foreach (var selector in selectors.DefaultIfEmpty())
        {
            var p = new SqlParameters();
            var columns = labels.Count == 0 ? "1" : string.Join(", ", labels.Select(l =>
            {
                FlowFieldCatalog.TryGet(l, out var f);
                return f.TextSql;
            }));
            var sql = $"""
                SELECT DISTINCT {columns} FROM flows
                WHERE {FilterCompiler.Access(access, p)}
                  AND time_end >= {p.Add(FromNs(startNs), NpgsqlDbType.TimestampTz)}
                  AND time_end < {p.Add(FromNs(endNs), NpgsqlDbType.TimestampTz)}{FilterCompiler.Where(selector, p)}
                LIMIT {p.Add((long)_options.MaxSeries + 1, NpgsqlDbType.Bigint)}
                """;
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = p.Command(sql, connection);

            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var pairs = new List<KeyValuePair<string, string>> { new(FlowFieldCatalog.AppLabel, FlowFieldCatalog.AppValue) };
                for (var i = 0; i < labels.Count; i++)
                {
                    pairs.Add(new(labels[i], reader.IsDBNull(i) ? "" : reader.GetString(i)));
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

    /// <summary>How many of the most recent matching flows <see cref="StatsAsync"/> renders to estimate line bytes.</summary>
    public const int StatsSampleSize = 100;

    /// <summary>
    /// Index statistics of a selector over [start, end), in two statements. <b>entries</b>: the matching
    /// flows, exactly; when the selector only names rollup keys, whole hours are read from
    /// <c>flow_rollup_1h</c>, whole minutes at the edges from <c>flow_rollup_1m</c> and only the
    /// sub-minute edges from <c>flows</c>, so long ranges stay cheap. <b>bytes</b>: entries times the
    /// average UTF-8 size of the JSON lines of the <see cref="StatsSampleSize"/> most recent matching
    /// flows (the exact total when they are all of them), rounded down. <b>streams</b> and <b>chunks</b>:
    /// the distinct stream-label keys and the (key, hour) rows of <c>flow_rollup_1h</c> over the hours
    /// overlapping the range, restricted by the selector's matchers on rollup keys; stream labels that
    /// are not rollup keys (<c>_RecordType</c>) are not told apart. Line filters are ignored (an upper bound).
    /// </summary>
    public async Task<IndexStats> StatsAsync(LogQuery selector, long startNs, long endNs, FlowAccess access,
        CancellationToken cancellationToken)
    {
        var p = new SqlParameters();
        var tenant = FilterCompiler.Access(access, p);
        var start = FromNs(startNs);
        var end = FromNs(endNs);
        var startParameter = p.Add(start, NpgsqlDbType.TimestampTz);
        var endParameter = p.Add(end, NpgsqlDbType.TimestampTz);
        var where = FilterCompiler.Where(selector, p);
        string entriesSql;
        if (FilterCompiler.OnlyRollupDimensions(Names(selector)))
        {
            // [start, m0) flows, [m0, h0) 1m, [h0, h1) 1h, [h1, m1) 1m, [m1, end) flows.
            var m0 = Ceiling(start, TimeSpan.TicksPerMinute);
            var m1 = new DateTime(end.Ticks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, DateTimeKind.Utc);
            if (m0 >= m1)
            {
                m0 = m1 = end;
            }

            var h0 = Ceiling(m0, TimeSpan.TicksPerHour);
            var h1 = new DateTime(m1.Ticks / TimeSpan.TicksPerHour * TimeSpan.TicksPerHour, DateTimeKind.Utc);
            if (h0 >= h1)
            {
                h0 = h1 = m1;
            }

            var m0p = p.Add(m0, NpgsqlDbType.TimestampTz);
            var m1p = p.Add(m1, NpgsqlDbType.TimestampTz);
            var h0p = p.Add(h0, NpgsqlDbType.TimestampTz);
            var h1p = p.Add(h1, NpgsqlDbType.TimestampTz);
            entriesSql = $"""
                (SELECT count(*) FROM flows WHERE {tenant}
                    AND ((time_end >= {startParameter} AND time_end < {m0p}) OR (time_end >= {m1p} AND time_end < {endParameter})){where})
                + (SELECT coalesce(sum(flows), 0) FROM flow_rollup_1m WHERE {tenant}
                    AND ((bucket >= {m0p} AND bucket < {h0p}) OR (bucket >= {h1p} AND bucket < {m1p})){where})
                + (SELECT coalesce(sum(flows), 0) FROM flow_rollup_1h WHERE {tenant}
                    AND bucket >= {h0p} AND bucket < {h1p}{where})
                """;
        }
        else
        {
            entriesSql = $"""
                (SELECT count(*) FROM flows WHERE {tenant}
                    AND time_end >= {startParameter} AND time_end < {endParameter}{where})
                """;
        }

        var rollupWhere = new System.Text.StringBuilder();
        foreach (var m in selector.Matchers.Where(m => FilterCompiler.OnlyRollupDimensions([m.Name])))
        {
            rollupWhere.Append(" AND ").Append(FilterCompiler.Matcher(m.Name, m.Op, m.Value, p));
        }

        var keys = StreamLabels.Select(l => FlowFieldCatalog.TryGet(l, out var f) && f.IsRollupDimension ? f.Sql : null)
            .OfType<string>().ToList();
        var sql = $"""
            SELECT ({entriesSql})::bigint, count(DISTINCT ROW({(keys.Count == 0 ? "1" : string.Join(", ", keys))})), count(*)
            FROM flow_rollup_1h
            WHERE {tenant} AND bucket >= date_trunc('hour', {startParameter}) AND bucket < {endParameter}{rollupWhere}
            """;

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        long entries, streams, chunks;
        await using (var command = p.Command(sql, connection, _options.QueryTimeout))
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            entries = reader.GetInt64(0);
            streams = reader.GetInt64(1);
            chunks = reader.GetInt64(2);
        }

        if (entries == 0)
        {
            return new IndexStats(0, 0, 0, 0);
        }

        var (sampled, sampleBytes) = await SampleLineBytesAsync(connection, selector, startNs, endNs, access, cancellationToken)
            .ConfigureAwait(false);
        var bytes = sampled == 0 ? 0 : sampled >= entries ? sampleBytes : (long)((decimal)sampleBytes * entries / sampled);
        return new IndexStats(Math.Max(streams, 1), Math.Max(chunks, 1), bytes, entries);
    }

    /// <summary>The number and total UTF-8 line bytes of the <see cref="StatsSampleSize"/> most recent matching flows.</summary>
    private async Task<(long Count, long Bytes)> SampleLineBytesAsync(NpgsqlConnection connection, LogQuery selector,
        long startNs, long endNs, FlowAccess access, CancellationToken cancellationToken)
    {
        var p = new SqlParameters();
        var sql = $"""
            SELECT {FlowRowReader.Columns}
            FROM flows
            WHERE {FilterCompiler.Access(access, p)}
              AND time_end >= {p.Add(FromNs(startNs), NpgsqlDbType.TimestampTz)}
              AND time_end < {p.Add(FromNs(endNs), NpgsqlDbType.TimestampTz)}{FilterCompiler.Where(selector, p)}
            ORDER BY time_end DESC
            LIMIT {p.Add((long)StatsSampleSize, NpgsqlDbType.Bigint)}
            """;
        await using var command = p.Command(sql, connection, _options.QueryTimeout);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(2048);
        await using var writer = new Utf8JsonWriter(buffer);
        long count = 0;
        long bytes = 0;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            FlowRecordJson.Write(writer, FlowRowReader.Read(reader, out _));
            writer.Flush();
            count++;
            bytes += buffer.WrittenCount;
        }

        return (count, bytes);
    }

    private static DateTime Ceiling(DateTime time, long unitTicks) =>
        new((time.Ticks + unitTicks - 1) / unitTicks * unitTicks, DateTimeKind.Utc);

    private static IEnumerable<string> Names(LogQuery selector) =>
        selector.Matchers.Select(m => m.Name)
            .Concat(selector.Stages.OfType<LabelFilterStage>().SelectMany(s => FilterCompiler.FilterNames(s.Filter)));

    private static bool SelectorAccepts(LogQuery selector, string name, string value) =>
        selector.Matchers.Where(m => m.Name == name).All(m => FilterCompiler.MatchConstant(value, m.Op, m.Value))
        && selector.Matchers.Where(m => m.Name != name && FilterCompiler.ConstantValue(m.Name) is not null)
            .All(m => FilterCompiler.MatchConstant(FilterCompiler.ConstantValue(m.Name)!, m.Op, m.Value));
}
