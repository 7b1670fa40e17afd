using System.Net;
using System.Runtime.CompilerServices;
using NetObserv.Flows;

namespace NetObserv.Storage.Dictionaries;

/// <summary>
/// One writer loop's recent endpoint and context ids, found by the identity of what a record carries
/// rather than by its text. Enrichment gives every flow of one pod the same string instances and the
/// pbflow reader one instance per interface name, so a repeated key is recognised by comparing
/// references, without cleaning and hashing its text as <see cref="EndpointKey"/> and
/// <see cref="ContextKey"/> do. The same references always hold the same text, so a hit gives the id
/// the full key would; anything else (new instances of known text, a key not seen yet) is a miss and
/// takes the full path. Direct-mapped and fixed in size: a key only replaces the one in its slot.
/// </summary>
/// <param name="slots">Slots per kind of key, a power of two.</param>
internal sealed class IdentityIds(int slots = IdentityIds.DefaultSlots)
{
    /// <summary>Slots per kind of key unless told otherwise.</summary>
    public const int DefaultSlots = 4096;

    private readonly EndpointSlot[] _endpoints = new EndpointSlot[CheckSlots(slots)];
    private readonly ContextSlot[] _contexts = new ContextSlot[slots];
    private readonly int _mask = slots - 1;
    private long _generation;

    /// <summary>
    /// Forgets every slot when <paramref name="generation"/> differs from the one the slots were filled
    /// under (the shared cache was cleared since, so their ids may be stale).
    /// </summary>
    public void Begin(long generation)
    {
        if (generation != _generation)
        {
            Array.Clear(_endpoints);
            Array.Clear(_contexts);
            _generation = generation;
        }
    }

    public bool TryGetEndpoint(KubernetesMetadata m, ulong? mac, out int id)
    {
        ref var slot = ref _endpoints[EndpointIndex(m, mac)];
        id = slot.Id;
        return slot.Used
            && ReferenceEquals(slot.Name, m.Name)
            && ReferenceEquals(slot.Namespace, m.Namespace)
            && ReferenceEquals(slot.Type, m.Type)
            && ReferenceEquals(slot.OwnerName, m.OwnerName)
            && ReferenceEquals(slot.OwnerType, m.OwnerType)
            && ReferenceEquals(slot.HostIP, m.HostIP)
            && ReferenceEquals(slot.HostName, m.HostName)
            && ReferenceEquals(slot.Zone, m.Zone)
            && ReferenceEquals(slot.SubnetLabel, m.SubnetLabel)
            && slot.Mac == mac;
    }

    public void SetEndpoint(KubernetesMetadata m, ulong? mac, int id)
    {
        ref var slot = ref _endpoints[EndpointIndex(m, mac)];
        slot = new EndpointSlot
        {
            Used = true,
            Name = m.Name,
            Namespace = m.Namespace,
            Type = m.Type,
            OwnerName = m.OwnerName,
            OwnerType = m.OwnerType,
            HostIP = m.HostIP,
            HostName = m.HostName,
            Zone = m.Zone,
            SubnetLabel = m.SubnetLabel,
            Mac = mac,
            Id = id,
        };
    }

    public bool TryGetContext(FlowRecord r, out int id)
    {
        ref var slot = ref _contexts[ContextIndex(r)];
        id = slot.Id;
        return slot.Used
            && ReferenceEquals(slot.Tenant, r.Tenant)
            && slot.FlowDirection == r.FlowDirection
            && SameReferences(slot.Interfaces, r.Interfaces)
            && SameValues(slot.IfDirections, r.IfDirections)
            && slot.Duplicate == r.Duplicate
            && Equals(slot.AgentIP, r.AgentIP)
            && slot.Etype == r.Etype
            && slot.Sampling == r.Sampling
            && ReferenceEquals(slot.FlowLayer, r.K8SFlowLayer)
            && ReferenceEquals(slot.ClusterName, r.K8SClusterName)
            && ReferenceEquals(slot.RecordType, r.RecordType);
    }

    public void SetContext(FlowRecord r, int id)
    {
        ref var slot = ref _contexts[ContextIndex(r)];
        // Copies of the arrays: the record's own could be changed after it is written.
        slot = new ContextSlot
        {
            Used = true,
            Tenant = r.Tenant,
            FlowDirection = r.FlowDirection,
            Interfaces = r.Interfaces is { } interfaces ? [.. interfaces] : null,
            IfDirections = r.IfDirections is { } directions ? [.. directions] : null,
            Duplicate = r.Duplicate,
            AgentIP = r.AgentIP,
            Etype = r.Etype,
            Sampling = r.Sampling,
            FlowLayer = r.K8SFlowLayer,
            ClusterName = r.K8SClusterName,
            RecordType = r.RecordType,
            Id = id,
        };
    }

    private static int CheckSlots(int slots) =>
        slots > 0 && (slots & (slots - 1)) == 0
            ? slots
            : throw new ArgumentOutOfRangeException(nameof(slots), slots, "a power of two is needed");

    // Only the name's identity is hashed: reading an object's hash touches its memory, and the name
    // (with the MAC) already tells most endpoints apart; the other fields are compared by reference.
    private int EndpointIndex(KubernetesMetadata m, ulong? mac) =>
        HashCode.Combine(RuntimeHelpers.GetHashCode(m.Name), mac) & _mask;

    private int ContextIndex(FlowRecord r)
    {
        // Every field that commonly differs between a node's contexts (IPv4 and IPv6, app and infra,
        // directions and interfaces): keys that share a slot push each other out.
        var interfaces = r.Interfaces;
        var directions = r.IfDirections;
        var h = Mix(0, r.FlowDirection ?? -1);
        h = Mix(h, r.AgentIP?.GetHashCode() ?? 0);
        h = Mix(h, interfaces is { Length: > 0 } ? RuntimeHelpers.GetHashCode(interfaces[^1]) : interfaces is null ? -1 : 0);
        h = Mix(h, directions is { Length: > 0 } ? (directions[^1] << 8) | directions.Length : directions is null ? -1 : 0);
        h = Mix(h, r.Duplicate is { } duplicate ? (duplicate ? 1 : 2) : 0);
        h = Mix(h, r.Etype ?? -1);
        h = Mix(h, r.Sampling ?? -1);
        h = Mix(h, RuntimeHelpers.GetHashCode(r.K8SFlowLayer));
        h = Mix(h, RuntimeHelpers.GetHashCode(r.RecordType));
        return (int)(h >> 32) & _mask;
    }

    private static ulong Mix(ulong hash, int value) => (hash ^ (uint)value) * 0x9E3779B97F4A7C15UL;

    private static bool SameReferences(string[]? kept, string[]? now)
    {
        if (kept is null || now is null)
        {
            return kept is null && now is null;
        }

        if (kept.Length != now.Length)
        {
            return false;
        }

        for (var i = 0; i < kept.Length; i++)
        {
            if (!ReferenceEquals(kept[i], now[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool SameValues(int[]? kept, int[]? now) =>
        kept is null ? now is null : now is not null && kept.AsSpan().SequenceEqual(now);

    private struct EndpointSlot
    {
        public bool Used;
        public string? Name;
        public string? Namespace;
        public string? Type;
        public string? OwnerName;
        public string? OwnerType;
        public IPAddress? HostIP;
        public string? HostName;
        public string? Zone;
        public string? SubnetLabel;
        public ulong? Mac;
        public int Id;
    }

    private struct ContextSlot
    {
        public bool Used;
        public string? Tenant;
        public int? FlowDirection;
        public string[]? Interfaces;
        public int[]? IfDirections;
        public bool? Duplicate;
        public IPAddress? AgentIP;
        public int? Etype;
        public int? Sampling;
        public string? FlowLayer;
        public string? ClusterName;
        public string? RecordType;
        public int Id;
    }
}
