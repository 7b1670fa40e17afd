using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Snappier;

namespace NetObserv.Flows.Tests.LokiPush;

/// <summary>One pushed entry: nanosecond timestamp, line, optional structured metadata.</summary>
internal sealed record PushEntry(long TimestampNs, string Line, IReadOnlyList<KeyValuePair<string, string>>? Metadata = null);

/// <summary>One pushed stream: labels and entries.</summary>
internal sealed record PushStream(IReadOnlyList<KeyValuePair<string, string>> Labels, IReadOnlyList<PushEntry> Entries);

/// <summary>
/// Builds push bodies the way Loki clients do, independently of the decoders under test: protobuf with
/// Google.Protobuf's <see cref="CodedOutputStream"/> and snappy blocks; JSON with <see cref="Utf8JsonWriter"/>;
/// and lines split the way flowlogs-pipeline's Loki writer splits a record.
/// </summary>
internal static class PushBodies
{
    /// <summary>The labels NetObserv's operator configures by default (plus the static <c>app</c>).</summary>
    public static readonly string[] FlpLabelFields =
    [
        "SrcK8S_Namespace", "SrcK8S_OwnerName", "SrcK8S_Type", "DstK8S_Namespace", "DstK8S_OwnerName",
        "DstK8S_Type", "K8S_FlowLayer", "FlowDirection",
    ];

    /// <summary>
    /// A stream holding one record as flowlogs-pipeline writes it: the label fields move from the line to
    /// the labels (values as Go's <c>fmt.Sprint</c> prints them), the rest is the JSON line; the entry
    /// timestamp is <c>TimeFlowEndMs</c> (the operator's <c>timestampLabel</c>, scale 1 ms).
    /// </summary>
    public static PushStream FlpStream(FlowRecord record, IReadOnlyList<string>? labelFields = null)
    {
        var line = JsonNode.Parse(FlowRecordJson.ToJson(record))!.AsObject();
        var labels = new List<KeyValuePair<string, string>> { new("app", "netobserv-flowcollector") };
        foreach (var field in labelFields ?? FlpLabelFields)
        {
            if (line.Remove(field, out var node) && node is not null)
            {
                var value = node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : node.ToJsonString();
                labels.Add(new KeyValuePair<string, string>(field, value));
            }
        }

        return new PushStream(labels, [new PushEntry(record.TimeFlowEndMs * 1_000_000, line.ToJsonString())]);
    }

    /// <summary>Labels in the Prometheus text form with Go escapes.</summary>
    public static string LabelString(IReadOnlyList<KeyValuePair<string, string>> labels)
    {
        var text = new StringBuilder("{");
        foreach (var (name, value) in labels)
        {
            if (text.Length > 1)
            {
                text.Append(", ");
            }

            text.Append(name).Append("=\"")
                .Append(value.Replace("\\", "\\\\", StringComparison.Ordinal)
                    .Replace("\"", "\\\"", StringComparison.Ordinal)
                    .Replace("\n", "\\n", StringComparison.Ordinal))
                .Append('"');
        }

        return text.Append('}').ToString();
    }

    /// <summary>A <c>logproto.PushRequest</c>, not compressed.</summary>
    public static byte[] Protobuf(IEnumerable<PushStream> streams, Func<PushStream, string>? labelText = null)
    {
        return Message(request =>
        {
            foreach (var stream in streams)
            {
                request.WriteTag(1, WireFormat.WireType.LengthDelimited);
                request.WriteBytes(ByteString.CopyFrom(Message(s =>
                {
                    s.WriteTag(1, WireFormat.WireType.LengthDelimited);
                    s.WriteString(labelText?.Invoke(stream) ?? LabelString(stream.Labels));
                    foreach (var entry in stream.Entries)
                    {
                        s.WriteTag(2, WireFormat.WireType.LengthDelimited);
                        s.WriteBytes(ByteString.CopyFrom(Entry(entry)));
                    }

                    s.WriteTag(3, WireFormat.WireType.Varint);
                    s.WriteUInt64(0xFEEDFACECAFEUL);
                })));
            }

            request.WriteTag(2, WireFormat.WireType.LengthDelimited);
            request.WriteString("loki");
        });
    }

    /// <summary>A snappy-compressed (block format) <c>logproto.PushRequest</c>, as Loki clients send it.</summary>
    public static byte[] SnappyProtobuf(IEnumerable<PushStream> streams) => Snappy.CompressToArray(Protobuf(streams));

    /// <summary>The JSON push body.</summary>
    public static byte[] Json(IEnumerable<PushStream> streams)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("streams");
            foreach (var stream in streams)
            {
                w.WriteStartObject();
                w.WriteStartObject("stream");
                foreach (var (name, value) in stream.Labels)
                {
                    w.WriteString(name, value);
                }

                w.WriteEndObject();
                w.WriteStartArray("values");
                foreach (var entry in stream.Entries)
                {
                    w.WriteStartArray();
                    w.WriteStringValue(entry.TimestampNs.ToString(CultureInfo.InvariantCulture));
                    w.WriteStringValue(entry.Line);
                    if (entry.Metadata is not null)
                    {
                        w.WriteStartObject();
                        foreach (var (name, value) in entry.Metadata)
                        {
                            w.WriteString(name, value);
                        }

                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static byte[] Entry(PushEntry entry)
    {
        return Message(e =>
        {
            e.WriteTag(1, WireFormat.WireType.LengthDelimited);
            e.WriteBytes(ByteString.CopyFrom(Message(t =>
            {
                t.WriteTag(1, WireFormat.WireType.Varint);
                t.WriteInt64(Math.DivRem(entry.TimestampNs, 1_000_000_000L, out var nanos));
                t.WriteTag(2, WireFormat.WireType.Varint);
                t.WriteInt32((int)nanos);
            })));
            e.WriteTag(2, WireFormat.WireType.LengthDelimited);
            e.WriteString(entry.Line);
            foreach (var (name, value) in entry.Metadata ?? [])
            {
                e.WriteTag(3, WireFormat.WireType.LengthDelimited);
                e.WriteBytes(ByteString.CopyFrom(Message(p =>
                {
                    p.WriteTag(1, WireFormat.WireType.LengthDelimited);
                    p.WriteString(name);
                    p.WriteTag(2, WireFormat.WireType.LengthDelimited);
                    p.WriteString(value);
                })));
            }
        });
    }

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(output);
        }

        return buffer.ToArray();
    }
}
