using System.Collections.Concurrent;
using System.Net;

namespace NetObserv.Storage.Spill;

/// <summary>
/// One instance per value of the short text and host addresses that journal records repeat (tenant, the
/// Kubernetes names, owners, hosts and zones, the layer, cluster and record type). Decoded records then share
/// them as live records share the enricher's, so the writer finds their dictionary ids by identity
/// (<see cref="Dictionaries.IdentityIds"/>) instead of cleaning and hashing their text. Bounded: text longer
/// than <see cref="MaxLength"/> characters is not shared, and a full table starts again empty.
/// </summary>
internal static class DecodedValues
{
    /// <summary>Longest text shared (a DNS name's length: Kubernetes names are at most that).</summary>
    public const int MaxLength = 253;

    /// <summary>Values kept per kind before the table starts again.</summary>
    public const int MaxEntries = 16_384;

    private static readonly ConcurrentDictionary<string, string> s_text = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<IPAddress, IPAddress> s_addresses = new();

    /// <summary>The shared instance of <paramref name="value"/>'s text (or <paramref name="value"/> itself).</summary>
    public static string? Text(string? value)
    {
        if (value is null || value.Length > MaxLength)
        {
            return value;
        }

        return s_text.TryGetValue(value, out var shared) ? shared : Add(s_text, value);
    }

    /// <summary>The shared instance of <paramref name="value"/>'s address (or <paramref name="value"/> itself).</summary>
    public static IPAddress? Address(IPAddress? value)
    {
        if (value is null)
        {
            return null;
        }

        return s_addresses.TryGetValue(value, out var shared) ? shared : Add(s_addresses, value);
    }

    private static T Add<T>(ConcurrentDictionary<T, T> table, T value)
        where T : notnull
    {
        if (table.Count >= MaxEntries)
        {
            table.Clear();
        }

        return table.GetOrAdd(value, value);
    }
}
