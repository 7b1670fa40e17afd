using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace NetObserv.Flows.LokiPush;

/// <summary>
/// Turns decoded push streams into flow records. Each line is a NetObserv JSON flow record written by
/// flowlogs-pipeline's Loki writer, which moves its label fields (<c>SrcK8S_Namespace</c>,
/// <c>FlowDirection</c>, ...) out of the line into the stream labels: a label that names a flow field
/// fills that field when the line lacks it (the line wins otherwise); other labels (<c>app</c>) are
/// ignored. The entry timestamp fills <c>TimeFlowEndMs</c> when the line lacks it. Records are kept as
/// they arrive (already enriched). A bad line is counted with its reason and loses nothing else.
/// </summary>
public static class LokiPushFlowReader
{
    private static readonly FlowRecord s_empty = new();

    /// <summary>Reads every entry of <paramref name="request"/> into <paramref name="batch"/>.</summary>
    /// <param name="request">The decoded body.</param>
    /// <param name="tenant">The tenant every record belongs to.</param>
    /// <param name="maxLineBytes">Longer lines are rejected.</param>
    /// <param name="batch">Receives the records and the rejections.</param>
    public static void Read(LokiPushRequest request, string tenant, int maxLineBytes, LokiPushBatch batch)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(batch);

        var fieldLabels = new List<string>();
        var badLabels = new List<KeyValuePair<string, string>>();
        foreach (var stream in request.Streams)
        {
            if (stream.Entries.Count == 0)
            {
                continue;
            }

            if (stream.LabelError is not null)
            {
                batch.Reject(LokiPushRejectReason.InvalidLabels, stream.Entries.Count,
                    string.Create(CultureInfo.InvariantCulture,
                        $"stream {Describe(stream)}: {stream.LabelError} ({stream.Entries.Count} lines)"));
                continue;
            }

            var template = ReadLabels(stream, fieldLabels, badLabels);
            for (var i = 0; i < stream.Entries.Count; i++)
            {
                ReadEntry(stream, i, template, fieldLabels, badLabels, tenant, maxLineBytes, batch);
            }
        }
    }

    /// <summary>A record holding the stream's label fields; names of the labels that set a field, and bad ones.</summary>
    private static FlowRecord ReadLabels(LokiStreamAdapter stream, List<string> fieldLabels,
        List<KeyValuePair<string, string>> badLabels)
    {
        fieldLabels.Clear();
        badLabels.Clear();
        var template = new FlowRecord();
        foreach (var (name, value) in stream.Labels)
        {
            if (LokiLabelField.FillIfAbsent(s_empty, new FlowRecord(), name) == LokiLabelField.Outcome.Unknown)
            {
                continue;
            }

            if (TrySetLabel(template, name, value))
            {
                fieldLabels.Add(name);
            }
            else
            {
                badLabels.Add(new KeyValuePair<string, string>(name, value));
            }
        }

        return template;
    }

    /// <summary>A label value as Go's <c>fmt.Sprint</c> prints the field (<c>true</c>/<c>false</c> for booleans).</summary>
    private static bool TrySetLabel(FlowRecord template, string name, string value)
    {
        if (name == "Duplicate")
        {
            if (!bool.TryParse(value, out var duplicate))
            {
                return false;
            }

            template.Duplicate = duplicate;
            return true;
        }

        return FlowRecordJson.TrySetFromString(template, name, value);
    }

    private static void ReadEntry(LokiStreamAdapter stream, int index, FlowRecord template, List<string> fieldLabels,
        List<KeyValuePair<string, string>> badLabels, string tenant, int maxLineBytes, LokiPushBatch batch)
    {
        var entry = stream.Entries[index];
        if (entry.Error is not null)
        {
            Reject(batch, LokiPushRejectReason.InvalidEntry, stream, index, entry.Error);
            return;
        }

        if (entry.Line.Length > maxLineBytes)
        {
            Reject(batch, LokiPushRejectReason.LineTooLong, stream, index, string.Create(CultureInfo.InvariantCulture,
                $"line of {entry.Line.Length} bytes exceeds the limit of {maxLineBytes} bytes"));
            return;
        }

        if (!Utf8.IsValid(entry.Line.Span))
        {
            Reject(batch, LokiPushRejectReason.InvalidLine, stream, index, "line is not valid UTF-8");
            return;
        }

        FlowRecord record;
        string? error;
        bool parsed;
        try
        {
            parsed = FlowRecordJson.TryParse(entry.Line.Span, out record, out error);
        }
        catch (Exception ex) when (ex is InvalidOperationException or JsonException or ArgumentException)
        {
            // Whatever the parser did not anticipate is still one bad line, not a failed request.
            Reject(batch, LokiPushRejectReason.InvalidLine, stream, index, "invalid flow record: " + ex.Message);
            return;
        }

        if (!parsed)
        {
            Reject(batch, LokiPushRejectReason.InvalidLine, stream, index, error ?? "not a flow record");
            return;
        }

        foreach (var (name, value) in badLabels)
        {
            if (LokiLabelField.FillIfAbsent(s_empty, record, name) == LokiLabelField.Outcome.Filled)
            {
                Reject(batch, LokiPushRejectReason.InvalidLabelValue, stream, index,
                    $"label {name}=\"{value}\" is not a valid {name}");
                return;
            }
        }

        foreach (var name in fieldLabels)
        {
            LokiLabelField.FillIfAbsent(template, record, name);
        }

        if (!HasFlowField(record))
        {
            Reject(batch, LokiPushRejectReason.NotFlowRecord, stream, index,
                "not a NetObserv flow record (no times, addresses, protocol or counters)");
            return;
        }

        if (record.TimeFlowEndMs == 0)
        {
            record.TimeFlowEndMs = Math.DivRem(entry.TimestampNs, 1_000_000L, out _);
        }

        record.Tenant = tenant;
        batch.Records.Add(record);
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
