using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using NetObserv.Flows;
using NetObserv.Query.Access;
using Npgsql;
using NpgsqlTypes;

namespace NetObserv.Query.Planning;

/// <summary>
/// Evaluates a <see cref="LineFilterLeaf"/> in memory: one parameterised statement streams the candidate
/// rows of <c>flows</c> (tenant, window <c>(start - range, end]</c>, stream matchers and label filters in
/// SQL, label and value columns computed as the SQL branches compute them), each row's line is rendered
/// exactly as log queries return it and tested, and the rows that pass are summed per label set and
/// sub-bucket into the same partial aggregates (<see cref="SamplePartial"/>) the SQL branches return, which
/// <see cref="LeafSeriesBuilder"/> spreads over the windows <c>(t - range, t]</c>: a flow counts in every
/// window holding its <c>time_end</c>.
/// </summary>
internal sealed class LineFilterEvaluator
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly QueryOptions _options;
    private readonly EvaluationGrid _grid;
    private readonly FlowAccess _access;

    public LineFilterEvaluator(NpgsqlDataSource dataSource, QueryOptions options, EvaluationGrid grid, FlowAccess access)
    {
        _dataSource = dataSource;
        _options = options;
        _grid = grid;
        _access = access;
    }

    /// <summary>Rows read so far by this evaluator, over all its leaves (bounded by <see cref="QueryOptions.MaxLineFilterRows"/>).</summary>
    public long RowsScanned { get; private set; }

    /// <summary>Reads, filters and aggregates the rows of <paramref name="leaf"/> into <paramref name="output"/>.</summary>
    public async Task EvaluateAsync(LineFilterLeaf leaf, LeafSeriesBuilder output, CancellationToken cancellationToken)
    {
        var filter = LineFilter.Compile(leaf.Log.Stages);
        var plan = leaf.Leaf;
        var p = new SqlParameters();

        // Label values: constants are known here; columns are read with the SQL branches' expressions.
        var labelCount = plan.Labels.Count;
        var constants = new string?[labelCount];
        var select = new StringBuilder(FlowRowReader.Columns);
        var columnCount = FlowRowReader.ColumnCount;
        var labelOrdinals = new int[labelCount];
        for (var i = 0; i < labelCount; i++)
        {
            if (FilterCompiler.ConstantValue(plan.Labels[i]) is { } constant)
            {
                constants[i] = constant;
                labelOrdinals[i] = -1;
            }
            else
            {
                FlowFieldCatalog.TryGet(plan.Labels[i], out var field);
                select.Append(", coalesce(").Append(field.TextSql).Append(", '')");
                labelOrdinals[i] = columnCount++;
            }
        }

        var where = new StringBuilder(FilterCompiler.Where(leaf.Log, p));

        var valueOrdinal = -1;
        if (leaf.ValueSql is not null)
        {
            select.Append(", ").Append(leaf.ValueSql).Append("::float8");
            valueOrdinal = columnCount++;
            where.Append(" AND ").Append(leaf.ValueSql).Append(" IS NOT NULL");
        }

        var remaining = _options.MaxLineFilterRows - RowsScanned;
        var sql = $"""
            SELECT {select}
            FROM flows
            WHERE {FilterCompiler.Access(_access, p)}
              AND time_end > {p.Add(ToTime(_grid.StartMs - plan.RangeMs), NpgsqlDbType.TimestampTz)}
              AND time_end <= {p.Add(ToTime(_grid.EndMs), NpgsqlDbType.TimestampTz)}{where}
            LIMIT {p.Add(Math.Max(remaining, 0) + 1, NpgsqlDbType.Bigint)}
            """;

        // Rows that pass are summed per series and sub-bucket j (the SQL branches' rows), which the
        // builder spreads over the windows holding them: t in (start + (j-1)w, start + jw].
        var startUs = _grid.StartMs * 1_000;
        var subBucketUs = plan.SubBucketMs * 1_000;
        var partials = new Dictionary<(int Series, long J), SamplePartial>();
        var keepValues = SamplePartial.Needs(plan.Op).Values;
        var series = new Dictionary<string, (string[] Values, int Index)>(StringComparer.Ordinal);
        var buffer = new ArrayBufferWriter<byte>(2048);
        var chars = new char[2048];
        var labelValues = new string[labelCount];
        var keyBuilder = new StringBuilder();
        await using var json = new Utf8JsonWriter(buffer);

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = p.Command(sql, connection, _options.QueryTimeout);

        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (++RowsScanned > _options.MaxLineFilterRows)
            {
                throw TooManyRows(_options, "metric queries");
            }

            if ((RowsScanned & 0x3FF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var record = FlowRowReader.Read(reader, out var timestampNs);
            buffer.ResetWrittenCount();
            json.Reset(buffer);
            FlowRecordJson.Write(json, record);
            json.Flush();

            var length = Encoding.UTF8.GetMaxCharCount(buffer.WrittenCount);
            if (chars.Length < length)
            {
                chars = new char[Math.Max(length, chars.Length * 2)];
            }

            var written = Encoding.UTF8.GetChars(buffer.WrittenSpan, chars.AsSpan());
            if (!filter.Passes(chars.AsSpan(0, written)))
            {
                continue;
            }

            keyBuilder.Clear();
            for (var i = 0; i < labelCount; i++)
            {
                labelValues[i] = constants[i] ?? reader.GetString(labelOrdinals[i]);
                keyBuilder.Append(labelValues[i]).Append('\u0001');
            }

            var key = keyBuilder.ToString();
            if (!series.TryGetValue(key, out var entry))
            {
                if (series.Count >= _options.MaxSeries)
                {
                    throw new QueryException(string.Create(CultureInfo.InvariantCulture,
                        $"maximum number of series ({_options.MaxSeries}) reached for a single query"));
                }

                entry = ([.. labelValues], series.Count);
                series[key] = entry;
            }

            var value = valueOrdinal < 0 ? 0 : reader.GetDouble(valueOrdinal);
            var j = LeafSeriesBuilder.CeilDiv((timestampNs / 1_000) - startUs, subBucketUs);
            ref var partial = ref CollectionsMarshal.GetValueRefOrAddDefault(partials, (entry.Index, j), out _);
            (partial ??= new SamplePartial()).Add(value, timestampNs / 1e6, keepValues);
        }

        var valuesByIndex = new string[series.Count][];
        foreach (var (values, index) in series.Values)
        {
            valuesByIndex[index] = values;
        }

        foreach (var ((index, j), partial) in partials)
        {
            output.Add(plan, j, valuesByIndex[index], partial);
        }
    }

    /// <summary>The 400 of a query whose line filters would read more than <see cref="QueryOptions.MaxLineFilterRows"/> flows.</summary>
    public static QueryException TooManyRows(QueryOptions options, string queries) => new(string.Create(CultureInfo.InvariantCulture,
        $"line filters in {queries} may scan at most {options.MaxLineFilterRows:N0} flows (Query:MaxLineFilterRows) and this query matches more; ")
        + "narrow the stream selector or add a label filter (e.g. {SrcK8S_Namespace=\"my-namespace\"} "
        + "or | json | DstPort = 443), or shorten the time range");

    private static DateTime ToTime(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime;
}
