using System.Buffers.Binary;

namespace NetObserv.Server.Loadgen;

/// <summary>
/// Writes IPFIX messages with one typical IPv4 flow template (the fields a router or softflowd sends):
/// addresses, ports, protocol, TCP flags, class of service, octet and packet deltas, interfaces,
/// start and end in milliseconds, flow direction. Used by <c>loadgen --protocol ipfix</c> and the
/// decode benchmark.
/// </summary>
internal static class IpfixLoadMessages
{
    public const ushort TemplateId = 256;
    public const int HeaderLength = 16;

    /// <summary>Bytes per data record of the template.</summary>
    public const int RecordLength = 4 + 4 + 2 + 2 + 1 + 2 + 1 + 8 + 8 + 4 + 4 + 8 + 8 + 1;

    /// <summary>Records that fit a 1,400-byte datagram (stays under a 1,500-byte MTU).</summary>
    public const int RecordsPerMessage = (1400 - HeaderLength - 4) / RecordLength;

    private static readonly (ushort Element, ushort Length)[] s_fields =
    [
        (8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 2), (5, 1), (1, 8), (2, 8), (10, 4), (14, 4), (152, 8), (153, 8), (61, 1),
    ];

    /// <summary>Writes a message holding the template set; returns its length.</summary>
    public static int WriteTemplate(Span<byte> destination, uint exportTime, uint sequence, uint domain)
    {
        var pos = HeaderLength;
        BinaryPrimitives.WriteUInt16BigEndian(destination[pos..], 2);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(pos + 2)..], (ushort)(8 + (4 * s_fields.Length)));
        BinaryPrimitives.WriteUInt16BigEndian(destination[(pos + 4)..], TemplateId);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(pos + 6)..], (ushort)s_fields.Length);
        pos += 8;
        foreach (var (element, length) in s_fields)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[pos..], element);
            BinaryPrimitives.WriteUInt16BigEndian(destination[(pos + 2)..], length);
            pos += 4;
        }

        WriteHeader(destination, pos, exportTime, sequence, domain);
        return pos;
    }

    /// <summary>
    /// Writes a message with <paramref name="count"/> data records; flow <c>n</c> (from <paramref name="firstFlow"/>)
    /// goes from 10.(n/65536).x.y to 10.200.x.y with <c>n</c>-derived ports and counts. Returns the length.
    /// </summary>
    public static int WriteData(Span<byte> destination, uint exportTime, uint sequence, uint domain, long firstFlow, int count,
        long endMs)
    {
        var pos = HeaderLength;
        BinaryPrimitives.WriteUInt16BigEndian(destination[pos..], TemplateId);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(pos + 2)..], (ushort)(4 + (count * RecordLength)));
        pos += 4;
        for (var i = 0; i < count; i++)
        {
            var n = (uint)(firstFlow + i);
            var r = destination.Slice(pos, RecordLength);
            BinaryPrimitives.WriteUInt32BigEndian(r, 0x0A00_0000u | (n & 0x00FF_FFFF));
            BinaryPrimitives.WriteUInt32BigEndian(r[4..], 0x0AC8_0000u | (n & 0xFFFF));
            BinaryPrimitives.WriteUInt16BigEndian(r[8..], (ushort)(32768 + (n % 28000)));
            BinaryPrimitives.WriteUInt16BigEndian(r[10..], (n % 3) switch { 0 => 443, 1 => 80, _ => 53 });
            r[12] = (byte)(n % 3 == 2 ? 17 : 6);
            BinaryPrimitives.WriteUInt16BigEndian(r[13..], (ushort)(n % 3 == 2 ? 0 : 0x18));
            r[15] = 0;
            BinaryPrimitives.WriteUInt64BigEndian(r[16..], 64 + (n % 1400));
            BinaryPrimitives.WriteUInt64BigEndian(r[24..], 1 + (n % 10));
            BinaryPrimitives.WriteUInt32BigEndian(r[32..], 1);
            BinaryPrimitives.WriteUInt32BigEndian(r[36..], 2);
            BinaryPrimitives.WriteUInt64BigEndian(r[40..], (ulong)(endMs - 1000));
            BinaryPrimitives.WriteUInt64BigEndian(r[48..], (ulong)endMs);
            r[56] = (byte)(n & 1);
            pos += RecordLength;
        }

        WriteHeader(destination, pos, exportTime, sequence, domain);
        return pos;
    }

    private static void WriteHeader(Span<byte> destination, int length, uint exportTime, uint sequence, uint domain)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, 10);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], exportTime);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], domain);
    }
}
