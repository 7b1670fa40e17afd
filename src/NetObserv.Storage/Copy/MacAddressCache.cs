using System.Net.NetworkInformation;

namespace NetObserv.Storage.Copy;

/// <summary>
/// Turns 48-bit MAC numbers into <see cref="PhysicalAddress"/> values for <c>macaddr</c>, reusing
/// instances: a cluster has few MAC addresses and they repeat in every batch. Bounded; one writer.
/// </summary>
internal sealed class MacAddressCache
{
    private const int MaxEntries = 65_536;
    private readonly Dictionary<ulong, PhysicalAddress> _cache = [];

    public PhysicalAddress Get(ulong mac)
    {
        if (_cache.TryGetValue(mac, out var address))
        {
            return address;
        }

        if (_cache.Count >= MaxEntries)
        {
            _cache.Clear();
        }

        address = ToPhysicalAddress(mac);
        _cache[mac] = address;
        return address;
    }

    /// <summary>0x112233445566 is 11:22:33:44:55:66; bits above 48 are ignored.</summary>
    public static PhysicalAddress ToPhysicalAddress(ulong mac)
    {
        var bytes = new byte[6];
        for (var i = 5; i >= 0; i--)
        {
            bytes[i] = (byte)mac;
            mac >>= 8;
        }

        return new PhysicalAddress(bytes);
    }
}
