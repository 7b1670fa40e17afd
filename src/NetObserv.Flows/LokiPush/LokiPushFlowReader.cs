using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using NetObserv.Flows.Fields;
using NetObserv.Flows.Validation;

namespace NetObserv.Flows.LokiPush;

/// <summary>
/// Turns decoded push streams into flow records. Each line is a NetObserv JSON flow record written by
/// flowlogs-pipeline's Loki writer, which moves its label fields (<c>SrcK8S_Namespace</c>,
/// <c>FlowDirection</c>, ...) out of the line into the stream labels: a label that names a flow field
/// fills that field when the line lacks it (the line wins otherwise); other labels (<c>app</c>) are
/// ignored. Structured metadata is kept: a pair naming a flow field fills it like a label, any other joins the
/// line's fields without a column (<see cref="FlowRecord.ExtraFields"/>). The entry timestamp fills <c>TimeFlowEndMs</c> when the line lacks it. Records are kept as
/// they arrive (already enriched). A bad line is counted with its reason and loses nothing else.
/// </summary>
public static class LokiPushFlowReader
{
    private static readonly FlowRecord s_empty = new();

    /// <summary>
    /// Reads every entry of <paramref name="request"/> into <paramref name="batch"/> without checking the
    /// records against the store (decoder fuzzing and benchmarks; the push endpoint validates).
    /// </summary>
    /// <param name="request">The decoded body.</param>
    /// <param name="tenant">The tenant every record belongs to.</param>
    /// <param name="maxLineBytes">Longer lines are rejected.</param>
    /// <param name="batch">Receives the records and the rejections.</param>
    public static void Read(LokiPushRequest request, string tenant, int maxLineBytes, LokiPushBatch batch) =>
        Read(request, tenant, maxLineBytes, null, batch);

    /// <summary>
    /// Reads every entry of <paramref name="request"/> into <paramref name="batch"/>; a line whose record
    /// <paramref name="validator"/> refuses is rejected with the <see cref="FlowValidator.ReasonName"/> of
    /// its reason (<c>text_too_long</c>, <c>too_old</c>...) and a message naming the field.
    /// </summary>
    /// <param name="request">The decoded body.</param>
    /// <param name="tenant">The tenant every record belongs to.</param>
    /// <param name="maxLineBytes">Longer lines are rejected.</param>
    /// <param name="validator">Checks each record against what the store can hold; null checks nothing.</param>
    /// <param name="batch">Receives the records and the rejections.</param>
    public static void Read(LokiPushRequest request, string tenant, int maxLineBytes, FlowValidator? validator,
        LokiPushBatch batch)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(batch);

        // Streams with the same label set share what their labels say (FLP sends many small streams).
        var byLabels = new Dictionary<string, StreamLabels>(StringComparer.Ordinal);
        var nowMs = validator?.NowMs() ?? 0;
        foreach (var stream in request.Streams)
        {
            if (stream.Entries.Count == 0)
            {
                continue;
            }

            if (stream.LabelError is not null)
            {
                batch.Reject(stream.LabelRejectReason, stream.Entries.Count,
                    string.Create(CultureInfo.InvariantCulture,
                        $"stream {Describe(stream)}: {stream.LabelError} ({stream.Entries.Count} lines)"));
                continue;
            }

            var key = stream.LabelText ?? LabelKey(stream);
            if (!byLabels.TryGetValue(key, out var labels))
            {
                labels = ReadLabels(stream);
                byLabels[key] = labels;
            }

            for (var i = 0; i < stream.Entries.Count; i++)
            {
                if (ReadEntry(stream, i, labels, tenant, maxLineBytes, batch) is { } record)
                {
                    var rejection = validator?.Validate(record, nowMs) ?? default;
                    if (rejection.IsRejected)
                    {
                        Reject(batch, rejection.ReasonName, stream, i, rejection.ToString());
                    }
                    else
                    {
                        batch.Records.Add(record);
                    }
                }
            }
        }
    }

    /// <summary>What a stream's labels say: a record holding the label fields, the labels that set one, and bad ones.</summary>
    private sealed class StreamLabels
    {
        public FlowRecord Template { get; } = new();
        public List<string> Fields { get; } = [];
        public List<KeyValuePair<string, string>> Bad { get; } = [];
    }

    private static string LabelKey(LokiStreamAdapter stream)
    {
        var key = new StringBuilder();
        foreach (var (name, value) in stream.Labels)
        {
            key.Append(name).Append('\u0001').Append(value).Append('\u0002');
        }

        return key.ToString();
    }

    private static StreamLabels ReadLabels(LokiStreamAdapter stream)
    {
        var labels = new StreamLabels();
        foreach (var (name, value) in stream.Labels)
        {
            if (!LokiLabelField.IsFlowField(name))
            {
                continue;
            }

            if (FlowRecordJson.TrySetFromString(labels.Template, name, value))
            {
                labels.Fields.Add(name);
            }
            else
            {
                labels.Bad.Add(new KeyValuePair<string, string>(name, value));
            }
        }

        return labels;
    }

    /// <summary>The entry's record, or null when the line was rejected.</summary>
    private static FlowRecord? ReadEntry(LokiStreamAdapter stream, int index, StreamLabels labels, string tenant,
        int maxLineBytes, LokiPushBatch batch)
    {
        var entry = stream.Entries[index];
        if (entry.Error is not null)
        {
            Reject(batch, LokiPushRejectReason.InvalidEntry, stream, index, entry.Error);
            return null;
        }

        if (entry.Line.Length > maxLineBytes)
        {
            Reject(batch, LokiPushRejectReason.LineTooLong, stream, index, string.Create(CultureInfo.InvariantCulture,
                $"line of {entry.Line.Length} bytes exceeds the limit of {maxLineBytes} bytes"));
            return null;
        }

        if (!Utf8.IsValid(entry.Line.Span))
        {
            Reject(batch, LokiPushRejectReason.InvalidLine, stream, index, "line is not valid UTF-8");
            return null;
        }

        if (!FlowRecordJson.TryParse(entry.Line.Span, out var record, out var error))
        {
            Reject(batch, LokiPushRejectReason.InvalidLine, stream, index, error ?? "not a flow record");
            return null;
        }

        foreach (var (name, value) in labels.Bad)
        {
            if (LokiLabelField.FillIfAbsent(s_empty, record, name) == LokiLabelField.Outcome.Filled)
            {
                Reject(batch, LokiPushRejectReason.InvalidLabelValue, stream, index,
                    $"label {name}=\"{value}\" is not a valid {name}");
                return null;
            }
        }

        foreach (var name in labels.Fields)
        {
            LokiLabelField.FillIfAbsent(labels.Template, record, name);
        }

        if (entry.Metadata is { Count: > 0 } metadata)
        {
            AddMetadata(record, metadata);
        }

        record.ExtraFieldsDropped += entry.MetadataDropped;

        if (!HasFlowField(record))
        {
            Reject(batch, LokiPushRejectReason.NotFlowRecord, stream, index,
                "not a NetObserv flow record (no times, addresses, protocol or counters)");
            return null;
        }

        if (record.TimeFlowEndMs == 0)
        {
            record.TimeFlowEndMs = Math.DivRem(entry.TimestampNs, 1_000_000L, out _);
        }

        record.Tenant = tenant;
        return record;
    }

    /// <summary>
    /// Keeps the entry's structured metadata: a pair naming a flow field fills it when the line lacks it (a
    /// value that does not fit the field is dropped and counted); any other pair joins the extra fields unless
    /// the line has a field of that name (the line wins).
    /// </summary>
    private static void AddMetadata(FlowRecord record, IReadOnlyList<KeyValuePair<string, string>> metadata)
    {
        FlowExtraFieldsWriter? extra = null;
        try
        {
            foreach (var (name, value) in metadata)
            {
                if (FlowFields.TryGet(name, out var field))
                {
                    if (field.IsPresent(record))
                    {
                        continue;
                    }

                    var parsed = new FlowRecord();
                    if (FlowRecordJson.TrySetFromString(parsed, name, value))
                    {
                        field.Copy(parsed, record);
                    }
                    else
                    {
                        record.ExtraFieldsDropped++;
                    }

                    continue;
                }

                if (extra is null)
                {
                    extra = new FlowExtraFieldsWriter();
                    CopyExtraFields(record.ExtraFields, extra);
                }

                extra.AddString(name, value);
            }

            if (extra is not null)
            {
                record.ExtraFields = extra.Build();
                record.ExtraFieldsDropped += extra.Dropped;
            }
        }
        finally
        {
            extra?.Dispose();
        }
    }

    private static void CopyExtraFields(string? json, FlowExtraFieldsWriter into)
    {
        if (json is null)
        {
            return;
        }

        using var doc = JsonDocument.Parse(json);
        foreach (var property in doc.RootElement.EnumerateObject())
        {
            into.Add(property.Name, property.Value);
        }
    }

    private static bool HasFlowField(FlowRecord r) =>
        r.TimeFlowEndMs != 0 || r.TimeFlowStartMs != 0 || r.Bytes != 0 || r.Packets != 0 || r.SrcAddr is not null
        || r.DstAddr is not null || r.Proto is not null || r.AgentIP is not null;

    private static void Reject(LokiPushBatch batch, string reason, LokiStreamAdapter stream, int index, string message) =>
        batch.Reject(reason, 1, string.Create(CultureInfo.InvariantCulture,
            $"stream {Describe(stream)} entry {index}: {message}"));

    /// <summary>The stream's labels as <c>{a="b", c="d"}</c>, cut at 200 characters.</summary>
    internal static string Describe(LokiStreamAdapter stream)
    {
        var text = new StringBuilder("{");
        foreach (var (name, value) in stream.Labels)
        {
            if (text.Length > 1)
            {
                text.Append(", ");
            }

            text.Append(name).Append("=\"").Append(value.Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
            if (text.Length > 200)
            {
                return text.ToString(0, 200) + "...}";
            }
        }

        return text.Append('}').ToString();
    }
}
