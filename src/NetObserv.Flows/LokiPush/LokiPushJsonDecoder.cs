using System.Globalization;
using System.Text.Json;

namespace NetObserv.Flows.LokiPush;

/// <summary>
/// Reads Loki's JSON push body:
/// <c>{"streams":[{"stream":{"label":"value"},"values":[["&lt;ns epoch string&gt;","&lt;line&gt;"(, {structured metadata})]]}]}</c>.
/// Structured metadata and unknown properties are skipped. A malformed document fails the whole body;
/// an entry whose timestamp or line has the wrong type is kept with an <see cref="LokiPushEntry.Error"/>,
/// so the other entries of the request still count. Unescaped lines point into the body.
/// </summary>
public static class LokiPushJsonDecoder
{
    /// <summary>Reads the body within <see cref="LokiLabelLimits.Default"/>.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> body, LokiPushRequest request, out string? error) =>
        TryDecode(body, request, LokiLabelLimits.Default, out error);

    /// <summary>
    /// Reads the body into <paramref name="request"/>; false with a reason when it is not a push request. A
    /// stream whose labels break <paramref name="limits"/> is kept with its
    /// <see cref="LokiStreamAdapter.LabelError"/>, and its labels past the first bad one are not kept.
    /// </summary>
    public static bool TryDecode(ReadOnlyMemory<byte> body, LokiPushRequest request, LokiLabelLimits limits,
        out string? error)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limits);
        var reader = new Utf8JsonReader(body.Span, new JsonReaderOptions { MaxDepth = 16 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = Fail(ref reader, "the body must be a JSON object");
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals("streams"u8))
                {
                    reader.Read();
                    reader.Skip();
                    continue;
                }

                if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
                {
                    error = Fail(ref reader, "\"streams\" must be an array");
                    return false;
                }

                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    var stream = new LokiStreamAdapter();
                    if (!TryReadStream(ref reader, body, stream, limits, out error))
                    {
                        return false;
                    }

                    request.Streams.Add(stream);
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                error = Fail(ref reader, "unexpected data after the request object");
                return false;
            }
        }
        catch (JsonException ex)
        {
            error = "invalid JSON: " + ex.Message;
            return false;
        }
        catch (InvalidOperationException ex)
        {
            // A string that is not valid UTF-8.
            error = "invalid JSON: " + ex.Message;
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>
    /// Fuzzing entry point: decodes and reads one JSON body as the endpoint does. Bad input makes it return -1
    /// (body refused) or reject lines; it never throws. Returns the records read.
    /// </summary>
    internal static int Fuzz(ReadOnlySpan<byte> body)
    {
        var request = new LokiPushRequest();
        if (!TryDecode(body.ToArray(), request, out _))
        {
            return -1;
        }

        var batch = new LokiPushBatch();
        LokiPushFlowReader.Read(request, FlowRecord.DefaultTenant, 1 << 16, batch);
        return batch.Records.Count;
    }

    private static bool TryReadStream(ref Utf8JsonReader reader, ReadOnlyMemory<byte> body, LokiStreamAdapter stream,
        LokiLabelLimits limits, out string? error)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            error = Fail(ref reader, "a stream must be a JSON object");
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("stream"u8))
            {
                reader.Read();
                if (!TryReadLabels(ref reader, stream, limits, out error))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("values"u8))
            {
                reader.Read();
                if (!TryReadValues(ref reader, body, stream, out error))
                {
                    return false;
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        error = null;
        return true;
    }

    private static bool TryReadLabels(ref Utf8JsonReader reader, LokiStreamAdapter stream, LokiLabelLimits limits,
        out string? error)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            error = Fail(ref reader, "\"stream\" must be an object of label names to string values");
            return false;
        }

        HashSet<string>? names = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                error = Fail(ref reader, $"label {name} must have a string value");
                return false;
            }

            if (stream.LabelError is not null)
            {
                // Refused already: the rest is only checked for shape, not kept.
                continue;
            }

            var value = reader.GetString()!;
            if (!IsLabelName(name))
            {
                stream.RefuseLabels(LokiPushRejectReason.InvalidLabels, $"invalid label name \"{name}\"");
            }
            else if (limits.TooMany(stream.Labels.Count) is { } tooMany)
            {
                stream.RefuseLabels(LokiPushRejectReason.MaxLabelNamesPerSeries, tooMany);
            }
            else if (limits.NameTooLong(name) is { } nameTooLong)
            {
                stream.RefuseLabels(LokiPushRejectReason.LabelNameTooLong, nameTooLong);
            }
            else if (limits.ValueTooLong(name, value) is { } valueTooLong)
            {
                stream.RefuseLabels(LokiPushRejectReason.LabelValueTooLong, valueTooLong);
            }
            else if (LokiLabelLimits.IsDuplicate(stream.Labels, ref names, name))
            {
                stream.RefuseLabels(LokiPushRejectReason.InvalidLabels, $"duplicate label name {name}");
            }
            else
            {
                stream.Labels.Add(new KeyValuePair<string, string>(name, value));
            }
        }

        error = null;
        return true;
    }

    private static bool TryReadValues(ref Utf8JsonReader reader, ReadOnlyMemory<byte> body, LokiStreamAdapter stream,
        out string? error)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            error = Fail(ref reader, "\"values\" must be an array");
            return false;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                error = Fail(ref reader, "each value must be an array [\"<ns timestamp>\", \"<line>\"]");
                return false;
            }

            long timestamp = 0;
            string? entryError = null;
            var line = ReadOnlyMemory<byte>.Empty;
            List<KeyValuePair<string, string>>? metadata = null;
            var metadataDropped = 0;
            var index = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                switch (index++)
                {
                    case 0:
                        if (reader.TokenType != JsonTokenType.String
                            || !long.TryParse(reader.ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture,
                                out timestamp)
                            || reader.ValueIsEscaped)
                        {
                            entryError = "timestamp must be a string of nanoseconds since the epoch";
                        }

                        reader.Skip();
                        break;
                    case 1:
                        if (reader.TokenType == JsonTokenType.String)
                        {
                            line = ReadString(ref reader, body);
                        }
                        else
                        {
                            entryError ??= "line must be a string";
                            reader.Skip();
                        }

                        break;
                    case 2 when reader.TokenType == JsonTokenType.StartObject:
                        // Structured metadata: an object of strings, kept with the line's other fields.
                        metadata = ReadMetadata(ref reader, out metadataDropped);
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (index < 2)
            {
                entryError ??= "a value needs a timestamp and a line";
            }

            stream.Entries.Add(new LokiPushEntry(timestamp, line, entryError, metadata, metadataDropped));
        }

        error = null;
        return true;
    }

    /// <summary>
    /// The string properties of the metadata object the reader is on, at most <see cref="LokiPushEntry.MaxMetadata"/>;
    /// <paramref name="dropped"/> counts the others (past the bound, or not strings), skipped.
    /// </summary>
    private static List<KeyValuePair<string, string>>? ReadMetadata(ref Utf8JsonReader reader, out int dropped)
    {
        List<KeyValuePair<string, string>>? pairs = null;
        dropped = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            if (reader.TokenType == JsonTokenType.String && (pairs?.Count ?? 0) < LokiPushEntry.MaxMetadata)
            {
                (pairs ??= []).Add(new KeyValuePair<string, string>(name, reader.GetString()!));
            }
            else
            {
                dropped++;
                reader.Skip();
            }
        }

        return pairs;
    }

    private static ReadOnlyMemory<byte> ReadString(ref Utf8JsonReader reader, ReadOnlyMemory<byte> body)
    {
        if (!reader.ValueIsEscaped)
        {
            // The token starts at its opening quote.
            return body.Slice((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
        }

        var buffer = new byte[reader.ValueSpan.Length];
        var written = reader.CopyString(buffer);
        return buffer.AsMemory(0, written);
    }

    private static bool IsLabelName(string name)
    {
        if (name.Length == 0 || name[0] is >= '0' and <= '9')
        {
            return false;
        }

        foreach (var c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static string Fail(ref Utf8JsonReader reader, string message) =>
        string.Create(CultureInfo.InvariantCulture, $"JSON at byte {reader.TokenStartIndex}: {message}");
}
