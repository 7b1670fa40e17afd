using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace NetObserv.Flows.Enrichment;

/// <summary>
/// Addresses as 128-bit keys: IPv6 as is, IPv4 in its IPv4-mapped form (<c>::ffff:a.b.c.d</c>), so an
/// IPv4 address and its mapped IPv6 spelling are the same key. Conversion allocates nothing.
/// </summary>
internal static class IpKeys
{
    private static readonly UInt128 s_mappedPrefix = (UInt128)0xFFFF << 32;

    public static bool TryGetKey(IPAddress address, out UInt128 key)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written))
        {
            key = default;
            return false;
        }

        key = written == 4
            ? s_mappedPrefix | BinaryPrimitives.ReadUInt32BigEndian(bytes)
            : BinaryPrimitives.ReadUInt128BigEndian(bytes);
        return true;
    }

    /// <summary>The prefix length in key space: an IPv4 /n is a /(96+n) of the mapped range.</summary>
    public static int KeyPrefixLength(IPAddress network, int prefixLength) =>
        network.AddressFamily == AddressFamily.InterNetwork ? prefixLength + 96 : prefixLength;

    public static UInt128 Mask(int keyPrefixLength) =>
        keyPrefixLength == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - keyPrefixLength);

    /// <summary>Equality that treats an IPv4 address and its IPv4-mapped IPv6 form as equal; null equals null.</summary>
    public static bool SameAddress(IPAddress? a, IPAddress? b)
    {
        if (a is null || b is null)
        {
            return a is null && b is null;
        }

        return TryGetKey(a, out var ka) && TryGetKey(b, out var kb) && ka == kb;
    }
}
