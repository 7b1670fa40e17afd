using System.Net;
using System.Net.Sockets;

namespace NetObserv.Query.LogQL;

/// <summary>
/// The argument of an <c>ip("...")</c> label filter, as Loki accepts it: one address (<c>10.128.0.12</c>,
/// <c>fd00::1</c>), a CIDR prefix (<c>10.129.0.0/16</c>; host bits are ignored, as Go's <c>netip.Prefix</c>
/// does) or an inclusive range of one family (<c>172.30.0.1-172.30.20.255</c>).
/// </summary>
internal sealed record IpFilterValue(IPAddress Low, IPAddress High, IPNetwork? Prefix)
{
    /// <summary>Parses <paramref name="text"/>; null when it is none of the three forms.</summary>
    public static IpFilterValue? Parse(string text)
    {
        text = text.Trim();
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            if (!TryAddress(text[..slash], out var address)
                || !int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out var bits)
                || bits > (address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
            {
                return null;
            }

            var network = new IPNetwork(Mask(address, bits), bits);
            return new IpFilterValue(network.BaseAddress, Last(network), network);
        }

        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash >= 0)
        {
            if (!TryAddress(text[..dash], out var low) || !TryAddress(text[(dash + 1)..], out var high)
                || low.AddressFamily != high.AddressFamily || Compare(low, high) > 0)
            {
                return null;
            }

            return new IpFilterValue(low, high, null);
        }

        return TryAddress(text, out var single) ? new IpFilterValue(single, single, null) : null;
    }

    /// <summary>True when <paramref name="address"/> is in the value (same family, between the bounds).</summary>
    public bool Contains(IPAddress address) =>
        address.AddressFamily == Low.AddressFamily && Compare(Low, address) <= 0 && Compare(address, High) <= 0;

    private static bool TryAddress(string text, out IPAddress address)
    {
        // Only the plain textual forms (no zone, no brackets, no shortened IPv4 such as "10.1").
        address = IPAddress.None;
        if (text.Length == 0 || text.Contains('%', StringComparison.Ordinal) || text.Contains('[', StringComparison.Ordinal))
        {
            return false;
        }

        if (!IPAddress.TryParse(text, out var parsed))
        {
            return false;
        }

        if (parsed.AddressFamily == AddressFamily.InterNetwork && text.Count(c => c == '.') != 3)
        {
            return false;
        }

        address = parsed;
        return true;
    }

    private static IPAddress Mask(IPAddress address, int bits)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(bits - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        return new IPAddress(bytes);
    }

    private static IPAddress Last(IPNetwork network)
    {
        var bytes = network.BaseAddress.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(network.PrefixLength - (i * 8), 0, 8);
            bytes[i] |= (byte)(0xFF >> keep);
        }

        return new IPAddress(bytes);
    }

    private static int Compare(IPAddress a, IPAddress b)
    {
        var x = a.GetAddressBytes();
        var y = b.GetAddressBytes();
        return x.Length != y.Length ? x.Length.CompareTo(y.Length) : x.AsSpan().SequenceCompareTo(y);
    }
}
