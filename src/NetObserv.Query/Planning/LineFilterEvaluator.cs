using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NetObserv.Flows;
using NetObserv.Query.LogQL;
using Npgsql;
using NpgsqlTypes;

namespace NetObserv.Query.Planning;

/// <summary>
/// Evaluates a <see cref="LineFilterLeaf"/> in memory: one parameterised statement streams the candidate
/// rows of <c>flows</c> (tenant, window <c>(start - range, end]</c>, stream matchers and label filters in
/// SQL, label and value columns computed as the SQL branches compute them), each row's line is rendered
/// exactly as log queries return it and tested, and the rows that pass are summed per step window
/// <c>(t - range, t]</c> and label set into the same partial aggregates (sum, count, min, max) the SQL
/// branches return. A flow counts in every window holding its <c>time_end</c>.
/// </summary>
internal sealed class LineFilterEvaluator
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly QueryOptions _options;
    private readonly EvaluationGrid _grid;
    private readonly string[] _tenants;

    public LineFilterEvaluator(NpgsqlDataSource dataSource, QueryOptions options, EvaluationGrid grid, string[] tenants)
    {
        _dataSource = dataSource;
        _options = options;
        _grid = grid;
        _tenants = tenants;
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

        var where = new StringBuilder();
        foreach (var m in leaf.Log.Matchers)
        {
            where.Append(" AND ").Append(FilterCompiler.Matcher(m.Name, m.Op, m.Value, p));
        }

        foreach (var stage in leaf.Log.Stages.OfType<LabelFilterStage>())
        {
            where.Append(" AND ").Append(FilterCompiler.Filter(stage.Filter, p));
        }

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
            WHERE {FilterCompiler.Tenant(_tenants, p)}
              AND time_end > {p.Add(ToTime(_grid.StartMs - plan.RangeMs), NpgsqlDbType.TimestampTz)}
              AND time_end <= {p.Add(ToTime(_grid.EndMs), NpgsqlDbType.TimestampTz)}{where}
            LIMIT {p.Add(Math.Max(remaining, 0) + 1, NpgsqlDbType.Bigint)}
            """;

        var windows = new WindowAccumulator(_grid, plan.RangeMs,
            plan.Op is RangeOperator.MinOverTime, plan.Op is RangeOperator.MaxOverTime);
        var series = new Dictionary<string, (string[] Values, int Index)>(StringComparer.Ordinal);
        var buffer = new ArrayBufferWriter<byte>(2048);
        var chars = new char[2048];
        var labelValues = new string[labelCount];
        var keyBuilder = new StringBuilder();
        await using var json = new Utf8JsonWriter(buffer);

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection)
        {
            CommandTimeout = (int)Math.Ceiling(_options.QueryTimeout.TotalSeconds),
        };
        foreach (var parameter in p.All)
        {
            command.Parameters.Add(parameter);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (++RowsScanned > _options.MaxLineFilterRows)
            {
                throw new QueryException(string.Create(CultureInfo.InvariantCulture,
                    $"line filters in metric queries may scan at most {_options.MaxLineFilterRows:N0} flows (Query:MaxLineFilterRows) and this query matches more; ")
                    + "narrow the stream selector or add a label filter (e.g. {SrcK8S_Namespace=\"my-namespace\"} "
                    + "or | json | DstPort = 443), or shorten the time range");
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
            windows.Add(entry.Index, timestampNs / 1_000, value);
        }

        foreach (var (values, index) in series.Values)
        {
            windows.Emit(index, (k, sum, count, min, max) => output.AddWindow(plan, k, values, sum, count, min, max));
        }
    }

    private static DateTime ToTime(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime;

    /// <summary>
    /// Per series, the sum, count, min and max of each step window. A row adds to the contiguous windows
    /// k in [kmin, kmax] holding its time: sums and counts through difference arrays (O(1) per row, exact
    /// for the integer fields flows carry), min and max through a segment tree of range updates
    /// (O(log steps) per row), so a long range over many steps costs no more per row than a short one.
    /// </summary>
    private sealed class WindowAccumulator
    {
        private readonly int _count;
        private readonly long _startUs;
        private readonly long _stepUs;
        private readonly long _rangeUs;
        private readonly bool _min;
        private readonly bool _max;
        private readonly List<double[]> _sums = [];
        private readonly List<long[]> _counts = [];
        private readonly List<double[]> _mins = [];
        private readonly List<double[]> _maxs = [];

        public WindowAccumulator(EvaluationGrid grid, long rangeMs, bool min, bool max)
        {
            _count = grid.Count;
            _startUs = grid.StartMs * 1_000;
            _stepUs = Math.Max(grid.StepMs, 1) * 1_000;
            _rangeUs = rangeMs * 1_000;
            _min = min;
            _max = max;
        }

        public void Add(int series, long timeUs, double value)
        {
            // Window k is (start + k*step - range, start + k*step]: t <= t_k and t_k < t + range.
            var first = Math.Max(CeilDiv(timeUs - _startUs, _stepUs), 0);
            var last = Math.Min(CeilDiv(timeUs + _rangeUs - _startUs, _stepUs) - 1, _count - 1);
            if (first > last)
            {
                return;
            }

            while (_sums.Count <= series)
            {
                _sums.Add(new double[_count + 1]);
                _counts.Add(new long[_count + 1]);
                if (_min)
                {
                    _mins.Add(Filled(2 * _count, double.PositiveInfinity));
                }

                if (_max)
                {
                    _maxs.Add(Filled(2 * _count, double.NegativeInfinity));
                }
            }

            var sums = _sums[series];
            var counts = _counts[series];
            sums[first] += value;
            sums[last + 1] -= value;
            counts[first]++;
            counts[last + 1]--;
            if (_min)
            {
                Update(_mins[series], (int)first, (int)last + 1, value, Math.Min);
            }

            if (_max)
            {
                Update(_maxs[series], (int)first, (int)last + 1, value, Math.Max);
            }
        }

        public void Emit(int series, Action<int, double, double, double?, double?> emit)
        {
            if (series >= _sums.Count)
            {
                return;
            }

            var sums = _sums[series];
            var counts = _counts[series];
            double sum = 0;
            long count = 0;
            for (var k = 0; k < _count; k++)
            {
                sum += sums[k];
                count += counts[k];
                if (count > 0)
                {
                    emit(k, sum, count, _min ? Query(_mins[series], k, Math.Min) : null,
                        _max ? Query(_maxs[series], k, Math.Max) : null);
                }
            }
        }

        private static long CeilDiv(long a, long b) => a >= 0 ? (a + b - 1) / b : -(-a / b);

        private static double[] Filled(int length, double value)
        {
            var array = new double[length];
            Array.Fill(array, value);
            return array;
        }

        // Bottom-up segment tree over [0, n): a range update marks O(log n) nodes, a point query folds the
        // nodes on the leaf's path to the root.
        private void Update(double[] tree, int from, int to, double value, Func<double, double, double> fold)
        {
            for (int l = from + _count, r = to + _count; l < r; l >>= 1, r >>= 1)
            {
                if ((l & 1) == 1)
                {
                    tree[l] = fold(tree[l], value);
                    l++;
                }

                if ((r & 1) == 1)
                {
                    r--;
                    tree[r] = fold(tree[r], value);
                }
            }
        }

        private double Query(double[] tree, int k, Func<double, double, double> fold)
        {
            var result = tree[k + _count];
            for (var i = (k + _count) >> 1; i >= 1; i >>= 1)
            {
                result = fold(result, tree[i]);
            }

            return result;
        }
    }
}
