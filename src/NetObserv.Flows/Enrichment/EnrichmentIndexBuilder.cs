using System.Collections.Frozen;
using System.Net;
using System.Net.Sockets;

namespace NetObserv.Flows.Enrichment;

/// <summary>
/// Collects entries for one <see cref="EnrichmentIndex"/>. When one address gets several entries the
/// kind decides, as flowlogs-pipeline looks them up: a Pod beats a Node, a Node beats a Service; between
/// entries of the same kind the first added wins. Not thread-safe; build, then publish the index.
/// </summary>
public sealed class EnrichmentIndexBuilder
{
    private readonly Dictionary<UInt128, EnrichmentEntry> _exact = [];
    private readonly Dictionary<(int KeyPrefixLength, UInt128 Network), EnrichmentEntry> _cidrs = [];

    /// <summary>Adds an exact address; returns false when an entry already known for it takes precedence.</summary>
    public bool Add(IPAddress address, EnrichmentEntry entry)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(entry);
        return IpKeys.TryGetKey(address, out var key) && AddKey(key, entry);
    }

    /// <summary>
    /// Adds a CIDR range (<paramref name="network"/> / <paramref name="prefixLength"/>; host bits are
    /// ignored). Returns false when the same range is already known.
    /// </summary>
    public bool AddCidr(IPAddress network, int prefixLength, EnrichmentEntry entry)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(entry);
        var max = network.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, max);
        if (!IpKeys.TryGetKey(network, out var key))
        {
            return false;
        }

        var keyPrefix = IpKeys.KeyPrefixLength(network, prefixLength);
        return AddCidrKey(keyPrefix, key & IpKeys.Mask(keyPrefix), entry);
    }

    internal bool AddKey(UInt128 key, EnrichmentEntry entry)
    {
        if (_exact.TryGetValue(key, out var existing) && existing.Rank <= entry.Rank)
        {
            return false;
        }

        _exact[key] = entry;
        return true;
    }

    internal bool AddCidrKey(int keyPrefixLength, UInt128 network, EnrichmentEntry entry) =>
        _cidrs.TryAdd((keyPrefixLength, network), entry);

    /// <summary>The immutable index of everything added so far.</summary>
    public EnrichmentIndex Build()
    {
        var byPrefix = new SortedDictionary<int, Dictionary<UInt128, EnrichmentEntry>>(
            Comparer<int>.Create((a, b) => b.CompareTo(a)));
        foreach (var ((prefix, network), entry) in _cidrs)
        {
            if (!byPrefix.TryGetValue(prefix, out var table))
            {
                table = [];
                byPrefix[prefix] = table;
            }

            table[network] = entry;
        }

        var tables = new EnrichmentIndex.CidrTable[byPrefix.Count];
        var i = 0;
        foreach (var (prefix, table) in byPrefix)
        {
            tables[i++] = new EnrichmentIndex.CidrTable(prefix, IpKeys.Mask(prefix), table.ToFrozenDictionary());
        }

        return new EnrichmentIndex(_exact.ToFrozenDictionary(), tables);
    }
}
