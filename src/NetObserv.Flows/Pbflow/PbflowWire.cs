using System.Buffers;

namespace NetObserv.Flows.Pbflow;

/// <summary>
/// Reads the outline of a serialized <see cref="Records"/> message without decoding it, so a busy
/// collector can refuse a batch for the price of a scan rather than a parse.
/// </summary>
public static class PbflowWire
{
    private const int WireVarint = 0;
    private const int WireFixed64 = 1;
    private const int WireLengthDelimited = 2;
    private const int WireFixed32 = 5;
    private const int EntriesField = 1;

    /// <summary>
    /// Counts the <c>entries</c> (field 1) of a serialized <c>Records</c> message by walking its tags
    /// and lengths. Returns false when the bytes are not a well-formed sequence of fields (the full
    /// parse then reports why).
    /// </summary>
    public static bool TryCountRecords(ReadOnlySequence<byte> payload, out int count)
    {
        count = 0;
        var reader = new SequenceReader<byte>(payload);
        while (!reader.End)
        {
            if (!TryReadVarint(ref reader, out var tag) || tag >> 3 == 0)
            {
                return false;
            }

            switch ((int)(tag & 7))
            {
                case WireVarint:
                    if (!TryReadVarint(ref reader, out _))
                    {
                        return false;
                    }

                    break;
                case WireFixed64:
                    if (reader.Remaining < 8)
                    {
                        return false;
                    }

                    reader.Advance(8);
                    break;
                case WireFixed32:
                    if (reader.Remaining < 4)
                    {
                        return false;
                    }

                    reader.Advance(4);
                    break;
                case WireLengthDelimited:
                    if (!TryReadVarint(ref reader, out var length) || (ulong)reader.Remaining < length)
                    {
                        return false;
                    }

                    reader.Advance((long)length);
                    if (tag >> 3 == EntriesField)
                    {
                        count++;
                    }

                    break;
                default:
                    return false;
            }
        }

        return true;
    }

    private static bool TryReadVarint(ref SequenceReader<byte> reader, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (!reader.TryRead(out var b))
            {
                return false;
            }

            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }

        return false;
    }
}
