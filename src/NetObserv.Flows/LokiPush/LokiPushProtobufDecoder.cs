using System.Buffers;
using System.Globalization;
using System.Text;
using Snappier;

namespace NetObserv.Flows.LokiPush;

/// <summary>
/// Reads Loki's protobuf push body: a snappy block (not framed) holding <c>logproto.PushRequest</c>
/// (<c>repeated StreamAdapter streams = 1</c>), <c>StreamAdapter</c> (<c>string labels = 1</c>,
/// <c>repeated EntryAdapter entries = 2</c>, <c>uint64 hash = 3</c>) and <c>EntryAdapter</c>
/// (<c>Timestamp timestamp = 1</c>, <c>string line = 2</c>, structured metadata 3 kept as name and value
/// pairs, parsed 4 ignored). Decoded by hand over the bytes, bounds-checked: unknown fields are skipped by wire type.
/// </summary>
public static class LokiPushProtobufDecoder
{
    private const int WireVarint = 0;
    private const int Wire64 = 1;
    private const int WireLength = 2;
    private const int Wire32 = 5;

    // google.protobuf.Timestamp's valid range (0001-01-01 to 9999-12-31) intersected with what fits in
    // nanoseconds since the epoch as a long (1677-09-21 to 2262-04-11).
    private const long MinSeconds = -9_223_372_036L;
    private const long MaxSeconds = 9_223_372_035L;

    /// <summary>
    /// Most bytes a snappy block can stand for per byte of block: its densest element is a 3-byte copy of
    /// 64 bytes (21.3 to 1).
    /// </summary>
    private const int MaxSnappyExpansion = 22;

    /// <summary>
    /// Decompresses a snappy block into a buffer rented from <see cref="ArrayPool{T}.Shared"/> (the caller
    /// returns it once the request has been read). Refuses, before allocating, blocks that would exceed
    /// <paramref name="maxBytes"/> and blocks claiming more than snappy can encode in their size, so the
    /// buffer is never larger than 22 times the block.
    /// </summary>
    public static LokiPushDecodeStatus TryDecompress(ReadOnlySpan<byte> compressed, int maxBytes, out byte[]? buffer,
        out int length, out string? error)
    {
        buffer = null;
        length = 0;
        try
        {
            var size = Snappy.GetUncompressedLength(compressed);
            if (size > maxBytes)
            {
                error = string.Create(CultureInfo.InvariantCulture,
                    $"decompressed body of {size} bytes exceeds the limit of {maxBytes} bytes");
                return LokiPushDecodeStatus.TooLarge;
            }

            // The length is the sender's claim: believed, a few bytes would have a buffer of up to maxBytes
            // rented before the block is found invalid.
            if (size > (long)compressed.Length * MaxSnappyExpansion)
            {
                error = string.Create(CultureInfo.InvariantCulture,
                    $"invalid snappy block: {compressed.Length} bytes cannot hold the {size} bytes it claims");
                return LokiPushDecodeStatus.Invalid;
            }

            buffer = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
            length = Snappy.Decompress(compressed, buffer.AsSpan(0, size));
            error = null;
            return LokiPushDecodeStatus.Ok;
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or IndexOutOfRangeException)
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = null;
            }

            error = "invalid snappy block: " + ex.Message;
            return LokiPushDecodeStatus.Invalid;
        }
    }

    /// <summary>Reads a (decompressed) <c>PushRequest</c> within <see cref="LokiLabelLimits.Default"/>.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> body, LokiPushRequest request, out string? error) =>
        TryDecode(body, request, LokiLabelLimits.Default, out error);

    /// <summary>
    /// Reads a (decompressed) <c>PushRequest</c> into <paramref name="request"/>. Entry lines point into
    /// <paramref name="body"/>. Returns false with a reason (and the byte offset) on malformed input. A stream
    /// whose labels break <paramref name="limits"/> is kept with its <see cref="LokiStreamAdapter.LabelError"/>.
    /// </summary>
    public static bool TryDecode(ReadOnlyMemory<byte> body, LokiPushRequest request, LokiLabelLimits limits,
        out string? error)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limits);
        var data = body.Span;
        var pos = 0;
        while (pos < data.Length)
        {
            if (!TryReadTag(data, ref pos, data.Length, out var field, out var wire, out error))
            {
                return false;
            }

            if (field == 1)
            {
                if (!TryReadLengthDelimited(data, ref pos, data.Length, wire, field, out var start, out var length,
                        out error))
                {
                    return false;
                }

                var stream = new LokiStreamAdapter();
                if (!TryDecodeStream(body, start, start + length, stream, limits, out error))
                {
                    return false;
                }

                request.Streams.Add(stream);
            }
            else if (!TrySkip(data, ref pos, data.Length, wire, out error))
            {
                return false;
            }
        }

        error = null;
        return true;
    }

    /// <summary>
    /// Fuzzing entry point: decompresses, decodes and reads one snappy body as the endpoint does. Bad input
    /// makes it return -1 (body refused) or reject lines; it never throws. Returns the records read.
    /// </summary>
    internal static int Fuzz(ReadOnlySpan<byte> snappyBody, int maxBytes = 1 << 20)
    {
        if (TryDecompress(snappyBody, maxBytes, out var buffer, out var length, out _) != LokiPushDecodeStatus.Ok)
        {
            return -1;
        }

        try
        {
            var request = new LokiPushRequest();
            if (!TryDecode(buffer.AsMemory(0, length), request, out _))
            {
                return -1;
            }

            var batch = new LokiPushBatch();
            LokiPushFlowReader.Read(request, FlowRecord.DefaultTenant, 1 << 16, batch);
            return batch.Records.Count;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer!);
        }
    }

    private static bool TryDecodeStream(ReadOnlyMemory<byte> body, int pos, int end, LokiStreamAdapter stream,
        LokiLabelLimits limits, out string? error)
    {
        var data = body.Span;
        string? labels = null;
        while (pos < end)
        {
            if (!TryReadTag(data, ref pos, end, out var field, out var wire, out error))
            {
                return false;
            }

            switch (field)
            {
                case 1:
                    {
                        if (!TryReadLengthDelimited(data, ref pos, end, wire, field, out var start, out var length,
                                out error))
                        {
                            return false;
                        }

                        labels = Encoding.UTF8.GetString(data.Slice(start, length));
                        break;
                    }

                case 2:
                    {
                        if (!TryReadLengthDelimited(data, ref pos, end, wire, field, out var start, out var length,
                                out error)
                            || !TryDecodeEntry(body, start, start + length, out var entry, out error))
                        {
                            return false;
                        }

                        stream.Entries.Add(entry);
                        break;
                    }

                default:
                    if (!TrySkip(data, ref pos, end, wire, out error))
                    {
                        return false;
                    }

                    break;
            }
        }

        if (labels is null)
        {
            stream.RefuseLabels(LokiPushRejectReason.InvalidLabels, "stream has no labels");
        }
        else if (LokiLabelParser.TryParse(labels, stream.Labels, limits, out var labelError, out var reason))
        {
            stream.LabelText = labels;
        }
        else
        {
            stream.RefuseLabels(reason, labelError!);
        }

        error = null;
        return true;
    }

    private static bool TryDecodeEntry(ReadOnlyMemory<byte> body, int pos, int end, out LokiPushEntry entry,
        out string? error)
    {
        var data = body.Span;
        entry = default;
        long seconds = 0;
        long nanos = 0;
        var line = ReadOnlyMemory<byte>.Empty;
        List<KeyValuePair<string, string>>? metadata = null;
        var metadataDropped = 0;
        while (pos < end)
        {
            if (!TryReadTag(data, ref pos, end, out var field, out var wire, out error))
            {
                return false;
            }

            switch (field)
            {
                case 3:
                    {
                        if (!TryReadLengthDelimited(data, ref pos, end, wire, field, out var start, out var length,
                                out error)
                            || !TryDecodeLabelPair(data, start, start + length, out var name, out var value, out error))
                        {
                            return false;
                        }

                        if ((metadata?.Count ?? 0) < LokiPushEntry.MaxMetadata)
                        {
                            (metadata ??= []).Add(new KeyValuePair<string, string>(name, value));
                        }
                        else
                        {
                            metadataDropped++;
                        }

                        break;
                    }

                case 1:
                    {
                        if (!TryReadLengthDelimited(data, ref pos, end, wire, field, out var start, out var length,
                                out error)
                            || !TryDecodeTimestamp(data, start, start + length, out seconds, out nanos, out error))
                        {
                            return false;
                        }

                        break;
                    }

                case 2:
                    {
                        if (!TryReadLengthDelimited(data, ref pos, end, wire, field, out var start, out var length,
                                out error))
                        {
                            return false;
                        }

                        line = body.Slice(start, length);
                        break;
                    }

                default:
                    if (!TrySkip(data, ref pos, end, wire, out error))
                    {
                        return false;
                    }

                    break;
            }
        }

        if (seconds is < MinSeconds or > MaxSeconds || nanos is < 0 or > 999_999_999)
        {
            entry = new LokiPushEntry(0, line, string.Create(CultureInfo.InvariantCulture,
                $"timestamp {seconds}s {nanos}ns is out of range"), metadata);
        }
        else
        {
            entry = new LokiPushEntry((seconds * 1_000_000_000L) + nanos, line, null, metadata, metadataDropped);
        }

        error = null;
        return true;
    }

    /// <summary>A <c>LabelPairAdapter</c> (<c>string name = 1; string value = 2;</c>), invalid UTF-8 as U+FFFD.</summary>
    private static bool TryDecodeLabelPair(ReadOnlySpan<byte> data, int pos, int end, out string name, out string value,
        out string? error)
    {
        name = "";
        value = "";
        while (pos < end)
        {
            if (!TryReadTag(data, ref pos, end, out var field, out var wire, out error))
            {
                return false;
            }

            if (field is 1 or 2)
            {
                if (!TryReadLengthDelimited(data, ref pos, end, wire, field, out var start, out var length, out error))
                {
                    return false;
                }

                var text = Encoding.UTF8.GetString(data.Slice(start, length));
                if (field == 1)
                {
                    name = text;
                }
                else
                {
                    value = text;
                }
            }
            else if (!TrySkip(data, ref pos, end, wire, out error))
            {
                return false;
            }
        }

        error = null;
        return true;
    }

    private static bool TryDecodeTimestamp(ReadOnlySpan<byte> data, int pos, int end, out long seconds,
        out long nanos, out string? error)
    {
        seconds = 0;
        nanos = 0;
        while (pos < end)
        {
            if (!TryReadTag(data, ref pos, end, out var field, out var wire, out error))
            {
                return false;
            }

            if (field is 1 or 2 && wire == WireVarint)
            {
                if (!TryReadVarint(data, ref pos, end, out var value, out error))
                {
                    return false;
                }

                if (field == 1)
                {
                    seconds = (long)value;
                }
                else
                {
                    // int32 is sign-extended to 64 bits on the wire.
                    nanos = (long)value;
                }
            }
            else if (!TrySkip(data, ref pos, end, wire, out error))
            {
                return false;
            }
        }

        error = null;
        return true;
    }

    private static bool TryReadTag(ReadOnlySpan<byte> data, ref int pos, int end, out int field, out int wire,
        out string? error)
    {
        field = 0;
        wire = 0;
        var at = pos;
        if (!TryReadVarint(data, ref pos, end, out var tag, out error))
        {
            return false;
        }

        if (tag >> 3 is 0 or > int.MaxValue)
        {
            error = Fail(at, "invalid field number");
            return false;
        }

        field = (int)(tag >> 3);
        wire = (int)(tag & 7);
        return true;
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> data, ref int pos, int end, out ulong value,
        out string? error)
    {
        value = 0;
        var at = pos;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (pos >= end)
            {
                error = Fail(at, "truncated varint");
                return false;
            }

            var b = data[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                error = null;
                return true;
            }
        }

        error = Fail(at, "varint longer than 10 bytes");
        return false;
    }

    private static bool TryReadLengthDelimited(ReadOnlySpan<byte> data, ref int pos, int end, int wire, int field,
        out int start, out int length, out string? error)
    {
        start = 0;
        length = 0;
        if (wire != WireLength)
        {
            error = Fail(pos, string.Create(CultureInfo.InvariantCulture,
                $"field {field} has wire type {wire}, expected {WireLength}"));
            return false;
        }

        var at = pos;
        if (!TryReadVarint(data, ref pos, end, out var n, out error))
        {
            return false;
        }

        if (n > (ulong)(end - pos))
        {
            error = Fail(at, "length runs past the end of the message");
            return false;
        }

        start = pos;
        length = (int)n;
        pos += length;
        return true;
    }

    private static bool TrySkip(ReadOnlySpan<byte> data, ref int pos, int end, int wire, out string? error)
    {
        switch (wire)
        {
            case WireVarint:
                return TryReadVarint(data, ref pos, end, out _, out error);
            case Wire64:
            case Wire32:
                {
                    var size = wire == Wire64 ? 8 : 4;
                    if (end - pos < size)
                    {
                        error = Fail(pos, "truncated fixed-size field");
                        return false;
                    }

                    pos += size;
                    error = null;
                    return true;
                }

            case WireLength:
                return TryReadLengthDelimited(data, ref pos, end, wire, 0, out _, out _, out error);
            default:
                error = Fail(pos, string.Create(CultureInfo.InvariantCulture, $"unsupported wire type {wire}"));
                return false;
        }
    }

    private static string Fail(int offset, string message) =>
        string.Create(CultureInfo.InvariantCulture, $"protobuf at byte {offset}: {message}");
}
