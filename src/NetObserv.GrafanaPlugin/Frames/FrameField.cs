using System.Text.Json.Nodes;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace NetObserv.GrafanaPlugin.Frames;

/// <summary>
/// One field (column) of a Grafana data frame: its Arrow type and values, and the field metadata Grafana
/// reads (<c>name</c>, <c>labels</c> as a JSON object, <c>config</c> as a JSON FieldConfig, <c>tstype</c>).
/// </summary>
internal sealed record FrameField(string Name, IArrowType Type, bool Nullable, IArrowArray Values, string TsType)
{
    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    /// <summary>FieldConfig keys (<c>unit</c>, <c>displayNameFromDS</c>, <c>interval</c>...).</summary>
    public JsonObject? Config { get; init; }

    /// <summary>Times: Arrow Timestamp in nanoseconds without a time zone, as Grafana writes them.</summary>
    public static readonly TimestampType TimeType = new(TimeUnit.Nanosecond, (string?)null);

    public static FrameField Time(string name, IReadOnlyList<long> unixNanos)
    {
        var builder = new TimestampArray.Builder(TimeType);
        foreach (var ns in unixNanos)
        {
            builder.Append(DateTimeOffset.UnixEpoch.AddTicks(ns / 100));
        }

        return new FrameField(name, TimeType, false, builder.Build(), "time");
    }

    public static FrameField Float64(string name, IReadOnlyList<double> values)
    {
        var builder = new DoubleArray.Builder();
        foreach (var v in values)
        {
            builder.Append(v);
        }

        return new FrameField(name, DoubleType.Default, false, builder.Build(), "number");
    }

    public static FrameField Int64(string name, IReadOnlyList<long?> values, bool nullable)
    {
        var builder = new Int64Array.Builder();
        foreach (var v in values)
        {
            if (v is { } value)
            {
                builder.Append(value);
            }
            else
            {
                builder.AppendNull();
            }
        }

        return new FrameField(name, Int64Type.Default, nullable, builder.Build(), "number");
    }

    public static FrameField Int32(string name, IReadOnlyList<int?> values)
    {
        var builder = new Int32Array.Builder();
        foreach (var v in values)
        {
            if (v is { } value)
            {
                builder.Append(value);
            }
            else
            {
                builder.AppendNull();
            }
        }

        return new FrameField(name, Int32Type.Default, true, builder.Build(), "number");
    }

    public static FrameField String(string name, IReadOnlyList<string> values)
    {
        var builder = new StringArray.Builder();
        foreach (var v in values)
        {
            builder.Append(v);
        }

        return new FrameField(name, StringType.Default, false, builder.Build(), "string");
    }

    /// <summary>JSON values (Grafana's <c>json.RawMessage</c> fields): Arrow Binary, TypeScript type <c>other</c>.</summary>
    public static FrameField Json(string name, IReadOnlyList<byte[]> values)
    {
        var builder = new BinaryArray.Builder();
        foreach (var v in values)
        {
            builder.Append(v.AsSpan());
        }

        return new FrameField(name, BinaryType.Default, false, builder.Build(), "other");
    }
}
