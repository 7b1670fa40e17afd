using System.Collections.Frozen;
using System.Net;

namespace NetObserv.Flows.Enrichment;

/// <summary>
/// An immutable address -> <see cref="EnrichmentEntry"/> index: exact addresses first (already
/// resolved by kind: Pod, then Node, then Service), then CIDR ranges, longest prefix first.
/// Built off the hot path by <see cref="EnrichmentIndexBuilder"/> and published whole, so lookups
/// are plain reads of frozen dictionaries with no lock and no allocation.
/// </summary>
public sealed class EnrichmentIndex
{
    private readonly FrozenDictionary<UInt128, EnrichmentEntry> _exact;
    private readonly CidrTable[] _cidrs;

    internal EnrichmentIndex(FrozenDictionary<UInt128, EnrichmentEntry> exact, CidrTable[] cidrs)
    {
        _exact = exact;
        _cidrs = cidrs;
        CidrCount = 0;
        foreach (var table in cidrs)
        {
            CidrCount += table.Entries.Count;
        }
    }

    /// <summary>An index that knows nothing.</summary>
    public static EnrichmentIndex Empty { get; } = new(FrozenDictionary<UInt128, EnrichmentEntry>.Empty, []);

    /// <summary>Number of exact addresses.</summary>
    public int AddressCount => _exact.Count;

    /// <summary>Number of CIDR ranges.</summary>
    public int CidrCount { get; }

    /// <summary>The entry for <paramref name="address"/>: an exact match, else the longest matching CIDR, else null.</summary>
    public EnrichmentEntry? Lookup(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!IpKeys.TryGetKey(address, out var key))
        {
            return null;
        }

        if (_exact.TryGetValue(key, out var entry))
        {
            return entry;
        }

        foreach (var table in _cidrs)
        {
            if (table.Entries.TryGetValue(key & table.Mask, out entry))
            {
                return entry;
            }
        }

        return null;
    }

    /// <summary>
    /// One index holding both: for an address known to both, the entry of the higher-precedence kind
    /// wins (Pod, Node, Service), and <paramref name="primary"/> wins between equal kinds; for a CIDR
    /// known to both, <paramref name="primary"/> wins.
    /// </summary>
    public static EnrichmentIndex Merge(EnrichmentIndex primary, EnrichmentIndex secondary)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(secondary);
        if (secondary.AddressCount == 0 && secondary.CidrCount == 0)
        {
            return primary;
        }

        if (primary.AddressCount == 0 && primary.CidrCount == 0)
        {
            return secondary;
        }

        var builder = new EnrichmentIndexBuilder();
        primary.CopyTo(builder);
        secondary.CopyTo(builder);
        return builder.Build();
    }

    private void CopyTo(EnrichmentIndexBuilder builder)
    {
        foreach (var (key, entry) in _exact)
        {
            builder.AddKey(key, entry);
        }

        foreach (var table in _cidrs)
        {
            foreach (var (network, entry) in table.Entries)
            {
                builder.AddCidrKey(table.KeyPrefixLength, network, entry);
            }
        }
    }

    internal sealed record CidrTable(int KeyPrefixLength, UInt128 Mask, FrozenDictionary<UInt128, EnrichmentEntry> Entries);
}
