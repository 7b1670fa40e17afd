using System.Buffers;
using System.Globalization;
using System.Text.Json;
using NetObserv.Query.Planning;

namespace NetObserv.Query.Loki;

/// <summary>
/// Writes query results in Loki's JSON: <c>{"status":"success","data":{"resultType":...,"result":[...],"stats":{...}}}</c>.
/// Stream timestamps are nanosecond strings; metric timestamps are seconds as numbers and values strings.
/// </summary>
internal static class LokiResponseWriter
{
    /// <summary>The whole answer, statistics included.</summary>
    public static void WriteQueryResult(Utf8JsonWriter w, QueryResult result, TimeSpan elapsed)
    {
        long returned = 0;
        foreach (var count in WriteResult(w, result))
        {
            returned = count;
        }

        w.WritePropertyName("stats");
        WriteStats(w, result.RowsProcessed, returned, elapsed);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>
    /// Writes the answer up to its statistics (<c>{"status":"success","data":{"resultType":...,"result":[...]</c>),
    /// yielding the entries written so far after each entry, series or sample, so the caller can flush or
    /// measure between them. <see cref="WriteTail"/> completes it.
    /// </summary>
    public static IEnumerable<long> WriteResult(Utf8JsonWriter w, QueryResult result)
    {
        w.WriteStartObject();
        w.WriteString("status", "success");
        w.WriteStartObject("data");
        long returned = 0;
        switch (result)
        {
            case StreamsResult streams:
                w.WriteString("resultType", "streams");
                w.WriteStartArray("result");
                foreach (var stream in streams.Streams)
                {
                    w.WriteStartObject();
                    WriteLabels(w, "stream", stream.Labels);
                    w.WriteStartArray("values");
                    foreach (var entry in stream.Entries)
                    {
                        w.WriteStartArray();
                        w.WriteStringValue(entry.TimestampNs.ToString(CultureInfo.InvariantCulture));
                        w.WriteStringValue(entry.Line);
                        w.WriteEndArray();
                        yield return ++returned;
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                break;
            case MatrixResult matrix:
                w.WriteString("resultType", "matrix");
                w.WriteStartArray("result");
                foreach (var series in matrix.Series)
                {
                    w.WriteStartObject();
                    WriteLabels(w, "metric", series.Labels);
                    w.WriteStartArray("values");
                    for (var k = 0; k < series.Values.Length; k++)
                    {
                        if (series.Values[k] is { } v)
                        {
                            WriteSample(w, matrix.TimestampsMs[k], v);
                            returned++;
                        }
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                    yield return returned;
                }

                w.WriteEndArray();
                break;
            case VectorResult vector:
                w.WriteString("resultType", "vector");
                w.WriteStartArray("result");
                foreach (var (labels, value) in vector.Samples)
                {
                    w.WriteStartObject();
                    WriteLabels(w, "metric", labels);
                    w.WritePropertyName("value");
                    WriteSample(w, vector.TimestampMs, value);
                    w.WriteEndObject();
                    yield return ++returned;
                }

                w.WriteEndArray();
                break;
            case ScalarResult scalar:
                w.WriteString("resultType", "scalar");
                w.WritePropertyName("result");
                WriteSample(w, scalar.TimestampMs, scalar.Value);
                returned = 1;
                break;
        }

        yield return returned;
    }

    /// <summary>
    /// Completes an answer whose <see cref="WriteResult"/> bytes are already in <paramref name="output"/>
    /// (written and flushed, or taken from the cache): <c>,"stats":{...}}}</c>.
    /// </summary>
    public static void WriteTail(IBufferWriter<byte> output, long rows, long returned, TimeSpan elapsed)
    {
        output.Write(",\"stats\":"u8);
        using (var w = new Utf8JsonWriter(output))
        {
            WriteStats(w, rows, returned, elapsed);
        }

        output.Write("}}"u8);
    }

    private static void WriteStats(Utf8JsonWriter w, long rows, long returned, TimeSpan elapsed)
    {
        var seconds = Math.Max(elapsed.TotalSeconds, 1e-9);
        w.WriteStartObject();
        w.WriteStartObject("summary");
        w.WriteNumber("bytesProcessedPerSecond", 0);
        w.WriteNumber("linesProcessedPerSecond", (long)(rows / seconds));
        w.WriteNumber("totalBytesProcessed", 0);
        w.WriteNumber("totalLinesProcessed", rows);
        w.WriteNumber("execTime", elapsed.TotalSeconds);
        w.WriteNumber("queueTime", 0);
        w.WriteNumber("subqueries", 0);
        w.WriteNumber("totalEntriesReturned", returned);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    public static void WriteLabels(Utf8JsonWriter w, string property, LabelSet labels)
    {
        w.WriteStartObject(property);
        foreach (var (name, value) in labels.Pairs)
        {
            w.WriteString(name, value);
        }

        w.WriteEndObject();
    }

    /// <summary><c>[&lt;seconds&gt;, "&lt;value&gt;"]</c>, seconds with up to millisecond precision.</summary>
    public static void WriteSample(Utf8JsonWriter w, long timestampMs, double value)
    {
        w.WriteStartArray();
        Span<byte> buffer = stackalloc byte[32];
        // Whole seconds and plain values (no exponent) are formatted in place; the rest takes the
        // general path.
        if (timestampMs % 1000 == 0 && (timestampMs / 1000).TryFormat(buffer, out var written, default, CultureInfo.InvariantCulture))
        {
            w.WriteRawValue(buffer[..written], skipInputValidation: true);
        }
        else
        {
            w.WriteRawValue(FormatSeconds(timestampMs), skipInputValidation: true);
        }

        if (double.IsFinite(value) && value.TryFormat(buffer, out written, "R", CultureInfo.InvariantCulture)
            && buffer[..written].IndexOf((byte)'E') < 0)
        {
            w.WriteStringValue(buffer[..written]);
        }
        else
        {
            w.WriteStringValue(FormatValue(value));
        }

        w.WriteEndArray();
    }

    public static string FormatSeconds(long ms)
    {
        var seconds = Math.DivRem(ms, 1000, out var rest);
        if (rest == 0)
        {
            return seconds.ToString(CultureInfo.InvariantCulture);
        }

        return (ms / 1000m).ToString(CultureInfo.InvariantCulture).TrimEnd('0');
    }

    /// <summary>A sample value as Prometheus prints it: shortest round-trip form, no exponent.</summary>
    public static string FormatValue(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsPositiveInfinity(value))
        {
            return "+Inf";
        }

        if (double.IsNegativeInfinity(value))
        {
            return "-Inf";
        }

        var text = value.ToString("R", CultureInfo.InvariantCulture);
        if (!text.Contains('E', StringComparison.Ordinal))
        {
            return text;
        }

        return Math.Abs(value) < 7.9e28 && Math.Abs(value) > 1e-28
            ? ((decimal)value).ToString(CultureInfo.InvariantCulture)
            : value.ToString("F0", CultureInfo.InvariantCulture);
    }
}
