using System.Globalization;
using System.Text.Json;
using Dapper;
using NetObserv.Flows;
using Npgsql;

namespace NetObserv.Query.Planning;

/// <summary>
/// Runs planned statements on the query connections. The hot paths (metric rows, log lines) read with
/// Npgsql directly, column by column; metadata statements (label values, series, stats, health) go
/// through Dapper with <see cref="CommandDefinition"/>s that carry the cancellation token.
/// </summary>
internal sealed class QueryExecutor
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly QueryOptions _options;

    public QueryExecutor(NpgsqlDataSource dataSource, QueryOptions options)
    {
        _dataSource = dataSource;
        _options = options;
    }

    /// <summary>The query connections (line-filter evaluation opens its own).</summary>
    public NpgsqlDataSource DataSource => _dataSource;

    private int TimeoutSeconds => (int)Math.Ceiling(_options.QueryTimeout.TotalSeconds);

    /// <summary>Opens a connection and runs <c>SELECT 1</c> (health checks).</summary>
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken))
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the rows of a metric plan's statement into <paramref name="builder"/>; returns the flows they
    /// stand for. Columns: leaf, j, g0..g(LabelWidth-1), s, c, mn, mx, ss, et, ev, vs.
    /// </summary>
    public async Task<long> ReadMetricAsync(MetricPlan plan, LeafSeriesBuilder builder, CancellationToken cancellationToken)
    {
        long rows = 0;
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = plan.Parameters.Command(plan.Sql!, connection, _options.QueryTimeout);

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

        return rows;
    }

    /// <summary>
    /// The flows of a log plan in its order, at most its limit, each as its record and JSON line, window by
    /// window (<see cref="LogQueryPlanner"/>) on one connection. Without line filters SQL stops at the limit;
    /// with them, at <c>Query:MaxLineFilterRows</c> rows read.
    /// </summary>
    public async IAsyncEnumerable<FlowLine> ReadLinesAsync(LogPlan plan, LogScan scan,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var count = 0;
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var window in plan.Windows)
        {
            if (count >= plan.Limit)
            {
                yield break;
            }

            plan.Bind(window, plan.LineFilter.IsEmpty ? plan.Limit - count : _options.MaxLineFilterRows + 1 - scan.Rows);
            await using var command = plan.Parameters.Command(plan.Sql, connection, _options.QueryTimeout);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (count < plan.Limit && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (++scan.Rows > _options.MaxLineFilterRows && !plan.LineFilter.IsEmpty)
                {
                    throw LineFilterEvaluator.TooManyRows(_options, "log queries");
                }

                var record = FlowRowReader.Read(reader, out var ts);
                var line = FlowRecordJson.ToJson(record);
                if (!plan.LineFilter.Passes(line))
                {
                    continue;
                }

                count++;
                yield return new FlowLine(record, ts, line);
            }

            // Parameters belong to one command at a time.
            command.Parameters.Clear();
        }
    }

    /// <summary>The first column of every row, as text, skipping NULL and empty values.</summary>
    public async Task<IReadOnlyList<string>> StringsAsync(SqlStatement statement, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var values = await connection.QueryAsync<string?>(Definition(statement, cancellationToken)).ConfigureAwait(false);
        return values.Where(v => v is { Length: > 0 }).Select(v => v!).ToList();
    }

    /// <summary>The columns <c>c0</c>..<c>c(width-1)</c> of every row, as text ("" for NULL).</summary>
    public async Task<IReadOnlyList<string[]>> RowsAsync(SqlStatement statement, int width, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync(Definition(statement, cancellationToken)).ConfigureAwait(false);
        var result = new List<string[]>();
        foreach (IDictionary<string, object?> row in rows)
        {
            var values = new string[width];
            for (var i = 0; i < width; i++)
            {
                values[i] = row["c" + i.ToString(CultureInfo.InvariantCulture)] as string ?? "";
            }

            result.Add(values);
        }

        return result;
    }

    /// <summary>Index statistics (<see cref="StatsPlanner"/>): counts through Dapper, then the sampled line bytes.</summary>
    public async Task<IndexStats> StatsAsync(SqlStatement counts, SqlStatement sample, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var (entries, streams, chunks) = await connection.QuerySingleAsync<(long Entries, long Streams, long Chunks)>(
            Definition(counts, cancellationToken)).ConfigureAwait(false);
        if (entries == 0)
        {
            return new IndexStats(0, 0, 0, 0);
        }

        var (sampled, sampleBytes) = await SampleLineBytesAsync(connection, sample, cancellationToken).ConfigureAwait(false);
        var bytes = sampled == 0 ? 0 : sampled >= entries ? sampleBytes : (long)((decimal)sampleBytes * entries / sampled);
        return new IndexStats(Math.Max(streams, 1), Math.Max(chunks, 1), bytes, entries);
    }

    /// <summary>The number and total UTF-8 line bytes of the sampled flows.</summary>
    private async Task<(long Count, long Bytes)> SampleLineBytesAsync(NpgsqlConnection connection, SqlStatement sample,
        CancellationToken cancellationToken)
    {
        await using var command = sample.Parameters.Command(sample.Sql, connection, _options.QueryTimeout);
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

    private CommandDefinition Definition(SqlStatement statement, CancellationToken cancellationToken) =>
        new(statement.Sql, statement.Parameters, commandTimeout: TimeoutSeconds, cancellationToken: cancellationToken);
}
