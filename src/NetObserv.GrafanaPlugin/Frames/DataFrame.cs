using System.Text.Json;
using System.Text.Json.Nodes;
using Apache.Arrow;
using Apache.Arrow.Ipc;

namespace NetObserv.GrafanaPlugin.Frames;

/// <summary>
/// A Grafana data frame, encoded as Grafana's SDK encodes one: an Arrow IPC <b>file</b> (magic
/// <c>ARROW1</c>) holding one record batch, with the schema metadata <c>name</c>, <c>refId</c> and
/// <c>meta</c> (FrameMeta JSON) and per-field metadata (see <see cref="FrameField"/>).
/// </summary>
internal sealed class DataFrame
{
    public DataFrame(string name, string refId, JsonObject? meta, IReadOnlyList<FrameField> fields)
    {
        Name = name;
        RefId = refId;
        Meta = meta;
        Fields = fields;
    }

    public string Name { get; }
    public string RefId { get; }
    public JsonObject? Meta { get; }
    public IReadOnlyList<FrameField> Fields { get; }

    /// <summary>FrameMeta with a <c>type</c> (timeseries-multi, table, log-lines...) and its version.</summary>
    public static JsonObject TypeMeta(string type, int major, int minor) =>
        new() { ["type"] = type, ["typeVersion"] = new JsonArray(major, minor) };

    public byte[] ToArrowFile()
    {
        var length = Fields.Count == 0 ? 0 : Fields[0].Values.Length;
        var schema = new Schema.Builder();
        foreach (var field in Fields)
        {
            if (field.Values.Length != length)
            {
                throw new InvalidOperationException($"field {field.Name} has {field.Values.Length} values, the frame {length}");
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["name"] = field.Name,
                ["tstype"] = field.TsType,
            };
            if (field.Labels is { Count: > 0 } labels)
            {
                metadata["labels"] = JsonSerializer.Serialize(labels, FrameJsonContext.Default.IReadOnlyDictionaryStringString);
            }

            if (field.Config is { } config)
            {
                metadata["config"] = config.ToJsonString();
            }

            schema.Field(new Field(field.Name, field.Type, field.Nullable, metadata));
        }

        schema.Metadata("name", Name).Metadata("refId", RefId);
        if (Meta is not null)
        {
            schema.Metadata("meta", Meta.ToJsonString());
        }

        var built = schema.Build();
        using var batch = new RecordBatch(built, Fields.Select(f => f.Values), length);
        using var stream = new MemoryStream();
        using (var writer = new ArrowFileWriter(stream, built, leaveOpen: true))
        {
            writer.WriteRecordBatch(batch);
            writer.WriteEnd();
        }

        return stream.ToArray();
    }
}
