using System.Buffers.Binary;
using System.Net;

namespace NetObserv.Server.Tests.Ingest;

/// <summary>Hand-written IPFIX and NetFlow v9 packets for the end-to-end tests.</summary>
internal static class IpfixPackets
{
    /// <summary>One test flow: IPv4 5-tuple, counts, times.</summary>
    internal sealed record Flow(string Src, string Dst, int SrcPort, int DstPort, int Proto, long Bytes, long Packets,
        long StartMs, long EndMs);

    // sourceIPv4Address, destinationIPv4Address, sourceTransportPort, destinationTransportPort,
    // protocolIdentifier, octetDeltaCount, packetDeltaCount, flowStartMilliseconds, flowEndMilliseconds.
    private static readonly (ushort Element, ushort Length)[] s_ipfixFields =
        [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 8), (2, 8), (152, 8), (153, 8)];

    // v9: same, but FIRST_SWITCHED / LAST_SWITCHED (22, 21) relative to the header's uptime.
    private static readonly (ushort Element, ushort Length)[] s_v9Fields =
        [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4), (22, 4), (21, 4)];

    public static byte[] IpfixTemplate(ushort templateId, uint domain)
    {
        var bytes = new List<byte>();
        Header10(bytes, domain);
        U16(bytes, 2);
        U16(bytes, 8 + (4 * s_ipfixFields.Length));
        U16(bytes, templateId);
        U16(bytes, s_ipfixFields.Length);
        foreach (var (e, l) in s_ipfixFields)
        {
            U16(bytes, e);
            U16(bytes, l);
        }

        return Finish10(bytes);
    }

    public static byte[] IpfixData(ushort templateId, uint domain, IReadOnlyList<Flow> flows)
    {
        var bytes = new List<byte>();
        Header10(bytes, domain);
        U16(bytes, templateId);
        U16(bytes, 4 + (flows.Count * 45));
        foreach (var f in flows)
        {
            bytes.AddRange(IPAddress.Parse(f.Src).GetAddressBytes());
            bytes.AddRange(IPAddress.Parse(f.Dst).GetAddressBytes());
            U16(bytes, f.SrcPort);
            U16(bytes, f.DstPort);
            bytes.Add((byte)f.Proto);
            U64(bytes, (ulong)f.Bytes);
            U64(bytes, (ulong)f.Packets);
            U64(bytes, (ulong)f.StartMs);
            U64(bytes, (ulong)f.EndMs);
        }

        return Finish10(bytes);
    }

    /// <summary>A v9 packet with the template and data flowsets; times relative to <paramref name="bootMs"/>.</summary>
    public static byte[] NetflowV9(ushort templateId, uint sourceId, long bootMs, long nowMs, IReadOnlyList<Flow> flows)
    {
        var bytes = new List<byte>();
        U16(bytes, 9);
        U16(bytes, 1 + flows.Count);
        U32(bytes, (uint)(nowMs - bootMs));
        U32(bytes, (uint)(nowMs / 1000));
        U32(bytes, 1);
        U32(bytes, sourceId);
        U16(bytes, 0);
        U16(bytes, 8 + (4 * s_v9Fields.Length));
        U16(bytes, templateId);
        U16(bytes, s_v9Fields.Length);
        foreach (var (e, l) in s_v9Fields)
        {
            U16(bytes, e);
            U16(bytes, l);
        }

        // 29-byte records; pad the flowset to 4 bytes.
        var dataLength = 4 + (flows.Count * 29);
        var padding = (4 - (dataLength % 4)) % 4;
        U16(bytes, templateId);
        U16(bytes, dataLength + padding);
        foreach (var f in flows)
        {
            bytes.AddRange(IPAddress.Parse(f.Src).GetAddressBytes());
            bytes.AddRange(IPAddress.Parse(f.Dst).GetAddressBytes());
            U16(bytes, f.SrcPort);
            U16(bytes, f.DstPort);
            bytes.Add((byte)f.Proto);
            U32(bytes, (uint)f.Bytes);
            U32(bytes, (uint)f.Packets);
            U32(bytes, (uint)(f.StartMs - bootMs));
            U32(bytes, (uint)(f.EndMs - bootMs));
        }

        bytes.AddRange(new byte[padding]);
        return [.. bytes];
    }

    private static void Header10(List<byte> bytes, uint domain)
    {
        U16(bytes, 10);
        U16(bytes, 0);
        U32(bytes, (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        U32(bytes, 0);
        U32(bytes, domain);
    }

    private static byte[] Finish10(List<byte> bytes)
    {
        var array = bytes.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(array.AsSpan(2), (ushort)array.Length);
        return array;
    }

    private static void U16(List<byte> bytes, int value)
    {
        bytes.Add((byte)(value >> 8));
        bytes.Add((byte)value);
    }

    private static void U32(List<byte> bytes, uint value)
    {
        U16(bytes, (int)(value >> 16));
        U16(bytes, (int)(value & 0xFFFF));
    }

    private static void U64(List<byte> bytes, ulong value)
    {
        U32(bytes, (uint)(value >> 32));
        U32(bytes, (uint)value);
    }
}
