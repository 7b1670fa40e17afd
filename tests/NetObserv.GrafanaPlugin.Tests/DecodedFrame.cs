using System.Text;
using System.Text.Json.Nodes;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;

namespace NetObserv.GrafanaPlugin.Tests;

/// <summary>
/// A frame read back from <c>DataResponse.frames</c> with Apache Arrow's own IPC file reader (not the
/// plugin's writing code): schema metadata, fields with their metadata, and the one record batch.
/// </summary>
internal sealed class DecodedFrame
{
    private DecodedFrame(Schema schema, RecordBatch? batch)
    {
        Schema = schema;
        Batch = batch;
    }

    public Schema Schema { get; }

    public RecordBatch? Batch { get; }

    public int Rows => Batch?.Length ?? 0;

    public string Name => Schema.Metadata["name"];

    public string RefId => Schema.Metadata["refId"];

    public JsonNode? Meta => Schema.Metadata.TryGetValue("meta", out var meta) ? JsonNode.Parse(meta) : null;

    public static DecodedFrame Read(byte[] bytes)
    {
        // The IPC file format: "ARROW1" and padding first, the footer and "ARROW1" last.
        var magic = "ARROW1"u8.ToArray();
        Assert.True(bytes.AsSpan(0, 6).SequenceEqual(magic), "no ARROW1 magic at the start");
        Assert.True(bytes.AsSpan(bytes.Length - 6).SequenceEqual(magic), "no ARROW1 magic at the end");
        using var reader = new ArrowFileReader(new MemoryStream(bytes));
        var batch = reader.ReadNextRecordBatch();
        Assert.Null(reader.ReadNextRecordBatch());
        return new DecodedFrame(reader.Schema, batch);
    }

    public Field Field(string name) => Schema.FieldsList.Single(f => f.Name == name);

    public IArrowArray Column(string name) => Batch!.Column(Schema.GetFieldIndex(name));

    public IReadOnlyDictionary<string, string> Labels(string field) =>
        Field(field).Metadata.TryGetValue("labels", out var json)
            ? JsonNode.Parse(json)!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!, StringComparer.Ordinal)
            : new Dictionary<string, string>();

    /// <summary>A time field: Timestamp in nanoseconds without zone; values as Unix milliseconds.</summary>
    public List<long> TimesMs(string field)
    {
        var type = Assert.IsType<TimestampType>(Field(field).DataType);
        Assert.Equal(TimeUnit.Nanosecond, type.Unit);
        Assert.True(string.IsNullOrEmpty(type.Timezone));
        var array = (TimestampArray)Column(field);
        return Enumerable.Range(0, array.Length).Select(i => array.GetValue(i)!.Value / 1_000_000).ToList();
    }

    public List<double> Doubles(string field) => ((DoubleArray)Column(field)).Values.ToArray().ToList();

    public List<long> Longs(string field) => ((Int64Array)Column(field)).Values.ToArray().ToList();

    public List<string> Strings(string field)
    {
        var array = (StringArray)Column(field);
        return Enumerable.Range(0, array.Length).Select(i => array.GetString(i) ?? "").ToList();
    }

    public List<string> Json(string field)
    {
        var array = (BinaryArray)Column(field);
        return Enumerable.Range(0, array.Length).Select(i => Encoding.UTF8.GetString(array.GetBytes(i))).ToList();
    }
}
